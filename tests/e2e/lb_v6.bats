#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lb with IPv6 in the L2 lab: real TCP connections and UDP datagrams through an
# IPv6 VIP in nat and dsr (backends' MACs learnt by neighbour discovery, not given; dsr
# answers checked to come from the VIP itself), IPv4 and IPv6 VIPs in
# one configuration, what `lb show`, `lb conns` and `lb save` say about them, and IPv6
# input that is refused with exit 2 and changes nothing. Traffic only inside the lab's
# namespaces, every client bounded in count and time.
load helpers
bats_require_minimum_version 1.5.0

TOOL="$BATS_TEST_DIRNAME/lb_tool.py"
VIP6=2001:db8:18::100
V6="[$VIP6]:80/tcp"
V4=198.18.0.100:80/tcp

setup() {
  require_bpf
  LAB=$(echo "v6$(printf '%x' $$)$(printf '%x' $((RANDOM % 256)))" | cut -c1-12)
  PIDS=()
  CONF="$BATS_TEST_TMPDIR/lb.conf"
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
  if ip netns list | grep -qw "$LAB-k"; then
    "$BPFLAB" --netns "$LAB-k" lb stop v0 >/dev/null 2>&1 || true
    ip netns del "$LAB-k"
  fi
  rm -rf /sys/fs/bpf/bpflab/lb/"v0@$LAB-k"
}

lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@"; }

# lab with 3 backends prepared for MODE, a dual-stack server on each answering its name
lab_with_servers() {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb "$1" >/dev/null
  for b in a b c; do
    lab_exec "$LAB" "backend-$b" timeout 60 python3 "$TOOL" serve "backend-$b" 80 55 &
    PIDS+=($!)
  done
  sleep 0.5
}

clients() { lab_exec "$LAB" client timeout 30 python3 "$TOOL" clients "$1" 80 "$2"; }

v6_conf() {
  {
    echo "vip $V6"
    echo "backend $V6 2001:db8:18::b"
    echo "backend $V6 [2001:db8:18::c]:80 weight 1"
    echo "backend $V6 2001:db8:18::d"
  } > "$CONF"
}

# N connections to the IPv6 VIP: all answered, by every backend; the balancer counted
# exactly the flows the client made, and lb conns lists them, IPv6, on those backends.
check_v6() {
  local n=$1 mode=$2 out flows show conns
  out=$(clients "$VIP6" "$n")
  json_assert "$out" ".failed == 0 and ([.answers[]] | add) == $n and (.answers | length) == 3"
  flows=$(printf '%s' "$out" | jq .flows)
  show=$(lb show --json)
  json_assert "$show" ".mode == \"$mode\" and .vips[0].vip == \"$V6\" and .vips[0].new_flows == $flows"
  json_assert "$show" ".counters.conntrack_miss == $flows and .conntrack.flows6 == $flows and .conntrack.flows == $flows"
  json_assert "$show" "([.vips[0].backends[].new_flows] | add) == $flows and ([.vips[0].backends[].address] | sort) == [\"[2001:db8:18::b]:80\", \"[2001:db8:18::c]:80\", \"[2001:db8:18::d]:80\"]"
  json_assert "$show" ".counters.drop_malformed == 0 and .counters.drop_no_backend == 0"
  # The MACs came from neighbour discovery: the lab's fixed ones.
  json_assert "$show" '[.vips[0].backends[] | .mac] | sort == ["02:00:c6:12:00:0b", "02:00:c6:12:00:0c", "02:00:c6:12:00:0d"]'
  conns=$(lb conns --json)
  json_assert "$conns" ".tracked == $flows and .shown == $flows and ([.flows[] | select(.family == 6 and .vip == \"$V6\" and .proto == \"tcp\" and (.client | startswith(\"[2001:db8:18::1]:\")) and .age_s >= 0 and .age_s < 60)] | length) == $flows"
  local sum=0 b k
  for b in b c d; do
    k=$(lb conns --json --backend "2001:db8:18::$b" | jq .shown)
    [ "$k" -gt 0 ] || { echo "no flow on 2001:db8:18::$b" >&2; return 1; }
    sum=$((sum + k))
  done
  [ "$sum" -eq "$flows" ]
  [ "$(lb conns --json --vip "[2001:db8:18:0::100]:80/tcp" | jq .shown)" -eq "$flows" ]
  [ "$(lb conns --json --vip "$V4" | jq .shown)" -eq 0 ]
  if [ "$mode" = nat ]; then
    json_assert "$show" '.snat6 == "2001:db8:18::2" and .snat == "198.18.0.2" and .conntrack.reverse_flows == '"$flows"
    json_assert "$show" '.counters.nat_reply > 0'
    json_assert "$conns" '[.flows[] | .nat_port | select(. == null)] | length == 0'
  else
    # dsr: the answers went from the backends to the client, never through the LB
    json_assert "$show" '.snat6 == null and .counters.nat_reply == 0'
    json_assert "$conns" '[.flows[] | .nat_port | select(. != null)] | length == 0'
  fi
}

