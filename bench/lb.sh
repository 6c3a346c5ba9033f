#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Load balancer benchmarks beyond the per-packet rows of `bpflab bench` (lb nat ct hit,
# lb dsr ct hit, lb nat new flow vs xdp_tx): Maglev build time for 1,000 backends, memory
# per tracked connection, and real TCP requests through a VIP in a throwaway lab: direct
# to one backend, bpflab lb nat, bpflab lb dsr, and the kernel's own way without eBPF,
# nftables DNAT with numgen (this kernel has no IPVS). Each request is a whole TCP
# connection (connect, send, answer, close) from two client processes; CPU is the whole
# machine's busy time from /proc/stat, per request. The Python client and servers cost
# milliseconds per request, the balancer a few hundred ns per packet: these rows show
# that every setup works under load, not the balancer's own cost (see the prog rows).
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
GNS="$LAB-gen" XNS="$LAB-x"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" --netns "$XNS" lb stop l0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  ip netns del "$GNS" 2>/dev/null || true
  ip netns del "$XNS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Maglev build time: measured by the unit test (plain C, one thread).
if [ -x "$OUT/tests/test_maglev" ]; then
  ms=$("$OUT/tests/test_maglev" | sed -n 's/^# maglev build, 1000 backends, m=131071: \([0-9.]*\) ms/\1/p')
  printf '{"type":"lb_maglev_build","backends":1000,"table_size":131071,"ms":%s}\n' "${ms:-null}"
  echo "maglev: 1000 backends into 131071 slots in ${ms:-?} ms" >&2
fi

# ---- Forwarding rate: one UDP flow of XDP live frames from gen's g0 to the balancer's
# l0 (a veth pair in two namespaces of our own), back out of l0 to g0, where
# `bpflab count --drop` counts what arrives (and gives g0 the NAPI that XDP_TX needs).
# Generator pinned to CPU 0; the whole path runs in softirq on the generator's CPU, so a
# rate is what one core does for generator + balancer + sink: compare setups as ratios.
G_MAC=02:aa:00:00:00:01 X_MAC=02:aa:00:00:00:02 FVIP=198.18.77.100:9/udp
ip netns add "$GNS"
ip netns add "$XNS"
ip -n "$GNS" link add g0 type veth peer name l0 netns "$XNS"
ip -n "$GNS" link set g0 address $G_MAC up
ip -n "$GNS" addr add 198.18.77.1/24 dev g0
ip -n "$XNS" link set l0 address $X_MAC up
ip -n "$XNS" addr add 198.18.77.2/24 dev l0
ip -n "$XNS" link set lo up
ip -n "$XNS" neigh replace 198.18.77.1 lladdr $G_MAC dev l0 nud permanent
FSECS=2; [ "$quick" = 1 ] && FSECS=1
fwd() { # setup name: prints the record
  local sink gen got
  "$BPFLAB" --netns "$GNS" count g0 --drop --duration $((FSECS + 2)) --interval 0 --json > "/tmp/$LAB.sink" &
  sink=$!
  sleep 0.5
  gen=$("$BPFLAB" --netns "$GNS" lb gen g0 --mac $X_MAC --vip $FVIP --src 198.18.77.1 --duration $FSECS --cpu 0)
  wait "$sink"
  got=$(grep '"type":"summary"' "/tmp/$LAB.sink" | jq .actions.drop)
  rm -f "/tmp/$LAB.sink"
  jq -cn --arg setup "$1" --argjson gen "$gen" --argjson got "$got" \
    '{type: "lb_forward", setup: $setup, generated_pps: $gen.pps, frames: $gen.frames,
      arrived: $got, arrived_pps: ($got / $gen.seconds)}'
}
fwd_report() { jq -r '"forward, \(.setup): \(.arrived_pps / 1e4 | floor / 100) Mpps arrived (\(.arrived)/\(.frames) frames)\(if .ratio_to_bare then ", \(.ratio_to_bare * 100 | floor)% of bare XDP_TX" else "" end)"' >&2; }

"$BPFLAB" --netns "$XNS" lb gen l0 --reflect --duration $((FSECS + 3)) >/dev/null &
refl=$!
sleep 0.3
rec=$(fwd "bare xdp_tx"); echo "$rec"; echo "$rec" | fwd_report
bare=$(printf '%s' "$rec" | jq .arrived_pps)
wait "$refl"
for mode in dsr nat; do
  "$BPFLAB" --netns "$XNS" lb start l0 --mode $mode >/dev/null
  "$BPFLAB" --netns "$XNS" lb vip add $FVIP >/dev/null
  "$BPFLAB" --netns "$XNS" lb backend add $FVIP 198.18.77.1 --mac $G_MAC >/dev/null
  rec=$(fwd "bpflab lb $mode" | jq -c --argjson bare "$bare" '. + {ratio_to_bare: (.arrived_pps / $bare)}')
  echo "$rec"; echo "$rec" | fwd_report
  "$BPFLAB" --netns "$XNS" lb stop l0 >/dev/null
done
# The kernel's way: DNAT by nftables, forwarded by the stack back out of l0. l0 keeps an
# XDP_PASS program (bpflab count) only to give it NAPI for the generator's frames.
ip -n "$XNS" addr add 198.18.77.100/32 dev lo
ip netns exec "$XNS" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
  net.ipv4.conf.l0.send_redirects=0
printf '%s\n' 'table ip bpflab_lb_peer {' \
  '  chain pre { type nat hook prerouting priority dstnat;' \
  '    ip daddr 198.18.77.100 udp dport 9 dnat to numgen inc mod 2 map { 0 : 198.18.77.1, 1 : 198.18.77.1 }' \
  '  }' '}' | ip netns exec "$XNS" nft -f -
"$BPFLAB" --netns "$XNS" count l0 --duration $((FSECS + 3)) --interval 0 >/dev/null 2>&1 &
napi=$!
sleep 0.3
rec=$(fwd "nftables dnat numgen" | jq -c --argjson bare "$bare" '. + {ratio_to_bare: (.arrived_pps / $bare)}')
echo "$rec"; echo "$rec" | fwd_report
wait "$napi"
ip netns del "$GNS"
ip netns del "$XNS"

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
