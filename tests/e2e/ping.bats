#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab ping end to end in a throwaway lab: real ping (IPv4 and IPv6) from the client to
# backend-a, watched exactly, dropped (100% loss), answered by XDP and by TC while the
# backend's own kernel ignores echo; after exit ping works again and nothing is left.
load helpers

setup() {
  require_bpf
  LAB=$(unique_lab)
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  OUTF="$BATS_TEST_TMPDIR/ping.json"
  PIDS=()
}

teardown() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

bg() { # runs a bpflab command in the background, remembering its pid
  "$@" &
  PIDS+=($!)
}

ping_a() { # family count: real ping from client to backend-a; prints ping's statistics
  local to=198.18.0.11
  [ "$1" = 6 ] && to=2001:db8:18::b
  lab_exec "$LAB" client ping -"$1" -c "$2" -i 0.1 -W 1 "$to"
}

echo_ignore() { # 1 or 0: the backend's kernel ignores echo requests, v4 and v6
  lab_exec "$LAB" backend-a sysctl -qw net.ipv4.icmp_echo_ignore_all="$1" \
    net.ipv6.icmp.echo_ignore_all="$1"
}

xdp_on() { ip -n "$LAB-$1" -d link show dev "$2" | grep -oE 'xdp(generic|drv)? id [0-9]+|prog/xdp id [0-9]+' || true; }
# A tcx link is bpftool 7.1's "type 11"; it holds ping_tc: present while either exists.
tcx_on() { bpftool prog show -j 2>/dev/null | jq -r '.[] | select(.name == "ping_tc") | .id' | while read -r id; do bpftool link show | grep -E "type 11 +prog $id\b" || true; done; }

@test "watch on a veth (native XDP) sees exactly the v4 and v6 requests sent" {
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --duration 4 --json > "$OUTF"
  wait_for_line "$OUTF"
  run ping_a 4 5
  [ "$status" -eq 0 ]
  run ping_a 6 4
  [ "$status" -eq 0 ]
  wait
  json_assert "$(head -1 "$OUTF")" '.type == "attached" and .mode == "native" and .hook == "xdp" and .attach == null and .action == "pass"'
  grep '"type":"echo"' "$OUTF" | jq -se '
    ([.[] | select(.family == 4)] | length == 5 and ([.[].seq] == [1,2,3,4,5]) and
      all(.src == "198.18.0.1" and .dst == "198.18.0.11" and .size == 56 and .action == "pass" and .ttl == 64)) and
    ([.[] | select(.family == 6)] | length == 4 and ([.[].seq] == [1,2,3,4]) and
      all(.src == "2001:db8:18::1" and .dst == "2001:db8:18::b" and .action == "pass"))'
  summary=$(grep '"type":"summary"' "$OUTF")
  json_assert "$summary" '.echo_v4 == 5 and .echo_v6 == 4 and .passed == 9 and .replied == 0 and .dropped == 0 and .events == 9 and .events_lost == 0 and .malformed == 0'
  json_assert "$summary" '.sources == [{"addr":"198.18.0.1","requests":5},{"addr":"2001:db8:18::1","requests":4}]'
  [ -z "$(xdp_on backend-a eth0)" ]
}

@test "--drop: 100% loss, and the drop counter equals the requests sent; ping works after" {
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --drop --duration 4 --json > "$OUTF"
  wait_for_line "$OUTF"
  run ping_a 4 5
  [ "$status" -ne 0 ]
  [[ $output == *"5 packets transmitted, 0 received, 100% packet loss"* ]]
  run ping_a 6 3
  [ "$status" -ne 0 ]
  [[ $output == *"3 packets transmitted, 0 received, 100% packet loss"* ]]
  wait
  summary=$(grep '"type":"summary"' "$OUTF")
  json_assert "$summary" '.action == "drop" and .dropped == 8 and .echo_v4 == 5 and .echo_v6 == 3 and .passed == 0'
  [ "$(grep '"type":"echo"' "$OUTF" | grep -c '"action":"drop"')" -eq 8 ]
  run ping_a 4 2
  [ "$status" -eq 0 ]
  run ping_a 6 2
  [ "$status" -eq 0 ]
}

