#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A real HTTP client through the load balancer: `wrk` on the lab's client against the two
# backends' HTTP servers through the VIP, balanced by (a) bpflab lb nat and (b) nftables
# DNAT (numgen round robin + masquerade) on the same lb node, same backends, rounds
# interleaved. The backends run nginx (one worker, `return 200`), started here in each
# backend's namespace: the lab's Python server (`lab up --serve`, LB_WRK_SERVER=python)
# serves a few thousand requests/s, nginx several times that; at the lower rate every
# packet wakes lb's NAPI thread on its own and the wakeups hide what the two setups do per
# packet.
# The figure is the LB node's packet-processing CPU time per request: lb's eth0 runs its
# NAPI in a kernel thread of its own (threaded NAPI), so every packet lb receives is
# processed there: the XDP program and its XDP_TX in (a), GRO, the stack, netfilter's DNAT
# and the forward out of eth0 in (b), both directions (the backends answer lb in both
# setups). The thread's CPU time comes from /proc/PID/schedstat (ns on CPU). The switch
# port facing lb runs threaded NAPI too, so what happens after lb has handed a packet on
# (the bridge, the next hop) is not charged to lb. TSO is off on that port: the kernel's
# veth hands a TSO-capable sender's packets to the stack without NAPI, which would hide
# (b)'s receive work in another softirq.
# --profile adds one round per setup, last, with `perf record -e cpu-clock -g` on that
# thread (cpu-clock: a VM may have no PMU); it is left out of the medians (the sampling
# costs the thread time too) and gives the shares of the thread's time spent in the XDP
# program, in veth's copy of each skb into a page_pool page (veth only: a NIC's driver
# builds its frames in such pages already), in schedule and so on, and from them the
# ratio nftables / bpflab would reach if the program cost nothing (and the copy too).
# Output: JSON Lines on stdout (lb_wrk per round, lb_wrk_profile per setup with --profile,
# lb_wrk_summary), a summary on stderr.
#   bench/lb_wrk.sh [--quick] [--profile]   (BENCH_QUICK=1 also: shorter rounds)
#   LB_WRK_SERVER=nginx|python (nginx), LB_WRK_CONNS=N (32)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB=${BPFLAB:-$PWD/$OUT/bpflab}
quick=${BENCH_QUICK:-}
profile=
for a in "$@"; do
  case $a in
  --quick) quick=1 ;;
  --profile) profile=1 ;;
  *) echo "usage: bench/lb_wrk.sh [--quick] [--profile]" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then SECS=2 ROUNDS=2; else SECS=5 ROUNDS=3; fi
CONNS=${LB_WRK_CONNS:-32}
SERVER=${LB_WRK_SERVER:-nginx}
case $SERVER in
nginx | python) ;;
*) echo "bench/lb_wrk.sh: LB_WRK_SERVER is nginx or python, not '$SERVER'" >&2; exit 2 ;;
esac

[ -x "$BPFLAB" ] || { echo "bench/lb_wrk.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/lb_wrk.sh: needs root" >&2; exit 4; }
command -v wrk >/dev/null || { echo "bench/lb_wrk.sh: needs wrk (make deps)" >&2; exit 1; }
command -v nft >/dev/null || { echo "bench/lb_wrk.sh: needs nft (make deps)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/lb_wrk.sh: needs curl (make deps)" >&2; exit 1; }
if [ "$SERVER" = nginx ] && ! command -v nginx >/dev/null; then
  echo "bench/lb_wrk.sh: needs nginx for the backends (make deps; or LB_WRK_SERVER=python)" >&2
  exit 1
fi
if [ -n "$profile" ] && ! command -v perf >/dev/null; then
  echo "bench/lb_wrk.sh: --profile needs perf (make deps: linux-perf)" >&2
  exit 1
fi

LAB="lbw$(printf '%x' $$ | tail -c 6)"
VIP=198.18.0.100
BACKENDS=(a:198.18.0.11 b:198.18.0.12) # node backend-X: address
TMP=$(mktemp -d)
CONF="$TMP/lb.conf"

