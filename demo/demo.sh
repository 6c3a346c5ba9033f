#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The guided tour: one throwaway lab, every step in demo/steps/ in order, a short report
# per step, and the lab torn down at the end, on error and on Ctrl-C.
#
# A step file is sourced with these available:
#   $BPFLAB          the binary;  $LAB  the lab's name
#   step "title"     prints a step header
#   say "text"       prints a line of the report
#   show CMD...      prints the command, runs it, indents its output
#   in_node NODE CMD...   runs CMD inside a lab node (keeps /sys/fs/bpf visible)
# A step keeps to ~15 s; the whole tour must stay under two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB="$PWD/$OUT/bpflab"
LAB="demo$(printf '%x' $$ | tail -c 6)"
export BPFLAB LAB

bold=$(tput bold 2>/dev/null || true); norm=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$norm"; }
say() { printf '   %s\n' "$*"; }
show() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/     /'; }
in_node() { local node=$1; shift; "$BPFLAB" lab exec --name "$LAB" "$node" -- "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Stop whatever a step left running in the background before removing its namespace.
  jobs -p | xargs -r kill 2>/dev/null || true
  wait 2>/dev/null || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  [ $rc -eq 0 ] && printf '\n%sdemo finished: lab %s removed%s\n' "$bold" "$LAB" "$norm"
  exit $rc
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

[ -x "$BPFLAB" ] || { echo "build first: make" >&2; exit 1; }
start=$(date +%s)
step "The lab: the talk's cloud VM, as network namespaces"
show "$BPFLAB" lab up --name "$LAB"
show "$BPFLAB" lab status --name "$LAB"

for s in demo/steps/*.sh; do
  [ -f "$s" ] || continue
  # shellcheck disable=SC1090
  source "$s"
done
printf '\n%stour took %ds%s\n' "$bold" $(( $(date +%s) - start )) "$norm"