@test "--reply with XDP_TX: 0% loss while the backend's kernel ignores echo (v4 and v6)" {
  # XDP_TX into a veth needs the peer's NAPI: an XDP program on the switch port does it.
  bg "$BPFLAB" --netns "$LAB-sw" count p-backend-a --duration 6 --interval 0 --json > "$BATS_TEST_TMPDIR/peer.json"
  wait_for_line "$BATS_TEST_TMPDIR/peer.json"
  echo_ignore 1
  run ping_a 4 2
  [[ $output == *"100% packet loss"* ]]   # proof that the kernel really ignores echo
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --duration 3 --json > "$OUTF"
  wait_for_line "$OUTF"
  run ping_a 4 5
  [ "$status" -eq 0 ]
  [[ $output == *"5 packets transmitted, 5 received, 0% packet loss"* ]]
  run ping_a 6 4
  [ "$status" -eq 0 ]
  [[ $output == *"4 packets transmitted, 4 received, 0% packet loss"* ]]
  wait "${PIDS[1]}"
  json_assert "$(head -1 "$OUTF")" '.hook == "xdp" and .mode == "native" and .action == "reply" and (.reason | test("has a native XDP program"))'
  summary=$(grep '"type":"summary"' "$OUTF")
  json_assert "$summary" '.replied == 9 and .answered == 9 and .tx_dropped == 0 and .echo_v4 == 5 and .echo_v6 == 4 and .refused == 0 and .passed == 0'
  # after exit: the kernel still ignores echo, so nothing answers ...
  run ping_a 4 1
  [ "$status" -ne 0 ]
  # ... until it is told to answer again
  echo_ignore 0
  run ping_a 4 2
  [ "$status" -eq 0 ]
  run ping_a 6 2
  [ "$status" -eq 0 ]
  [ -z "$(xdp_on backend-a eth0)" ]
}

@test "--reply, hook auto, peer without XDP: picks tc, says why, and the client gets 0% loss" {
  # The lab's switch ports run no XDP program: XDP_TX into backend-a's eth0 would be dropped.
  echo_ignore 1
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --duration 3 --json > "$OUTF"
  wait_for_line "$OUTF"
  run ping_a 4 5
  [[ $output == *"5 packets transmitted, 5 received, 0% packet loss"* ]]
  run ping_a 6 3
  [[ $output == *"3 packets transmitted, 3 received, 0% packet loss"* ]]
  wait
  json_assert "$(head -1 "$OUTF")" '.hook == "tc" and .attach == "tcx" and .mode == null and .program == "ping_tc" and (.reason | test("has no native XDP program"))'
  json_assert "$(grep '"type":"summary"' "$OUTF")" '.replied == 8 and .answered == 8 and .echo_v4 == 5 and .echo_v6 == 3'
  # the text form says the same
  run "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --duration 0.2
  [ "$status" -eq 0 ]
  [[ $output == *"hook tc (auto): the peer of veth eth0 (ifindex "*"has no native XDP program"* ]]
  [[ $output == *"via tc (tcx link)"* ]]
  echo_ignore 0
}

@test "--reply --hook xdp forced on a veth whose peer has no XDP: 0 answered, every reply counted as dropped by the driver, exit 1" {
  echo_ignore 1
  "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --hook xdp --duration 3 --json > "$OUTF" 2> "$BATS_TEST_TMPDIR/err" &
  PIDS+=($!)
  wait_for_line "$OUTF"
  run ping_a 4 5
  [[ $output == *"5 packets transmitted, 0 received, 100% packet loss"* ]]
  run ping_a 6 2
  [[ $output == *"2 packets transmitted, 0 received, 100% packet loss"* ]]
  rc=0; wait "${PIDS[0]}" || rc=$?
  echo_ignore 0
  [ "$rc" -eq 1 ]
  json_assert "$(head -1 "$OUTF")" '.hook == "xdp" and .mode == "native" and .reason == null'
  json_assert "$(grep '"type":"summary"' "$OUTF")" '.replied == 7 and .answered == 0 and .tx_dropped == 7'
  grep -q "has no native XDP program" "$BATS_TEST_TMPDIR/err"
  grep -q "7 replies were dropped by the driver of eth0" "$BATS_TEST_TMPDIR/err"
  # the error record carries the error; the warning said at start is only a detail
  json_assert "$(tail -1 "$OUTF")" '.type == "error" and .exit_code == 1 and
    (.message | test("replies (went into veth|were dropped by the driver)")) and
    (.details | any(test("^warning: .*no native XDP program")))'
  [ -z "$(xdp_on backend-a eth0)" ]
}

