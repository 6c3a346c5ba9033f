#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Load balancer benchmarks beyond the per-packet figures of `bpflab bench` (progs: lb nat
# ct hit, lb dsr ct hit, lb nat new flow vs xdp_tx; live: lb nat and lb dsr established
# flows beside a bare XDP_TX and the kernel's nftables DNAT, on bench's own veth pairs):
# Maglev build time for 1,000 backends, memory per tracked connection, and real TCP
# requests through a VIP in a throwaway `bpflab lab`: direct to one backend, bpflab lb
# nat, bpflab lb dsr, and the kernel's own way without eBPF, nftables DNAT with numgen
# (this kernel has no IPVS). Each request is a whole TCP connection (connect, send,
# answer, close) from two client processes; CPU is the whole machine's busy time from
# /proc/stat, per request. The Python client and servers cost milliseconds per request,
# the balancer a few hundred ns per packet: these rows show that every setup works under
# load, not the balancer's own cost (see bpflab bench). Every namespace here is the lab's
# (`bpflab lab up`/`down`): this script builds none itself.
# Output: JSON Lines on stdout, a summary on stderr.   bench/lb.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB="$PWD/$OUT/bpflab"
TOOL="$PWD/tests/e2e/lb_tool.py"
quick=${BENCH_QUICK:-}
[ "${1:-}" = --quick ] && quick=1
if [ "$quick" = 1 ]; then N=500; else N=2000; fi

[ -x "$BPFLAB" ] || { echo "bench/lb.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/lb.sh: needs root" >&2; exit 4; }

LAB="blb$(printf '%x' $$ | tail -c 6)"
VIP=198.18.0.100
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Maglev build time: measured by the unit test (plain C, one thread).
if [ -x "$OUT/tests/test_maglev" ]; then
  ms=$("$OUT/tests/test_maglev" | sed -n 's/^# maglev build, 1000 backends, m=131071: \([0-9.]*\) ms/\1/p')
  jq -cn --argjson ms "${ms:-null}" '{type: "lb_maglev_build", backends: 1000, table_size: 131071, ms: $ms}'
  echo "maglev: 1000 backends into 131071 slots in ${ms:-?} ms" >&2
fi

# ---- Whole TCP requests and a UDP flood through the talk's lab
"$BPFLAB" lab up --name "$LAB" --backends 2 --lb nat >/dev/null
for b in a b; do
  "$BPFLAB" lab exec --name "$LAB" "backend-$b" -- timeout 600 python3 "$TOOL" serve "backend-$b" 80 590 &
  pids+=($!)
done
sleep 0.5

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

# Two clients, N/2 requests each; prints a JSON record for the setup.
run_requests() { # label addr
  local label=$1 addr=$2 t0 t1 b0 b1 total0 total1 out ok hz
  hz=$(getconf CLK_TCK)
  read -r b0 total0 < <(busy)
  t0=$(date +%s.%N)
  out=$( { "$BPFLAB" lab exec --name "$LAB" client -- timeout 120 python3 "$TOOL" clients "$addr" 80 $((N / 2)) &
           "$BPFLAB" lab exec --name "$LAB" client -- timeout 120 python3 "$TOOL" clients "$addr" 80 $((N / 2)); wait; } )
  t1=$(date +%s.%N)
  read -r b1 total1 < <(busy)
  ok=$(printf '%s\n' "$out" | jq -s '[.[].answers[]] | add // 0')
  jq -cn --arg setup "$label" --argjson n "$N" --argjson ok "$ok" \
    --argjson secs "$(jq -n "$t1 - $t0")" --argjson busy "$(( b1 - b0 ))" --argjson hz "$hz" \
    '{type: "lb_requests", setup: $setup, requests: $n, succeeded: $ok, seconds: $secs,
      requests_per_s: ($ok / $secs), cpu_us_per_request: ($busy / $hz * 1e6 / ($ok + 0.000001))}'
}

# UDP datagrams from one Python process (16 flows) for 2 s; what the backends receive.
rx_backends() {
  local t=0 b
  for b in a b; do t=$((t + $(ip -n "$LAB-backend-$b" -s -j link show eth0 | jq '.[0].stats64.rx.packets'))); done
  echo $t
}
run_flood() { # label addr
  local r0 r1 out
  r0=$(rx_backends)
  out=$("$BPFLAB" lab exec --name "$LAB" client -- timeout 10 python3 "$TOOL" flood "$2" 9 2)
  r1=$(rx_backends)
  jq -cn --arg setup "$1" --argjson sent "$(printf '%s' "$out" | jq .sent)" --argjson rx $((r1 - r0)) \
    '{type: "lb_udp_flood", setup: $setup, seconds: 2, sent: $sent, received: $rx, received_pps: ($rx / 2)}'
}
flood_report() { jq -r '"\(.setup): UDP flood \(.sent) sent, \(.received) received at the backends, \(.received_pps | floor) pkt/s"' >&2; }

