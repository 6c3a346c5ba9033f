#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lb health in throwaway labs with real HTTP servers (lab up --serve): a backend
# whose server stops while clients stream to all is drained within interval x fall and
# restored after rise, with no connection to the others broken; in dsr the check goes
# through the VIP (a backend without the VIP fails although its own address answers); a
# backend that answers garbage or never answers is a failed check, not a hang; bad check
# lines change nothing; a checker killed with -9 leaves a state the next one takes over.
# In the L3 lab (lab up --lb ipip|gue) the check of an encap VIP goes through the VIP in
# the VIP's tunnel, decapsulated by the backend's `lb decap` like clients' packets.
load helpers
bats_require_minimum_version 1.5.0

VIP=198.18.0.100:80/tcp

setup() {
  require_bpf
  LAB=$(unique_lab)
  PIDS=()
  CONF="$BATS_TEST_TMPDIR/lb.conf"
  EV="$BATS_TEST_TMPDIR/events.jsonl"
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
}

lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@"; }

# conf CHECK-WORDS...: three backends and one check line
conf() {
  {
    echo "vip $VIP"
    for h in 11 12 13; do echo "backend $VIP 198.18.0.$h"; done
    echo "check $VIP $*"
  } > "$CONF"
}

# health_bg [N]: starts the checker in the background, JSON Lines into $EV, and waits
# until N (default 3) backends are up
health_bg() {
  "$BPFLAB" --netns "$LAB-lb" lb health --json --duration 60 > "$EV" 2>"$BATS_TEST_TMPDIR/health.err" &
  HPID=$!
  PIDS+=($HPID)
  wait_up "${1:-3}"
}

# kill_server NODE: stops the lab's HTTP server on NODE and waits until it is gone
kill_server() {
  local pid i
  pid=$(server_pid "$1")
  kill "$pid"
  # gone, or a zombie nobody reaps yet: either way its socket is closed
  for i in $(seq 50); do
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# wait_up N: until N backends of the VIP are up in lb show (10 s at most)
# wait_checked N: N backends up with a passed check behind them (not just the state a
# checker starts with), so a drain that follows is the test's doing, not a start-up one.
wait_checked() {
  local i
  for i in $(seq 100); do
    [ "$(lb show --json | jq '[.vips[0].backends[] | select(.health.state == "up" and .weight > 0 and .health.last == "ok")] | length')" -eq "$1" ] && return 0
    sleep 0.1
  done
  lb show >&2; cat "$EV" >&2
  return 1
}

# drain_after LINES BACKEND: waits (bounded) for a drain of BACKEND logged after line LINES.
drain_after() {
  local i
  for i in $(seq 100); do
    tail -n "+$(($1 + 1))" "$EV" | grep -q "\"event\":\"drain\".*\"backend\":\"$2\"" && return 0
    sleep 0.1
  done
  return 1
}

wait_up() {
  local i
  for i in $(seq 100); do
    [ "$(lb show --json | jq '[.vips[0].backends[] | select(.health.state == "up" and .weight > 0)] | length')" -eq "$1" ] && return 0
    sleep 0.1
  done
  lb show >&2; cat "$EV" >&2
  return 1
}

# conf3 ENCAP CHECK-WORDS...: the L3 lab's VIP, encapsulated, its three backends, a check
conf3() {
  local encap=$1; shift
  {
    echo "vip $VIP encap $encap"
    for h in 11 12 13; do echo "backend $VIP 198.18.$h.$h"; done
    echo "check $VIP $*"
  } > "$CONF"
}

# decapsulated packets of the VIP on NODE's lb decap (SIGUSR1 appends its counters)
decap_vip_packets() {
  local log="/run/bpflab/lab/$LAB/decap-$1.log" pid n
  pid=$(cat "/run/bpflab/lab/$LAB/decap-$1.pid")
  n=$(grep -c '"type":"decap"' "$log" || true)
  kill -USR1 "$pid"
  for _ in $(seq 100); do
    [ "$(grep -c '"type":"decap"' "$log" || true)" -gt "$n" ] && break
    sleep 0.05
  done
  grep '"type":"decap"' "$log" | tail -1 | jq '.vips[] | select(.vip == "198.18.0.100") | .packets'
}

server_pid() { "$BPFLAB" lab status --name "$LAB" --json | jq ".nodes[] | select(.node == \"$1\") | .server.pid"; }

now_ms() { date +%s%3N; }

# Keep-alive HTTP clients: N connections through the VIP, a GET on each every 50 ms for
# SECONDS; prints one JSON object per connection: its backend, requests, error.
http_streams() {
  cat > "$BATS_TEST_TMPDIR/streams.py" <<'EOF'
import http.client, json, sys, threading, time
n, secs = int(sys.argv[1]), float(sys.argv[2])
out = [None] * n
def run(i):
    end, name, reqs, err = time.monotonic() + secs, None, 0, None
    try:
        c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2)
        while time.monotonic() < end:
            c.request("GET", "/")
            r = c.getresponse()
            body = r.read().decode().strip()
            if name is None:
                name = body
            elif body != name:
                err = "moved from %s to %s" % (name, body)
                break
            reqs += 1
            time.sleep(0.05)
    except Exception as e:
        err = type(e).__name__ + ": " + str(e)
    out[i] = {"backend": name, "requests": reqs, "error": err}
ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
for t in ts:
    t.start(); time.sleep(0.02)
for t in ts:
    t.join()
print(json.dumps(out))
EOF
  lab_exec "$LAB" client timeout 60 python3 "$BATS_TEST_TMPDIR/streams.py" "$@"
}

