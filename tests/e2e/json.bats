#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# JSON users can rely on: every command's --json output, line by line, against the schema
# docs/json.md gives (tests/e2e/json_schema.py reads its tables). An undocumented field, a
# field of another type or a missing one fails; so does a documented record no command
# printed (the last test), so the doc cannot keep records that are gone.
load helpers

SRC=${BPFLAB_SRC:-$BATS_TEST_DIRNAME/../..}
SCHEMA="$SRC/docs/json.md"
VALIDATE="$BATS_TEST_DIRNAME/json_schema.py"
OUTDIR=${BPFLAB_OUT:-$(dirname "$BPFLAB")}

setup_file() {
  mkdir -p "$BATS_FILE_TMPDIR/seen"
}

setup() {
  LAB=$(unique_lab)
  J="$BATS_FILE_TMPDIR/$BATS_TEST_NUMBER"
  mkdir -p "$J"
}

teardown() {
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" --netns "$LAB-backend-a" filter stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

# validate COMMAND FILE...: every line is a documented record; notes the types seen
validate() {
  local cmd=$1; shift
  run python3 "$VALIDATE" "$SCHEMA" "$cmd" "$@"
  echo "$output"
  [ "$status" -eq 0 ]
  printf '%s\n' "$output" | tail -1 | sed -n 's/.*types \(.*\), [0-9]* errors$/\1/p' | tr ' ' '\n' |
    sed "s/^/$cmd /" >> "$BATS_FILE_TMPDIR/seen/types"
}

@test "json: doctor" {
  require_bpf
  "$BPFLAB" doctor --json > "$J/doctor.jsonl"
  validate doctor "$J/doctor.jsonl"
}

@test "json: lab up, status, down (with --serve)" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --serve --json > "$J/lab.jsonl"
  "$BPFLAB" lab status --name "$LAB" --json >> "$J/lab.jsonl"
  "$BPFLAB" lab down --name "$LAB" --json >> "$J/lab.jsonl"
  "$BPFLAB" lab status --name "$LAB" --json >> "$J/lab.jsonl"
  [ "$(wc -l < "$J/lab.jsonl")" -eq 4 ]
  validate lab "$J/lab.jsonl"
  json_assert "$(sed -n 3p "$J/lab.jsonl")" '.type == "lab_down" and .stopped_servers == 2'
}

@test "json: lab up --lb ipip (the L3 lab), lb decap" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --lb ipip --json > "$J/lab3.jsonl"
  "$BPFLAB" lab status --name "$LAB" --json >> "$J/lab3.jsonl"
  validate lab "$J/lab3.jsonl"
  json_assert "$(tail -1 "$J/lab3.jsonl")" '.topology == "l3" and .nodes[2].decap.pid > 0'
  "$BPFLAB" --netns "$LAB-client" lb decap eth0 --vip 198.18.0.100:80/tcp --vip 2001:db8:18::100 \
    --duration 0.3 --json > "$J/decap.jsonl"
  validate lb "$J/decap.jsonl"
  json_assert "$(tail -1 "$J/decap.jsonl")" '.type == "decap" and .final and (.vips | length) == 2'
}

@test "json: lab up --lbs 2 (the cluster lab), kill, revive; lb announce, drain-node" {
  require_bpf
  command -v bird >/dev/null || { [ -z "${CI:-}" ] || return 1; skip "bird not installed (make deps)"; }
  printf 'vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 198.18.0.11\n' > "$J/lb.conf"
  "$BPFLAB" lab up --name "$LAB" --lbs 2 --lb-config "$J/lb.conf" --json > "$J/clu.jsonl"
  "$BPFLAB" lab kill --name "$LAB" --json lb2 >> "$J/clu.jsonl"
  "$BPFLAB" lab revive --name "$LAB" --json lb2 >> "$J/clu.jsonl"
  "$BPFLAB" lab status --name "$LAB" --json >> "$J/clu.jsonl"
  validate lab "$J/clu.jsonl"
  json_assert "$(head -1 "$J/clu.jsonl")" '.type == "lab_cluster" and (.routes[0].next_hops | length) == 2'
  "$BPFLAB" --netns "$LAB-lb1" lb drain-node --json > "$J/ann.jsonl"
  "$BPFLAB" --netns "$LAB-lb1" lb undrain-node --json >> "$J/ann.jsonl"
  "$BPFLAB" --netns "$LAB-lb1" lb show --json >> "$J/ann.jsonl"
  cat "/run/bpflab/lab/$LAB/announce-lb1.log" >> "$J/ann.jsonl"
  validate lb "$J/ann.jsonl"
  grep -q '"type":"announce","action":"withdraw"' "$J/ann.jsonl"
}