report() { jq -r '"\(.setup): \(.succeeded)/\(.requests) requests, \(.requests_per_s | floor) req/s, \(.cpu_us_per_request | floor) us CPU per request"' >&2; }

run_requests warmup 198.18.0.11 >/dev/null # first connections pay for cold caches and ARP
rec=$(run_requests direct 198.18.0.11); echo "$rec"; echo "$rec" | report

rec=$(run_flood direct 198.18.0.11); echo "$rec"; echo "$rec" | flood_report

printf 'vip %s:80/tcp\nbackend %s:80/tcp 198.18.0.11\nbackend %s:80/tcp 198.18.0.12\n' $VIP $VIP $VIP > "/tmp/$LAB.conf"
printf 'vip %s:9/udp\nbackend %s:9/udp 198.18.0.11\nbackend %s:9/udp 198.18.0.12\n' $VIP $VIP $VIP >> "/tmp/$LAB.conf"
"$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode nat --config "/tmp/$LAB.conf" >/dev/null
rec=$(run_requests "bpflab lb nat" $VIP); echo "$rec"; echo "$rec" | report
rec=$(run_flood "bpflab lb nat" $VIP); echo "$rec"; echo "$rec" | flood_report
# Memory per tracked connection: the kernel's own accounting of both LRU tables.
"$BPFLAB" --netns "$LAB-lb" lb show --json |
  jq -c '{type: "lb_memory", mode, ct_capacity: .conntrack.capacity, memlock_bytes: .conntrack.memlock_bytes,
          bytes_per_flow: .conntrack.bytes_per_flow}' > "/tmp/$LAB.mem"
cat "/tmp/$LAB.mem"; cat "/tmp/$LAB.mem" >&2; rm -f "/tmp/$LAB.mem"
"$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null

# DSR: backends hold the VIP on lo; the same lab, re-prepared.
"$BPFLAB" lab up --name "$LAB" --backends 2 --lb dsr >/dev/null
"$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode dsr --config "/tmp/$LAB.conf" >/dev/null
rec=$(run_requests "bpflab lb dsr" $VIP); echo "$rec"; echo "$rec" | report
rec=$(run_flood "bpflab lb dsr" $VIP); echo "$rec"; echo "$rec" | flood_report
"$BPFLAB" --netns "$LAB-lb" lb show --json |
  jq -c '{type: "lb_memory", mode, ct_capacity: .conntrack.capacity, memlock_bytes: .conntrack.memlock_bytes,
          bytes_per_flow: .conntrack.bytes_per_flow}' > "/tmp/$LAB.mem"
cat "/tmp/$LAB.mem"; cat "/tmp/$LAB.mem" >&2; rm -f "/tmp/$LAB.mem"
"$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null
for b in a b; do
  ip -n "$LAB-backend-$b" addr del $VIP/32 dev lo 2>/dev/null || true
done

# The Linux peer: DNAT + masquerade on lb, round robin by numgen, forwarded by the stack.
ip netns exec "$LAB-lb" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
  net.ipv4.conf.eth0.send_redirects=0
ip netns exec "$LAB-lb" nft -f - <<EOF
table ip bpflab_lb_peer {
  chain pre { type nat hook prerouting priority dstnat;
    ip daddr $VIP tcp dport 80 dnat to numgen inc mod 2 map { 0 : 198.18.0.11, 1 : 198.18.0.12 }
    ip daddr $VIP udp dport 9 dnat to numgen inc mod 2 map { 0 : 198.18.0.11, 1 : 198.18.0.12 }
  }
  chain post { type nat hook postrouting priority srcnat;
    ip daddr { 198.18.0.11, 198.18.0.12 } masquerade
  }
}
EOF
rec=$(run_requests "nftables dnat numgen" $VIP); echo "$rec"; echo "$rec" | report
rec=$(run_flood "nftables dnat numgen" $VIP); echo "$rec"; echo "$rec" | flood_report
rm -f "/tmp/$LAB.conf"