@test "nat, http: a stopped server is drained within interval x fall, no other flow breaks, back after rise" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb nat --serve >/dev/null
  conf http / status 200 interval 0.3 timeout 0.2 fall 3 rise 2
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  health_bg
  http_streams 24 9 > "$BATS_TEST_TMPDIR/streams.json" &
  SPID=$!
  PIDS+=($SPID)
  sleep 2.5
  killed=$(now_ms)
  kill "$(server_pid backend-b)"
  # drained: interval 0.3 s x fall 3 = 0.9 s; allow 2.5 s more on a busy machine
  for _ in $(seq 60); do
    grep -q '"event":"drain".*"backend":"198.18.0.12:80"' "$EV" && break
    sleep 0.1
  done
  drain=$(grep '"event":"drain"' "$EV" | jq -s '.[0]')
  json_assert "$drain" '.backend == "198.18.0.12:80" and .detail == "weight 1 -> 0 (existing flows kept)"'
  took=$(( $(printf '%s' "$drain" | jq .time_ms) - killed ))
  echo "# drained ${took} ms after the server stopped (interval x fall = 900 ms)" >&3
  [ "$took" -ge 500 ] && [ "$took" -le 3400 ]
  show=$(lb show --json)
  json_assert "$show" '.vips[0].backends[1] | .weight == 0 and .health.state == "down" and .health.drained and .health.restore_weight == 1 and .slots == 0'
  json_assert "$show" '.vips[0].health | .state == "up" and .healthy == 2 and .need == 1 and .checker_running'
  wait "$SPID"
  out=$(cat "$BATS_TEST_TMPDIR/streams.json")
  # every connection on a and c streamed to the end; only b's broke
  json_assert "$out" 'length == 24 and ([.[] | select(.backend != "backend-b" and .error != null)] | length) == 0'
  json_assert "$out" '([.[] | select(.backend == "backend-a")] | length) > 0 and ([.[] | select(.backend == "backend-c")] | length) > 0'
  json_assert "$out" '[.[] | select(.backend != "backend-b") | .requests] | min > 50'
  # new connections now never reach b
  out=$(lab_exec "$LAB" client timeout 20 python3 -c '
import http.client, json
names = {}
for _ in range(60):
    c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2); c.request("GET", "/")
    n = c.getresponse().read().decode().strip(); names[n] = names.get(n, 0) + 1; c.close()