# A daemon that did not die of TERM within 5 s gets KILL: nothing outlives the lab. Gone
# is a zombie too: a daemonized nginx's parent is whatever reaps orphans here, maybe late.
gone() { local st; st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; st=${st##*) }; [ "${st%% *}" = Z ]; }
stop_pid() { # pid
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do gone "$1" && return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
nginx_stop() {
  local b n pid
  for b in "${BACKENDS[@]}"; do
    n=${b%%:*}
    pid=$(cat "$TMP/nginx-$n.pid" 2>/dev/null) || pid=
    if [ -n "$pid" ]; then stop_pid "$pid"; fi
    # a master killed before it wrote its pid file, or its orphaned workers: whatever
    # nginx still runs in this lab's backend namespace is ours
    for pid in $(ip netns pids "$LAB-backend-$n" 2>/dev/null); do
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ]; then stop_pid "$pid"; fi
    done
  done
}
cleanup() {
  local pid
  set +e # every step, whatever the one before it did
  pid=$(cat "$TMP/perf.pid" 2>/dev/null) || pid=
  if [ -n "$pid" ]; then stop_pid "$pid"; fi
  nginx_stop
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nginx_start() {
  local b n conf
  for b in "${BACKENDS[@]}"; do
    n=${b%%:*}
    conf="$TMP/nginx-$n.conf"
    mkdir -p "$TMP/nginx-$n"
    # Everything nginx writes stays in $TMP: pid, logs and the temp folders it makes at
    # start (its compiled-in ones are the system's).
    cat > "$conf" <<EOF
worker_processes 1;
pid $TMP/nginx-$n.pid;
error_log $TMP/nginx-$n.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx-$n/body;
  proxy_temp_path $TMP/nginx-$n/proxy;
  fastcgi_temp_path $TMP/nginx-$n/fastcgi;
  uwsgi_temp_path $TMP/nginx-$n/uwsgi;
  scgi_temp_path $TMP/nginx-$n/scgi;
  # wrk's connections stay open all the round, as with the lab's server (nginx closes one
  # after 1000 requests by default)
  keepalive_requests 1000000;
  server { listen 80; location / { return 200 "backend-$n\n"; } }
}
EOF
    ip netns exec "$LAB-backend-$n" nginx -e "$TMP/nginx-$n.log" -c "$conf" || {
      echo "bench/lb_wrk.sh: nginx did not start in $LAB-backend-$n:" >&2
      cat "$TMP/nginx-$n.log" >&2
      exit 1
    }
  done
}

# Every backend answers the client directly with its own name: the servers are up, and
# they are the ones we started.
backends_check() {
  local b n addr body
  for b in "${BACKENDS[@]}"; do
    n=${b%%:*} addr=${b#*:}
    for _ in $(seq 25); do
      body=$("$BPFLAB" lab exec --name "$LAB" client -- curl -s -m 2 "http://$addr/") || body=
      [ "$body" = "backend-$n" ] && break
      sleep 0.2
    done
    [ "$body" = "backend-$n" ] || {
      echo "bench/lb_wrk.sh: backend-$n ($addr) does not answer HTTP (got '$body')" >&2
      exit 1
    }
  done
}

if [ "$SERVER" = python ]; then
  "$BPFLAB" lab up --name "$LAB" --backends 2 --lb nat --serve >/dev/null
else
  "$BPFLAB" lab up --name "$LAB" --backends 2 --lb nat >/dev/null
  nginx_start
fi
backends_check
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

# The profile of one round: the share of the thread's samples whose call chain holds a
# symbol (perf's "children" column), for the symbols the bounds are made of.
profile_record() { # setup data
  local total
  # one line per sample: the tid field alone prints no call chain
  total=$(perf script -i "$2" -F tid 2>/dev/null | wc -l)
  [ "$total" -gt 0 ] || { echo "bench/lb_wrk.sh: no perf samples for $1 (the thread did not run?)" >&2
                          return 0; }
  perf report -i "$2" --children --stdio -g none --sort sym 2>/dev/null |
    awk '!/^#/ && NF >= 4 && $1 ~ /%$/ {
           sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i
           sub(/%$/, "", $1); print $1 "\t" sym }' |
    jq -cnR --arg setup "$1" --arg server "$SERVER" --argjson n "$total" '
      [inputs | split("\t") | {sym: .[1], share: (.[0] | tonumber / 100)}] as $s |
      def sh(re): [$s[] | select(.sym | test(re)) | .share] | max // 0;
      {type: "lb_wrk_profile", setup: $setup, server: $server, samples: $n,
       shares: {
         # the JIT names a program bpf_prog_<tag>_<name>; its subprograms run inside it,
         # so the largest one is the program with everything it calls
         xdp_program: sh("^bpf_prog_"),
         veth_skb_copy: sh("^skb_pp_cow_data$"),
         schedule: sh("^schedule$"),
         napi_schedule: sh("^__napi_schedule$"),
         stack: sh("^(netif_receive_skb_list_internal|__netif_receive_skb.*)$")},
       # the largest shares but the frames every sample has (the kernel thread itself)
       top: [$s | map(select(.share < 0.99)) | sort_by(-.share) | .[:12][] | {(.sym): .share}]
            | add}'
}

# One round of SETUP: wrk for SECS; one lb_wrk record (and with PROF, the profile record
# after it).
round() { # setup round [prof]
  local setup=$1 r=$2 prof=${3:-} t0 t1 b0 b1 p0 p1 out req errs non2xx hz data='' pctl pack ack
  hz=$(getconf CLK_TCK)
  lb_napi_thread
  # a first short burst: ARP, conntrack and caches warm, not measured
  "$BPFLAB" lab exec --name "$LAB" client -- wrk -t1 -c4 -d1s "http://$VIP/" >/dev/null
  if [ -n "$prof" ]; then
    data="$TMP/perf-${setup%% *}.data"
    rm -f "$TMP/perf.ctl" "$TMP/perf.ack"
    mkfifo "$TMP/perf.ctl" "$TMP/perf.ack"
    # Started disabled (-D -1) and enabled once it is ready: its start-up (every process's
    # maps, the kernel's symbols) takes CPU on this small machine, not taken from the
    # round then, and the samples cover the round only. -N: no build-id cache in ~/.debug.
    # timeout: a bound if the TERM that ends it after the round were lost.
    timeout -s INT $((SECS + 60)) perf record -q -N -e cpu-clock -g -t "$LB_NAPI" -D -1 \
      --control "fifo:$TMP/perf.ctl,$TMP/perf.ack" -o "$data" >/dev/null 2>"$TMP/perf.log" &
    echo $! > "$TMP/perf.pid"
    # <>: opening a fifo so never blocks, even if perf died before opening its end
    exec {pctl}<>"$TMP/perf.ctl" {pack}<>"$TMP/perf.ack"
    echo enable >&"$pctl"
    read -r -t 30 ack <&"$pack" || ack=
    [ "$ack" = ack ] || { echo "bench/lb_wrk.sh: perf record did not start:" >&2
                          cat "$TMP/perf.log" >&2; return 1; }
  fi
  t0=$(oncpu_ns "$LB_NAPI"); b0=$(busy); p0=$(lb_pkts)
  out=$("$BPFLAB" lab exec --name "$LAB" client -- timeout $((SECS + 10)) \
          wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 2s "http://$VIP/")
  t1=$(oncpu_ns "$LB_NAPI"); b1=$(busy); p1=$(lb_pkts)
  if [ -n "$prof" ]; then
    # timeout hands the TERM on to perf, which then writes its file out and exits
    kill -TERM "$(cat "$TMP/perf.pid")" 2>/dev/null || true
    wait "$(cat "$TMP/perf.pid")" || true
    # (closed only now: a control fifo without a writer is a hang-up perf would poll on)
    exec {pctl}>&- {pack}>&-
    rm -f "$TMP/perf.pid"
  fi
  req=$(printf '%s\n' "$out" | awk '/ requests in /{print $1; exit}')
  errs=$(printf '%s\n' "$out" | awk -F'[ ,]+' '/Socket errors/{print $4+$6+$8+$10; exit}')
  non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/{print $NF; exit}')
  jq -cn --arg setup "$setup" --argjson round "$r" --argjson secs "$SECS" --argjson conns "$CONNS" \
    --arg server "$SERVER" --argjson profiled "${prof:-0}" \
    --argjson req "${req:-0}" --argjson errs "${errs:-0}" --argjson non2xx "${non2xx:-0}" \
    --argjson napi_ns "$((t1 - t0))" --argjson pkts "$((p1 - p0))" \
    --argjson busy_us "$(( (b1 - b0) * 1000000 / hz ))" \
    '{type: "lb_wrk", setup: $setup, server: $server, round: $round, seconds: $secs,
      connections: $conns, profiled: ($profiled == 1),
      requests: $req, socket_errors: $errs, non_2xx: $non2xx,
      requests_per_s: ($req / $secs), lb_rx_packets: $pkts,
      lb_napi_ns_per_request: (if $req > 0 then $napi_ns / $req else null end),
      lb_napi_ns_per_packet: (if $pkts > 0 then $napi_ns / $pkts else null end),
      machine_busy_us_per_request: (if $req > 0 then $busy_us / $req else null end),
      valid: ($req > 0 and $errs == 0 and $non2xx == 0)}'
  if [ -n "$prof" ]; then
    if [ -s "$data" ]; then
      profile_record "$setup" "$data"
    else
      echo "bench/lb_wrk.sh: perf recorded nothing for $setup:" >&2
      cat "$TMP/perf.log" >&2
    fi
  fi
}

all=()
profs=()
# The lines of one round: its lb_wrk record, then its profile if any.
emit() {
  local line
  while IFS= read -r line; do
    echo "$line"
    case $line in
    *'"type":"lb_wrk_profile"'*) profs+=("$line") ;;
    *) all+=("$line") ;;
    esac
  done <<< "$1"
}
last=$ROUNDS
[ -n "$profile" ] && last=$((ROUNDS + 1))
for r in $(seq "$last"); do
  prof=
  [ "$r" -gt "$ROUNDS" ] && prof=1
  bpf_on; out=$(round "bpflab lb nat" "$r" $prof); bpf_off; emit "$out"
  nft_on; out=$(round "nftables dnat" "$r" $prof); nft_off; emit "$out"
