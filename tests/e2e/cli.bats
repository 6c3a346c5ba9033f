#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The CLI frame: help from the one table, exit codes, bad input changes nothing.
load helpers

@test "help lists every command of the table" {
  run "$BPFLAB" help
  [ "$status" -eq 0 ]
  for c in doctor lab count; do [[ $output == *"  $c "* ]]; done
}

@test "--version prints a version" {
  run "$BPFLAB" --version
  [ "$status" -eq 0 ]
  [[ $output == "bpflab "* ]]
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

@test "without root: exit 4 and the message names the capabilities" {
  command -v setpriv >/dev/null || skip "setpriv missing"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$BPFLAB" count lo --duration 0
  [ "$status" -eq 4 ]
  [[ $output == *CAP_BPF* && $output == *CAP_NET_ADMIN* ]]
}

@test "--netns with a missing namespace fails clearly" {
  require_bpf
  run "$BPFLAB" --netns "nope-$$" count lo --duration 0
  [ "$status" -eq 1 ]
  [[ $output == *"no network namespace 'nope-$$'"* ]]
}