@test "lb nat with an IPv6 VIP: TCP through [VIP]:80, NDP-learnt backends, show and conns" {
  lab_with_servers nat
  v6_conf
  run -0 lb start eth0 --mode nat --config "$CONF" --json
  json_assert "$output" '.snat == "198.18.0.2" and .snat6 == "2001:db8:18::2" and .tunnel_src6 == "2001:db8:18::2"'
  check_v6 60 nat
  # A long-lived stream stays on its backend while another backend is drained.
  lab_exec "$LAB" client timeout 20 python3 "$TOOL" stream "$VIP6" 80 3 > "$BATS_TEST_TMPDIR/stream" &
  PIDS+=($!)
  sleep 1
  run -0 lb backend set "$V6" 2001:db8:18::d --weight 0
  run -0 lb backend set "$V6" '[2001:db8:18::c]:80' --weight 0
  wait "${PIDS[-1]}"
  json_assert "$(cat "$BATS_TEST_TMPDIR/stream")" '.error == null and (.names | length) == 1 and .lines > 50'
  run -0 clients "$VIP6" 10
  json_assert "$output" '.failed == 0 and .answers == {"backend-a": 10}'
}

@test "lb dsr with an IPv6 VIP: the backends hold it on lo, answer the client directly" {
  lab_with_servers dsr
  run -0 ip -n "$LAB-backend-a" -6 addr show dev lo
  [[ $output == *"$VIP6/128"* ]]
  run -0 ip -n "$LAB-lb" -6 addr show dev eth0
  [[ $output == *"$VIP6/128"* ]]
  v6_conf
  run -0 lb start eth0 --mode dsr --config "$CONF" --json
  json_assert "$output" '.snat == null and .snat6 == null'
  check_v6 60 dsr
}

@test "one configuration, IPv4 and IPv6 VIPs: both served, counted apart, saved and read back" {
  lab_with_servers nat
  {
    echo "vip $V4"
    echo "backend $V4 198.18.0.11"
    echo "backend $V4 198.18.0.12"
    echo "vip $V6"
    echo "backend $V6 2001:db8:18::c"
    echo "backend $V6 2001:db8:18::d weight 2"
    echo "vip [$VIP6]:53/udp"
    echo "backend [$VIP6]:53/udp 2001:db8:18::b"
  } > "$CONF"
  run -0 lb start eth0 --mode nat --config "$CONF"
  lab_exec "$LAB" backend-a timeout 30 python3 "$TOOL" udpecho backend-a 53 25 &
  PIDS+=($!)
  sleep 0.3
  local o4 o6 f4 f6
  o4=$(clients 198.18.0.100 30)
  o6=$(clients "$VIP6" 30)
  json_assert "$o4" '.failed == 0 and ((.answers | keys) == ["backend-a", "backend-b"])'
  json_assert "$o6" '.failed == 0 and ((.answers | keys) == ["backend-b", "backend-c"])'
  f4=$(printf '%s' "$o4" | jq .flows)
  f6=$(printf '%s' "$o6" | jq .flows)
  run -0 lb show --json
  json_assert "$output" "[.vips[] | .vip] == [\"$V4\", \"$V6\", \"[$VIP6]:53/udp\"]"
  json_assert "$output" ".vips[0].new_flows == $f4 and .vips[1].new_flows == $f6 and .vips[2].packets == 0"
  json_assert "$output" ".conntrack.flows == $f4 + $f6 and .conntrack.flows6 == $f6"
  # UDP over IPv6 through nat: 10 flows, each answered through the reverse map
  run -0 lab_exec "$LAB" client timeout 20 python3 "$TOOL" udp "$VIP6" 53 10
  json_assert "$output" '.failed == 0 and .answers == {"backend-a": 10}'
  run -0 lb show --json
  json_assert "$output" ".vips[2].new_flows == 10 and .vips[2].packets == 10 and .conntrack.flows6 == $f6 + 10"
  run -0 lb conns --json --vip "[$VIP6]:53/udp"
  json_assert "$output" '.shown == 10 and ([.flows[] | select(.proto == "udp" and .family == 6 and .backend == "[2001:db8:18::b]:53" and .nat_port != null)] | length) == 10'
  run -0 lb show --json
  json_assert "$output" '.conntrack.bytes_per_flow < .conntrack.bytes_per_flow6'
  run -0 lb conns --json
  json_assert "$output" "([.flows[] | select(.family == 4)] | length) == $f4 and ([.flows[] | select(.family == 6 and .proto == \"tcp\")] | length) == $f6"
  # save: both families, in the file form apply reads; applying it changes nothing
  run -0 lb save
  [[ $output == *"vip [$VIP6]:80/tcp"* && $output == *"backend [$VIP6]:80/tcp [2001:db8:18::d]:80 weight 2 mac 02:00:c6:12:00:0d"* ]]
  printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/saved"
  run -0 lb apply --dry-run "$BATS_TEST_TMPDIR/saved" --json
  json_assert "$output" '.changed == false'
  run -0 lb save --json
  json_assert "$output" "[.vips[] | .backends[] | .address] == [\"198.18.0.11:80\", \"198.18.0.12:80\", \"[2001:db8:18::c]:80\", \"[2001:db8:18::d]:80\", \"[2001:db8:18::b]:53\"]"
  # --dry-run with mixed families: removing the v6 VIP, moving the v4 one's flows
  grep -v "^backend $V4 198.18.0.12" "$BATS_TEST_TMPDIR/saved" | grep -Fv "$VIP6]:53" > "$BATS_TEST_TMPDIR/less"
  run -0 lb apply --dry-run "$BATS_TEST_TMPDIR/less" --json
  json_assert "$output" '.vips_removed == 1 and .backends_removed == 2 and .changed and ([.changes[] | select(.change == "vip_del") | .vip] == ["['"$VIP6"']:53/udp"])'
  json_assert "$output" '[.changes[] | select(.change == "flows_moved") | .vip] == ["'"$V4"'"]'
}

