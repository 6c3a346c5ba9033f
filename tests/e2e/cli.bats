#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The CLI frame: help from the one table, exit codes, bad input changes nothing.
load helpers
bats_require_minimum_version 1.5.0

@test "help lists every command of the table" {
  run "$BPFLAB" help
  [ "$status" -eq 0 ]
  for c in doctor lab count; do [[ $output == *"  $c "* ]]; done
}

@test "--version: the version, the libbpf it runs on, the kernel it was built against" {
  run "$BPFLAB" --version
  [ "$status" -eq 0 ]
  [[ $output == "bpflab "* ]]
  [[ $output == *"libbpf v"*" at run time"* ]]
  [[ $output == *"built against kernel "* && $output == *"running on kernel $(uname -r)"* ]]
  run "$BPFLAB" --json --version
  json_assert "$output" '.type == "version" and (.libbpf | startswith("v")) and .libbpf_built.major >= 1 and (.kernel_built | length) > 0 and (.uapi_headers | test("^[0-9]+[.][0-9]+[.][0-9]+$"))'
}

@test "make install (PREFIX, DESTDIR): the binary, a man page per command, bash completion, all generated" {
  d=$(mktemp -d /tmp/bpflab-install-XXXXXX)
  run make -s -C "$BPFLAB_SRC" OUT="$BPFLAB_OUT" install DESTDIR="$d" PREFIX=/opt/bl
  [ "$status" -eq 0 ] || { echo "$output"; rm -rf "$d"; false; }
  [ -x "$d/opt/bl/bin/bpflab" ]
  cmds=$("$BPFLAB" help | awk '/^commands:/{f=1;next} /^$/{f=0} f && $1 != "help" {print $1}')
  for c in $cmds; do
    m="$d/opt/bl/share/man/man1/bpflab-$c.1"
    [ -s "$m" ] || { echo "no man page for $c"; false; }
    # Rendered, the page holds the command's own usage: the same text as --help.
    opt=$("$BPFLAB" "$c" --help | grep -oE -- '--[a-z][a-z-]+' | head -1)
    man -l "$m" 2>/dev/null | grep -q -- "$opt" || { echo "$c: $opt missing from its man page"; false; }
  done
  [ -s "$d/opt/bl/share/man/man1/bpflab.1" ]
  comp="$d/opt/bl/share/bash-completion/completions/bpflab"
  run bash -c 'source "$1"
    COMP_WORDS=(bpflab co); COMP_CWORD=1; _bpflab; echo "1: ${COMPREPLY[*]}"
    COMP_WORDS=(bpflab count --int); COMP_CWORD=2; _bpflab; echo "2: ${COMPREPLY[*]}"
    COMP_WORDS=(bpflab lab st); COMP_CWORD=2; _bpflab; echo "3: ${COMPREPLY[*]}"
    COMP_WORDS=(bpflab --json exec --ring); COMP_CWORD=3; _bpflab; echo "4: ${COMPREPLY[*]}"' _ "$comp"
  [[ $output == *"1: count"* && $output == *"2: --interval"* && $output == *"3: status"* && $output == *"4: --ringbuf-size"* ]]
  run make -s -C "$BPFLAB_SRC" OUT="$BPFLAB_OUT" uninstall DESTDIR="$d" PREFIX=/opt/bl
  [ "$status" -eq 0 ]
  left=$(find "$d" -type f | wc -l)
  rm -rf "$d"
  [ "$left" -eq 0 ]
}

@test "every command has --help that exits 0 and starts with usage" {
  for c in $("$BPFLAB" help | awk '/^commands:/{f=1;next} /^$/{f=0} f && $1 != "help" {print $1}'); do
    run "$BPFLAB" "$c" --help
    [ "$status" -eq 0 ] || { echo "$c --help exited $status"; false; }
    [[ $output == usage:* ]] || { echo "$c --help: $output"; false; }
  done
}

@test "unknown command and unknown option are usage errors (exit 2)" {
  run "$BPFLAB" frobnicate
  [ "$status" -eq 2 ]
  [[ $output == *"unknown command 'frobnicate'"* ]]
  run "$BPFLAB" count --frobnicate
  [ "$status" -eq 2 ]
  run "$BPFLAB" --frobnicate
  [ "$status" -eq 2 ]
}

