#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Many LB nodes behind ECMP, measured: how long the router takes to change its route when
# a node dies, comes back or is drained, and how many of 1,000 long-lived TCP connections
# (a message every 100 ms each, `bpflab lab clients`) each of those events breaks. The lab
# is `bpflab lab up --lbs 3 --router bird` (BIRD on the router and every node, BFD); the
# connections go to the VIP's port 7, answered by the lab's stream server on every backend.
#
# Scenarios (each one lab, one stream, events in order, each after the last converged):
#   cycle   drain lb3 (lb drain-node), undrain it; kill lb2: its eth0 down, then kill -9 of
#           everything in it; bring it back (lab revive). Gentle events first, so what a
#           revived node still lacks cannot be charged to a drain.
#   remove  kill lb3 as above, then remove backend-c from every node's configuration: only
#           backend-c's connections may break (and Maglev moves < 1% of the others)
# Modes: dsr and ipip keep connections across nodes (the same Maglev table everywhere);
# nat cannot (its source address is per node): measured, not expected to be 0.
#
# Output: JSON Lines on stdout, a line per event on stderr:
#   lb_cluster_event  mode, scenario, event, node, converge_ms (null: the route did not
#                     change within the wait: then complete is false), broken during the
#                     event's window, by reason, moved
#   lb_cluster_run    the stream's totals; complete is false (with a note) when the run
#                     lost what it needed: a connection that never opened, a lab that did
#                     not come up, a route that never converged. Such a run is not a result.
# usage: bench/lb_cluster.sh [--quick]                    every scenario in dsr, ipip, nat
#        bench/lb_cluster.sh --mode M --scenario S [--lab NAME] [--conns N]
# (the tests call the second form with their own lab name and assert on its JSON)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB=${BPFLAB:-$PWD/$OUT/bpflab}
VIP=198.18.0.100
PORT=7
LBS=3
modes=(dsr ipip nat) scenarios=(cycle remove) lab='' conns=1000 quick=${BENCH_QUICK:-}
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --mode) modes=("$2"); shift ;;
    --scenario) scenarios=("$2"); shift ;;
    --lab) lab=$2; shift ;;
    --conns) conns=$2; shift ;;
    *) echo "bench/lb_cluster.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ "$quick" = 1 ] && [ "$conns" = 1000 ] && conns=300
for m in "${modes[@]}"; do
  case $m in dsr|ipip|gue|nat) ;; *) echo "bench/lb_cluster.sh: mode dsr|ipip|gue|nat" >&2; exit 2 ;; esac
done
for s in "${scenarios[@]}"; do
  case $s in cycle|remove) ;; *) echo "bench/lb_cluster.sh: scenario cycle|remove" >&2; exit 2 ;; esac
done
[ -x "$BPFLAB" ] || { echo "bench/lb_cluster.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/lb_cluster.sh: needs root" >&2; exit 4; }
command -v birdc >/dev/null || { echo "bench/lb_cluster.sh: needs BIRD 2 (make deps)" >&2; exit 3; }

TMP=$(mktemp -d /tmp/bpflab-lb-cluster-XXXXXX)
LAB=
SPID=
cleanup() {
  [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -z "$LAB" ] || "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
lb_addr() { echo "198.18.0.$(( $1 + 1 ))"; } # lbK on the LAN
backend_addr() { # mode index(0..): where lb sends backend i
  local h=$(( 11 + $2 ))
  case $1 in dsr|nat) echo "198.18.0.$h" ;; *) echo "198.18.$h.$h" ;; esac
}

# conf MODE FILE [SKIP-INDEX]: the VIP's port 7 over three backends (one left out). On the
# LAN the MACs are given (the lab's are fixed, 02:00:c6:12:00:<host>): a node whose link
# is down cannot learn them by ARP, and the configuration must reach it too.
conf() {
  local mode=$1 f=$2 skip=${3:--1} i encap='' mac
  case $mode in ipip|gue) encap=" encap $mode" ;; esac
  {
    echo "vip $VIP:$PORT/tcp$encap"
    for i in 0 1 2; do
      [ "$i" -eq "$skip" ] && continue
      mac=
      [ -n "$encap" ] || mac=$(printf ' mac 02:00:c6:12:00:%02x' $(( 11 + i )))
      echo "backend $VIP:$PORT/tcp $(backend_addr "$mode" "$i")$mac"
    done
  } > "$f"
}

route() { ip -n "$LAB-router" -4 route show "$VIP/32" 2>/dev/null || true; }
next_hops() { route | grep -c ' via ' || true; }

