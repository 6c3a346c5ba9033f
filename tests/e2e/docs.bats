#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Docs that cannot rot: every example of README.md and docs/*.md marked
# `<!-- runnable: ... -->` is run as written, in a throwaway lab, and its output checked
# (tests/e2e/doc_examples.py says how; docs/DEVELOPING.md says how to mark one).
load helpers

SRC=${BPFLAB_SRC:-$BATS_TEST_DIRNAME/../..}
CHECK="$BATS_TEST_DIRNAME/doc_examples.py"

setup() {
  LAB=$(unique_lab)
  export BPFLAB
}

teardown() {
  # the checker removes its lab itself; this is for a checker that was killed
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  [ -z "${TMPMD:-}" ] || rm -f "$TMPMD"
}

@test "README.md: every runnable example runs as written and shows what it says" {
  require_bpf
  cd "$SRC"
  run python3 "$CHECK" README.md "$LAB"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(ip netns list | grep -c "^$LAB-")" -eq 0 ]
}

@test "README.md marks the lab, count, ping, lb and verify walk-throughs as runnable" {
  cd "$SRC"
  run python3 "$CHECK" --list README.md
  [ "$status" -eq 0 ]
  # the block after each marker, by a command only that walk-through has
  for cmd in 'lab status' ' count eth0' ' ping eth0 --reply' ' lb start eth0' 'verify .output/'; do
    found=0
    while read -r loc _; do
      line=${loc##*:}
      sed -n "$line,/^\`\`\`/p" README.md | grep -q -- "$cmd" && found=1
    done <<< "$output"
    [ "$found" -eq 1 ] || { echo "no runnable example runs '$cmd'"; return 1; }
  done
}

@test "docs/*.md: every runnable example runs as written" {
  require_bpf
  cd "$SRC"
  n=0
  for f in docs/*.md; do
    grep -q '^<!-- *runnable:' "$f" || continue
    n=$((n + 1))
    run python3 "$CHECK" "$f" "$LAB"
    echo "$output"
    [ "$status" -eq 0 ]
  done
  echo "$n files with runnable examples"
  [ "$n" -ge 1 ] # docs/json.md at least
}

# The checker must be able to fail: a wrong output line, a failing command, a failing
# background command, a missing marker target all fail it.
@test "the docs checker fails on an example that is wrong" {
  TMPMD=$(mktemp /tmp/bpflab-docs-XXXXXX.md)
  printf '<!-- runnable: -->\n```\n$ echo "counter 12 of 3 things"\ncounter 1 of 2 things\n$ echo done\nd...e\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  echo "$output"
  [ "$status" -eq 0 ] # numbers and ... match anything
  printf '<!-- runnable: -->\n```\n$ echo "counter 12 of 3 things"\ncounter 12 of 3 thing\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 1 ] && [[ $output == *"no output line matches: counter 12 of 3 thing"* ]]
  printf '<!-- runnable: -->\n```\n$ true\n$ false\n$ echo never\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 1 ] && [[ $output == *'exit 1 of: $ false'* ]]
  printf '<!-- runnable: -->\n```\n$ (sleep 0.2; exit 3) &\n$ true\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 1 ] && [[ $output == *'exit 3 of: $ (sleep 0.2; exit 3) &'* ]]
  printf '<!-- runnable: check=exit -->\n```\n$ echo a\nb\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 0 ]
  printf '<!-- runnable: timeout=1 -->\n```\n$ sleep 5\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 1 ] && [[ $output == *"timed out"* ]]
  printf 'no marker\n```\n$ false\n```\n' > "$TMPMD"
  run python3 "$CHECK" "$TMPMD" "$LAB"
  [ "$status" -eq 2 ]
}

@test "demo: a section runs alone and shows commands as a user types them" {
  require_bpf
  cd "$SRC"
  run demo/demo.sh nosuch
  [ "$status" -eq 2 ] && [[ $output == *"sections: lab doctor count"* ]]
  run env OUT="${BPFLAB_OUT:-$(dirname "$BPFLAB")}" timeout 60 demo/demo.sh count
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *'$ bpflab --netns demo'*'-backend-a count eth0'* ]]
  [[ $output == *"verdicts: pass"* ]]
  [[ $output != *"== ping"* ]] && [[ $output != *"== lab:"* ]]
  # no build folder in a shown command
  ! printf '%s\n' "$output" | grep -E '^\s*\$ ' | grep -q -e '/bpflab' -e '\.output'
  lab=$(printf '%s\n' "$output" | sed -n 's/.*demo finished: lab \([a-z0-9]*\) removed.*/\1/p')
  [ -n "$lab" ] && [ "$(ip netns list | grep -c "^$lab-")" -eq 0 ]
}