print(json.dumps(names))')
  json_assert "$out" '.["backend-b"] == null and ([.[]] | add) == 60'
  # back: the server again, then rise 2 good checks
  back=$(now_ms)
  "$BPFLAB" lab up --name "$LAB" --serve >/dev/null
  wait_up 3
  restore=$(grep '"event":"restore"' "$EV" | jq -s '.[0]')
  json_assert "$restore" '.backend == "198.18.0.12:80" and .detail == "weight 0 -> 1"'
  [ "$(printf '%s' "$restore" | jq .time_ms)" -gt "$back" ]
  json_assert "$(lb show --json)" '[.vips[0].backends[].weight] == [1,1,1]'
  # the checker is still there, and the JSON Lines are what docs/json.md says
  kill -0 "$HPID"
  python3 "$BATS_TEST_DIRNAME/json_schema.py" "$BATS_TEST_DIRNAME/../../docs/json.md" lb "$EV" >/dev/null
  json_assert "$(grep '"event":"check"' "$EV" | head -1)" '.result == "ok" and .rtt_ms > 0'
}

@test "dsr, tcp: the check goes through the VIP: a backend without the VIP fails although its address answers" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr --serve >/dev/null
  conf tcp interval 0.25 timeout 0.2 fall 2 rise 2
  lb start eth0 --mode dsr --config "$CONF" >/dev/null
  health_bg
  # backend-c's server still listens on its own address; only the VIP goes
  lab_exec "$LAB" backend-c ip addr del 198.18.0.100/32 dev lo
  lab_exec "$LAB" lb timeout 5 python3 -c 'import socket; socket.create_connection(("198.18.0.13", 80), 2)'
  for _ in $(seq 50); do
    grep -q '"event":"drain".*"backend":"198.18.0.13:80"' "$EV" && break
    sleep 0.1
  done
  json_assert "$(lb show --json)" '.vips[0].backends[2] | .weight == 0 and .health.state == "down" and (.health.last | startswith("timeout"))'
  json_assert "$(lb show --json)" '[.vips[0].backends[0,1].weight] == [1,1]'
  lab_exec "$LAB" backend-c ip addr add 198.18.0.100/32 dev lo
  wait_up 3
  # what the checker steered went nowhere else: clients still get all three
  out=$(lab_exec "$LAB" client timeout 20 python3 -c '
import http.client, json
names = {}
for _ in range(90):
    c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2); c.request("GET", "/")
    n = c.getresponse().read().decode().strip(); names[n] = names.get(n, 0) + 1; c.close()
print(json.dumps(names))')
  json_assert "$out" '.["backend-a"] > 0 and .["backend-b"] > 0 and .["backend-c"] > 0'
  # the steering programs are on lb's eth0 while the checker runs, and go with it
  json_assert "$("$BPFLAB" lab status --name "$LAB" --json)" '[.nodes[] | select(.node == "lb") | .programs[] | tostring | select(test("lb_steer"))] | length == 2'
  kill "$HPID"; wait "$HPID" || true
  json_assert "$("$BPFLAB" lab status --name "$LAB" --json)" '[.nodes[] | select(.node == "lb") | .programs[] | tostring | select(test("lb_steer"))] | length == 0'
}

@test "a backend answering garbage or nothing is a failed check, never a hang; need marks the VIP down" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb nat --serve >/dev/null
  conf http /health interval 0.3 timeout 0.25 fall 2 rise 2 need 2
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  health_bg
  # b: accepts and never answers; c: answers bytes that are not HTTP
  kill_server backend-b
  kill_server backend-c
  cat > "$BATS_TEST_TMPDIR/bad.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", 80)); s.listen(64)
keep = []
while True:
    c, _ = s.accept()
    if sys.argv[1] == "silent":
        keep.append(c)
        continue
    try:
        c.recv(100); c.sendall(b"\x00\xffgarbage\r\n\r\n" * 3)
    except OSError:
        pass
    c.close()
