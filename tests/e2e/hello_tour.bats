#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The hard way (examples/hello): the talk's steps run for real, in a throwaway
# namespace's lo, and checked by the tour itself; here we check that it passes, that its
# docs cannot rot, and that a failure midway still leaves nothing behind.
load helpers
: "${BPFLAB_OUT:=$BATS_TEST_DIRNAME/../../.output}"

TOUR_DIR="$BATS_TEST_DIRNAME/../../examples/hello"

setup() {
  require_bpf
}

# Prints what the tour made (namespace, program id) so a test can check it is gone.
made_ns() { grep -oE 'ip netns add hello[0-9a-f]+' <<<"$1" | awk '{print $4}' | head -1; }
made_id() { grep -oE 'prog/xdp id [0-9]+' <<<"$1" | awk '{print $3}' | head -1; }

assert_nothing_left() { # output
  local ns id
  ns=$(made_ns "$1"); id=$(made_id "$1")
  [ -n "$ns" ]
  ! ip netns list | grep -qw "$ns"
  [ ! -e "/sys/fs/bpf/hello_$ns" ]
  if [ -n "$id" ]; then
    for _ in $(seq 1 40); do bpftool prog show id "$id" >/dev/null 2>&1 || break; sleep 0.05; done
    ! bpftool prog show id "$id" >/dev/null 2>&1
  fi
}

@test "the hard way: every step runs and every check passes" {
  run make -s -C "$TOUR_DIR" tour OUT="$BPFLAB_OUT"
  echo "$output" | tail -20
  printf '%s\n' "$output" > "$BATS_FILE_TMPDIR/tour.out"
  [ "$status" -eq 0 ]
  [[ $output == *"tour passed: 10 steps"* ]]
  ! grep -q 'FAILED' <<<"$output"
  [[ $output == *"ELF 64-bit LSB relocatable, eBPF"* ]]
  [[ $output == *"bpf_trace_printk: Packet received"* ]]
  [[ $output == *"ok: counter grew by exactly 10"* ]]
  grep -qE 'prog/xdp id [0-9]+ name hello' <<<"$output"
  assert_nothing_left "$output"
}

@test "a failure midway (attached, pinned) exits 1 and still removes everything" {
  run env TOUR_FAIL_AT=7 make -s -C "$TOUR_DIR" tour OUT="$BPFLAB_OUT"
  [ "$status" -ne 0 ]
  [[ $output == *"FAILED: TOUR_FAIL_AT=7"* ]]
  [[ $output == *"tour failed at step 7; cleaned up"* ]]
  [[ $output == *"prog/xdp id"* ]] # it really was attached
  assert_nothing_left "$output"
}

@test "docs/hard-way.md shows the steps the tour runs" {
  doc="$BATS_TEST_DIRNAME/../../docs/hard-way.md"
  [ -f "$doc" ]
  [ -s "$BATS_FILE_TMPDIR/tour.out" ] || make -s -C "$TOUR_DIR" tour OUT="$BPFLAB_OUT" > "$BATS_FILE_TMPDIR/tour.out" 2>&1
  grep -oE '^== [0-9]+\. .*==$' "$BATS_FILE_TMPDIR/tour.out" > "$BATS_TEST_TMPDIR/steps"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/steps")" -eq 10 ]
  while read -r line; do
    grep -qF -- "$line" "$doc" || { echo "docs/hard-way.md lacks: $line" >&2; return 1; }
  done < "$BATS_TEST_TMPDIR/steps"
}
