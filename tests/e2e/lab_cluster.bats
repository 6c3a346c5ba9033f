#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The cluster lab (`lab up --lbs N --router bird`) and `lb announce`: real BIRD daemons,
# BGP sessions with BFD, the router's ECMP route over the nodes that announce the VIP,
# and every way a node stops announcing (lb stop, drain-node, quorum lost, a kill -9 of
# the announcer, the whole node killed) and starts again. Identical Maglev tables on every
# node from one config. `up` and `down` leave nothing behind, a failed `up` neither.
# Traffic only inside the lab's namespaces, every wait bounded.
load helpers
bats_require_minimum_version 1.5.0

VIP=198.18.0.100

setup() {
  require_bpf
  command -v bird >/dev/null || { [ -z "${CI:-}" ] || { echo "bird missing and CI is set (make deps)" >&2; return 1; }; skip "bird not installed (make deps)"; }
  LAB=$(echo "clu$(printf '%x' $$)$(printf '%x' $((RANDOM % 256)))" | cut -c1-10)
  CONF="$BATS_TEST_TMPDIR/lb.conf"
}

teardown() {
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

# Every process still running for this lab: its daemons carry the lab's name in argv[0]
# (bird, lb announce, lb health) or in their arguments (the --serve servers).
lab_procs() {
  local p a
  for p in /proc/[0-9]*; do
    a=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    case $a in
      bpflab-clu-*":$LAB:"*|bpflab-lab-*":$LAB:"*|*" $LAB "*) echo "${p#/proc/} $a" ;;
    esac
  done
}