@test "bad option values are usage errors with a message" {
  run "$BPFLAB" count lo --mode turbo
  [ "$status" -eq 2 ]; [[ $output == *"invalid --mode 'turbo'"* ]]
  run "$BPFLAB" count lo --duration -3
  [ "$status" -eq 2 ]; [[ $output == *"invalid --duration"* ]]
  run "$BPFLAB" count lo --interval 1x
  [ "$status" -eq 2 ]
  run "$BPFLAB" count 0123456789abcdefg
  [ "$status" -eq 2 ]; [[ $output == *"invalid interface name"* ]]
  run "$BPFLAB" count ../x
  [ "$status" -eq 2 ]; [[ $output == *"invalid interface name"* ]]
  run "$BPFLAB" count lo extra
  [ "$status" -eq 2 ]
}

@test "numbers are strict: no hex, exponent, sign or undocumented suffix; a documented minimum interval" {
  for v in 1e-300 0x10 1e3 +1 " 1" "1 " 1s 1m .  -0 inf nan 0.001 0.0099; do
    run "$BPFLAB" count lo --interval "$v" --duration 0
    [ "$status" -eq 2 ] || { echo "--interval '$v' gave $status"; false; }
    [[ $output == *"invalid --interval"* ]]
  done
  run "$BPFLAB" count --help
  [[ $output == *"at least 0.01"* ]]
  for v in 0x10 1e3 +1 " 1" 1s 1m -0 inf; do
    run "$BPFLAB" count lo --duration "$v"
    [ "$status" -eq 2 ] || { echo "--duration '$v' gave $status"; false; }
  done
  for v in 0x2 +2 " 2" 2k 02x; do
    run "$BPFLAB" lab up --name "nope$$" --backends "$v"
    [ "$status" -eq 2 ] || { echo "--backends '$v' gave $status"; false; }
  done
  for v in 0x1000 4097 1T 2G 1g 4096K1 -4096 " 4096" 1.5M; do
    run "$BPFLAB" exec --ringbuf-size "$v" --duration 0
    [ "$status" -eq 2 ] || { echo "--ringbuf-size '$v' gave $status"; false; }
  done
  for v in +5 0x5 5e0; do
    run "$BPFLAB" exec --max-args "$v" --duration 0
    [ "$status" -eq 2 ] || { echo "--max-args '$v' gave $status"; false; }
  done
  run "$BPFLAB" verify --log-level 0x1 /dev/null
  [ "$status" -eq 2 ]
}

@test "every loop is bounded: the shortest --interval ends on --duration and on SIGTERM" {
  require_bpf
  run timeout 10 "$BPFLAB" count lo --interval 0.01 --duration 0.5 --json
  [ "$status" -eq 0 ]
  n=$(grep -c '"type":"interval"' <<<"$output")
  [ "$n" -ge 10 ] && [ "$n" -le 51 ]
  json_assert "$(tail -1 <<<"$output")" '.type == "summary" and .elapsed < 1.5'
  "$BPFLAB" count lo --interval 0.01 --json > "$BATS_TEST_TMPDIR/c" &
  local pid=$!
  wait_for_line "$BATS_TEST_TMPDIR/c"
  kill -TERM $pid
  for _ in $(seq 1 40); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
  ! kill -0 $pid 2>/dev/null
  wait $pid
  grep -q '"type":"summary"' "$BATS_TEST_TMPDIR/c"
}

teardown() { unpriv_cleanup; }

@test "without root: exit 4 and the message names the capabilities" {
  command -v setpriv >/dev/null || skip "setpriv missing"
  unpriv_copy
  run as_nobody_with "" "$UNPRIV_DIR/bpflab" count lo --duration 0
  [ "$status" -eq 4 ]
  [[ $output == *CAP_BPF* && $output == *CAP_NET_ADMIN* ]]
}

@test "capabilities, not uid 0: exactly the named ones suffice; root without them is told which" {
  require_bpf
  command -v capsh >/dev/null || skip "capsh missing"
  unpriv_copy
  # Not root, with exactly what the message names: it runs.
  run as_nobody_with +bpf,+perfmon,+net_admin "$UNPRIV_DIR/bpflab" --json count lo --duration 0.2 --interval 0
  [ "$status" -eq 0 ]
  json_assert "$(tail -1 <<<"$output")" '.type == "summary" and .interface == "lo"'
  # One short: refused before anything is loaded, naming the missing one.
  run as_nobody_with +bpf,+net_admin "$UNPRIV_DIR/bpflab" count lo --duration 0
  [ "$status" -eq 4 ]
  [[ $output == *"lacks CAP_PERFMON"* ]]
  # Root whose bounding set lost CAP_BPF: named, and not told to "run as root".
  run capsh --drop=cap_bpf -- -c '"$0" count lo --duration 0' "$BPFLAB"
  [ "$status" -eq 4 ]
  [[ $output == *"runs as root but lacks CAP_BPF"* ]]
  [[ $output != *"run as root"* && $output != *"run it as root"* ]]
  run capsh --drop=cap_sys_admin -- -c '"$0" --netns nope-$$ count lo --duration 0' "$BPFLAB"
  [ "$status" -eq 4 ]
  [[ $output == *"lacks CAP_SYS_ADMIN"* ]]
  # exec needs tracing capabilities, lab namespace ones.
  run capsh --drop=cap_perfmon -- -c '"$0" exec --duration 0' "$BPFLAB"
  [ "$status" -eq 4 ]; [[ $output == *"lacks CAP_PERFMON"* ]]
  run capsh --drop=cap_net_admin -- -c '"$0" lab status --name nope' "$BPFLAB"
  [ "$status" -eq 4 ]; [[ $output == *"lacks CAP_NET_ADMIN"* ]]
  # Not a single "bpflab X: bpflab X:" prefix.
  [[ $output != *"bpflab lab: bpflab"* ]]
}