@test "json: lab clients (tick, break, move, stream)" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" > /dev/null
  # An echo server whose answers change their backend name after two (a move) and which
  # closes connection 0 after three (a break): every record lab clients can print.
  cat > "$J/echo.py" <<'EOF'
import socket, threading, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7007)); s.listen(16); s.settimeout(10)
def serve(c):
    n, f = 0, c.makefile("rb")
    for line in f:
        cid, seq = line.split()
        n += 1
        c.sendall(b"%s %s %s\n" % (b"one" if n <= 2 else b"two", cid, seq))
        if cid == b"0" and n == 3:
            c.close(); return
try:
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
except socket.timeout:
    pass
EOF
  ip netns exec "$LAB-client" timeout 15 python3 "$J/echo.py" & srv=$!
  for _ in $(seq 50); do ip netns exec "$LAB-client" ss -Hltn 'sport = 7007' | grep -q . && break; sleep 0.1; done
  run "$BPFLAB" lab clients --name "$LAB" --connect 127.0.0.1:7007 --conns 3 --interval 0.1 \
    --duration 1.5 --json
  kill "$srv" 2>/dev/null || true
  printf '%s\n' "$output" | grep '^{' > "$J/clients.jsonl"
  [ "$status" -eq 1 ]  # a connection broke: exit 1, and an error record last
  validate lab "$J/clients.jsonl"
  json_assert "$(grep '"type":"stream",' "$J/clients.jsonl")" '.opened == 3 and .broken == 1 and .broken_by_reason.eof == 1 and .moved == 3'
  grep -q '"type":"stream_break"' "$J/clients.jsonl"
  json_assert "$(grep -m1 '"type":"stream_move"' "$J/clients.jsonl")" '.from == "one" and .to == "two"'
}

@test "json: count and ping (watch, drop, reply)" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  lab_exec "$LAB" client ping -c 12 -i 0.1 -q 198.18.0.11 >/dev/null &
  "$BPFLAB" --netns "$LAB-backend-a" count eth0 --duration 1.5 --interval 0.5 --json > "$J/count.jsonl"
  wait
  validate count "$J/count.jsonl"
  json_assert "$(tail -1 "$J/count.jsonl")" '.type == "summary" and .packets.icmp >= 1'
  for a in "" "--drop" "--reply --hook tc"; do
    (sleep 0.6; lab_exec "$LAB" client ping -c 2 -i 0.1 -W 1 -q 198.18.0.11 >/dev/null 2>&1; true) &
    # shellcheck disable=SC2086
    "$BPFLAB" --netns "$LAB-backend-a" ping eth0 $a --duration 1.5 --json >> "$J/ping.jsonl"
    wait
  done
  validate ping "$J/ping.jsonl"
  [ "$(grep -c '"type":"echo"' "$J/ping.jsonl")" -ge 3 ]
}

@test "json: exec" {
  require_bpf
  (sleep 0.8; /bin/true; /nonexistent/tool 2>/dev/null; true) &
  "$BPFLAB" exec --duration 1.5 --json > "$J/exec.jsonl"
  wait
  validate exec "$J/exec.jsonl"
  grep -q '"error":"ENOENT"' "$J/exec.jsonl"
}

