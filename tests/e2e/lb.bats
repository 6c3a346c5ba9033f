#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lb end to end in a throwaway lab, in both modes: hundreds of real TCP
# connections through the VIP, spread as the Maglev tables say; a long-lived stream that
# stays on its backend through adds, drains, removals and control-plane restarts; bad
# input that changes nothing; concurrent edits that lose nothing; nothing left after stop.
load helpers

TOOL="$BATS_TEST_DIRNAME/lb_tool.py"
VIP=198.18.0.100:80/tcp

setup() {
  require_bpf
  LAB=$(unique_lab)
  PIDS=()
  CONF="$BATS_TEST_TMPDIR/lb.conf"
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" "/sys/fs/bpf/bpflab/lb/dummy0@$LAB-lb" \
    "/sys/fs/bpf/bpflab/lb/dum0@$LAB-lb" "/sys/fs/bpf/bpflab/lb/dum0@$LAB-lb_tmp_999999"
}

lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@"; }

# lab with 3 backends prepared for MODE, a server on each answering its name
lab_with_servers() {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb "$1" >/dev/null
  for b in a b c; do
    lab_exec "$LAB" "backend-$b" timeout 60 python3 "$TOOL" serve "backend-$b" 80 55 &
    PIDS+=($!)
  done
  sleep 0.5
}

clients() { lab_exec "$LAB" client timeout 30 python3 "$TOOL" clients 198.18.0.100 80 "$1"; }

# N connections succeed, land on every backend, and each backend's share is what its
# Maglev slots predict (within 4 sigma of the binomial spread).
check_spread() {
  local n=$1 mode=$2 out show flows
  out=$(clients "$n")
  json_assert "$out" ".failed == 0 and ([.answers[]] | add) == $n and .flows > $n * 9 / 10"
  # One new flow per distinct 4-tuple: a reused source port is the same flow (lb_tool.py).
  flows=$(printf '%s' "$out" | jq .flows)
  show=$(lb show --json)
  json_assert "$show" ".mode == \"$mode\" and .vips[0].new_flows == $flows and .counters.conntrack_miss == $flows"
  json_assert "$show" "([.vips[0].backends[].new_flows] | add) == $flows"
  for b in a b c; do
    local host=$(( 11 + $(printf '%d' "'$b") - 97 ))
    local slots got
    slots=$(printf '%s' "$show" | jq ".vips[0].backends[] | select(.address == \"198.18.0.$host:80\") | .slots")
    got=$(printf '%s' "$out" | jq ".answers[\"backend-$b\"] // 0")
    python3 - "$n" "$slots" "$(printf '%s' "$show" | jq .table_size)" "$got" <<'EOF'
import math, sys
n, slots, m, got = map(int, sys.argv[1:])
p = slots / m
want, sd = n * p, math.sqrt(n * p * (1 - p))
print(f"# share {got}/{n}, Maglev predicts {want:.1f} +- {sd:.1f}", file=sys.stderr)
sys.exit(0 if got > 0 and abs(got - want) <= 4 * sd + 1 else 1)
EOF
  done
}

write_conf() { # weights for a b c
  {
    echo "vip $VIP"
    echo "backend $VIP 198.18.0.11 weight $1"
    echo "backend $VIP 198.18.0.12 weight $2"
    echo "backend $VIP 198.18.0.13 weight $3"
  } > "$CONF"
}

@test "nat: 300 real TCP connections through the VIP succeed and spread as Maglev predicts" {
  lab_with_servers nat
  write_conf 1 1 2
  run lb start eth0 --mode nat --config "$CONF" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "started" and .mode == "nat" and .xdp_mode == "native" and .snat == "198.18.0.2"'
  check_spread 300 nat
  show=$(lb show --json)
  json_assert "$show" '.counters.nat_reply > 300 and .counters.drop_malformed == 0 and .counters.drop_nat_port == 0'
  json_assert "$show" '[.vips[0].backends[].weight] == [1,1,2] and .conntrack.flows == 300 and .conntrack.reverse_flows == 300'
}

