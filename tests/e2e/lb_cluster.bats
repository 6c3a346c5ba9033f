#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Long-lived connections through several LB nodes, counted by `bpflab lab clients`: 1,000
# TCP connections, a message every 100 ms each, through 3 LB nodes behind a BIRD router
# with ECMP (lab up --lbs 3). In dsr and ipip a node killed with -9 (its link down too),
# brought back, drained and undrained breaks none of them; removing a backend while a node
# is down breaks only that backend's connections and moves < 1% of the others; nat's
# broken share for the same events is printed, not asserted (its source address is per
# node). The scenarios themselves are bench/lb_cluster.sh's (written once, measured there
# too); these tests give it their own lab name and assert on its JSON. First, the tester
# itself on the single-LB lab: what it counts is what happened.
load helpers
bats_require_minimum_version 1.5.0

SRC=${BPFLAB_SRC:-$BATS_TEST_DIRNAME/../..}

setup() {
  require_bpf
  LAB=$(unique_lab)
  PIDS=()
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
}

# BIRD comes from `make deps`; where CI is set its absence fails, as missing BPF does.
require_bird() {
  command -v birdc >/dev/null && return 0
  if [ -n "${CI:-}" ]; then
    echo "BIRD 2 (birdc) is missing and CI is set: make deps installs it" >&2
    return 1
  fi
  skip "needs BIRD 2 (make deps)"
}

clients() { "$BPFLAB" lab clients --name "$LAB" "$@"; }
last_of() { grep "\"type\":\"$2\"" "$1" | tail -1; }

@test "lab clients: bad input is refused with exit 2" {
  run -2 "$BPFLAB" lab clients --connect 198.18.0.100
  [[ $output == *"invalid --connect"* ]]
  run -2 "$BPFLAB" lab clients --connect 010.0.0.1:7
  run -2 "$BPFLAB" lab clients --connect 198.18.0.100:0
  run -2 "$BPFLAB" lab clients --connect '[2001:db8::1:7'
  run -2 "$BPFLAB" lab clients --connect 198.18.0.100:7 --conns 0
  run -2 "$BPFLAB" lab clients --connect 198.18.0.100:7 --interval 0
  run -2 "$BPFLAB" lab clients --connect 198.18.0.100:7 --ramp 5 --duration 2
  run -2 "$BPFLAB" lab clients
  [[ $output == *"missing --connect"* ]]
  run -2 "$BPFLAB" lab clients --listen 7
  [[ $output == *"--answer-as"* ]]
  run -2 "$BPFLAB" lab clients --listen 7 --answer-as x --connect 1.2.3.4:5
  run -2 "$BPFLAB" lab clients --name "$LAB" --connect 198.18.0.100:7
  [[ $output == *"no namespace $LAB-client"* ]]
}