@test "json: verify (rejected, loaded)" {
  require_bpf
  make -s -C "$SRC/examples/verifier" OUT="$OUTDIR" >/dev/null
  run "$BPFLAB" verify --json "$OUTDIR/examples/verifier/null_check_broken.bpf.o"
  [ "$status" -eq 5 ]
  printf '%s\n' "$output" > "$J/verify.jsonl"
  "$BPFLAB" verify --json "$OUTDIR/examples/verifier/null_check_fixed.bpf.o" >> "$J/verify.jsonl"
  # context (origin, invalidated_by), a libbpf failure, pasted logs, an unknown message
  "$BPFLAB" verify --json "$OUTDIR/examples/verifier/pkt_invalidated_broken.bpf.o" >> "$J/verify.jsonl" || true
  "$BPFLAB" verify --json "$OUTDIR/examples/verifier/section_broken.bpf.o" 2>/dev/null | head -1 >> "$J/verify.jsonl" || true
  for f in explain_libbpf.txt explain_cilium.txt map_create.libbpf.log accepted_null_check.log; do
    "$BPFLAB" verify --json --log --explain "$SRC/tests/data/vlogs/$f" >> "$J/verify.jsonl" || true
  done
  printf '5: (bf) r3 = r7 ; R3_w=pkt(off=4,r=8)\n6: (7b) *(u64 *)(r3 +0) = r1\nR3 frobnicated off=4 size=8\n' |
    "$BPFLAB" verify --json --explain - >> "$J/verify.jsonl" || true
  [ "$(grep -c '"type":"verify_explain"' "$J/verify.jsonl")" -eq 5 ]
  grep -q '"words":\[' "$J/verify.jsonl"
  validate verify "$J/verify.jsonl"
}

@test "json: lb start, vip, backend, show, watch, apply, flush, stop" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --lb nat --serve >/dev/null
  lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@" --json 2>/dev/null; }
  {
    lb start eth0 --mode nat
    lb vip add 198.18.0.100:80/tcp
    lb backend add 198.18.0.100:80/tcp 198.18.0.11
    lb backend add 198.18.0.100:80/tcp 198.18.0.12 --weight 2
    lab_exec "$LAB" client curl -s -m 2 http://198.18.0.100/ >&2
    lb backend set 198.18.0.100:80/tcp 198.18.0.12 --weight 3
    lb show
    lb show --watch --interval 0.3 --duration 0.7
    printf 'vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 198.18.0.12\n' | lb apply - --dry-run
    printf 'vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 198.18.0.12\n' | lb apply -
    lb save
    lb backend del 198.18.0.100:80/tcp 198.18.0.12
    lb vip del 198.18.0.100:80/tcp
    lb flush
    lb stop eth0
  } > "$J/lb.jsonl"
  validate lb "$J/lb.jsonl"
  for t in started changed lb sample dry_run config stopped; do
    grep -q "\"type\":\"$t\"" "$J/lb.jsonl" || { echo "no $t record"; return 1; }
  done
}

@test "json: bench --quick --section progs" {
  require_bpf
  run timeout 60 "$BPFLAB" bench --quick --section progs --json
  [ "$status" -eq 0 ]
  printf '%s\n' "$output" | grep '^{' > "$J/bench.jsonl"
  validate bench "$J/bench.jsonl"
}

@test "json: errors are records on stdout, exit code kept" {
  require_bpf
  e() { local want=$1 cmd=$2; shift 2
    run --separate-stderr "$BPFLAB" "$@"
    [ "$status" -eq "$want" ] || { echo "$* exited $status, not $want"; return 1; }
    printf '%s\n' "$output" > "$J/err-$cmd.jsonl"
    json_assert "$output" ".type == \"error\" and .exit_code == $want and .command == \"$cmd\""
    validate "$cmd" "$J/err-$cmd.jsonl"
  }
  e 2 count count no-such-if0 --json
  e 2 ping ping --json --no-such-option
  e 2 verify verify --json /etc/passwd
  e 2 lab lab up --name 'Bad_Name' --json
  "$BPFLAB" lab up --name "$LAB" >/dev/null
  e 1 lb --netns "$LAB-lb" lb show --json   # no balancer there
  e 2 lb --netns "$LAB-lb" lb frobnicate --json
  e 2 lb --netns "$LAB-nope" lb show --json   # no such namespace: a bad argument
  e 2 lb --netns "$LAB-lb" lb vip add 127.0.0.1:80/tcp --json
}