@test "dsr: 300 real TCP connections through the VIP succeed, backends answer directly" {
  lab_with_servers dsr
  write_conf 1 1 1
  lb start eth0 --mode dsr --config "$CONF" >/dev/null
  check_spread 300 dsr
  show=$(lb show --json)
  json_assert "$show" '.counters.nat_reply == 0 and .conntrack.flows == 300'
}

# One stream; meanwhile: add a backend, drain the stream's own backend, remove another,
# restart the control plane (program replaced through bpf_link_update), apply a config.
stream_survives() {
  local mode=$1 first other
  lab_with_servers "$mode"
  echo "vip $VIP" > "$CONF"
  echo "backend $VIP 198.18.0.11" >> "$CONF"
  echo "backend $VIP 198.18.0.12" >> "$CONF"
  lb start eth0 --mode "$mode" --config "$CONF" >/dev/null
  lab_exec "$LAB" client timeout 20 python3 "$TOOL" stream 198.18.0.100 80 9 > "$BATS_TEST_TMPDIR/stream.json" &
  PIDS+=($!)
  sleep 0.7
  # which backend holds the stream: the only one with a flow
  first=$(lb show --json | jq -r '.vips[0].backends[] | select(.new_flows == 1) | .address | split(":")[0]')
  [ -n "$first" ]
  other=198.18.0.11; [ "$first" = 198.18.0.11 ] && other=198.18.0.12
  lb backend add $VIP 198.18.0.13 >/dev/null
  lb backend set $VIP "$first" --weight 0 >/dev/null
  sleep 0.5
  lb backend del $VIP "$other" >/dev/null
  lb start eth0 --json | grep -q '"type":"replaced"'
  sleep 0.5
  echo "vip $VIP" > "$CONF"
  echo "backend $VIP $first weight 0" >> "$CONF"
  echo "backend $VIP 198.18.0.13 weight 3" >> "$CONF"
  lb apply "$CONF" >/dev/null
  # new connections avoid the drained backend
  out=$(clients 40)
  json_assert "$out" '.failed == 0 and .answers["backend-c"] == 40'
  wait "${PIDS[-1]}"
  out=$(cat "$BATS_TEST_TMPDIR/stream.json")
  json_assert "$out" '.error == null and (.names | length) == 1 and .lines > 50'
}

@test "nat: a streaming connection stays on its backend through add, drain, remove, restart, apply" {
  stream_survives nat
}

@test "dsr: a streaming connection stays on its backend through add, drain, remove, restart, apply" {
  stream_survives dsr
}

@test "bad input is refused with a clear message and changes nothing" {
  "$BPFLAB" lab up --name "$LAB" --lb nat >/dev/null
  lb start eth0 --mode nat >/dev/null
  lb vip add $VIP >/dev/null
  lb backend add $VIP 198.18.0.11 --mac 02:00:c6:12:00:0b >/dev/null
  before=$(lb show --json | jq -c '{generation, vips}')
  run lb vip add 198.18.0.100:0/tcp;      [ "$status" -eq 2 ]; [[ $output == *"invalid VIP"* ]]
  run lb vip add 198.18.0.100:65536/tcp;  [ "$status" -eq 2 ]
  run lb vip add 010.0.0.1:80/tcp;        [ "$status" -eq 2 ]
  run lb vip add $VIP;                    [ "$status" -eq 2 ]; [[ $output == *"already exists"* ]]
  run lb vip del 198.18.0.100:81/tcp;     [ "$status" -eq 2 ]; [[ $output == *"no such VIP"* ]]
  run lb backend add 198.18.0.100:81/tcp 198.18.0.12; [ "$status" -eq 2 ]; [[ $output == *"no VIP"* ]]
  run lb backend add $VIP 198.18.0.11;    [ "$status" -eq 2 ]; [[ $output == *"already in VIP"* ]]
  run lb backend add $VIP 198.18.0.300;   [ "$status" -eq 2 ]; [[ $output == *"invalid backend"* ]]
  run lb backend add $VIP 198.18.0.12:0;  [ "$status" -eq 2 ]
  run lb backend add $VIP 198.18.0.12 --weight 70000; [ "$status" -eq 2 ]
  run lb backend add $VIP 198.18.0.12 --mac ff:ff:ff:ff:ff:ff; [ "$status" -eq 2 ]
  run lb backend del $VIP 198.18.0.99;    [ "$status" -eq 2 ]; [[ $output == *"not in VIP"* ]]
  printf 'vip %s\nbackend %s 198.18.0.12 weight x\n' "$VIP" "$VIP" > "$CONF"
  run lb apply "$CONF";                   [ "$status" -eq 2 ]; [[ $output == *"lb.conf:2:"* ]]
  run lb start eth9 --mode nat;           [ "$status" -eq 2 ]; [[ $output == *"eth9"* ]]
  run lb start eth0 --mode dsr;           [ "$status" -eq 2 ]; [[ $output == *"runs in nat mode"* ]]
  run lb start eth0 --table-size 65536;   [ "$status" -eq 2 ]; [[ $output == *"prime"* ]]
  run lb show --iface eth1;               [ "$status" -eq 1 ]; [[ $output == *"no load balancer on 'eth1'"* ]]
  [ "$(lb show --json | jq -c '{generation, vips}')" = "$before" ]
}

