#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lb end to end in a throwaway lab, in both modes: hundreds of real TCP
# connections through the VIP, spread as the Maglev tables say; a long-lived stream that
# stays on its backend through adds, drains, removals and control-plane restarts; bad
# input that changes nothing; concurrent edits that lose nothing; nothing left after stop.
load helpers
bats_require_minimum_version 1.5.0

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
  if ip netns list | grep -qw "$LAB-k"; then
    "$BPFLAB" --netns "$LAB-k" lb stop v0 >/dev/null 2>&1 || true
    "$BPFLAB" --netns "$LAB-k" count v0 --detach >/dev/null 2>&1 || true
    ip netns del "$LAB-k"
  fi
  rm -rf /sys/fs/bpf/bpflab/lb/"v0@$LAB-k"* /sys/fs/bpf/bpflab/count/"v0@$LAB-k"*
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
  lab_exec "$LAB" client timeout 30 python3 "$TOOL" stream 198.18.0.100 80 14 > "$BATS_TEST_TMPDIR/stream.json" &
  PIDS+=($!)
  # which backend holds the stream: the only one with a flow (once the client, started
  # through lab exec and python, has connected: up to 5 s on a busy machine)
  for _ in $(seq 50); do
    first=$(lb show --json | jq -r '.vips[0].backends[] | select(.new_flows == 1) | .address | split(":")[0]')
    [ -n "$first" ] && break
    sleep 0.1
  done
  [ -n "$first" ]
  other=198.18.0.11; [ "$first" = 198.18.0.11 ] && other=198.18.0.12
  lb backend add $VIP 198.18.0.13 >/dev/null
  lb backend set $VIP "$first" --weight 0 >/dev/null
  sleep 0.5
  lb backend del $VIP "$other" >/dev/null
  lb start eth0 --json | grep -q '"type":"started","replaced":true'
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
  run lb show --dry-run;                  [ "$status" -eq 2 ]; [[ $output == *"not an option of 'lb show'"* ]]
  run lb backend add $VIP 198.18.0.12 --mode nat; [ "$status" -eq 2 ]; [[ $output == *"it is for: start"* ]]
  [ "$(lb show --json | jq -c '{generation, vips}')" = "$before" ]
}

@test "--ct-size is rounded up to a power of two, shown as the tables hold it; outside its bounds refused" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  d="/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
  for n in 0 63 67108865 12x; do
    run lb start eth0 --mode dsr --ct-size "$n"
    [ "$status" -eq 2 ]; [[ $output == *"invalid --ct-size '$n'"*"64 to 67108864"* ]]
  done
  [ ! -e "$d" ]
  run lb start eth0 --mode dsr --ct-size 1000 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.conntrack_capacity == 1024'
  json_assert "$(lb show --json)" '.conntrack.capacity == 1024 and .conntrack.flows == 0'
  # the pinned tables: 1024 / 4 buckets per family (an array), nothing else sized by it in dsr
  [ "$(bpftool -j map show pinned "$d/conntrack" | jq '[.type, .max_entries]' -c)" = '["array",256]' ]
  [ "$(bpftool -j map show pinned "$d/conntrack6" | jq .max_entries)" = 256 ]
  [ "$(bpftool -j map show pinned "$d/reverse" | jq .max_entries)" = 1024 ]
  # a replacement names the same size either way; another one is refused, nothing changed
  run lb start eth0 --ct-size 1000 --json
  [ "$status" -eq 0 ]; json_assert "$output" '.replaced == true and .conntrack_capacity == 1024'
  run lb start eth0 --ct-size 2048
  [ "$status" -eq 2 ]; [[ $output == *"conntrack size"*"fixed while running"* ]]
  json_assert "$(lb show --json)" '.conntrack.capacity == 1024'
}

