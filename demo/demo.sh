#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The guided tour: one throwaway lab, every step in demo/steps/ in order, a short report
# per step, and the lab torn down at the end, on error and on Ctrl-C.
#
#   demo/demo.sh                 the whole tour
#   demo/demo.sh count lb ...    only these sections (lab, and the names in demo/steps/)
# A step file is sourced with these available:
#   $BPFLAB          "bpflab" (the build's folder is on PATH, so the tour shows commands
#                    as a user types them);  $LAB  the lab's name
#   step "title"     prints a step header
#   say "text"       prints a line of the report
#   show CMD...      prints the command, runs it, indents its output
#   cmd CMD...       prints a command the step then runs itself (e.g. in the background)
#   in_node NODE CMD...   runs CMD inside a lab node (keeps /sys/fs/bpf visible)
# Each step runs alone too (it needs only the lab), keeps to ~15 s; the whole tour must
# stay under two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
PATH="$OUT:$PATH"
BPFLAB=bpflab
LAB="demo$(printf '%x' $$ | tail -c 6)"
export BPFLAB LAB

bold=$(tput bold 2>/dev/null || true); norm=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$norm"; }
say() { printf '   %s\n' "$*"; }
cmd() { printf '   $ %s\n' "$*"; }
show() { cmd "$@"; "$@" 2>&1 | sed 's/^/     /'; }
in_node() { local node=$1; shift; "$BPFLAB" lab exec --name "$LAB" "$node" -- "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Stop whatever a step left running in the background before removing its namespace.
  jobs -p | xargs -r kill 2>/dev/null || true
  wait 2>/dev/null || true
  "$OUT/bpflab" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true # a tour cut short in lb
  "$OUT/bpflab" lab down --name "$LAB" >/dev/null 2>&1 || true
  [ $rc -eq 0 ] && printf '\n%sdemo finished: lab %s removed%s\n' "$bold" "$LAB" "$norm"
  exit $rc
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

[ -x "$OUT/bpflab" ] || { echo "build first: make" >&2; exit 1; }
section() { local n; n=$(basename "$1" .sh); echo "${n#*-}"; }
all="lab"
for s in demo/steps/*.sh; do all="$all $(section "$s")"; done
for want in "$@"; do
  [[ " $all " == *" $want "* ]] || { echo "demo: no section '$want' (sections: $all)" >&2; exit 2; }
done
wanted() { [ $# -eq 0 ] || [[ " ${SECTIONS} " == *" $1 "* ]]; }
SECTIONS="$*"
start=$(date +%s)
if [ $# -eq 0 ] || wanted lab; then
  step "lab: the talk's cloud VM, as network namespaces"
  show bpflab lab up --name "$LAB"
  show bpflab lab status --name "$LAB"
else
  bpflab lab up --name "$LAB" >/dev/null
fi

for s in demo/steps/*.sh; do
  [ -f "$s" ] || continue
  [ -z "$SECTIONS" ] || wanted "$(section "$s")" || continue
  # shellcheck disable=SC1090
  source "$s"
done
printf '\n%stour took %ds%s\n' "$bold" $(( $(date +%s) - start )) "$norm"