@test "concurrent edits from many processes lose no update" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  lb start eth0 --mode dsr >/dev/null
  lb vip add $VIP >/dev/null
  pids=()
  for i in $(seq 20 35); do
    lb backend add $VIP 198.18.0.$i --mac 02:00:c6:12:00:$(printf '%02x' "$i") >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  show=$(lb show --json)
  json_assert "$show" '(.vips[0].backends | length) == 16 and .generation == 17'
  json_assert "$show" '([.vips[0].backends[].slots] | add) == .table_size'
  # --watch: JSON Lines samples with rates, bounded by --duration
  run lb show --watch --interval 0.2 --duration 0.5 --json
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "$output" | jq -s 'length >= 2 and all(.[]; .type == "sample" and (.vips[0] | has("pps")))')" = true ]
}

@test "a pinned set with another layout is refused, not misread" {
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  d="/sys/fs/bpf/bpflab/lb/dummy0@$LAB-lb"
  mkdir -p "$d"
  for m in config vips vip_addrs backends rings conntrack reverse vip_stats backend_stats counters; do
    bpftool map create "$d/$m" type array key 4 value 8 entries 1 name "$m"
  done
  run lb show --iface dummy0
  [ "$status" -eq 1 ]
  [[ $output == *"another map layout (map 'config'"* ]]
  [[ $output == *"lb stop dummy0"* ]]
}

@test "lb stop leaves nothing behind" {
  "$BPFLAB" lab up --name "$LAB" --lb nat >/dev/null
  lb start eth0 --mode nat >/dev/null
  [ -d "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
  ip -n "$LAB-lb" link show eth0 | grep -q 'xdp'
  run lb stop eth0 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "stopped"'
  [ ! -e "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
  ! ip -n "$LAB-lb" link show eth0 | grep -q 'xdp'
  run lb show
  [ "$status" -eq 1 ]
  [[ $output == *"no load balancer runs"* ]]
}

@test "state left by a vanished interface or a killed start converges on the next start" {
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  ip -n "$LAB-lb" link add dum0 type veth peer name dum1
  ip -n "$LAB-lb" link set dum0 up
  lb start dum0 --mode dsr >/dev/null
  d="/sys/fs/bpf/bpflab/lb/dum0@$LAB-lb"
  [ -e "$d/link" ]
  ip -n "$LAB-lb" link del dum0          # the link is now defunct, its pins remain
  mkdir "${d}_tmp_999999"                # what a start killed mid-pin leaves
  ip -n "$LAB-lb" link add dum0 type veth peer name dum1
  ip -n "$LAB-lb" link set dum0 up
  run lb start dum0 --mode nat --snat 198.18.0.2 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "started" and .mode == "nat"'
  [ ! -e "${d}_tmp_999999" ]
  run lb show --iface dum0 --json
  json_assert "$output" '.mode == "nat" and (.vips | length) == 0'
  lb stop dum0 >/dev/null
  [ ! -e "$d" ]
}
