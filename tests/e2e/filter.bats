#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab filter end to end in a throwaway lab, on backend-a's eth0: deny by CIDR, by
# address+port and by ICMP type; bad rule files refused with FILE:LINE and exit 2, the
# running rules untouched; a swap under traffic loses no allowed packet; a rate limit
# holds its rate within 10%; nothing left after stop.
load helpers
bats_require_minimum_version 1.5.0

setup() {
  require_bpf
  LAB=$(unique_lab)
  PIDS=()
  "$BPFLAB" lab up --name "$LAB" --backends 1 >/dev/null
  NS="$LAB-backend-a"
  R="$BATS_TEST_TMPDIR"
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$NS" filter stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" --netns "$LAB-lb" filter stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/filter/eth0@$NS" "/sys/fs/bpf/bpflab/filter/eth0@$LAB-lb"
}

filter() { "$BPFLAB" --netns "$NS" filter "$@"; }
pings() { lab_exec "$LAB" client ping -c "$1" -i 0.2 -W 1 198.18.0.11 2>/dev/null | grep -o '[0-9]* received' | cut -d' ' -f1; }
tcp_ok() { lab_exec "$LAB" client timeout 5 python3 -c "import socket; socket.create_connection(('198.18.0.11', $1), timeout=2)" 2>/dev/null; }
serve() { # port
  lab_exec "$LAB" backend-a timeout 60 python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $1)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()" &
  PIDS+=($!)
}

@test "filter: deny by CIDR, address+port, ICMP type; counters per rule" {
  serve 8080; serve 8081; sleep 0.5
  : > "$R/empty.rules"
  run filter start eth0 --rules "$R/empty.rules" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "started" and .rules == 0'
  [ "$(pings 3)" -eq 3 ]
  tcp_ok 8081

  printf '# by CIDR\n10 deny src 198.18.0.0/28\n' > "$R/cidr.rules"
  run filter apply "$R/cidr.rules" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "changed" and .rules == 1'
  [ "$(pings 3)" -eq 0 ]
  run filter show --json
  json_assert "$output" '.rules[0].priority == 10 and .rules[0].dropped >= 3 and .counters.denied >= 3'
  json_assert "$output" '.top_sources[0].address == "198.18.0.1"'

  printf '20 deny dst 198.18.0.11 proto tcp dport 8081\n' > "$R/port.rules"
  filter apply "$R/port.rules" >/dev/null
  [ "$(pings 3)" -eq 3 ]
  tcp_ok 8080
  ! tcp_ok 8081

  printf '30 deny proto icmp icmp-type 8\n' > "$R/icmp.rules"
  filter apply "$R/icmp.rules" >/dev/null
  [ "$(pings 3)" -eq 0 ]
  tcp_ok 8081
  run filter show --json
  json_assert "$output" '.rules[0].action == "deny" and .rules[0].packets >= 3 and .counters.drop >= 3'
}

@test "filter: bad rules are refused with FILE:LINE, exit 2, running rules untouched" {
  printf '10 deny src 203.0.113.0/24\n' > "$R/good.rules"
  filter start eth0 --rules "$R/good.rules" >/dev/null
  before=$(filter show --json | jq -c '[.generation, .rules]')
  i=0
  for bad in '10 deny src 1.2.3.4/33' '10 deny src 010.0.0.1' '10 deny proto tcp dport 80-70' \
             '10 drop src 1.2.3.4' $'10 deny src 1.2.3.4\n10 allow proto udp'; do
    i=$((i + 1))
    printf '# bad\n%s\n' "$bad" > "$R/bad$i.rules"
    run filter apply "$R/bad$i.rules"
    [ "$status" -eq 2 ]
    [[ "$output" == *"$R/bad$i.rules:"[23]": "* ]]
  done
  run --separate-stderr filter apply "$R/bad5.rules" --json
  [ "$status" -eq 2 ]
  json_assert "$output" '.type == "error" and (.message | test("duplicate priority 10"))'
  [ "$(filter show --json | jq -c '[.generation, .rules]')" = "$before" ]
  run filter start eth0 --rules "$R/bad1.rules"
  [ "$status" -eq 2 ]
  run filter apply "$R/good.rules" --dry-run --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "dry_run" and .changed == false and .unchanged == 1'
  printf '10 deny src 203.0.113.0/25\n20 allow proto udp\n' > "$R/new.rules"
  run filter apply "$R/new.rules" --dry-run --json
  json_assert "$output" '.changed and .added == 1 and .changed_rules == 1 and .removed == 0'
  [ "$(filter show --json | jq -c '[.generation, .rules]')" = "$before" ]
}

@test "filter: a rule swap under traffic loses no allowed packet" {
  printf '10 deny src 203.0.113.0/24\n' > "$R/a.rules"
  printf '5 deny src 192.0.2.0/24\n10 deny src 203.0.113.0/24\n20 allow proto icmp\n' > "$R/b.rules"
  filter start eth0 --rules "$R/a.rules" >/dev/null
  lab_exec "$LAB" client timeout 20 ping -c 400 -i 0.01 -W 2 198.18.0.11 > "$R/ping.txt" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 20); do
    filter apply "$R/$([ $((i % 2)) -eq 0 ] && echo a || echo b).rules" >/dev/null
    sleep 0.1
  done
  wait "${PIDS[-1]}" || true
  grep -q '400 packets transmitted, 400 received' "$R/ping.txt" || { cat "$R/ping.txt" >&2; false; }
  run filter show --json
  json_assert "$output" '.generation >= 21 and .counters.drop == 0'
}