done
for rec in "${all[@]}"; do
  printf '%s\n' "$rec" | jq -r '"\(.setup) round \(.round)\(if .profiled then " (profiled)" else "" end): \(.requests) requests (\(.requests_per_s | floor)/s), lb NAPI \(.lb_napi_ns_per_request // 0 | floor) ns per request, \(.lb_napi_ns_per_packet // 0 | floor) ns per packet received, machine \(.machine_busy_us_per_request // 0 | floor) us per request\(if .valid then "" else " (NOT A RESULT: errors or no requests)" end)"' >&2
done
for rec in "${profs[@]}"; do
  printf '%s\n' "$rec" | jq -r 'def p: . * 1000 | round / 10 | tostring + "%";
    "profile \(.setup): \(.samples) samples of lb NAPI: xdp program \(.shares.xdp_program | p), veth skb copy \(.shares.veth_skb_copy | p), schedule \(.shares.schedule | p), __napi_schedule \(.shares.napi_schedule | p), stack \(.shares.stack | p)"' >&2
done
# Medians over the valid unprofiled rounds, and the ratio nftables / bpflab (>= 5 is the
# target); with a profile, the ratio bpflab could reach at best: its NAPI time less the
# program's share (and less veth's copy).
sum=$( (printf '%s\n' "${all[@]}"; printf '%s\n' "${profs[@]}") | jq -cs --arg server "$SERVER" '
  def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  def pick(s): [.[] | select(.type == "lb_wrk" and .setup == s and .valid and (.profiled | not))];
  (pick("bpflab lb nat")) as $b | (pick("nftables dnat")) as $n |
  ([.[] | select(.type == "lb_wrk_profile" and .setup == "bpflab lb nat")] | .[0].shares) as $p |
  {type: "lb_wrk_summary", server: $server,
   rounds: ([.[] | select(.type == "lb_wrk" and (.profiled | not))] | length / 2),
   bpflab_napi_ns_per_request: ([$b[].lb_napi_ns_per_request] | med),
   nftables_napi_ns_per_request: ([$n[].lb_napi_ns_per_request] | med),
   bpflab_requests_per_s: ([$b[].requests_per_s] | med),
   nftables_requests_per_s: ([$n[].requests_per_s] | med)} |
  .nftables_over_bpflab = (if .bpflab_napi_ns_per_request and .nftables_napi_ns_per_request
                           then .nftables_napi_ns_per_request / .bpflab_napi_ns_per_request
                           else null end) |
  .bound_without_program = (if .nftables_over_bpflab and $p
                            then .nftables_over_bpflab / (1 - $p.xdp_program) else null end) |
  .bound_without_program_and_copy = (if .nftables_over_bpflab and $p
                                     then .nftables_over_bpflab / (1 - $p.xdp_program - $p.veth_skb_copy)
                                     else null end)')
echo "$sum"
# (not tee /dev/stderr: that would truncate a stderr redirected to a file)
echo "$sum" | jq -r '"median lb NAPI ns per request (\(.server) backends): bpflab lb nat \(.bpflab_napi_ns_per_request // "-" | tostring | .[0:7]), nftables dnat \(.nftables_napi_ns_per_request // "-" | tostring | .[0:7]): nftables / bpflab = \(.nftables_over_bpflab // "-" | tostring | .[0:4]) (target >= 5)"' >&2
echo "$sum" | jq -r 'select(.bound_without_program) | "at best, on veth: \(.bound_without_program | tostring | .[0:4]) if the XDP program cost nothing, \(.bound_without_program_and_copy | tostring | .[0:4]) if veth did not copy each skb either"' >&2