@test "lab clients: 1000 connections through one dsr LB; a backend's server killed breaks exactly its connections" {
  "$BPFLAB" lab up --name "$LAB" --backends 3 --lb dsr --serve >/dev/null
  # the stream servers are there, answer with their node's name, and go with `lab down`
  [ "$(pgrep -fc "^bpflab-lab-stream:$LAB:backend-")" -eq 3 ]
  printf 'vip 198.18.0.100:7/tcp\n' > "$BATS_TEST_TMPDIR/lb.conf"
  for h in 11 12 13; do echo "backend 198.18.0.100:7/tcp 198.18.0.$h" >> "$BATS_TEST_TMPDIR/lb.conf"; done
  "$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode dsr --config "$BATS_TEST_TMPDIR/lb.conf" >/dev/null

  # nothing happens: every connection opens, every message is answered, exit 0
  run -0 clients --connect 198.18.0.100:7 --conns 1000 --duration 3 --json
  sum=$(printf '%s\n' "$output" | grep '"type":"stream"')
  json_assert "$sum" '.opened == 1000 and .failed_open == 0 and .open == 1000 and .broken == 0 and .moved == 0'
  json_assert "$sum" '.answers == .sent and .sent > 15000 and ([.backends[].conns] | add) == 1000'
  json_assert "$sum" '(.backends | length) == 3 and ([.backends[] | select(.conns < 200)] | length) == 0'
  json_assert "$sum" '.max_gap_ms < 1000 and .max_rtt_ms <= .max_gap_ms'
  [ "$(printf '%s\n' "$output" | grep -c '"type":"stream_tick"')" -ge 3 ]
  json_assert "$(printf '%s\n' "$output" | grep '"type":"stream_tick"' | tail -1)" '.open == 1000 and .broken == 0 and .answers > 5000'
  # the LB placed them: its conntrack holds a flow per connection
  json_assert "$("$BPFLAB" --netns "$LAB-lb" lb show --json)" '.vips[0].new_flows >= 1000'

  # backend-b's server goes: its connections and only those break (its FINs: eof; a
  # socket closed with a message unread in it sends a RST instead, as the kernel must)
  out="$BATS_TEST_TMPDIR/s.jsonl"
  clients --connect 198.18.0.100:7 --conns 300 --duration 5 --json > "$out" &
  SPID=$!
  PIDS+=($SPID)
  wait_for_line "$out" '"open":300,'
  kill "$(pgrep -f "^bpflab-lab-stream:$LAB:backend-b")"
  st=0; wait "$SPID" || st=$?
  [ "$st" -eq 1 ]
  sum=$(last_of "$out" stream)
  b=$(printf '%s' "$sum" | jq '.backends[] | select(.node == "backend-b")')
  json_assert "$b" '.conns > 0 and .broken == .conns and .open == 0'
  json_assert "$sum" '[.backends[] | select(.node != "backend-b") | .broken] | add == 0'
  json_assert "$sum" ".broken == $(printf '%s' "$b" | jq .conns) and .broken_by_reason.eof + .broken_by_reason.rst == .broken and .broken_by_reason.eof > 0"
  # one stream_break record per broken connection, each naming backend-b
  [ "$(grep -c '"type":"stream_break"' "$out")" -eq "$(printf '%s' "$sum" | jq .broken)" ]
  [ "$(grep '"type":"stream_break"' "$out" | jq -s '[.[] | select(.backend != "backend-b" or (.reason != "eof" and .reason != "rst"))] | length')" -eq 0 ]

  # `up --serve` again brings the missing one back; `down` stops them all
  "$BPFLAB" lab up --name "$LAB" --serve >/dev/null
  [ "$(pgrep -fc "^bpflab-lab-stream:$LAB:backend-")" -eq 3 ]
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null
  "$BPFLAB" lab down --name "$LAB" >/dev/null
  [ "$(pgrep -fc "^bpflab-lab-stream:$LAB:" || true)" -eq 0 ]
}

@test "lab clients: a silent backend is a time-out after --timeout, a reset is a reset" {
  command -v nft >/dev/null || skip "needs nft"
  "$BPFLAB" lab up --name "$LAB" --backends 2 --serve >/dev/null
  out="$BATS_TEST_TMPDIR/s.jsonl"
  # straight to backend-a (no LB); once they stream, its input drops them: every
  # connection times out, none before --timeout
  clients --connect 198.18.0.11:7 --conns 50 --timeout 0.5 --duration 4 --json > "$out" &
  SPID=$!
  PIDS+=($SPID)
  wait_for_line "$out" '"open":50,'
  lab_exec "$LAB" backend-a nft -f - <<'EOF'
table inet clustertest {
  chain in { type filter hook input priority 0; tcp dport 7 drop; }
}
EOF
  st=0; wait "$SPID" || st=$?
  [ "$st" -eq 1 ]
  json_assert "$(last_of "$out" stream)" '.broken == 50 and .broken_by_reason.timeout == 50 and .max_gap_ms >= 500'
  [ "$(grep '"type":"stream_break"' "$out" | jq -s 'map(select(.silent_ms < 500)) | length')" -eq 0 ]
  lab_exec "$LAB" backend-a nft delete table inet clustertest
  # a killed server's sockets close with FIN (eof, above); a reset is what a backend that
  # does not know the connection answers: here nft answers for it
  clients --connect 198.18.0.12:7 --conns 20 --duration 3 --json > "$out" &
  SPID=$!
  PIDS+=($SPID)
  wait_for_line "$out" '"open":20,'
  lab_exec "$LAB" backend-b nft -f - <<'EOF'
table inet clustertest {
  chain in { type filter hook input priority 0; tcp dport 7 reject with tcp reset; }
}
EOF
  st=0; wait "$SPID" || st=$?
  [ "$st" -eq 1 ]
  json_assert "$(last_of "$out" stream)" '.broken == 20 and .broken_by_reason.rst == 20'
}