EOF
  lab_exec "$LAB" backend-b timeout 30 python3 "$BATS_TEST_TMPDIR/bad.py" silent 2>"$BATS_TEST_TMPDIR/b.err" &
  PIDS+=($!)
  lab_exec "$LAB" backend-c timeout 30 python3 "$BATS_TEST_TMPDIR/bad.py" garbage 2>"$BATS_TEST_TMPDIR/c.err" &
  PIDS+=($!)
  # (refused until the two servers listen, then the failures they make, fall of them each)
  for _ in $(seq 100); do
    lb show --json | jq -e '[.vips[0].backends[1,2].health | [.last, .state]] == [["timeout (no answer)", "down"], ["not an HTTP response", "down"]]' >/dev/null && break
    sleep 0.1
  done
  show=$(lb show --json)
  json_assert "$show" '.vips[0].backends[1] | .weight == 0 and .health.state == "down" and .health.last == "timeout (no answer)"'
  json_assert "$show" '.vips[0].backends[2] | .weight == 0 and .health.state == "down" and .health.last == "not an HTTP response"'
  json_assert "$show" '.vips[0].backends[0] | .weight == 1 and .health.state == "up"'
  json_assert "$show" '.vips[0].health | .state == "down" and .healthy == 1 and .need == 2'
  json_assert "$(grep '"event":"vip_down"' "$EV")" '.detail == "1 of 3 backends healthy, need 2"'
  # still checking at its pace: the one that never answers cost one timeout per check
  n1=$(lb show --json | jq '.vips[0].backends[0].health.checks')
  sleep 1.5
  n2=$(lb show --json | jq '.vips[0].backends[0].health.checks')
  echo "# backend-a checked $((n2 - n1)) times in 1.5 s at interval 0.3 s" >&3
  [ $((n2 - n1)) -ge 3 ] && [ $((n2 - n1)) -le 7 ]
  kill -0 "$HPID"
}

@test "bad check lines: FILE:LINE, exit 2, nothing changed; save writes checks back, dry-run shows a change" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb nat >/dev/null
  conf http /ok interval 1 timeout 0.5 fall 3 rise 2
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  before=$(lb save)
  gen=$(lb show --json | jq .generation)
  for bad in "icmp" "http" "http nopath" "http / status 700" "tcp interval 0.01" "tcp interval 1 timeout 2" \
             "tcp fall 0" "tcp rise" "udp ping" "udp ping reply pong" "tcp need -1" "tcp colour blue"; do
    conf "$bad"
    run lb apply "$CONF"
    [ "$status" -eq 2 ]
    [[ $output == *"$CONF:5: check of $VIP: "* ]]
  done
  run lb apply --dry-run "$CONF"; [ "$status" -eq 2 ]
  [ "$(lb save)" = "$before" ]
  [ "$(lb show --json | jq .generation)" -eq "$gen" ]
  # save | apply: no change; a changed fall is one change in dry-run
  lb save > "$BATS_TEST_TMPDIR/saved.conf"
  grep -qx "check $VIP http /ok status 200 interval 1s timeout 0.5s fall 3 rise 2 need 1" "$BATS_TEST_TMPDIR/saved.conf"
  run lb apply --dry-run "$BATS_TEST_TMPDIR/saved.conf" --json
  json_assert "$output" '.changed == false and .vips_rechecked == 0'
  sed 's/fall 3/fall 5/' "$BATS_TEST_TMPDIR/saved.conf" > "$CONF"
  run lb apply --dry-run "$CONF" --json
  json_assert "$output" '.changed == true and .vips_rechecked == 1 and .changes == [{"change": "vip_check", "vip": "198.18.0.100:80/tcp"}]'
  lb apply "$CONF" >/dev/null
  json_assert "$(lb show --json)" '.vips[0].check == "http /ok status 200 interval 1s timeout 0.5s fall 5 rise 2 need 1"'
  # removing the line removes the check
  grep -v '^check' "$CONF" > "$BATS_TEST_TMPDIR/nocheck.conf"
  lb apply "$BATS_TEST_TMPDIR/nocheck.conf" >/dev/null
  json_assert "$(lb show --json)" '.vips[0].check == null and .vips[0].health == null'
  run lb health --bogus; [ "$status" -eq 2 ]
}