# wait_route present|absent ADDR T0 CAP_S: ms from T0 until the router's route to the VIP
# has (or lost) ADDR as a next hop; "null" if not within CAP_S seconds
wait_route() {
  local want=$1 addr=$2 t0=$3 cap=$4 end r
  end=$(( $(now_ms) + cap * 1000 ))
  while [ "$(now_ms)" -lt "$end" ]; do
    r=$(route)
    if [ "$want" = present ]; then
      grep -q " via $addr " <<<"$r" && { echo $(( $(now_ms) - t0 )); return 0; }
    else
      grep -q " via $addr " <<<"$r" || { echo $(( $(now_ms) - t0 )); return 0; }
    fi
    sleep 0.01
  done
  echo null
}

# A node that crashes says nothing: its link goes first, then kill -9 of every process
# in its namespace. The other order lets the kernel close BIRD's BGP socket with a FIN
# the router hears at once (~75 ms here), which a machine losing power never sends: then
# only BFD can tell. The XDP program stays attached to the (now down) interface.
kill_node() {
  local ns="$LAB-$1" p
  ip -n "$ns" link set eth0 down || return 1
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
}

revive_node() {
  "$BPFLAB" lab revive --name "$LAB" "$1" >/dev/null 2>"$TMP/revive.err" ||
    { cat "$TMP/revive.err" >&2; return 1; }
}

EVENTS=() # "name node t_ms converge_ms|null done(true|false)"

# event NAME NODE: does it, measures the route, waits SETTLE s of streaming after it; an
# event that failed is still recorded (incomplete), so what it broke is not put on another
event() {
  local name=$1 node=$2 k=${2#lb} t0 cms=null
  WANT=
  t0=$(now_ms)
  if ! do_event "$name" "$node"; then
    EVENTS+=("$name $node $t0 null false")
    echo "  $MODE $SCENARIO: $name $node FAILED" >&2
    return 1
  fi
  if [ -n "$WANT" ]; then
    cms=$(wait_route "$WANT" "$(lb_addr "$k")" "$t0" 15)
  fi
  EVENTS+=("$name $node $t0 $cms true")
  echo "  $MODE $SCENARIO: $name $node: route ${WANT:-unchanged}${WANT:+ after ${cms} ms}" >&2
  sleep "$SETTLE"
}

# do_event NAME NODE; sets WANT: what the router's route is to do about the node
do_event() {
  local name=$1 node=$2 want
  case $name in
    kill) kill_node "$node" || return 1; want=absent ;;
    revive) revive_node "$node" || return 1; want=present ;;
    drain) "$BPFLAB" lab exec --name "$LAB" "$node" -- "$BPFLAB" lb drain-node >/dev/null || return 1
      want=absent ;;
    undrain) "$BPFLAB" lab exec --name "$LAB" "$node" -- "$BPFLAB" lb undrain-node >/dev/null || return 1
      want=present ;;
    remove_backend)
      conf "$MODE" "$TMP/conf-removed" 2
      # what Maglev alone does to the others: a node with no conntrack entry for a flow
      # places it by the new table (lb1's dry run: the share of slots that change, less
      # the removed backend's own)
      local dry show
      dry=$("$BPFLAB" --netns "$LAB-lb1" lb apply "$TMP/conf-removed" --dry-run --json) || return 1
      show=$("$BPFLAB" --netns "$LAB-lb1" lb show --json) || return 1
      MAGLEV_OTHERS=$(jq -n --argjson d "$dry" --argjson s "$show" --arg a "$(backend_addr "$MODE" 2):" '
        ($s.table_size) as $m | ([$s.vips[0].backends[] | select(.address | startswith($a)) | .slots] | add) as $c |
        (($d.moved_share * $m) - $c) / ($m - $c)')
      "$BPFLAB" lab lb-apply --name "$LAB" "$TMP/conf-removed" >/dev/null 2>"$TMP/apply.err" ||
        { cat "$TMP/apply.err" >&2; return 1; }
      want= ;;
  esac
  WANT=$want
}