@test "filter: a rate limit holds its rate within 10%" {
  printf '10 limit proto udp dport 9999 rate 200pps burst 20\n' > "$R/limit.rules"
  filter start eth0 --rules "$R/limit.rules" >/dev/null
  # ~2000 packets/s for 3 s from the client, paced; the limit lets 200/s (+ the burst) in.
  run lab_exec "$LAB" client timeout 20 python3 -c "
import socket, time, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic(); n = 0
while time.monotonic() - t0 < 3.0:
    for _ in range(20):
        s.sendto(b'x' * 32, ('198.18.0.11', 9999)); n += 1
    time.sleep(0.01)
print(json.dumps({'sent': n, 'seconds': time.monotonic() - t0}))"
  [ "$status" -eq 0 ]
  secs=$(echo "$output" | jq .seconds)
  sent=$(echo "$output" | jq .sent)
  run filter show --json
  passed=$(echo "$output" | jq '.counters.limit_pass')
  limited=$(echo "$output" | jq '.counters.limited')
  want=$(echo "200 * $secs + 20" | bc -l)
  echo "sent $sent in $secs s: passed $passed, limited $limited, want $want" >&2
  [ "$sent" -gt 2000 ]
  echo "$passed >= 0.9 * $want && $passed <= 1.1 * $want" | bc -l | grep -qx 1
}

@test "filter: stop removes everything, a second stop says there is nothing" {
  filter start eth0 >/dev/null
  [ -d "/sys/fs/bpf/bpflab/filter/eth0@$NS" ]
  run filter stop eth0 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "stopped"'
  [ ! -e "/sys/fs/bpf/bpflab/filter/eth0@$NS" ]
  run filter stop eth0
  [ "$status" -eq 1 ]
  [ "$(pings 2)" -eq 2 ]
}

@test "filter: every --json record matches docs/json.md" {
  J="$R/all.jsonl"
  printf 'default allow\nallowlist 198.18.0.1\n10 deny src 203.0.113.0/24\n' > "$R/j.rules"
  {
    filter start eth0 --rules "$R/j.rules" --json
    filter check "$R/j.rules" --json
    filter apply "$R/j.rules" --dry-run --json
    filter apply "$R/j.rules" --json
    filter show --json
    filter apply /nonexistent.rules --json || true
    filter stop eth0 --json
  } > "$J" 2>/dev/null
  run python3 "$BATS_TEST_DIRNAME/json_schema.py" "$BATS_TEST_DIRNAME/../../docs/json.md" filter "$J"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(wc -l < "$J")" -eq 7 ]
}

@test "filter: --then lb runs in front of the load balancer on one XDP slot" {
  "$BPFLAB" lab down --name "$LAB" >/dev/null
  "$BPFLAB" lab up --name "$LAB" --backends 1 --lb nat >/dev/null
  LBNS="$LAB-lb"
  lbping() { lab_exec "$LAB" client ping -c "$1" -i 0.2 -W 1 198.18.0.2 2>/dev/null | grep -o '[0-9]* received' | cut -d' ' -f1; }
  run "$BPFLAB" --netns "$LBNS" filter start eth0 --then lb
  [ "$status" -eq 1 ]
  [[ "$output" == *"no load balancer runs on eth0"* ]]
  "$BPFLAB" --netns "$LBNS" lb start eth0 --mode nat >/dev/null
  lb_id=$(ip netns exec "$LBNS" ip -j link show eth0 | jq '.[0].xdp.prog.id')
  printf '10 deny src 198.18.0.1 proto icmp\n' > "$R/lb.rules"
  run "$BPFLAB" --netns "$LBNS" filter start eth0 --then lb --rules "$R/lb.rules" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.then == "lb" and .xdp_mode == null'
  [ "$(ip netns exec "$LBNS" ip -j link show eth0 | jq '.[0].xdp.prog.id')" != "$lb_id" ]
  [ "$(lbping 2)" -eq 0 ]
  run "$BPFLAB" --netns "$LBNS" filter show --json
  json_assert "$output" '.attached and .then == "lb" and .counters.denied >= 2'
  : > "$R/none.rules"
  "$BPFLAB" --netns "$LBNS" filter apply "$R/none.rules" >/dev/null
  [ "$(lbping 2)" -eq 2 ]
  "$BPFLAB" --netns "$LBNS" filter stop eth0 >/dev/null
  [ "$(ip netns exec "$LBNS" ip -j link show eth0 | jq '.[0].xdp.prog.id')" = "$lb_id" ]
  "$BPFLAB" --netns "$LBNS" lb show >/dev/null
  "$BPFLAB" --netns "$LBNS" lb stop eth0 >/dev/null
}