@test "a checker killed with -9 leaves its drain; the next one takes over and restores" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb nat --serve >/dev/null
  conf tcp interval 0.25 timeout 0.2 fall 2 rise 2
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  health_bg
  kill_server backend-a
  for _ in $(seq 50); do grep -q '"event":"drain"' "$EV" && break; sleep 0.1; done
  kill -9 "$HPID"; wait "$HPID" || true
  show=$(lb show --json)
  json_assert "$show" '.vips[0].backends[0] | .weight == 0 and .health.drained and (.health.checker_running | not)'
  lb show | grep -q "checker not running"
  # the next checker takes the drained backend over as down (the server is still gone)
  health_bg 2
  sleep 1
  json_assert "$(lb show --json)" '.vips[0].backends[0] | .weight == 0 and .health.state == "down" and .health.checker_running'
  # a weight set behind its back: health wins, drained again within a sync (1 s)
  lb backend set $VIP 198.18.0.11 --weight 1 >/dev/null
  for _ in $(seq 40); do grep -q '"event":"drain"' "$EV" && break; sleep 0.1; done
  json_assert "$(lb show --json)" '.vips[0].backends[0].weight == 0'
  "$BPFLAB" lab up --name "$LAB" --serve >/dev/null
  wait_up 3
  json_assert "$(grep '"event":"restore"' "$EV")" '.backend == "198.18.0.11:80" and .detail == "weight 0 -> 1"'
  json_assert "$(lb show --json)" '[.vips[0].backends[].weight] == [1,1,1] and ([.vips[0].backends[].health.checker_running] | all)'
}

@test "lab up --lb-config starts lb and, with checks, lb health on lb; lab down stops both" {
  conf tcp interval 0.3
  run "$BPFLAB" lab up --name "$LAB" --backends 3 --lb-config "$CONF"
  [ "$status" -eq 2 ]; [[ $output == *"--lb-config needs --lb nat|dsr|ipip|gue"* ]]
  ! ip netns list | grep -qw "$LAB-lb"
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr --serve --lb-config "$CONF" >/dev/null
  pid=$(cat "/run/bpflab/lab/$LAB/lb-health.pid")
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "lb health --json"
  EV="/run/bpflab/lab/$LAB/lb-health.log"
  wait_up 3
  json_assert "$(lb show --json)" '.mode == "dsr" and (.vips[0].health.checker_running)'
  # idempotent: a second up starts no second checker
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr --serve --lb-config "$CONF" >/dev/null
  [ "$(cat "/run/bpflab/lab/$LAB/lb-health.pid")" -eq "$pid" ]
  "$BPFLAB" lab down --name "$LAB" >/dev/null
  ! kill -0 "$pid" 2>/dev/null
  [ ! -e "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
}

@test "L3 lab, gue: the check goes through the VIP's tunnel; a stopped server is drained, no other flow breaks, back after rise" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb gue --serve >/dev/null
  conf3 gue http / status 200 interval 0.3 timeout 0.2 fall 3 rise 2
  lb start eth0 --mode dsr --config "$CONF" >/dev/null
  a0=$(decap_vip_packets backend-a)
  health_bg
  # the probes reached backend-a in the tunnel: its decap counted them for the VIP
  sleep 1
  a1=$(decap_vip_packets backend-a)
  echo "# backend-a decapsulated $((a1 - a0)) probe packets for the VIP" >&3
  [ $((a1 - a0)) -ge 4 ]
  http_streams 24 9 > "$BATS_TEST_TMPDIR/streams.json" &
  SPID=$!
  PIDS+=($SPID)
  sleep 2.5
  killed=$(now_ms)
  kill "$(server_pid backend-b)"
  for _ in $(seq 60); do
    grep -q '"event":"drain".*"backend":"198.18.12.12:80"' "$EV" && break
    sleep 0.1
  done
  drain=$(grep '"event":"drain"' "$EV" | jq -s '.[0]')
  json_assert "$drain" '.backend == "198.18.12.12:80" and .detail == "weight 1 -> 0 (existing flows kept)"'
  took=$(( $(printf '%s' "$drain" | jq .time_ms) - killed ))
  echo "# drained ${took} ms after the server stopped (interval x fall = 900 ms)" >&3
  [ "$took" -ge 500 ] && [ "$took" -le 3400 ]
  json_assert "$(lb show --json)" '.vips[0].backends[1] | .weight == 0 and .health.state == "down" and .health.drained'
  wait "$SPID"
  out=$(cat "$BATS_TEST_TMPDIR/streams.json")
  json_assert "$out" 'length == 24 and ([.[] | select(.backend != "backend-b" and .error != null)] | length) == 0'
  json_assert "$out" '([.[] | select(.backend == "backend-a")] | length) > 0 and ([.[] | select(.backend == "backend-c")] | length) > 0'
  json_assert "$out" '[.[] | select(.backend != "backend-b") | .requests] | min > 50'
  back=$(now_ms)
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb gue --serve >/dev/null
  wait_up 3
  restore=$(grep '"event":"restore"' "$EV" | jq -s '.[0]')
  json_assert "$restore" '.backend == "198.18.12.12:80" and .detail == "weight 0 -> 1"'
  [ "$(printf '%s' "$restore" | jq .time_ms)" -gt "$back" ]
  json_assert "$(lb show --json)" '[.vips[0].backends[].weight] == [1,1,1]'
  kill -0 "$HPID"
}