assert_nothing_left() {
  local left
  left=$(ip netns list | grep "^$LAB-" || true)
  [ -z "$left" ] || { echo "namespaces left: $left" >&2; return 1; }
  left=$(lab_procs)
  [ -z "$left" ] || { echo "processes left: $left" >&2; return 1; }
  left=$(ls /sys/fs/bpf/bpflab/*/ 2>/dev/null | grep "@$LAB-" || true)
  [ -z "$left" ] || { echo "pins left: $left" >&2; return 1; }
  [ ! -e "/run/bpflab/lab/$LAB" ] || { echo "runtime folder left" >&2; return 1; }
  left=$(ls /run/bpflab/announce 2>/dev/null | grep "^$LAB-" || true)
  [ -z "$left" ] || { echo "drain markers left: $left" >&2; return 1; }
}

conf() { # [check words...]
  {
    echo "vip $VIP:80/tcp"
    echo "backend $VIP:80/tcp 198.18.0.11"
    echo "backend $VIP:80/tcp 198.18.0.12"
    [ $# -eq 0 ] || echo "check $VIP:80/tcp $*"
  } > "$CONF"
}

status() { "$BPFLAB" lab status --name "$LAB" --json; }

# The router's next hops for the VIP, as its kernel has them (sorted, one line).
hops() {
  ip -n "$LAB-router" -o -4 route show "$VIP/32" | grep -o 'via [0-9.]*' | awk '{print $2}' | sort | paste -sd' '
}

# wait_hops "198.18.0.2 198.18.0.4": until the route spreads over exactly those (5 s).
wait_hops() {
  local i
  for i in $(seq 250); do
    [ "$(hops)" = "$1" ] && return 0
    sleep 0.02
  done
  echo "route has '$(hops)', expected '$1'" >&2
  ip -n "$LAB-router" route >&2
  return 1
}

node_lb() { local n=$1; shift; "$BPFLAB" --netns "$LAB-$n" lb "$@"; }

@test "lab up --lbs 3: BGP Established, ECMP over 3 nodes, HTTP through the VIP; down leaves nothing" {
  conf
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird --serve --lb-config "$CONF" --json
  json_assert "$output" '.type == "lab_cluster" and .mode == "dsr" and .lbs == 3 and .router == "bird" and .router_bird_pid > 0'
  json_assert "$output" '[.lb_nodes[] | .bgp == "Established" and .router_bgp == "Established" and .bird_pid > 0 and .announcer_pid > 0 and .balancer and .link_up and (.drained | not)] | all'
  json_assert "$output" '[.lb_nodes[].ipv4] == ["198.18.0.2","198.18.0.3","198.18.0.4"]'
  json_assert "$output" '[.lb_nodes[] | .announced == ["198.18.0.100/32"]] | all'
  json_assert "$output" '.routes | map(select(.prefix == "198.18.0.100/32")) | length == 1'
  json_assert "$output" '.routes[] | select(.prefix == "198.18.0.100/32") | [.next_hops[].node] | sort == ["lb1","lb2","lb3"]'
  # The kernel agrees, and hashes flows by L4 (policy 1).
  [ "$(hops)" = "198.18.0.2 198.18.0.3 198.18.0.4" ]
  [ "$(ip netns exec "$LAB-router" sysctl -n net.ipv4.fib_multipath_hash_policy)" = 1 ]
  # Each daemon has its socket: birdc works on the router's.
  run -0 birdc -s "/run/bpflab/lab/$LAB/bird-router.ctl" show protocols
  [ "$(grep -c 'BGP .* Established' <<<"$output")" -eq 3 ]
  # Real HTTP from the client through the router's ECMP: new source ports spread over
  # the nodes; every node answers, backends answer from the VIP (dsr).
  for i in $(seq 30); do
    lab_exec "$LAB" client curl -s -m 3 "http://$VIP/" || echo "curl failed"
  done > "$BATS_TEST_TMPDIR/answers"
  ! grep -q failed "$BATS_TEST_TMPDIR/answers"
  [ "$(sort -u "$BATS_TEST_TMPDIR/answers" | paste -sd' ')" = "backend-a backend-b" ]
  for n in lb1 lb2 lb3; do
    run -0 node_lb "$n" show --json
    json_assert "$output" '.vips[0].announced == true and .vips[0].new_flows > 0'
  done
  # Idempotent: up again changes nothing and says the same.
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --json
  json_assert "$output" '([.lb_nodes[] | .bgp == "Established"] | all) and (.routes[0].next_hops | length) == 3'
  run -0 "$BPFLAB" lab down --name "$LAB" --json
  json_assert "$output" '.ok and .removed_namespaces == 8'
  assert_nothing_left
}

@test "the same config gives identical Maglev tables on every node, lab lb-apply changes them all" {
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird
  # No balancer yet: nothing announced, no route.
  run -0 status
  json_assert "$output" '([.lb_nodes[] | (.balancer | not) and .announced == []] | all) and .routes == []'
  conf
  run -0 "$BPFLAB" lab lb-apply --name "$LAB" --json "$CONF"
  json_assert "$output" '(.routes[0].next_hops | length) == 3'
  for n in lb1 lb2 lb3; do node_lb "$n" show --json | jq -c '.vips[] | [.vip, .ring_hash, .table_hash]'; done > "$BATS_TEST_TMPDIR/h"
  [ "$(sort -u "$BATS_TEST_TMPDIR/h" | wc -l)" -eq 1 ]
  grep -q '"[0-9a-f]\{16\}","[0-9a-f]\{16\}"' "$BATS_TEST_TMPDIR/h"
  # The digest sees a difference: one node with another backend set differs, then the
  # same file everywhere again agrees.
  echo "backend $VIP:80/tcp 198.18.0.13 mac 02:00:c6:12:00:0d" >> "$CONF"
  run -0 node_lb lb2 apply "$CONF"
  h1=$(node_lb lb1 show --json | jq -r '.vips[0].table_hash')
  h2=$(node_lb lb2 show --json | jq -r '.vips[0].table_hash')
  [ "$h1" != "$h2" ]
  run -0 "$BPFLAB" lab lb-apply --name "$LAB" "$CONF"
  for n in lb1 lb2 lb3; do node_lb "$n" show --json | jq -c '.vips[] | [.ring_hash, .table_hash]'; done > "$BATS_TEST_TMPDIR/h"
  [ "$(sort -u "$BATS_TEST_TMPDIR/h" | wc -l)" -eq 1 ]
  ! grep -q "\"$h1\"" "$BATS_TEST_TMPDIR/h"
}

@test "withdrawn on lb stop, drain-node and an announcer killed with -9; announced again after" {
  conf
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird --lb-config "$CONF"
  wait_hops "198.18.0.2 198.18.0.3 198.18.0.4"
  # lb stop: the pins go, the announcer withdraws.
  run -0 node_lb lb2 stop eth0
  wait_hops "198.18.0.2 198.18.0.4"
  grep -q '"action":"withdraw".*no load balancer runs' "/run/bpflab/lab/$LAB/announce-lb2.log"
  # Started again: announced again.
  run -0 node_lb lb2 start eth0 --mode dsr --config "$CONF"
  wait_hops "198.18.0.2 198.18.0.3 198.18.0.4"
  # drain-node: withdrawn while the balancer keeps running; lb show says so.
  run -0 node_lb lb3 drain-node --json
  json_assert "$output" '.drained and .announcer_running and .announced == 0'
  wait_hops "198.18.0.2 198.18.0.3"
  run -0 node_lb lb3 show --json
  json_assert "$output" '.vips[0].announced == false'
  run -0 status
  json_assert "$output" '.lb_nodes[2].drained and .lb_nodes[2].balancer and .lb_nodes[2].announced == []'
  run -0 node_lb lb3 undrain-node --json
  json_assert "$output" '(.drained | not) and .announced == 1'
  wait_hops "198.18.0.2 198.18.0.3 198.18.0.4"
  # kill -9 of the announcer: its TUN device goes with it, so do its routes.
  pid=$(status | jq '.lb_nodes[0].announcer_pid')
  [ "$pid" -gt 0 ]
  kill -9 "$pid"
  wait_hops "198.18.0.3 198.18.0.4"
  [ -z "$(ip -n "$LAB-lb1" route show table 4242)" ]
  run -0 node_lb lb1 show --json
  json_assert "$output" '.vips[0].announced == null'
  # up again restarts what is missing.
  run -0 "$BPFLAB" lab up --name "$LAB"
  wait_hops "198.18.0.2 198.18.0.3 198.18.0.4"
  # A second announcer in the same namespace is refused.
  run -1 "$BPFLAB" --netns "$LAB-lb1" lb announce --duration 1
  [[ "$output" == *"another 'lb announce' runs"* ]]
}

@test "quorum: a VIP with fewer than need healthy backends is withdrawn everywhere, then back" {
  conf tcp interval 0.2 timeout 0.2 fall 2 rise 1 need 2
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 2 --router bird --serve --lb-config "$CONF" --json
  json_assert "$output" '[.lb_nodes[] | .health_pid > 0] | all'
  wait_hops "198.18.0.2 198.18.0.3"
  run -0 lab_exec "$LAB" backend-a ip link set eth0 down
  wait_hops ""
  run -0 node_lb lb1 show --json
  json_assert "$output" '.vips[0].announced == false and .vips[0].health.state == "down"'
  grep -q '"action":"withdraw".*quorum lost, 1 of 2 healthy, need 2' "/run/bpflab/lab/$LAB/announce-lb2.log"
  run -0 lab_exec "$LAB" backend-a ip link set eth0 up
  wait_hops "198.18.0.2 198.18.0.3"
  run -0 node_lb lb2 show --json
  json_assert "$output" '.vips[0].announced == true and .vips[0].health.state == "up"'
}

@test "lab kill: the router drops a dead node by BFD; lab revive brings it back" {
  conf
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird --lb-config "$CONF"
  wait_hops "198.18.0.2 198.18.0.3 198.18.0.4"
  run -0 "$BPFLAB" lab kill --name "$LAB" --json lb2
  json_assert "$output" '.type == "lab_kill" and .node == "lb2" and .killed == 2 and (.link_up | not)'
  # The link went down before the kill: no FIN left the node, the router's BFD noticed.
  wait_hops "198.18.0.2 198.18.0.4"
  run -0 status
  json_assert "$output" '.lb_nodes[1] | (.link_up | not) and .bird_pid == null and .announcer_pid == null and .balancer'
  json_assert "$output" '.lb_nodes[1].router_bgp != "Established"'
  # A change while lb2 is down reaches the others, and lb2 when it is revived.
  old=$(node_lb lb2 show --json | jq -r '.vips[0].table_hash')
  echo "backend $VIP:80/tcp 198.18.0.13 mac 02:00:c6:12:00:0d" >> "$CONF"
  run -0 "$BPFLAB" lab lb-apply --name "$LAB" "$CONF"
  [[ $output == *"applied on 2 of 3 LB nodes"* ]]
  [[ $output == *"lb2 is down"* ]]
  new=$(node_lb lb1 show --json | jq -r '.vips[0].table_hash')
  [ "$new" != "$old" ]
  [ "$(node_lb lb3 show --json | jq -r '.vips[0].table_hash')" = "$new" ]
  [ "$(node_lb lb2 show --json | jq -r '.vips[0].table_hash')" = "$old" ]
  run -0 "$BPFLAB" lab revive --name "$LAB" --json lb2
  json_assert "$output" '.type == "lab_revive" and .node == "lb2"'
  [ "$(node_lb lb2 show --json | jq -r '.vips[0].table_hash')" = "$new" ]
  for i in $(seq 100); do [ "$(hops)" = "198.18.0.2 198.18.0.3 198.18.0.4" ] && break; sleep 0.1; done
  [ "$(hops)" = "198.18.0.2 198.18.0.3 198.18.0.4" ]
  run -0 status
  json_assert "$output" '.lb_nodes[1] | .link_up and .bgp == "Established" and .announced == ["198.18.0.100/32"]'
}

@test "lab up --lbs 2 --lb gue: encap VIP over ECMP, lb decap on the backends" {
  {
    echo "vip $VIP:80/tcp encap gue"
    echo "backend $VIP:80/tcp 198.18.11.11"
    echo "backend $VIP:80/tcp 198.18.12.12"
  } > "$CONF"
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 2 --lb gue --serve --lb-config "$CONF" --json
  json_assert "$output" '.mode == "gue" and ([.nodes[] | select(.node | startswith("backend")) | .ipv4] == ["198.18.11.11","198.18.12.12"])'
  json_assert "$output" '(.routes[0].next_hops | length) == 2'
  for i in $(seq 20); do lab_exec "$LAB" client curl -s -m 3 "http://$VIP/" || echo failed; done > "$BATS_TEST_TMPDIR/a"
  ! grep -q failed "$BATS_TEST_TMPDIR/a"
  [ "$(sort -u "$BATS_TEST_TMPDIR/a" | paste -sd' ')" = "backend-a backend-b" ]
  total=0
  for n in lb1 lb2; do
    p=$(node_lb "$n" show --json | jq '.counters.tx_encap // 0')
    total=$((total + p))
  done
  [ "$total" -gt 0 ]
  run -0 "$BPFLAB" lab down --name "$LAB"
  assert_nothing_left
}

@test "a failed up removes everything it made, daemons included; bad input changes nothing" {
  # A backend nobody answers ARP for: lb start fails on the first node, after the BIRDs
  # and announcers were started.
  printf 'vip %s:80/tcp\nbackend %s:80/tcp 198.18.0.99\n' "$VIP" "$VIP" > "$CONF"
  run -1 "$BPFLAB" lab up --name "$LAB" --lbs 2 --router bird --lb-config "$CONF"
  [[ "$output" == *"lb start"*"failed"* ]]
  assert_nothing_left
  run -2 "$BPFLAB" lab up --name "$LAB" --lbs 1
  run -2 "$BPFLAB" lab up --name "$LAB" --lbs 9
  run -2 "$BPFLAB" lab up --name "$LAB" --router bird
  run -2 "$BPFLAB" lab up --name "$LAB" --lbs 2 --router frr
  run -2 "$BPFLAB" lab up --name "$LAB" --lbs 2 --lb-config /nonexistent
  run -1 "$BPFLAB" lab kill --name "$LAB" lb1
  assert_nothing_left
  # Not an LB node, or no such node: refused on a cluster lab too.
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 2
  run -2 "$BPFLAB" lab kill --name "$LAB" client
  run -2 "$BPFLAB" lab kill --name "$LAB" lb7
  run -2 "$BPFLAB" lab up --name "$LAB" --lbs 3
  run -2 "$BPFLAB" lab lb-apply --name "$LAB" /nonexistent
  run -0 status
  json_assert "$output" '.lbs == 2 and ([.lb_nodes[] | .link_up and .bgp == "Established"] | all)'
}

@test "lab up killed with -9 half way: up again completes it, down leaves nothing" {
  conf
  "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird --lb-config "$CONF" >/dev/null 2>&1 &
  pid=$!
  # Until its first daemons run (bounded), then kill it in the middle of its work.
  for i in $(seq 100); do [ -n "$(lab_procs)" ] && break; sleep 0.05; done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --router bird --lb-config "$CONF" --json
  json_assert "$output" '([.lb_nodes[] | .bgp == "Established" and .announcer_pid > 0] | all) and (.routes[0].next_hops | length) == 3'
  run -0 "$BPFLAB" lab down --name "$LAB"
  assert_nothing_left
}

VIP6=2001:db8:18::100

# The router's IPv6 next hops for the v6 VIP (sorted, one line).
hops6() {
  ip -n "$LAB-router" -6 route show "$VIP6/128" | grep -o 'via [0-9a-f:]*' | awk '{print $2}' | sort | paste -sd' '
}

wait_hops6() {
  local i
  for i in $(seq 250); do
    [ "$(hops6)" = "$1" ] && return 0
    sleep 0.02
  done
  echo "v6 route has '$(hops6)', expected '$1'" >&2
  ip -n "$LAB-router" -6 route >&2
  return 1
}

@test "IPv6: a v4 and a v6 VIP in one config, the /128 over ECMP by BGP, curl -6 answered, withdrawn on lb stop" {
  {
    echo "vip $VIP:80/tcp"
    echo "backend $VIP:80/tcp 198.18.0.11"
    echo "backend $VIP:80/tcp 198.18.0.12"
    echo "vip [$VIP6]:80/tcp"
    echo "backend [$VIP6]:80/tcp 2001:db8:18::b"
    echo "backend [$VIP6]:80/tcp 2001:db8:18::c"
  } > "$CONF"
  # Options after the subcommand and its positional work too (kill, revive, lb-apply).
  run -0 "$BPFLAB" lab up --name "$LAB" --lbs 3 --serve --json
  json_assert "$output" '.vip6 == "2001:db8:18::100" and ([.lb_nodes[].ipv6] == ["2001:db8:18::2","2001:db8:18::3","2001:db8:18::4"])'
  json_assert "$output" '(.nodes[] | select(.node == "client") | .ipv6) == "2001:db8:18:1::1"'
  run -0 "$BPFLAB" lab lb-apply "$CONF" --name "$LAB" --json
  json_assert "$output" '[.lb_nodes[] | (.announced | sort) == ["198.18.0.100/32","2001:db8:18::100/128"]] | all'
  json_assert "$output" '.routes[] | select(.prefix == "2001:db8:18::100/128") | [.next_hops[].node] | sort == ["lb1","lb2","lb3"]'
  json_assert "$output" '.routes[] | select(.prefix == "2001:db8:18::100/128") | [.next_hops[].via] | sort == ["2001:db8:18::2","2001:db8:18::3","2001:db8:18::4"]'
  json_assert "$output" '.routes[] | select(.prefix == "198.18.0.100/32") | (.next_hops | length) == 3'
  # The kernel agrees: one multipath route, flows hashed by L4 for v6 too.
  [ "$(hops6)" = "2001:db8:18::2 2001:db8:18::3 2001:db8:18::4" ]
  [ "$(ip netns exec "$LAB-router" sysctl -n net.ipv6.fib_multipath_hash_policy)" = 1 ]
  # The v6 VIP sits on the backends' lo (dsr), on no LB node's link.
  ip -n "$LAB-backend-a" -6 addr show dev lo | grep -q "$VIP6/128"
  ! ip -n "$LAB-lb1" -6 addr show | grep -q "$VIP6"
  # curl -6 from the client through the router's v6 ECMP: both backends answer, the
  # nodes saw the v6 flows.
  for i in $(seq 30); do
    lab_exec "$LAB" client curl -6 -s -m 3 "http://[$VIP6]/" || echo "curl failed"
  done > "$BATS_TEST_TMPDIR/answers"
  ! grep -q failed "$BATS_TEST_TMPDIR/answers"
  [ "$(sort -u "$BATS_TEST_TMPDIR/answers" | paste -sd' ')" = "backend-a backend-b" ]
  flows=0
  for n in lb1 lb2 lb3; do
    run -0 node_lb "$n" show --json
    json_assert "$output" '[.vips[] | select(.vip == "[2001:db8:18::100]:80/tcp") | .announced] == [true]'
    flows=$((flows + $(jq '[.vips[] | select(.vip == "[2001:db8:18::100]:80/tcp") | .new_flows] | add' <<<"$output")))
  done
  [ "$flows" -ge 30 ]
  # lb stop on lb2: its /128 goes with its /32.
  run -0 node_lb lb2 stop eth0
  wait_hops6 "2001:db8:18::2 2001:db8:18::4"
  wait_hops "198.18.0.2 198.18.0.4"
  run -0 status
  json_assert "$output" '(.lb_nodes[] | select(.node == "lb2") | .announced) == []'
  # lab kill / revive with their options after the node: the v6 route follows, and the
  # node's v6 address and default route survive the link going down and up.
  run -0 "$BPFLAB" lab kill lb3 --name "$LAB" --json
  json_assert "$output" '.type == "lab_kill" and .node == "lb3"'
  wait_hops6 "2001:db8:18::2"
  ip -n "$LAB-lb3" -6 addr show dev eth0 | grep -q '2001:db8:18::4/64'
  run -0 "$BPFLAB" lab revive lb3 --json --name "$LAB"
  json_assert "$output" '.type == "lab_revive" and .node == "lb3"'
  for i in $(seq 100); do [ "$(hops6)" = "2001:db8:18::2 2001:db8:18::4" ] && break; sleep 0.1; done
  [ "$(hops6)" = "2001:db8:18::2 2001:db8:18::4" ]
  ip -n "$LAB-lb3" -6 route show default | grep -q 'via 2001:db8:18::fe'
  ip -n "$LAB-lb3" -4 route show default | grep -q 'via 198.18.0.254'
  # Bad options after the positional: exit 2, as before it.
  run -2 "$BPFLAB" lab kill lb1 --name "$LAB" --bogus
  [ "$(hops6)" = "2001:db8:18::2 2001:db8:18::4" ]
  run -0 "$BPFLAB" lab down --name "$LAB"
  assert_nothing_left
}
