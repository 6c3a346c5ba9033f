#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A real HTTP client through the load balancer: `wrk` on the lab's client against the two
# backends' HTTP servers (`lab up --serve`) through the VIP, balanced by (a) bpflab lb nat
# and (b) nftables DNAT (numgen round robin + masquerade) on the same lb node, same
# backends, rounds interleaved. The figure is the LB node's packet-processing CPU time per
# request: lb's eth0 runs its NAPI in a kernel thread of its own (threaded NAPI), so every
# packet lb receives is processed there: the XDP program and its XDP_TX in (a), GRO, the
# stack, netfilter's DNAT and the forward out of eth0 in (b), both directions (the
# backends answer lb in both setups). The thread's CPU time comes from
# /proc/PID/schedstat (ns on CPU). The switch port facing lb runs threaded NAPI too, so
# what happens after lb has handed a packet on (the bridge, the next hop) is not charged
# to lb. TSO is off on that port: the kernel's veth hands a TSO-capable sender's packets
# to the stack without NAPI, which would hide (b)'s receive work in another softirq.
# Output: JSON Lines on stdout (lb_wrk per round, lb_wrk_summary), a summary on stderr.
#   bench/lb_wrk.sh [--quick]      (BENCH_QUICK=1 also: shorter rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB=${BPFLAB:-$PWD/$OUT/bpflab}
quick=${BENCH_QUICK:-}
[ "${1:-}" = --quick ] && quick=1
if [ "$quick" = 1 ]; then SECS=2 ROUNDS=2; else SECS=5 ROUNDS=3; fi
CONNS=${LB_WRK_CONNS:-32}

[ -x "$BPFLAB" ] || { echo "bench/lb_wrk.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/lb_wrk.sh: needs root" >&2; exit 4; }
command -v wrk >/dev/null || { echo "bench/lb_wrk.sh: needs wrk (make deps)" >&2; exit 1; }
command -v nft >/dev/null || { echo "bench/lb_wrk.sh: needs nft (make deps)" >&2; exit 1; }