@test "L3 lab, ipip: a backend without the VIP fails although its own address answers; nat mode steers encap VIPs too" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb ipip --serve >/dev/null
  conf3 ipip http / interval 0.25 timeout 0.2 fall 2 rise 2
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  health_bg
  lab_exec "$LAB" backend-c ip addr del 198.18.0.100/32 dev lo
  # its server still answers at its own address, from lb, through the router
  lab_exec "$LAB" lb timeout 5 curl -sf -m 2 -o /dev/null http://198.18.13.13/
  for _ in $(seq 50); do
    grep -q '"event":"drain".*"backend":"198.18.13.13:80"' "$EV" && break
    sleep 0.1
  done
  json_assert "$(lb show --json)" '.vips[0].backends[2] | .weight == 0 and .health.state == "down"'
  json_assert "$(lb show --json)" '[.vips[0].backends[0,1].weight] == [1,1]'
  lab_exec "$LAB" backend-c ip addr add 198.18.0.100/32 dev lo
  wait_up 3
  # the probes' answers were restored for the checker only: clients reach all three
  out=$(lab_exec "$LAB" client timeout 20 python3 -c '
import http.client, json
names = {}
for _ in range(90):
    c = http.client.HTTPConnection("198.18.0.100", 80, timeout=2); c.request("GET", "/")
    n = c.getresponse().read().decode().strip(); names[n] = names.get(n, 0) + 1; c.close()
print(json.dumps(names))')
  json_assert "$out" '.["backend-a"] > 0 and .["backend-b"] > 0 and .["backend-c"] > 0 and ([.[]] | add) == 90'
  kill "$HPID"; wait "$HPID" || true
  json_assert "$("$BPFLAB" lab status --name "$LAB" --json)" '[.nodes[] | select(.node == "lb") | .programs[] | tostring | select(test("lb_steer"))] | length == 0'
}