# report: one lb_cluster_event per event, breaks counted between it and the next one
report() {
  local stream=$1 complete=$2 note=$3 i name node t cms ok next
  for i in "${!EVENTS[@]}"; do
    read -r name node t cms ok <<<"${EVENTS[$i]}"
    next=9999999999999
    [ $(( i + 1 )) -lt ${#EVENTS[@]} ] && next=$(cut -d' ' -f3 <<<"${EVENTS[$((i + 1))]}")
    jq -c -s --arg mode "$MODE" --arg sc "$SCENARIO" --arg ev "$name" --arg node "$node" \
      --argjson t "$t" --argjson next "$next" --argjson cms "$cms" --argjson complete "$complete" \
      --argjson ok "$ok" \
      --arg removed "${REMOVED:-}" --argjson maglev "${MAGLEV_OTHERS:-null}" '
      (map(select(.type == "stream")) | last) as $sum |
      (map(select(.type == "stream_break" and .time_ms >= $t and .time_ms < $next))) as $b |
      (map(select(.type == "stream_move" and .time_ms >= $t and .time_ms < $next))) as $m |
      {type: "lb_cluster_event", mode: $mode, scenario: $sc, event: $ev, node: $node,
       time_ms: $t, converge_ms: $cms, done: $ok,
       complete: ($complete and $ok and ($cms != null or $ev == "remove_backend")),
       conns: ($sum.opened // 0), broken: ($b | length),
       broken_by_reason: ($b | group_by(.reason) | map({(.[0].reason): length}) | add // {}),
       moved: ($m | length)}
      + (if $ev == "remove_backend" then
           ($sum.backends // []) as $bk |
           {removed_backend: $removed, maglev_others_moved_share: $maglev,
            conns_removed: ([$bk[] | select(.node == $removed) | .conns] | add // 0),
            broken_removed: ([$b[] | select(.backend == $removed)] | length),
            conns_others: ([$bk[] | select(.node != $removed) | .conns] | add // 0),
            broken_others: ([$b[] | select(.backend != $removed)] | length),
            moved_others: ([$m[] | select(.from != $removed)] | length)}
         else {} end)' "$stream"
  done
  jq -c -s --arg mode "$MODE" --arg sc "$SCENARIO" --argjson complete "$complete" --arg note "$note" '
    (map(select(.type == "stream")) | last) as $s |
    {type: "lb_cluster_run", mode: $mode, scenario: $sc, complete: ($complete and $s != null and $s.failed_open == 0),
     note: (if $note == "" then null else $note end),
     conns: ($s.conns // 0), opened: ($s.opened // 0), failed_open: ($s.failed_open // 0),
     broken: ($s.broken // 0), broken_by_reason: ($s.broken_by_reason // {}), moved: ($s.moved // 0),
     sent: ($s.sent // 0), answers: ($s.answers // 0), max_gap_ms: ($s.max_gap_ms // null),
     backends: ($s.backends // [])}' "$stream"
}

run_one() { # mode scenario
  MODE=$1 SCENARIO=$2 EVENTS=() REMOVED='' SETTLE=3 MAGLEV_OTHERS=''
  local stream="$TMP/stream-$MODE-$SCENARIO.jsonl" complete=true note='' i t0 up_err="$TMP/up.err"
  LAB=${lab:-bcl$(printf '%x' $$ | tail -c 5)${MODE:0:1}${SCENARIO:0:1}}
  conf "$MODE" "$TMP/conf"
  : > "$stream"
  if ! "$BPFLAB" lab up --name "$LAB" --lbs "$LBS" --router bird --lb "$MODE" --backends 3 \
       --serve --lb-config "$TMP/conf" >/dev/null 2>"$up_err"; then
    cat "$up_err" >&2
    report "$stream" false "lab up failed: $(head -c 300 "$up_err" | tr '\n' ' ')"
    "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
    return 0
  fi
  # every node announces before the clients start
  for i in $(seq 300); do [ "$(next_hops)" -eq "$LBS" ] && break; sleep 0.1; done
  if [ "$(next_hops)" -ne "$LBS" ]; then
    complete=false note="the router had $(next_hops) of $LBS next hops after 30 s"
  fi
  # a long upper bound; SIGUSR1 ends the stream once the last event has settled
  "$BPFLAB" lab clients --name "$LAB" --connect "$VIP:$PORT" --conns "$conns" --interval 0.1 \
    --timeout 1 --duration 300 --json > "$stream" 2>"$TMP/stream.err" &
  SPID=$!
  for i in $(seq 200); do
    grep -q "\"open\":$conns," "$stream" && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.05
  done
  grep -q "\"open\":$conns," "$stream" || { complete=false note="not every connection opened within 10 s"; }
  sleep 1
  case $SCENARIO in
    cycle)
      event drain lb3 && event undrain lb3 && event kill lb2 && event revive lb2 ||
        { complete=false note="an event failed"; } ;;
    remove)
      REMOVED=backend-c
      event kill lb3 && event remove_backend lb3 || { complete=false note="an event failed"; } ;;
  esac
  kill -USR1 "$SPID" 2>/dev/null || true
  wait "$SPID" || true
  SPID=
  report "$stream" "$complete" "$note" | tee "$TMP/report.jsonl"
  jq -r 'if .type == "lb_cluster_event" then
           "  \(.mode) \(.scenario) \(.event) \(.node): converged \(.converge_ms) ms, \(.broken) of \(.conns) connections broken"
         else "  \(.mode) \(.scenario): \(.broken) of \(.opened) broken in all, max gap \(.max_gap_ms) ms\(if .complete then "" else ", INCOMPLETE: \(.note)" end)" end' \
    "$TMP/report.jsonl" >&2
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  LAB=
}

for m in "${modes[@]}"; do
  for s in "${scenarios[@]}"; do
    run_one "$m" "$s"
  done
done