@test "--new-flow-limit is set at start, changed by a replacement, bad values refused" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  for n in -1 12x 100000001; do
    run lb start eth0 --mode dsr --new-flow-limit "$n"
    [ "$status" -eq 2 ]; [[ $output == *"--new-flow-limit"* ]]
  done
  [ ! -e "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
  run lb start eth0 --mode dsr --new-flow-limit 5000 --json
  [ "$status" -eq 0 ]; json_assert "$output" '.new_flow_limit == 5000'
  json_assert "$(lb show --json)" '.conntrack.new_flow_limit == 5000'
  # without the option a replacement keeps it; with it, the new program has the new one
  run lb start eth0 --json
  [ "$status" -eq 0 ]; json_assert "$output" '.replaced == true and .new_flow_limit == 5000'
  run lb start eth0 --new-flow-limit 0 --json
  [ "$status" -eq 0 ]; json_assert "$output" '.replaced == true and .new_flow_limit == 0'
  json_assert "$(lb show --json)" '.conntrack.new_flow_limit == 0'
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
  for m in config vips vix vix_head vip_addrs backends rings conntrack reverse conntrack6 reverse6 vip_stats backend_stats counters nexthops; do
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
  # bad arguments are exit 2 whether a balancer runs or not: checked before looking for one
  run lb vip add 127.0.0.1:80/tcp
  [ "$status" -eq 2 ]; [[ $output == *"loopback"* ]]
  run lb backend add 198.18.0.100:80/tcp 198.18.0.300
  [ "$status" -eq 2 ]
  run lb vip add 198.18.0.100:80/tcp
  [ "$status" -eq 1 ]; [[ $output == *"no load balancer runs"* ]]
}

@test "XDP_TX that cannot leave a veth: start and show warn, show counts the driver's drops" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  # the lab's switch port has an XDP program: lb on eth0 can send, and says nothing
  run lb start eth0 --mode dsr --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "started" and .warning == null and .replaced == false and .conntrack_capacity > 0 and .snat == null'
  run lb show --json
  json_assert "$output" '.warning == null and (.tx_dropped | type) == "number" and .conntrack.reverse_flows == null'
  lb stop eth0 >/dev/null
  # a veth whose peer has no XDP program: every XDP_TX is dropped by the driver
  ip -n "$LAB-lb" link add gx0 type veth peer name gx1
  ip -n "$LAB-lb" link set gx0 up
  run --separate-stderr lb start gx0 --mode dsr --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.xdp_mode == "native" and (.warning | test("gx0.*no native XDP program.*XDP_TX will be dropped"))'
  lb stop gx0 >/dev/null
  run lb start gx0 --mode dsr
  [[ $output == *"warning: "*"gx0"*"-m generic"* ]]
  run lb show --iface gx0 --json
  json_assert "$output" '(.warning | test("no native XDP program")) and .tx_dropped == 0'
  run lb show --iface gx0
  [[ $output == *"warning: "*"no native XDP program"* && $output == *"tx_dropped"* ]]
  lb stop gx0 >/dev/null
  # generic XDP sends through the stack: no warning
  run lb start gx0 --mode dsr -m generic --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.xdp_mode == "generic" and .warning == null'
  lb stop gx0 >/dev/null
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

@test "apply of a directory, an empty or an unreadable file changes nothing; emptying takes a word" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  lb start eth0 --mode dsr >/dev/null
  lb vip add $VIP >/dev/null
  lb backend add $VIP 198.18.0.11 --mac 02:00:c6:12:00:0b >/dev/null
  before=$(lb show --json | jq -c '{generation, vips}')
  run lb apply "$BATS_TEST_TMPDIR";       [ "$status" -eq 2 ]; [[ $output == *"directory"* ]]
  : > "$CONF"
  run lb apply "$CONF";                   [ "$status" -eq 2 ]; [[ $output == *"no VIP"* && $output == *"--allow-empty"* ]]
  echo "# only a comment" > "$CONF"
  run lb apply "$CONF";                   [ "$status" -eq 2 ]
  run lb apply "$BATS_TEST_TMPDIR/missing.conf"; [ "$status" -eq 2 ]; [[ $output == *"cannot read"* ]]
  # root reads any mode: unreadable here is a path through a file (ENOTDIR)
  echo "vip $VIP" > "$CONF"
  run lb apply "$CONF/x";                 [ "$status" -eq 2 ]; [[ $output == *"cannot read"* ]]
  [ "$(lb show --json | jq -c '{generation, vips}')" = "$before" ]
  : > "$CONF"
  run lb apply --allow-empty "$CONF" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "changed" and .vips_removed == 1 and .backends_removed == 1'
  json_assert "$(lb show --json)" '(.vips | length) == 0'
  lb vip add $VIP >/dev/null 2>&1
  run lb flush --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.change == "flushed" and .vips_removed == 1'
  json_assert "$(lb show --json)" '(.vips | length) == 0'
}