@test "IPv6 in nat mode: v6 VIPs and backends checked over http and udp, drained and restored" {
  "$BPFLAB" lab up --name "$LAB" --backends 2 --lb nat --serve >/dev/null
  V6="[2001:db8:18::100]:80/tcp" U6="[2001:db8:18::100]:7/udp"
  {
    echo "vip $V6"; echo "backend $V6 2001:db8:18::b"; echo "backend $V6 2001:db8:18::c"
    echo "check $V6 http / status 200 interval 0.3 timeout 0.2 fall 2 rise 2"
    echo "vip $U6"; echo "backend $U6 2001:db8:18::b"; echo "backend $U6 2001:db8:18::c"
    echo "check $U6 udp ping\\x21 expect ping! interval 0.3 timeout 0.2 fall 2 rise 2"
  } > "$CONF"
  # a UDP echo on each backend, bounded
  for n in backend-a backend-b; do
    lab_exec "$LAB" "$n" timeout 60 python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", 7))
while True:
    d, a = s.recvfrom(512); s.sendto(d, a)' &
    PIDS+=($!)
  done
  lb start eth0 --mode nat --config "$CONF" >/dev/null
  health_bg 2
  for _ in $(seq 50); do
    [ "$(lb show --json | jq '[.vips[1].backends[] | select(.health.state == "up")] | length')" -eq 2 ] && break
    sleep 0.1
  done
  show=$(lb show --json)
  json_assert "$show" '[.vips[].backends[].address] == ["[2001:db8:18::b]:80", "[2001:db8:18::c]:80", "[2001:db8:18::b]:7", "[2001:db8:18::c]:7"]'
  json_assert "$show" '[.vips[].backends[].health.state] == ["up", "up", "up", "up"]'
  kill_server backend-b
  for _ in $(seq 50); do
    grep -q '"event":"drain".*"backend":"\[2001:db8:18::c\]:80"' "$EV" && break
    sleep 0.1
  done
  show=$(lb show --json)
  json_assert "$show" '.vips[0].backends[1] | .weight == 0 and .health.state == "down" and .health.last == "Connection refused"'
  json_assert "$show" '.vips[0].backends[0].weight == 1 and ([.vips[1].backends[].weight] == [1, 1])'
  "$BPFLAB" lab up --name "$LAB" --backends 2 --serve >/dev/null
  wait_up 2
  json_assert "$(grep '"event":"restore"' "$EV" | head -1)" '.backend == "[2001:db8:18::c]:80" and .detail == "weight 0 -> 1"'
  kill -0 "$HPID"
}

@test "IPv6 through the VIP: dsr on L2 and gue in the L3 lab; a backend without the VIP fails although its address answers" {
  V6="[2001:db8:18::100]:80/tcp"
  # L3: a v6 GUE VIP, v6 backends two hops away, probes in IPv6-in-IPv6 GUE
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb gue --serve >/dev/null
  {
    echo "vip $V6 encap gue"
    for h in b c d; do echo "backend $V6 2001:db8:18:$h::$h"; done
    echo "check $V6 http / interval 0.25 timeout 0.2 fall 2 rise 2"
  } > "$CONF"
  lb start eth0 --mode dsr --config "$CONF" >/dev/null
  health_bg
  wait_checked 3
  n0=$(wc -l < "$EV")
  lab_exec "$LAB" backend-c ip addr del 2001:db8:18::100/128 dev lo
  lab_exec "$LAB" lb timeout 5 curl -sf -m 2 -o /dev/null -g "http://[2001:db8:18:d::d]/"
  drain_after "$n0" '\[2001:db8:18:d::d\]:80' || true
  json_assert "$(lb show --json)" '.vips[0].backends[2] | .weight == 0 and .health.state == "down" and (.health.last | startswith("timeout"))'
  json_assert "$(lb show --json)" '[.vips[0].backends[0,1].weight] == [1,1]'
  lab_exec "$LAB" backend-c ip addr add 2001:db8:18::100/128 dev lo
  wait_up 3
  kill "$HPID"; wait "$HPID" || true
  lb stop eth0 >/dev/null
  "$BPFLAB" lab down --name "$LAB" >/dev/null
  # L2 dsr: the lab puts the v6 VIP on the backends' lo; probes rewritten to it on the way out
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr --serve >/dev/null
  {
    echo "vip $V6"
    for h in b c d; do echo "backend $V6 2001:db8:18::$h"; done
    echo "check $V6 tcp interval 0.25 timeout 0.2 fall 2 rise 2"
  } > "$CONF"
  lb start eth0 --mode dsr --config "$CONF" >/dev/null
  EV="$BATS_TEST_TMPDIR/events2.jsonl"
  health_bg
  wait_checked 3
  n0=$(wc -l < "$EV")
  lab_exec "$LAB" backend-b ip addr del 2001:db8:18::100/128 dev lo
  drain_after "$n0" '\[2001:db8:18::c\]:80' || true
  json_assert "$(lb show --json)" '.vips[0].backends[1] | .weight == 0 and .health.state == "down"'
  json_assert "$(lb show --json)" '[.vips[0].backends[0,2].weight] == [1,1]'
  lab_exec "$LAB" backend-b ip addr add 2001:db8:18::100/128 dev lo
  wait_up 3
}