# The validator must be able to fail.
@test "json: the validator rejects an undocumented field, a wrong type, a missing field" {
  f="$J/bad.jsonl"
  echo '{"type":"stopped","interface":"eth0","pin_dir":"/x"}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 0 ]
  echo '{"type":"stopped","interface":"eth0","pin_dir":"/x","extra":1}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 1 ] && [[ $output == *"stopped.extra: not in docs/json.md"* ]]
  echo '{"type":"stopped","interface":7,"pin_dir":"/x"}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 1 ] && [[ $output == *'stopped.interface: 7 is not string'* ]]
  echo '{"type":"stopped","interface":"eth0"}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 1 ] && [[ $output == *"stopped.pin_dir: missing"* ]]
  echo '{"type":"echo","family":5}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" ping "$f"
  [ "$status" -eq 1 ] && [[ $output == *"echo.family: 5 is not 4|6"* ]]
  echo '{"interface":"eth0"}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 1 ] && [[ $output == *'without a "type"'* ]]
  echo '{"type":"nonesuch"}' > "$f"
  run python3 "$VALIDATE" "$SCHEMA" lb "$f"
  [ "$status" -eq 1 ] && [[ $output == *"no record lb \`nonesuch\`"* ]]
}

@test "json: lb health, conns, show --rate, zero" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --lb nat --serve >/dev/null
  lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@" --json 2>/dev/null; }
  printf 'vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 198.18.0.11\ncheck 198.18.0.100:80/tcp http / interval 0.2 timeout 0.1\n' > "$J/lb.conf"
  {
    lb start eth0 --mode nat --config "$J/lb.conf"
    lb health --duration 1.5
    lb show
    lb conns
    lb show --rate --interval 0.2
    lb zero
    lb save
    lb stop eth0
  } > "$J/health.jsonl"
  validate lb "$J/health.jsonl"
  for t in health_started health conns rate zeroed; do
    grep -q "\"type\":\"$t\"" "$J/health.jsonl" || { echo "no $t record"; return 1; }
  done
  grep -q '"health":{"state":"up"' "$J/health.jsonl"
  # the check is in save's data too, not only in its text
  grep '"type":"config"' "$J/health.jsonl" | grep -q '"vip":"198.18.0.100:80/tcp","encap":"none","check":"http / '
}

@test "json: filter start, check, apply --dry-run, apply, show, stop" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --backends 1 >/dev/null
  f() { "$BPFLAB" --netns "$LAB-backend-a" filter "$@" --json 2>/dev/null; }
  printf 'allowlist 198.18.0.2\n10 deny src 203.0.113.0/24\n' > "$J/f.rules"
  {
    f start eth0 --rules "$J/f.rules"
    f check "$J/f.rules"
    f apply "$J/f.rules" --dry-run
    f apply "$J/f.rules"
    f show
    f stop eth0
  } > "$J/filter.jsonl"
  validate filter "$J/filter.jsonl"
}

@test "json: trace attached, event, packet, lost, drops, summary" {
  require_bpf
  "$BPFLAB" lab up --name "$LAB" --backends 1 >/dev/null
  # The smallest ring and a burst of pings: events are lost, and a record says so. The
  # replies are freed as NO_SOCKET by ping's raw path: a drops record.
  timeout 90 "$BPFLAB" trace --json -d 30 --ringbuf-size 4096 "netns $LAB-client and icmp" \
    > "$J/trace.jsonl" 2>/dev/null &
  local pid=$! i
  for i in $(seq 1 600); do
    grep -q '"type":"attached"' "$J/trace.jsonl" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  lab_exec "$LAB" client timeout 10 ping -f -c 300 -W 1 198.18.0.11 >/dev/null || true
  sleep 0.3
  kill -INT "$pid"
  wait "$pid"
  validate trace "$J/trace.jsonl"
  for t in attached event packet lost drops summary; do
    grep -q "\"type\":\"$t\"" "$J/trace.jsonl" || { echo "no $t record"; return 1; }
  done
}

@test "json: every record docs/json.md documents was printed by the tests above" {
  [ -s "$BATS_FILE_TMPDIR/seen/types" ] || skip "the tests above did not run (no root?)"
  missing=$(python3 "$VALIDATE" "$SCHEMA" --records | sort -u |
    grep -v -x -F -f <(sort -u "$BATS_FILE_TMPDIR/seen/types") |
    grep -v -e '^bench live$' -e '^any ' || true)
  # bench live needs the live section (minutes): bench.bats checks those rows
  [ -z "$missing" ] || { echo "documented but never printed: $missing"; return 1; }
}