@test "apply --dry-run says what would change and the share Maglev moves; save | apply changes nothing" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  lb start eth0 --mode dsr --table-size 1009 >/dev/null
  {
    echo "vip $VIP"
    for i in 11 12 13 14; do echo "backend $VIP 198.18.0.$i mac 02:00:c6:12:00:$i"; done
    echo "vip 198.18.0.100:53/udp"
    echo "backend 198.18.0.100:53/udp 198.18.0.11 mac 02:00:c6:12:00:11"
  } > "$CONF"
  lb apply "$CONF" >/dev/null
  before=$(lb show --json | jq -c '{generation, vips}')
  # save | apply --dry-run: no change at all
  lb save > "$BATS_TEST_TMPDIR/saved.conf"
  # --json: a record, carrying the same text and the same configuration as data
  run --separate-stderr lb save --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "config" and (.vips | length) == 2 and (.vips[] | select(.vip == "198.18.0.100:80/tcp") | (.backends | length) == 4 and .backends[0].mac == "02:00:c6:12:00:11" and .backends[0].weight == 1)'
  [ "$(jq -r .text <<<"$output")" = "$(cat "$BATS_TEST_TMPDIR/saved.conf")" ]
  run lb apply --dry-run "$BATS_TEST_TMPDIR/saved.conf" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "dry_run" and .changed == false and (.changes | length) == 0 and .moved_share == 0'
  run bash -c "'$BPFLAB' --netns '$LAB-lb' lb save | '$BPFLAB' --netns '$LAB-lb' lb apply --dry-run -"
  [ "$status" -eq 0 ]; [[ $output == *"nothing"* ]]
  # one of 4 equal backends removed: ~1/4 of the table moves; one re-weighted; a VIP added
  {
    echo "vip $VIP"
    for i in 11 12 13; do echo "backend $VIP 198.18.0.$i mac 02:00:c6:12:00:$i"; done
    echo "vip 198.18.0.100:443/tcp"
    echo "backend 198.18.0.100:443/tcp 198.18.0.11 weight 2 mac 02:00:c6:12:00:11"
    echo "vip 198.18.0.100:53/udp"
    echo "backend 198.18.0.100:53/udp 198.18.0.11 weight 3 mac 02:00:c6:12:00:11"
  } > "$CONF"
  run lb apply --dry-run "$CONF" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.vips_added == 1 and .vips_removed == 0 and .backends_added == 1 and .backends_removed == 1 and .backends_reweighted == 1'
  # two kept VIPs: the tcp one moves its removed backend's quarter (and a little more,
  # Maglev's disruption), the udp one nothing (one backend, weight only)
  json_assert "$output" '.moved_share > 0.10 and .moved_share < 0.20'
  json_assert "$output" '[.changes[] | select(.change == "flows_moved")][0].moved_share > 0.22'
  json_assert "$output" '[.changes[] | select(.change == "backend_weight")][0] | .old_weight == 1 and .weight == 3'
  run lb apply --dry-run "$CONF"
  [[ $output == *"- backend $VIP 198.18.0.14:80"* && $output == *"+ vip 198.18.0.100:443/tcp"* ]]
  [[ $output == *"weight 1 -> 3"* && $output == *"nothing was changed"* ]]
  [ "$(lb show --json | jq -c '{generation, vips}')" = "$before" ]
  # applying the saved file changes no VIP, backend or table
  lb apply "$BATS_TEST_TMPDIR/saved.conf" >/dev/null
  after=$(lb show --json | jq -c '[.vips[] | {vip, backends: [.backends[] | {address, weight, mac, slots, id}]}]')
  want=$(printf '%s' "$before" | jq -c '[.vips[] | {vip, backends: [.backends[] | {address, weight, mac, slots, id}]}]')
  echo "after: $after"; echo "want:  $want"
  [ "$after" = "$want" ]
}