@test "--netns with a missing namespace fails clearly: a usage error (exit 2)" {
  require_bpf
  run "$BPFLAB" --netns "nope-$$" count lo --duration 0
  [ "$status" -eq 2 ]
  [[ $output == *"no network namespace 'nope-$$'"* ]]
  [[ $output != *"bpflab count: bpflab"* ]]
  run "$BPFLAB" --netns "../x" count lo --duration 0
  [ "$status" -eq 2 ]
}

@test "--json: a failure is also one {\"type\":\"error\"} record on stdout" {
  require_bpf
  run --separate-stderr "$BPFLAB" --json --netns "nope-$$" count lo --duration 0
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and .command == "count" and .exit_code == 2 and .exit == "usage" and (.message | contains("nope-"))'
  run --separate-stderr "$BPFLAB" --json frobnicate
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and (.message | contains("frobnicate"))'
  run --separate-stderr "$BPFLAB" exec --json --duration x
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and .command == "exec" and (.message | contains("--duration"))'
  run --separate-stderr "$BPFLAB" verify --json /etc/passwd
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and .command == "verify" and (.message | contains("not a BPF object"))'
  [[ $stderr != *"Unknown error"* ]]
  run --separate-stderr "$BPFLAB" lab --json status --name "Bad_Name"
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and .command == "lab"'
}

# ---- the option and command tables (issue 11 items 14-15, issue 12) ----

commands() { "$BPFLAB" help | awk '/^commands:/{f=1;next} /^$/{f=0} f && $1 != "help" {print $1}'; }

@test "bpflab CMD help is bpflab CMD --help, for every command" {
  for c in $(commands); do
    a=$("$BPFLAB" "$c" --help) || { echo "$c --help failed"; false; }
    run "$BPFLAB" "$c" help
    [ "$status" -eq 0 ] || { echo "$c help exited $status"; false; }
    [ "$output" = "$a" ] || { echo "$c help differs from $c --help"; false; }
  done
  run "$BPFLAB" help count
  [ "$status" -eq 0 ] && [[ $output == "usage: bpflab count"* ]]
}

@test "unambiguous prefixes of commands are accepted; ambiguous ones are usage errors" {
  run "$BPFLAB" cou --help
  [ "$status" -eq 0 ] && [[ $output == "usage: bpflab count"* ]]
  run "$BPFLAB" ver help
  [ "$status" -eq 0 ] && [[ $output == "usage: bpflab verify"* ]]
  run "$BPFLAB" l --help
  [ "$status" -eq 2 ] && [[ $output == *"ambiguous command 'l'"* ]]
  run "$BPFLAB" help cou
  [ "$status" -eq 0 ] && [[ $output == "usage: bpflab count"* ]]
}

@test "-m/--xdp-mode native|skb|generic: one option, one meaning; values checked, named in the error" {
  # Wrapped lines joined: the help may break anywhere.
  h=$("$BPFLAB" count --help | tr -s ' \n' '  ')
  [[ $h == *"-m, --xdp-mode MODE"* && $h == *"auto, native, skb, generic"* ]]
  run "$BPFLAB" count lo -m turbo --duration 0
  [ "$status" -eq 2 ]; [[ $output == *"invalid --xdp-mode 'turbo': one of auto, native, skb, generic"* ]]
  run "$BPFLAB" count lo --xdp-mode "" --duration 0
  [ "$status" -eq 2 ]
  run "$BPFLAB" count lo --xdp-mode
  [ "$status" -eq 2 ]; [[ $output == *"--xdp-mode needs a value MODE"* ]]
}