@test "bad IPv6 input: exit 2, FILE:LINE:, nothing changed" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb nat >/dev/null
  v6_conf
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  local gen before
  gen=$(lb show --json | jq .generation)
  before=$(lb save)
  run -2 lb vip add '[2001:db8::1::2]:80/tcp'
  [[ $output == *"not an IPv6 address"* ]]
  run -2 lb vip add '[::1]:99999/tcp'
  [[ $output == *"not 1-65535"* ]]
  run -2 lb vip add '2001:db8:18::200:80/tcp'
  [[ $output == *"[ADDR]:PORT"* ]]
  run -2 lb vip add '[fe80::1%eth0]:80/tcp'
  [[ $output == *"zone ids"* ]]
  run -2 lb vip add '[::ffff:198.18.0.100]:80/tcp'
  [[ $output == *"IPv4-mapped"* ]]
  run -2 lb backend add "$V6" 198.18.0.11
  [[ $output == *"IPv4 backend for an IPv6 VIP needs 'encap"* ]]
  run -2 lb backend add "$V6" 'ff02::1'
  [[ $output == *"multicast"* ]]
  run -2 lb conns --vip '[2001:db8::1::2]:80/tcp'
  run -2 lb conns --backend '2001:db8:18::b:80:1:2:3:4'
  printf 'vip %s\nbackend %s 2001:db8:18::b\nvip [2001:db8:18::101]:80/tcp\nbackend [2001:db8:18::101]:80/tcp 198.18.0.12\n' \
    "$V6" "$V6" > "$BATS_TEST_TMPDIR/mixed"
  run -2 lb apply "$BATS_TEST_TMPDIR/mixed"
  [[ $output == *"$BATS_TEST_TMPDIR/mixed:4: backend 198.18.0.12 of VIP [2001:db8:18::101]:80/tcp: an IPv4 backend for an IPv6 VIP needs 'encap ipip|gue'"* ]]
  printf 'vip [::1]:99999/tcp\n' > "$BATS_TEST_TMPDIR/port"
  run -2 lb apply "$BATS_TEST_TMPDIR/port"
  [[ $output == *"$BATS_TEST_TMPDIR/port:1: bad VIP"* ]]
  [ "$(lb show --json | jq .generation)" -eq "$gen" ]
  [ "$(lb save)" = "$before" ]
  # --snat and --tunnel-src: once per family
  run -2 lb start eth0 --mode nat --snat 198.18.0.2 --snat 198.18.0.3
  [[ $output == *"once per family"* ]]
  run -2 lb start eth0 --mode nat --tunnel-src 2001:db8:18::2 --tunnel-src 2001:db8:18::3
  [[ $output == *"once per family"* ]]
  run -2 lb start eth0 --mode nat --snat '[2001:db8:18::2]'
}