@test "VIPs that cannot be served are refused, each with its own reason; a VIP without backend warns and shows dropping" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  lb start eth0 --mode dsr >/dev/null
  run lb vip add 127.0.0.1:80/tcp;        [ "$status" -eq 2 ]; [[ $output == *"loopback"* ]]
  run lb vip add 224.0.0.5:80/udp;        [ "$status" -eq 2 ]; [[ $output == *"multicast"* ]]
  run lb vip add 0.0.0.0:80/tcp;          [ "$status" -eq 2 ]; [[ $output == *"any address"* ]]
  run lb vip add 255.255.255.255:80/udp;  [ "$status" -eq 2 ]; [[ $output == *"broadcast"* ]]
  printf 'vip 127.0.0.53:53/udp\n' > "$CONF"
  run lb apply "$CONF";                   [ "$status" -eq 2 ]; [[ $output == *"lb.conf:1:"*"loopback"* ]]
  json_assert "$(lb show --json)" '(.vips | length) == 0'
  run lb vip add $VIP
  [ "$status" -eq 0 ]; [[ $output == *"no backend of weight > 0"* ]]
  json_assert "$(lb show --json)" '.vips[0].dropping == true'
  [[ $(lb show) == *"no backend: dropping"* ]]
  run lb backend add $VIP 198.18.0.11 --mac 02:00:c6:12:00:0b
  [ "$status" -eq 0 ]; [[ $output != *"no backend"* ]]
  json_assert "$(lb show --json)" '.vips[0].dropping == false'
  [[ $(lb show) != *"dropping"* ]]
  run lb backend set $VIP 198.18.0.11 --weight 0
  [ "$status" -eq 0 ]; [[ $output == *"no backend of weight > 0"* ]]
  json_assert "$(lb show --json)" '.vips[0].dropping == true'
}

@test "a balancer whose interface was deleted says so; a new interface of that name does not inherit it silently" {
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  ip -n "$LAB-lb" link add dum0 type veth peer name dum1
  ip -n "$LAB-lb" link set dum0 up
  lb start dum0 --mode dsr >/dev/null
  lb vip add $VIP --iface dum0 >/dev/null 2>&1
  lb backend add $VIP 198.18.0.11 --mac 02:00:c6:12:00:0b --iface dum0 >/dev/null
  ip -n "$LAB-lb" link del dum0
  run lb show --iface dum0
  [ "$status" -eq 1 ]; [[ $output == *"lost its link"* && $output == *"lb stop dum0"* ]]
  run lb backend add $VIP 198.18.0.12 --mac 02:00:c6:12:00:0c --iface dum0
  [ "$status" -eq 1 ]; [[ $output == *"lost its link"* ]]
  ip -n "$LAB-lb" link add dum0 type veth peer name dum1
  ip -n "$LAB-lb" link set dum0 up
  run lb start dum0 --mode dsr
  [ "$status" -eq 1 ]; [[ $output == *"1 VIPs, 1 backends"* && $output == *"Nothing was started"* ]]
  ! ip -n "$LAB-lb" link show dum0 | grep -q xdp
  # the configuration can be kept, and the state removed as told
  lb save --iface dum0 > "$BATS_TEST_TMPDIR/kept.conf"
  grep -q "backend $VIP 198.18.0.11:80 weight 1 mac 02:00:c6:12:00:0b" "$BATS_TEST_TMPDIR/kept.conf"
  run lb stop dum0
  [ "$status" -eq 0 ]
  run lb start dum0 --mode dsr --config "$BATS_TEST_TMPDIR/kept.conf" --json
  [ "$status" -eq 0 ]
  json_assert "$(lb show --iface dum0 --json)" '(.vips[0].backends | length) == 1'
  lb stop dum0 >/dev/null
}

@test "\"already has an XDP program\" names the owner and the way that removes it" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  lb start eth0 --mode dsr >/dev/null
  run "$BPFLAB" --netns "$LAB-lb" count eth0 --duration 0.1
  [ "$status" -ne 0 ]
  echo "$output" >&2
  [[ $output == *"already has an XDP program"* && $output == *"'bpflab lb stop eth0' removes it"* ]]
  [[ $output != *"<command>"* ]]
  lb stop eth0 >/dev/null
  "$BPFLAB" --netns "$LAB-lb" count eth0 --duration 5 --interval 0 >/dev/null &
  PIDS+=($!)
  for i in $(seq 50); do ip -n "$LAB-lb" link show eth0 | grep -q xdp && break; sleep 0.05; done
  run lb start eth0 --mode dsr
  [ "$status" -ne 0 ]
  [[ $output == *"held by process ${PIDS[-1]} (bpflab)"* ]]
}

