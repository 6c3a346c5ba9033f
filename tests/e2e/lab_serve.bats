#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lab up --serve: a real HTTP server on every backend, answering with its name on
# its own addresses (v4, v6) and, in dsr mode, on the VIP; stopped by down, also after a
# kill -9 of up and after an up whose server could not start.
load helpers

setup() {
  require_bpf
  LAB=$(unique_lab)
}

teardown() {
  [ -z "${BLOCKER:-}" ] || kill "$BLOCKER" 2>/dev/null || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

servers() { pgrep -fc "bpflab-lab-serve $LAB " || true; }
http() { lab_exec "$LAB" client curl -sS -m 3 "$@"; }

@test "lab up --serve: each backend answers with its name over HTTP (v4, v6, any path)" {
  run "$BPFLAB" lab up --name "$LAB" --serve
  [ "$status" -eq 0 ]
  [ "$(servers)" -eq 2 ]
  run http http://198.18.0.11/
  [ "$status" -eq 0 ] && [ "$output" = "backend-a" ]
  run http http://198.18.0.12/some/path
  [ "$status" -eq 0 ] && [ "$output" = "backend-b" ]
  run http 'http://[2001:db8:18::c]/'
  [ "$status" -eq 0 ] && [ "$output" = "backend-b" ]
  run "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" '[.nodes[] | .server != null] == [false, false, true, true]'
  json_assert "$output" '.nodes[2].server.protocol == "http" and .nodes[2].server.port == 80 and .nodes[2].server.pid > 0'
  pid=$(printf '%s' "$output" | jq '.nodes[2].server.pid')
  [ "$(cat "/run/bpflab/lab/$LAB/backend-a.pid")" -eq "$pid" ]
  run "$BPFLAB" lab status --name "$LAB"
  [[ $output == *"http servers (lab up --serve): backend-a :80 (pid $pid), backend-b :80"* ]]
  # idempotent: a second up keeps the running servers
  run "$BPFLAB" lab up --name "$LAB" --serve
  [ "$status" -eq 0 ] && [ "$(servers)" -eq 2 ]
  run "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" ".nodes[2].server.pid == $pid"
  run "$BPFLAB" lab down --name "$LAB" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "lab_down" and .stopped_servers == 2 and .removed_namespaces == 5'
  [ "$(servers)" -eq 0 ]
  [ ! -e "/run/bpflab/lab/$LAB" ]
}

@test "lab up --serve keeps up with wrk (keep-alive, no stall)" {
  command -v wrk >/dev/null || { [ -z "${CI:-}" ] || { echo "wrk missing (make deps)"; return 1; }; skip "no wrk"; }
  "$BPFLAB" lab up --name "$LAB" --serve
  run lab_exec "$LAB" client wrk -t1 -c4 -d1s http://198.18.0.11/
  [ "$status" -eq 0 ]
  # A Nagle/delayed-ACK stall caps it at ~25 requests/s per connection.
  reqs=$(printf '%s\n' "$output" | awk '/requests in/ {print $1}')
  echo "wrk: $reqs requests in 1 s"
  [ "$reqs" -gt 500 ]
}

@test "lab up --lb dsr --serve: the backends answer on the VIP they hold" {
  "$BPFLAB" lab up --name "$LAB" --lb dsr --serve
  run lab_exec "$LAB" backend-a curl -sS -m 3 http://198.18.0.100/
  [ "$status" -eq 0 ] && [ "$output" = "backend-a" ]
}

@test "lab down stops servers a kill -9 of lab up left, and nothing stays" {
  for d in 0.1 0.4 0.8; do
    "$BPFLAB" lab up --name "$LAB" --serve >/dev/null 2>&1 &
    p=$!
    sleep "$d"
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    sleep 0.3 # a forked server may still be starting
    run "$BPFLAB" lab down --name "$LAB"
    [ "$status" -eq 0 ]
    [ "$(servers)" -eq 0 ]
    [ "$(ip netns list | grep -c "^$LAB-")" -eq 0 ]
    [ ! -e "/run/bpflab/lab/$LAB" ]
  done
}

@test "lab up --serve with port 80 taken: exit 1 naming the cause, no server left" {
  "$BPFLAB" lab up --name "$LAB"
  ip netns exec "$LAB-backend-b" timeout 20 python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(); time.sleep(20)' &
  BLOCKER=$!
  for _ in $(seq 1 50); do ip netns exec "$LAB-backend-b" ss -Hltn 'sport = :80' | grep -q . && break; sleep 0.1; done
  run "$BPFLAB" lab up --name "$LAB" --serve
  [ "$status" -eq 1 ]
  [[ $output == *"HTTP server on backend-b exited"* ]]
  [[ $output == *"Address already in use"* ]]
  [ "$(servers)" -eq 0 ]
  [ ! -e "/run/bpflab/lab/$LAB" ]
}