@test "a nat balancer without an IPv6 source refuses IPv6 VIPs; an encap one IPv6 backends" {
  local ns="$LAB-k"
  ip netns add "$ns"
  ip -n "$ns" link add v0 type veth peer name v1
  ip -n "$ns" addr add 198.18.77.1/24 dev v0
  ip -n "$ns" link set v0 up
  ip -n "$ns" link set v1 up
  run -0 "$BPFLAB" --netns "$ns" lb start v0 --mode nat -m generic --json
  json_assert "$output" '.snat == "198.18.77.1" and .snat6 == null and .tunnel_src6 == null'
  run -2 "$BPFLAB" --netns "$ns" lb vip add "$V6"
  [[ $output == *"no IPv6 source address"* && $output == *"nothing was changed"* ]]
  run -0 "$BPFLAB" --netns "$ns" lb vip add 198.18.77.100:80/tcp --encap gue
  run -0 "$BPFLAB" --netns "$ns" lb backend add 198.18.77.100:80/tcp 198.18.11.11
  run -2 "$BPFLAB" --netns "$ns" lb backend add 198.18.77.100:80/tcp 2001:db8:18:b::b
  [[ $output == *"no IPv6 tunnel source address"* ]]
  run -0 "$BPFLAB" --netns "$ns" lb save --json
  json_assert "$output" '[.vips[] | .vip] == ["198.18.77.100:80/tcp"] and ([.vips[0].backends[] | .address] == ["198.18.11.11:80"])'
  run -0 "$BPFLAB" --netns "$ns" lb stop v0
}

@test "UDP over IPv6 in dsr: datagrams through [VIP]:53, answered by the backends from the VIP" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr >/dev/null
  # Bound to the VIP on lo: an answer from the backend's own address would not reach the
  # client's connected socket, so every answer counted came back from the VIP.
  for b in a b c; do
    lab_exec "$LAB" "backend-$b" timeout 40 python3 "$TOOL" udpecho "backend-$b" 53 35 "$VIP6" &
    PIDS+=($!)
  done
  local U="[$VIP6]:53/udp" n=40 out show conns b addr k
  printf 'vip %s\nbackend %s 2001:db8:18::b\nbackend %s 2001:db8:18::c\nbackend %s 2001:db8:18::d\n' \
    "$U" "$U" "$U" "$U" > "$CONF"
  run -0 lb start eth0 --mode dsr --config "$CONF" --json
  json_assert "$output" '.snat6 == null'
  sleep 0.3
  out=$(lab_exec "$LAB" client timeout 60 python3 "$TOOL" udp "$VIP6" 53 $n 41000)
  json_assert "$out" ".failed == 0 and ([.answers[]] | add) == $n and (.answers | keys) == [\"backend-a\", \"backend-b\", \"backend-c\"]"
  show=$(lb show --json)
  json_assert "$show" ".vips[0].vip == \"$U\" and .vips[0].new_flows == $n and .vips[0].packets == $n"
  json_assert "$show" ".conntrack.flows6 == $n and .conntrack.flows == $n and .counters.conntrack_miss == $n"
  json_assert "$show" '.counters.nat_reply == 0 and .counters.drop_malformed == 0 and .counters.drop_no_backend == 0'
  json_assert "$show" "([.vips[0].backends[].packets] | add) == $n"
  conns=$(lb conns --json)
  json_assert "$conns" ".tracked == $n and ([.flows[] | select(.family == 6 and .proto == \"udp\" and .vip == \"$U\" and .nat_port == null and (.client | startswith(\"[2001:db8:18::1]:\")))] | length) == $n"
  # Each backend answered exactly the flows the balancer says it sent there.
  for b in a b c; do
    case $b in a) addr=b ;; b) addr=c ;; c) addr=d ;; esac
    k=$(lb conns --json --backend "2001:db8:18::$addr" | jq .shown)
    [ "$k" -eq "$(printf '%s' "$out" | jq ".answers[\"backend-$b\"]")" ] || { echo "backend-$b: conns $k, $out" >&2; return 1; }
    json_assert "$show" ".vips[0].backends[] | select(.address == \"[2001:db8:18::$addr]:53\") | .new_flows == $k"
  done
  # Drained, a backend gets no new flow; the rest still answer every datagram.
  run -0 lb backend set "$U" 2001:db8:18::d --weight 0
  out=$(lab_exec "$LAB" client timeout 60 python3 "$TOOL" udp "$VIP6" 53 20 41100)
  json_assert "$out" '.failed == 0 and .answers["backend-c"] == null and ([.answers[]] | add) == 20'
  json_assert "$(lb show --json)" ".vips[0].new_flows == $n + 20 and .conntrack.flows6 == $n + 20"
}