@test "a deleted interface is noticed within a second: exit 1 naming it" {
  ip -n "$LAB-backend-a" link add fgone0 type veth peer name fgone1
  ip -n "$LAB-backend-a" link set fgone0 up
  timeout 10 "$BPFLAB" --netns "$LAB-backend-a" ping fgone0 --json > "$OUTF" 2> "$BATS_TEST_TMPDIR/err" &
  pid=$!
  PIDS+=($pid)
  wait_for_line "$OUTF"
  ip -n "$LAB-backend-a" link del fgone0
  t0=$(date +%s%N)
  rc=0; wait "$pid" || rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "rc=$rc after ${ms} ms: $(cat "$BATS_TEST_TMPDIR/err")"
  [ "$rc" -eq 1 ]
  [ "$ms" -lt 1000 ]
  grep -q "interface fgone0 (ifindex [0-9]*) is gone" "$BATS_TEST_TMPDIR/err"
  grep -q '"type":"summary"' "$OUTF"
}

@test "--reply --hook tc (tcx link, redirect out of the same veth): 0% loss with echo ignored" {
  echo_ignore 1
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --hook tc --duration 3 --json > "$OUTF"
  wait_for_line "$OUTF"
  run ping_a 4 4
  [[ $output == *"4 packets transmitted, 4 received, 0% packet loss"* ]]
  run ping_a 6 3
  [[ $output == *"3 packets transmitted, 3 received, 0% packet loss"* ]]
  wait
  json_assert "$(head -1 "$OUTF")" '.hook == "tc" and .attach == "tcx" and .mode == null and .program == "ping_tc"'
  json_assert "$(grep '"type":"summary"' "$OUTF")" '.replied == 7 and .echo_v4 == 4 and .echo_v6 == 3'
  run ping_a 4 1
  [ "$status" -ne 0 ]
  echo_ignore 0
  run ping_a 4 1
  [ "$status" -eq 0 ]
}

@test "--reply on lo (generic XDP): the talk's ping 127.0.0.1 and ::1 answered by the program" {
  lab_exec "$LAB" client sysctl -qw net.ipv4.icmp_echo_ignore_all=1 net.ipv6.icmp.echo_ignore_all=1
  bg "$BPFLAB" --netns "$LAB-client" ping --reply --duration 3 --json > "$OUTF"
  wait_for_line "$OUTF"
  run lab_exec "$LAB" client ping -c 3 -i 0.1 -W 1 127.0.0.1
  [[ $output == *"3 packets transmitted, 3 received, 0% packet loss"* ]]
  run lab_exec "$LAB" client ping -6 -c 3 -i 0.1 -W 1 ::1
  [[ $output == *"3 packets transmitted, 3 received, 0% packet loss"* ]]
  wait
  json_assert "$(head -1 "$OUTF")" '.interface == "lo" and .mode == "generic"'
  json_assert "$(grep '"type":"summary"' "$OUTF")" '.replied == 6 and .refused == 0'
  run lab_exec "$LAB" client ping -c 1 -W 1 127.0.0.1
  [ "$status" -ne 0 ]
}

@test "kill -9 leaves nothing attached: XDP link and tcx link" {
  bg "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --json > "$OUTF"
  wait_for_line "$OUTF"
  bg "$BPFLAB" --netns "$LAB-backend-b" ping eth0 --hook tc --reply --json > "$BATS_TEST_TMPDIR/tc.json"
  wait_for_line "$BATS_TEST_TMPDIR/tc.json"
  [ -n "$(xdp_on backend-a eth0)" ]
  [ -n "$(tcx_on backend-b eth0)" ]
  kill -9 "${PIDS[@]}"
  wait || true
  for i in $(seq 1 50); do [ -z "$(xdp_on backend-a eth0)$(tcx_on backend-b eth0)" ] && break; sleep 0.1; done
  [ -z "$(xdp_on backend-a eth0)" ]
  [ -z "$(tcx_on backend-b eth0)" ]
  run ip -n "$LAB-backend-b" -d qdisc show dev eth0
  [[ $output != *clsact* ]]
  run ping_a 4 1
  [ "$status" -eq 0 ]
}

@test "bad arguments: clear error, exit 2, nothing attached" {
  run "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --drop --reply --duration 0
  [ "$status" -eq 2 ]
  [[ $output == *"--drop and --reply exclude each other"* ]]
  run "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --hook tcp --duration 0
  [ "$status" -eq 2 ]
  [[ $output == *"invalid --hook 'tcp'"* ]]
  run "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --hook tc --mode native --duration 0
  [ "$status" -eq 2 ]
  run "$BPFLAB" --netns "$LAB-backend-a" ping nosuch0 --duration 0
  [ "$status" -eq 2 ]
  [[ $output == *"no interface 'nosuch0'"* ]]
  run "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --duration x
  [ "$status" -eq 2 ]
  [ -z "$(xdp_on backend-a eth0)" ]
}
