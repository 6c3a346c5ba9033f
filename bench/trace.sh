#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What `bpflab trace` costs each packet while it runs: ns per run of its tracepoint
# programs (kernel BPF statistics: run_time_ns / run_cnt of this trace's programs only),
# during a bounded ping flood between two throwaway namespaces, with a filter that rejects
# the flood and with one that takes it. What our own programs' verdict report costs with
# and without a trace is a row of `bpflab bench` (count, count (trace running)).
# Output: one JSON Lines record per case {"type":"trace_cost", case, filter, ns_per_run,
# runs, packets, lost, ok, reason?}; a run whose ping lost replies is not a result.
#   bench/trace.sh [--quick]       (OUT=.output-foo to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB=${BPFLAB:-$PWD/$OUT/bpflab}
quick=${BENCH_QUICK:-}
[ "${1:-}" = --quick ] && quick=1
N=$([ -n "$quick" ] && echo 500 || echo 2000)

[ -x "$BPFLAB" ] || { echo "bench/trace.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/trace.sh: needs root" >&2; exit 4; }
command -v bpftool >/dev/null && command -v jq >/dev/null ||
  { echo "bench/trace.sh: needs bpftool and jq (make deps)" >&2; exit 1; }

S=btr$$ A=btr$$a Z=btr$$b
tmp=$(mktemp -d /tmp/bpflab-bench-trace-XXXXXX)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
tp=
cleanup() {
  [ -n "$tp" ] && kill -INT "$tp" 2>/dev/null && wait "$tp" 2>/dev/null
  sysctl -qw kernel.bpf_stats_enabled="$old_stats" || true
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$Z" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
: "$S"

ip netns add "$A"; ip netns add "$Z"
ip -n "$A" link add eth0 type veth peer name eth0 netns "$Z"
ip -n "$A" addr add 198.18.77.1/24 dev eth0
ip -n "$Z" addr add 198.18.77.2/24 dev eth0
for n in "$A" "$Z"; do ip -n "$n" link set eth0 up; ip -n "$n" link set lo up; done
ip netns exec "$A" ping -c 1 -W 2 198.18.77.2 >/dev/null

# This trace's programs only (other traces may run): the prog ids its fds hold.
snap() {
  local ids
  ids=$(grep -h '^prog_id:' /proc/"$tp"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | paste -sd, -)
  bpftool prog show -j | jq -c --argjson ids "[${ids}]" \
    '[.[] | select(.id as $i | $ids | index($i)) | {id, t: (.run_time_ns // 0), c: (.run_cnt // 0)}]'
}

measure() { # case filter...
  local name=$1; shift
  local filter="$*" s0 s1 sent recv
  "$BPFLAB" trace -d 120 --json "$filter" > "$tmp/out" 2> "$tmp/err" &
  tp=$!
  for _ in $(seq 240); do grep -q '"attached"' "$tmp/out" 2>/dev/null && break; sleep 0.5; done
  if ! grep -q '"attached"' "$tmp/out"; then
    jq -cn --arg c "$name" --arg f "$filter" --arg r "$(head -c 300 "$tmp/err")" \
      '{type: "trace_cost", case: $c, filter: $f, ok: false, reason: ("trace did not attach: " + $r)}'
    kill -INT "$tp" 2>/dev/null; wait "$tp" 2>/dev/null || true; tp=
    return
  fi
  sysctl -qw kernel.bpf_stats_enabled=1
  s0=$(snap)
  ip netns exec "$A" timeout 60 ping -f -q -c "$N" 198.18.77.2 > "$tmp/ping" 2>&1 || true
  s1=$(snap)
  sysctl -qw kernel.bpf_stats_enabled="$old_stats"
  kill -INT "$tp" 2>/dev/null; wait "$tp" 2>/dev/null || true; tp=
  sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$tmp/ping")
  recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping")
  jq -cn --arg c "$name" --arg f "$filter" --argjson a "$s0" --argjson b "$s1" \
    --argjson sent "${sent:-0}" --argjson recv "${recv:-0}" \
    --argjson lost "$(jq -s 'map(select(.type == "lost") | .lost) | max // 0' "$tmp/out")" '
    [ $b[] as $x | ($a[] | select(.id == $x.id)) as $y | {dt: ($x.t - $y.t), dc: ($x.c - $y.c)} ] as $d
    | ($d | map(.dt) | add // 0) as $t | ($d | map(.dc) | add // 0) as $n
    | {type: "trace_cost", case: $c, filter: $f, runs: $n, packets: $sent, lost: $lost}
    + if $sent == 0 or $recv < $sent or $n == 0 then
        {ok: false, reason: "the flood lost replies or ran no program: \($recv) of \($sent) answered, \($n) runs"}
      else {ok: true, ns_per_run: ($t / $n | floor)} end'
}

measure rejected "host 198.51.100.99"
measure matched "host 198.18.77.2"
