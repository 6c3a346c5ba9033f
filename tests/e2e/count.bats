#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab count end to end in a throwaway lab: exact counts from real traffic, pinning,
# refusal to stack on another program, and nothing left after kill -9.
load helpers

setup() {
  require_bpf
  LAB=$(unique_lab)
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  OUTF="$BATS_TEST_TMPDIR/count.json"
}

teardown() {
  pkill -9 -f "bpflab.*--netns $LAB-" 2>/dev/null || true
  for ns in client backend-a; do
    "$BPFLAB" --netns "$LAB-$ns" count lo --detach >/dev/null 2>&1 || true
  done
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

xdp_on() { # node iface: prints the XDP prog id attached, or nothing
  ip -n "$LAB-$1" -d link show dev "$2" | grep -oE 'prog/xdp id [0-9]+|xdp(generic)? id [0-9]+' || true
}

@test "count on a namespace's lo sees exactly the pings sent (generic XDP)" {
  "$BPFLAB" --netns "$LAB-client" count lo --duration 4 --interval 0 --json > "$OUTF" &
  wait_for_line "$OUTF"
  lab_exec "$LAB" client ping -c 7 -i 0.05 -W 1 -q 127.0.0.1
  wait
  summary=$(grep '"type":"summary"' "$OUTF")
  json_assert "$summary" '.mode == "generic" and .interface == "lo"'
  # lo carries each echo request and its reply.
  json_assert "$summary" '.packets.icmp == 14 and .packets.ipv4 == 14 and .counter == 14'
  json_assert "$summary" '.actions.pass == 14 and .actions.drop == 0 and .bytes.icmp == 14 * 98'
  [ -z "$(xdp_on client lo)" ]
}

@test "count on a veth runs native and counts exactly the requests that arrive" {
  "$BPFLAB" --netns "$LAB-backend-a" count eth0 --duration 4 --interval 0.5 --json > "$OUTF" &
  wait_for_line "$OUTF"
  lab_exec "$LAB" client ping -c 9 -i 0.05 -W 1 -q 198.18.0.11
  wait
  json_assert "$(head -1 "$OUTF")" '.type == "attached" and .mode == "native"'
  summary=$(grep '"type":"summary"' "$OUTF")
  json_assert "$summary" '.packets.icmp == 9 and .packets.malformed == 0'
  # interval records are valid JSON Lines and counters never go down
  grep '"type":"interval"' "$OUTF" | jq -se 'length >= 2 and ([.[].counter] | . == sort)'
}

@test "--drop: the talk's experiment, 100% loss and every drop counted" {
  "$BPFLAB" --netns "$LAB-backend-a" count eth0 --drop --duration 4 --interval 0 --json > "$OUTF" &
  wait_for_line "$OUTF"
  run lab_exec "$LAB" client ping -c 5 -i 0.05 -W 1 198.18.0.11
  [ "$status" -ne 0 ]
  [[ $output == *"100% packet loss"* ]]
  wait
  summary=$(grep '"type":"summary"' "$OUTF")
  # the client also resolves backend-a's MAC first: ARP is dropped too, so it retries
  json_assert "$summary" '.actions.pass == 0 and .actions.drop == .counter and .counter >= 1'
  run lab_exec "$LAB" client ping -c 1 -W 2 198.18.0.11
  [ "$status" -eq 0 ]
}

@test "kill -9 leaves nothing attached" {
  "$BPFLAB" --netns "$LAB-backend-a" count eth0 --json > "$OUTF" &
  pid=$!
  wait_for_line "$OUTF"
  [ -n "$(xdp_on backend-a eth0)" ]
  kill -9 "$pid"
  wait "$pid" || true
  for i in $(seq 1 50); do [ -z "$(xdp_on backend-a eth0)" ] && break; sleep 0.1; done
  [ -z "$(xdp_on backend-a eth0)" ]
  run "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" 'all(.nodes[]; (.programs | length) == 0)'
}

@test "attaching over another program is refused, naming it; nothing changes" {
  "$BPFLAB" --netns "$LAB-client" count lo --duration 5 --interval 0 --json > "$OUTF" &
  wait_for_line "$OUTF"
  before=$(xdp_on client lo)
  run "$BPFLAB" --netns "$LAB-client" count lo --duration 0
  [ "$status" -eq 1 ]
  [[ $output == *"already has an XDP program"*"count_xdp"* ]]
  [ "$(xdp_on client lo)" = "$before" ]
  kill %1; wait || true
}

@test "--pin keeps it attached after exit; a second run reads it; --detach removes all" {
  run "$BPFLAB" --netns "$LAB-client" count lo --pin --duration 0 --json
  [ "$status" -eq 0 ]
  json_assert "${lines[0]}" '.type == "attached" and (.pin_dir | endswith("lo@'"$LAB"'-client"))'
  dir=/sys/fs/bpf/bpflab/count/lo@$LAB-client
  [ -e "$dir/link" ] && [ -e "$dir/stats" ] && [ -e "$dir/bss" ]
  [ -n "$(xdp_on client lo)" ]
  lab_exec "$LAB" client ping -c 3 -i 0.05 -q 127.0.0.1
  run "$BPFLAB" --netns "$LAB-client" count lo --duration 0 --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "summary" and .pinned == true and .packets.icmp == 6'
  run "$BPFLAB" --netns "$LAB-client" count lo --detach
  [ "$status" -eq 0 ]
  [ ! -e "$dir" ]
  # no empty folders left behind under the bpflab root either
  [ -z "$(find /sys/fs/bpf/bpflab -type d -empty 2>/dev/null)" ]
  [ -z "$(xdp_on client lo)" ]
  run "$BPFLAB" --netns "$LAB-client" count lo --detach
  [ "$status" -eq 1 ]
  [[ $output == *"no pinned count program"* ]]
}

@test "a pin folder left by a killed run is cleaned up by the next --pin" {
  mkdir -p /sys/fs/bpf/bpflab/count
  stale=/sys/fs/bpf/bpflab/count/lo@$LAB-client_tmp_999999999
  mkdir "$stale"
  run "$BPFLAB" --netns "$LAB-client" count lo --pin --duration 0
  [ "$status" -eq 0 ]
  [ ! -e "$stale" ]
  run "$BPFLAB" --netns "$LAB-client" count lo --detach
  [ "$status" -eq 0 ]
}

@test "a deleted interface is noticed within a second: exit 1 naming it, summary printed" {
  ip -n "$LAB-backend-a" link add fgone0 type veth peer name fgone1
  ip -n "$LAB-backend-a" link set fgone0 up
  # no --duration, no interval lines: before the fix this ran forever (timeout bounds it)
  timeout 10 "$BPFLAB" --netns "$LAB-backend-a" count fgone0 --interval 0 --json > "$OUTF" 2> "$BATS_TEST_TMPDIR/err" &
  pid=$!
  wait_for_line "$OUTF"
  ip -n "$LAB-backend-a" link del fgone0
  t0=$(date +%s%N)
  rc=0; wait "$pid" || rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "rc=$rc after ${ms} ms: $(cat "$BATS_TEST_TMPDIR/err")"
  [ "$rc" -eq 1 ]
  [ "$ms" -lt 1000 ]
  grep -q "interface fgone0 (ifindex [0-9]*) is gone" "$BATS_TEST_TMPDIR/err"
  json_assert "$(grep '"type":"summary"' "$OUTF")" '.interface == "fgone0"'
}

@test "unknown interface: clear error, exit 2" {
  run "$BPFLAB" --netns "$LAB-client" count nosuch0 --duration 0
  [ "$status" -eq 2 ]
  [[ $output == *"no interface 'nosuch0' in network namespace '$LAB-client'"* ]]
}