# cluster MODE SCENARIO: bench/lb_cluster.sh's scenario in this test's lab; its JSON in $R
cluster() {
  require_bird
  R="$BATS_TEST_TMPDIR/cluster.jsonl"
  BPFLAB="$BPFLAB" timeout 240 bash "$SRC/bench/lb_cluster.sh" --lab "$LAB" --mode "$1" \
    --scenario "$2" > "$R" 2>"$BATS_TEST_TMPDIR/cluster.err" || { cat "$BATS_TEST_TMPDIR/cluster.err" >&2; return 1; }
  sed 's/^/# /' "$BATS_TEST_TMPDIR/cluster.err" >&3
  RUN=$(last_of "$R" lb_cluster_run)
  json_assert "$RUN" '.complete and .opened == 1000 and .failed_open == 0'
}
ev() { grep '"type":"lb_cluster_event"' "$R" | jq -c "select(.event == \"$1\")"; }

# drain, undrain, kill, revive: each converges (the route changed), none breaks anything
cycle_zero_broken() {
  cluster "$1" cycle
  local e
  for e in drain undrain kill revive; do
    json_assert "$(ev $e)" '.complete and .converge_ms != null and .broken == 0 and .moved == 0'
  done
  json_assert "$RUN" '.broken == 0 and .moved == 0 and .answers == .sent'
  # flows moved between nodes and lived: every backend still holds its connections
  json_assert "$RUN" '[.backends[] | select(.open != .conns)] | length == 0'
}

remove_only_its_own() {
  cluster "$1" remove
  json_assert "$(ev kill)" '.complete and .converge_ms != null and .broken == 0'
  local r
  r=$(ev remove_backend)
  json_assert "$r" '.removed_backend == "backend-c" and .conns_removed > 0 and .broken_removed == .conns_removed'
  # fewer than 1% of the others break (in TCP a moved connection is a broken one): the
  # conntrack keeps them, and Maglev's new table alone moves < 1% of their slots
  json_assert "$r" '.conns_others > 0 and (.broken_others * 100) < .conns_others and (.moved_others * 100) < .conns_others'
  json_assert "$r" '.maglev_others_moved_share != null and .maglev_others_moved_share < 0.01'
  echo "# $1: removing backend-c broke $(jq -r '"\(.broken_removed) of its \(.conns_removed) and \(.broken_others) of the other \(.conns_others); Maglev moves \(.maglev_others_moved_share * 10000 | round / 100)% of their slots"' <<<"$r")" >&3
}

@test "cluster dsr: a node drained, undrained, killed -9 with its link down, revived: 0 of 1000 broken" {
  cycle_zero_broken dsr
}

@test "cluster dsr: a backend removed while a node is down breaks only its own connections" {
  remove_only_its_own dsr
}

@test "cluster ipip: a node drained, undrained, killed -9 with its link down, revived: 0 of 1000 broken" {
  cycle_zero_broken ipip
}

@test "cluster ipip: a backend removed while a node is down breaks only its own connections" {
  remove_only_its_own ipip
}

@test "cluster nat: the same events, broken share measured (nat's source address is per node)" {
  cluster nat cycle
  local e
  for e in drain undrain kill revive; do
    json_assert "$(ev $e)" '.converge_ms != null'
    echo "# nat $e: $(ev $e | jq -r '"\(.broken) of \(.conns) broken (\(.broken * 100 / .conns | floor)%), converged in \(.converge_ms) ms"')" >&3
  done
}