@test "bad values name the option and what it accepts; unknown options exit 2" {
  run "$BPFLAB" bench --reps 99
  [ "$status" -eq 2 ]; [[ $output == *"invalid --reps '99': an integer from 1 to "* ]]
  run "$BPFLAB" bench --section nope
  [ "$status" -eq 2 ]; [[ $output == *"invalid --section 'nope': one of progs, live, all"* ]]
  run "$BPFLAB" verify x.o --log-level 3
  [ "$status" -eq 2 ]; [[ $output == *"invalid --log-level '3': an integer from 1 to 2"* ]]
  run "$BPFLAB" doctor --frob
  [ "$status" -eq 2 ]; [[ $output == *"unknown option '--frob'"* ]]
  run "$BPFLAB" exec -Z
  [ "$status" -eq 2 ]; [[ $output == *"unknown option '-Z'"* ]]
  run --separate-stderr "$BPFLAB" bench --reps 0 --json
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and (.message | contains("--reps"))'
}

@test "bpflab --man CMD: every option of the command's help is in its man page" {
  command -v man >/dev/null || skip "man missing"
  for c in $(commands); do
    "$BPFLAB" --man "$c" > "$BATS_TEST_TMPDIR/$c.1"
    page=$(MANWIDTH=200 man -l "$BATS_TEST_TMPDIR/$c.1" 2>/dev/null)
    for o in $("$BPFLAB" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
      grep -qF -- "$o" <<<"$page" || { echo "$c: $o missing from its man page"; false; }
    done
  done
  run "$BPFLAB" --man count
  [[ $output == *".SH OPTIONS"* && $output == *'\-\-xdp\-mode'* ]]
  run "$BPFLAB" --man nope
  [ "$status" -eq 2 ]
}

@test "--completion: commands, options, enum values and interface names" {
  comp="$BATS_TEST_TMPDIR/comp"
  "$BPFLAB" --completion > "$comp"
  bash -n "$comp"
  run bash -c 'source "$1"
    c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _bpflab; echo "${COMPREPLY[*]}"; }
    echo "1: $(c bpflab ve)"
    echo "2: $(c bpflab count -m "")"
    echo "3: $(c bpflab count --xdp-mode n)"
    echo "4: $(c bpflab count "")"
    echo "5: $(c bpflab bench --section l)"
    echo "6: $(c bpflab --json exec --ring)"
    echo "7: $(c bpflab count --interval "")"
    echo "8: $(c bpflab doctor --s)"
    echo "9: $(c bpflab cou --int)"
    echo "10: $(c bpflab lab st)"
    echo "11: $(c bpflab lab up --lb "")"
    echo "12: $(c bpflab lab status --)"' _ "$comp"
  echo "$output"
  [[ $output == *"1: verify"* ]]
  [[ $output == *"2: auto native skb generic"* ]]
  [[ $output == *"3: native"* ]]
  [[ $(grep '^4:' <<<"$output") == *" lo"* || $(grep '^4:' <<<"$output") == "4: lo"* ]]
  [[ $output == *"5: live"* ]]
  [[ $output == *"6: --ringbuf-size"* ]]
  [[ $(grep '^7:' <<<"$output") == "7: " ]]
  [[ $output == *"8: --short"* ]]
  [[ $output == *"9: --interval"* ]]
  [[ $output == *"10: status"* ]]
  [[ $output == *"11: nat dsr"* ]]
  # Per subcommand: only its options (--serve is up's).
  [[ $(grep '^12:' <<<"$output") == *"--name"* && $(grep '^12:' <<<"$output") != *"--serve"* ]]
}

@test "lab: subcommands by unambiguous prefix, options checked per subcommand" {
  run "$BPFLAB" lab help
  [ "$status" -eq 0 ] && [[ $output == "usage: bpflab lab"* && $output == *"  status "* ]]
  run "$BPFLAB" lab stat --name "nope$$"
  [ "$status" -eq 0 ] && [[ $output == *"lab 'nope$$' is not up"* ]]
  run "$BPFLAB" lab --json st --name "nope$$"
  [ "$status" -eq 0 ]; json_assert "$output" '.type == "lab" and .up == false'
  run "$BPFLAB" lab frob
  [ "$status" -eq 2 ] && [[ $output == *"unknown subcommand 'frob'"* ]]
  run "$BPFLAB" lab status --serve --name "nope$$"
  [ "$status" -eq 2 ] && [[ $output == *"--serve is not an option of 'lab status'"* ]]
  run "$BPFLAB" lab up --lb nope --name "nope$$"
  [ "$status" -eq 2 ] && [[ $output == *"invalid --lb 'nope': one of nat, dsr"* ]]
  ! ip netns list | grep -q "nope$$"
}