# Nothing left of a balancer or pinned count on v0 of netns $1: no XDP, no pin folder.
nothing_left() {
  ! ip -n "$1" link show v0 | grep -q xdp && ! ls -d /sys/fs/bpf/bpflab/*/"v0@$1"* 2>/dev/null | grep -q .
}

# What a kill -9 between pinning the link and the rename leaves, made on purpose: a
# whole pin folder still named <dir>_tmp_<pid> of a dead process, its link attached.
@test "a start killed after pinning its link, before the rename, is undone by the next command" {
  local ns="$LAB-k" d
  ip netns add "$ns"
  ip -n "$ns" link add v0 type veth peer name v1
  ip -n "$ns" link set v0 up
  d="/sys/fs/bpf/bpflab/lb/v0@$ns"
  "$BPFLAB" --netns "$ns" lb start v0 --mode dsr >/dev/null
  mv "$d" "${d}_tmp_99999999"
  run "$BPFLAB" --netns "$ns" lb start v0 --mode dsr --json
  [ "$status" -eq 0 ]; json_assert "$output" '.type == "started"'
  [ ! -e "${d}_tmp_99999999" ]
  "$BPFLAB" --netns "$ns" lb stop v0 >/dev/null
  mv_count() { "$BPFLAB" --netns "$ns" count v0 --pin --duration 0.05 --interval 0 >/dev/null; }
  d="/sys/fs/bpf/bpflab/count/v0@$ns"
  mv_count
  mv "$d" "${d}_tmp_99999999"
  run "$BPFLAB" --netns "$ns" count v0 --pin --duration 0.05 --interval 0
  [ "$status" -eq 0 ]; [[ $output == *"attached"* ]]
  [ ! -e "${d}_tmp_99999999" ]
  "$BPFLAB" --netns "$ns" count v0 --detach >/dev/null
  # and the same left by a stop killed after its first step (the rename aside)
  "$BPFLAB" --netns "$ns" lb start v0 --mode dsr >/dev/null
  d="/sys/fs/bpf/bpflab/lb/v0@$ns"
  mv "$d" "${d}_tmp_99999999"
  run "$BPFLAB" --netns "$ns" lb show --iface v0
  [ "$status" -eq 1 ]; [[ $output == *"no load balancer on 'v0'"* ]]
  nothing_left "$ns"
}

# kill -9 of a fresh start (lb start, count --pin) N times at a random 0-200 ms, then
# its undo must work (lb stop / count --detach, or say nothing is there) and leave
# nothing. The verifier takes longer than 200 ms here, so those kills land before the
# pins; M more kills land inside the pin commit itself, which lasts ~1 ms: strace
# injects SIGKILL at a random one of its syscalls (each pin after the link's, or the
# rename). Each is followed by a start that must succeed and a stop. 0 wedged.
kill_cycles() {
  local n=$1 m=$2 what=$3 ns="$LAB-k" i wedged=0 ms inside=0 d start undo gone first last k inj
  ip netns add "$ns"
  ip -n "$ns" link add v0 type veth peer name v1
  ip -n "$ns" link set v0 up; ip -n "$ns" link set v1 up
  if [ "$what" = lb ]; then
    start=(lb start v0 --mode dsr); undo=(lb stop v0); gone="no load balancer on 'v0'"
  else
    start=(count v0 --pin --duration 0.3 --interval 0); undo=(count v0 --detach)
    gone="no pinned count program on 'v0'"
  fi
  d="/sys/fs/bpf/bpflab/$what/v0@$ns"
  for i in $(seq "$n"); do
    ms=$((RANDOM % 201))
    "$BPFLAB" --netns "$ns" "${start[@]}" >/dev/null 2>&1 &
    local p=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    if ! "$BPFLAB" --netns "$ns" "${undo[@]}" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &&
       ! grep -q "$gone" "$BATS_TEST_TMPDIR/err"; then
      wedged=$((wedged + 1)); echo "# $what cycle $i ($ms ms): $(cat "$BATS_TEST_TMPDIR/err")" >&3
    fi
    if ! nothing_left "$ns"; then
      wedged=$((wedged + 1)); echo "# $what cycle $i ($ms ms): left behind" >&3
      "$BPFLAB" --netns "$ns" "${undo[@]}" >/dev/null 2>&1 || true
    fi
  done
  if [ "$m" -gt 0 ]; then
    command -v strace >/dev/null || { echo "needs strace (scripts/deps.sh)" >&2; return 1; }
    # Which bpf() calls are the pins: the link's first, then the maps'.
    strace -f -qq -e trace=bpf -o "$BATS_TEST_TMPDIR/trace" "$BPFLAB" --netns "$ns" "${start[@]}" >/dev/null 2>&1
    "$BPFLAB" --netns "$ns" "${undo[@]}" >/dev/null
    first=$(grep -n 'BPF_OBJ_PIN.*/link"' "$BATS_TEST_TMPDIR/trace" | head -1 | cut -d: -f1)
    last=$(grep -n 'BPF_OBJ_PIN' "$BATS_TEST_TMPDIR/trace" | tail -1 | cut -d: -f1)
    [ -n "$first" ] && [ -n "$last" ]
  fi
  for i in $(seq "$m"); do
    k=$((first + 1 + RANDOM % (last - first + 1)))
    inj="bpf:signal=KILL:when=$k"; [ "$k" -gt "$last" ] && inj="rename:signal=KILL"
    # (in a shell of its own, so that bash's "Killed" goes with its stderr)
    bash -c 'strace -f -qq -o /dev/null -e trace=bpf,rename -e inject="$1" "${@:2}"; true' \
      _ "$inj" "$BPFLAB" --netns "$ns" "${start[@]}" >/dev/null 2>&1
    ls -d "${d}_tmp_"* >/dev/null 2>&1 && inside=$((inside + 1))
    if ! "$BPFLAB" --netns "$ns" "${start[@]}" >/dev/null 2>"$BATS_TEST_TMPDIR/err" ||
       ! "$BPFLAB" --netns "$ns" "${undo[@]}" >/dev/null 2>>"$BATS_TEST_TMPDIR/err"; then
      wedged=$((wedged + 1)); echo "# $what aimed cycle $i ($inj): $(cat "$BATS_TEST_TMPDIR/err")" >&3
    fi
    if ! nothing_left "$ns"; then
      wedged=$((wedged + 1)); echo "# $what aimed cycle $i ($inj): left behind" >&3
      "$BPFLAB" --netns "$ns" "${undo[@]}" >/dev/null 2>&1 || true
    fi
  done
  ip netns del "$ns"
  echo "# $what: $n random + $m in-commit ($inside left a temp folder) kill -9 cycles, $wedged wedged" >&3
  [ "$wedged" -eq 0 ] && [ "$inside" -eq "$m" ]
}