LAB="lbw$(printf '%x' $$ | tail -c 6)"
VIP=198.18.0.100
CONF="/tmp/$LAB.conf"
cleanup() {
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -f "$CONF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BPFLAB" lab up --name "$LAB" --backends 2 --lb nat --serve >/dev/null
ip netns exec "$LAB-lb" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
  net.ipv4.conf.eth0.send_redirects=0
ip netns exec "$LAB-lb" ethtool -K eth0 gro on >/dev/null
ip netns exec "$LAB-sw" ethtool -K p-lb tso off >/dev/null
ip netns exec "$LAB-sw" sh -c 'echo 1 > /sys/class/net/p-lb/threaded'
printf 'vip %s:80/tcp\nbackend %s:80/tcp 198.18.0.11\nbackend %s:80/tcp 198.18.0.12\n' $VIP $VIP $VIP > "$CONF"

napi_threads() { ps -eo pid=,comm= | awk '$2 ~ /^napi\// {print $1}' | sort; }

# lb's eth0 NAPI thread, made afresh (a setup change may have made a new NAPI instance):
# the napi thread that appears when threaded NAPI is switched on.
LB_NAPI=
lb_napi_thread() {
  local before after
  ip netns exec "$LAB-lb" sh -c 'echo 0 > /sys/class/net/eth0/threaded'
  before=$(napi_threads)
  ip netns exec "$LAB-lb" sh -c 'echo 1 > /sys/class/net/eth0/threaded'
  for _ in $(seq 50); do
    after=$(napi_threads)
    LB_NAPI=$(comm -13 <(echo "$before") <(echo "$after") | head -1)
    [ -n "$LB_NAPI" ] && return 0
    sleep 0.02
  done
  echo "bench/lb_wrk.sh: lb's eth0 has no NAPI thread" >&2
  return 1
}
oncpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
lb_pkts() { ip -n "$LAB-lb" -s -j link show eth0 | jq '.[0].stats64.rx.packets'; }

nft_on() {
  ip netns exec "$LAB-lb" nft -f - <<EOF
table ip bpflab_lb_wrk {
  chain pre { type nat hook prerouting priority dstnat;
    ip daddr $VIP tcp dport 80 dnat to numgen inc mod 2 map { 0 : 198.18.0.11, 1 : 198.18.0.12 }
  }
  chain post { type nat hook postrouting priority srcnat;
    ip daddr { 198.18.0.11, 198.18.0.12 } masquerade
  }
}
EOF
}
nft_off() { ip netns exec "$LAB-lb" nft delete table ip bpflab_lb_wrk; }
bpf_on() { "$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode nat --config "$CONF" >/dev/null; }
bpf_off() { "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null; }

# One round of SETUP: wrk for SECS; one lb_wrk record.
round() { # setup round
  local setup=$1 r=$2 t0 t1 b0 b1 p0 p1 out req errs non2xx hz
  hz=$(getconf CLK_TCK)
  lb_napi_thread
  # a first short burst: ARP, conntrack and caches warm, not measured
  "$BPFLAB" lab exec --name "$LAB" client -- wrk -t1 -c4 -d1s "http://$VIP/" >/dev/null
  t0=$(oncpu_ns "$LB_NAPI"); b0=$(busy); p0=$(lb_pkts)
  out=$("$BPFLAB" lab exec --name "$LAB" client -- timeout $((SECS + 10)) \
          wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 2s "http://$VIP/")
  t1=$(oncpu_ns "$LB_NAPI"); b1=$(busy); p1=$(lb_pkts)
  req=$(printf '%s\n' "$out" | awk '/ requests in /{print $1; exit}')
  errs=$(printf '%s\n' "$out" | awk -F'[ ,]+' '/Socket errors/{print $4+$6+$8+$10; exit}')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/{print $NF; exit}')
  jq -cn --arg setup "$setup" --argjson round "$r" --argjson secs "$SECS" --argjson conns "$CONNS" \
    --argjson req "${req:-0}" --argjson errs "${errs:-0}" --argjson non2xx "${non2xx:-0}" \
    --argjson napi_ns "$((t1 - t0))" --argjson pkts "$((p1 - p0))" \
    --argjson busy_us "$(( (b1 - b0) * 1000000 / hz ))" \
    '{type: "lb_wrk", setup: $setup, round: $round, seconds: $secs, connections: $conns,
      requests: $req, socket_errors: $errs, non_2xx: $non2xx,
      requests_per_s: ($req / $secs), lb_rx_packets: $pkts,
      lb_napi_ns_per_request: (if $req > 0 then $napi_ns / $req else null end),
      lb_napi_ns_per_packet: (if $pkts > 0 then $napi_ns / $pkts else null end),
      machine_busy_us_per_request: (if $req > 0 then $busy_us / $req else null end),
      valid: ($req > 0 and $errs == 0 and $non2xx == 0)}'
}

all=()
for r in $(seq "$ROUNDS"); do
  bpf_on;  rec=$(round "bpflab lb nat" "$r"); bpf_off; echo "$rec"; all+=("$rec")
  nft_on;  rec=$(round "nftables dnat" "$r"); nft_off; echo "$rec"; all+=("$rec")
done
for rec in "${all[@]}"; do
  printf '%s\n' "$rec" | jq -r '"\(.setup) round \(.round): \(.requests) requests (\(.requests_per_s | floor)/s), lb NAPI \(.lb_napi_ns_per_request // 0 | floor) ns per request, \(.lb_napi_ns_per_packet // 0 | floor) ns per packet received, machine \(.machine_busy_us_per_request // 0 | floor) us per request\(if .valid then "" else " (NOT A RESULT: errors or no requests)" end)"' >&2
done
# Medians over the valid rounds, and the ratio nftables / bpflab (>= 5 is the target).
sum=$(printf '%s\n' "${all[@]}" | jq -cs '
  def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  def pick(s): [.[] | select(.setup == s and .valid)];
  (pick("bpflab lb nat")) as $b | (pick("nftables dnat")) as $n |
  {type: "lb_wrk_summary", rounds: (length / 2),
   bpflab_napi_ns_per_request: ([$b[].lb_napi_ns_per_request] | med),
   nftables_napi_ns_per_request: ([$n[].lb_napi_ns_per_request] | med),
   bpflab_requests_per_s: ([$b[].requests_per_s] | med),
   nftables_requests_per_s: ([$n[].requests_per_s] | med)} |
  .nftables_over_bpflab = (if .bpflab_napi_ns_per_request and .nftables_napi_ns_per_request
                           then .nftables_napi_ns_per_request / .bpflab_napi_ns_per_request
                           else null end)')
echo "$sum"
# (not tee /dev/stderr: that would truncate a stderr redirected to a file)
echo "$sum" | jq -r '"median lb NAPI ns per request: bpflab lb nat \(.bpflab_napi_ns_per_request // "-" | tostring | .[0:7]), nftables dnat \(.nftables_napi_ns_per_request // "-" | tostring | .[0:7]): nftables / bpflab = \(.nftables_over_bpflab // "-" | tostring | .[0:4]) (target >= 5)"' >&2
