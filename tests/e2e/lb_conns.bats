#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What ipvsadm users expect, in a throwaway lab with real HTTP servers: `lb conns` lists
# the tracked flows (client, VIP, backend) and filters them; `lb show --rate` gives
# packets and bits per second per VIP and backend while clients run; `lb zero` sets the
# counters to zero and keeps the flows.
load helpers
bats_require_minimum_version 1.5.0

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
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
}

lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@"; }

up() { # MODE
  "$BPFLAB" lab up --name "$LAB" --backends 2 --lb "$1" --serve >/dev/null
  printf 'vip %s\nbackend %s 198.18.0.11\nbackend %s 198.18.0.12\n' "$VIP" "$VIP" "$VIP" > "$CONF"
  lb start eth0 --mode "$1" --config "$CONF" >/dev/null
}

# N keep-alive HTTP connections through the VIP, held SECONDS; prints when all are open
hold() { # N SECONDS
  cat > "$BATS_TEST_TMPDIR/hold.py" <<'EOF'
import http.client, sys, time
cs = []
for _ in range(int(sys.argv[1])):
    c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2)
    c.request("GET", "/"); c.getresponse().read(); cs.append(c)
print("open", flush=True)
time.sleep(float(sys.argv[2]))
EOF
  lab_exec "$LAB" client timeout 30 python3 "$BATS_TEST_TMPDIR/hold.py" "$@"
}

# GETs on new connections through the VIP for SECONDS
requests() {
  lab_exec "$LAB" client timeout 30 python3 -c '
import http.client, sys, time
end, n = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < end:
    c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2); c.request("GET", "/")
    c.getresponse().read(); c.close(); n += 1
print(n)' "$1"
}

@test "lb conns lists every tracked flow with client, VIP and backend, and filters by VIP and backend" {
  up nat
  hold 6 20 > "$BATS_TEST_TMPDIR/hold.out" &
  PIDS+=($!)
  wait_for_line "$BATS_TEST_TMPDIR/hold.out" open
  run lb conns --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "conns" and .mode == "nat" and .tracked == 6 and .shown == 6 and (.flows | length) == 6'
  json_assert "$output" '[.flows[] | .proto == "tcp" and .vip == "198.18.0.100:80/tcp" and (.client | startswith("198.18.0.1:")) and (.backend == "198.18.0.11:80" or .backend == "198.18.0.12:80") and .nat_port >= 1024] | all'
  # the same split as lb show's per-backend new flows
  a=$(printf '%s' "$output" | jq '[.flows[] | select(.backend == "198.18.0.11:80")] | length')
  json_assert "$(lb show --json)" ".vips[0].backends[0].new_flows == $a and .conntrack.flows == 6"
  json_assert "$(lb conns --json --backend 198.18.0.11)" ".shown == $a and ([.flows[].backend] | unique) == (if $a > 0 then [\"198.18.0.11:80\"] else [] end)"
  json_assert "$(lb conns --json --backend 198.18.0.12:80)" ".shown == $((6 - a)) and .tracked == 6"
  json_assert "$(lb conns --json --vip 198.18.0.100:80/tcp)" '.shown == 6'
  json_assert "$(lb conns --json --vip 198.18.0.100:81/tcp)" '.shown == 0 and .flows == []'
  run lb conns
  [ "$status" -eq 0 ]
  [[ $output == *"6 of 6 tracked flows shown"* ]]
  run lb conns --vip nonsense;           [ "$status" -eq 2 ]; [[ $output == *"invalid --vip"* ]]
  run lb conns --backend 198.18.0.300;   [ "$status" -eq 2 ]; [[ $output == *"invalid --backend"* ]]
  run lb conns extra;                    [ "$status" -eq 2 ]
}

@test "dsr: lb conns has no NAT port" {
  up dsr
  hold 3 20 > "$BATS_TEST_TMPDIR/hold.out" &
  PIDS+=($!)
  wait_for_line "$BATS_TEST_TMPDIR/hold.out" open
  json_assert "$(lb conns --json)" '.mode == "dsr" and .tracked == 3 and ([.flows[].nat_port] | all(. == null))'
}

@test "lb show --rate: packets and bits per second per VIP and backend; lb zero zeroes, flows stay" {
  up nat
  requests 8 > "$BATS_TEST_TMPDIR/n" &
  PIDS+=($!)
  sleep 2
  run lb show --rate --interval 2 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "rate" and .interval >= 1.9 and .interval < 4'
  json_assert "$output" '.vips[0].vip == "198.18.0.100:80/tcp" and .vips[0].pps > 20 and .vips[0].bps > 8 * 40 * .vips[0].pps and .vips[0].new_flows_per_s > 2'
  # the backends' rates add up to the VIP's (read a few microseconds apart: 10%)
  json_assert "$output" '(([.vips[0].backends[].pps] | add) - .vips[0].pps | fabs) <= .vips[0].pps / 10'
  json_assert "$output" '[.vips[0].backends[].pps] | all(. > 0)'
  run lb show --rate --interval 1
  [ "$status" -eq 0 ]
  [[ $output == *"pkt/s"* && $output == *"bit/s"* ]]
  run lb show --rate --watch; [ "$status" -eq 2 ]
  wait "${PIDS[-1]}"
  flows=$(lb show --json | jq .conntrack.flows)
  json_assert "$(lb show --json)" '.vips[0].packets > 0 and .counters.tx_backend > 0'
  run lb zero --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "zeroed" and .interface == "eth0"'
  show=$(lb show --json)
  json_assert "$show" '.vips[0].packets == 0 and .vips[0].bytes == 0 and .vips[0].new_flows == 0'
  json_assert "$show" '[.vips[0].backends[] | .packets + .bytes + .new_flows] == [0, 0]'
  json_assert "$show" '.counters.tx_backend == 0 and .counters.nat_reply == 0 and .counters.conntrack_miss == 0 and .tx_dropped == 0'
  json_assert "$show" ".conntrack.flows == $flows and [.vips[0].backends[].weight] == [1, 1]"
  run lb zero extra; [ "$status" -eq 2 ]
}