@test "kill -9 of a fresh lb start, 100 times at random and 5 inside the pin commit: 0 wedged, nothing left" {
  kill_cycles "${LB_KILL_CYCLES:-100}" "${LB_KILL_AIMED:-5}" lb
}

@test "kill -9 of count --pin, 100 times at random and 5 inside the pin commit: 0 wedged, nothing left" {
  kill_cycles "${LB_KILL_CYCLES:-100}" "${LB_KILL_AIMED:-5}" count
}

@test "encap VIPs: --encap and 'encap' lines, shown and saved; a tunnel source by default; bad values refused" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr >/dev/null
  local out
  out=$(lb start eth0 --mode dsr --json)
  json_assert "$out" '.tunnel_src != null'
  run lb vip add 198.18.0.100:443/tcp --encap vxlan;  [ "$status" -eq 2 ]
  run lb vip add $VIP --encap gue;                    [ "$status" -eq 0 ]
  run lb vip del $VIP --encap ipip;                   [ "$status" -eq 2 ]; [[ $output == *"vip add"* ]]
  # a backend behind a router: no MAC, no ARP
  run lb backend add $VIP 203.0.113.7;                [ "$status" -eq 0 ]
  out=$(lb show --json)
  json_assert "$out" '.vips[0].encap == "gue" and .vips[0].backends[0].address == "203.0.113.7:80"'
  [[ $(lb show) == *"encap gue"* ]]
  [[ $(lb save) == *"vip $VIP encap gue"* ]]
  json_assert "$(lb save --json)" '.vips[0].encap == "gue"'
  lb save > "$CONF"
  [[ $(lb apply --dry-run "$CONF") == *"nothing"* ]]
  sed -i 's/encap gue/encap ipip/' "$CONF"
  json_assert "$(lb apply --dry-run --json "$CONF")" '.vips_reencap == 1 and .changed == true'
  lb apply "$CONF" >/dev/null
  json_assert "$(lb show --json)" '.vips[0].encap == "ipip"'
  printf 'vip %s encap foo\n' "$VIP" > "$CONF"
  run lb apply "$CONF";                               [ "$status" -eq 2 ]; [[ $output == *"lb.conf:1:"*"encap"* ]]
  json_assert "$(lb show --json)" '.vips[0].encap == "ipip"'
  run lb start eth0 --tunnel-src 198.18.0.77;          [ "$status" -eq 2 ]; [[ $output == *"fixed while running"* ]]
  run lb start eth0 --tunnel-src 127.0.0.1;            [ "$status" -eq 2 ]; [[ $output == *"loopback"* ]]
}
