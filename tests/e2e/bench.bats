#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab bench: one --quick run checked for structure and sanity (every row measured or
# explained, rates positive, XDP drop cheaper than the stack), not for absolute speed;
# bad arguments; Ctrl-C and kill -9 leave no namespace behind.
load helpers

LIVE_IDS='["xdp_native_drop","xdp_generic_drop","tc_drop","nft_ingress_drop","nft_raw_drop","iptables_raw_drop","udp_closed","udp_socket","linux_forward","xdp_forward"]'

setup_file() {
  [ "$(id -u)" -eq 0 ] || return 0
  # The one real run of this file, shared by the checks below (~30 s).
  "$BPFLAB" bench --quick --json --svg "$BATS_FILE_TMPDIR/bench.svg" \
    > "$BATS_FILE_TMPDIR/bench.jsonl" 2> "$BATS_FILE_TMPDIR/bench.err"
  echo $? > "$BATS_FILE_TMPDIR/bench.rc"
}

setup() {
  require_bpf
  RUN="$BATS_FILE_TMPDIR/bench.jsonl"
}

teardown() {
  [ -n "${BGPID:-}" ] && kill -9 "$BGPID" 2>/dev/null || true
  for ns in $(ip netns list | grep -o '^bpflab-bench[0-9a-f]*-[a-z]*'); do
    pid=$(echo "$ns" | sed -E 's/^bpflab-bench([0-9a-f]+)-.*/\1/')
    kill -0 "$((16#$pid))" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
  done
}

all() { jq -s . < "$RUN"; }

@test "quick run exits 0, is valid JSON Lines and records the machine" {
  [ "$(cat "$BATS_FILE_TMPDIR/bench.rc")" -eq 0 ]
  jq -e . < "$RUN" >/dev/null
  json_assert "$(all)" '.[0].type == "machine" and (.[0].kernel | length > 0) and
    (.[0].cpu_model | length > 0) and .[0].cores >= 1 and .[0].quick == true'
  json_assert "$(all)" '.[-1].type == "end" and .[-1].interrupted == false and .[-1].elapsed < 60'
  # progress went to stderr, never into the JSON
  grep -q 'bench live: XDP native drop' "$BATS_FILE_TMPDIR/bench.err"
}

@test "progs: bare programs and count measured, verdicts as expected" {
  for p in xdp_pass xdp_drop xdp_tx tc_pass tc_drop; do
    json_assert "$(all)" "map(select(.type == \"prog\" and .name == \"$p\")) | length == 1 and
      (.[0].ok and .[0].ns.median > 0 and .[0].retval == .[0].expect_retval and .[0].baseline == null)"
  done
  json_assert "$(all)" 'map(select(.type == "prog" and .name == "count"))[0] |
    .ok and .baseline == "xdp_pass" and .method == "repeat" and .retval == 2 and
    .ns.median > 0 and .baseline_ns.median > 0 and .rounds == 3 and .ns.n == 3 and
    .ns.min <= .ns.median and .ns.median <= .ns.max and
    (.delta_ns.median - (.ns.median - .baseline_ns.median) | fabs) < 1000'
  # Every case is measured, or says why not.
  json_assert "$(all)" 'map(select(.type == "prog")) | all(.ok or (.reason | length > 0))'
}

@test "live: every row present, measured or explained" {
  json_assert "$(all)" "[.[] | select(.type == \"live\") | .name] == $LIVE_IDS"
  json_assert "$(all)" 'map(select(.type == "live")) | all(if .ok then
      .pps.median > 0 and .ns_per_pkt.median > 0 and .generator_pps.median > 0 and
      .cores_for_28mpps > 0 and .ratio_to_xdp_drop > 0 and .pps.n == 3 and
      .pps.min <= .pps.median and .pps.median <= .pps.max
    else (.reason | length > 0) end)'
  # On this kind of machine (2 CPUs, nft and iptables-legacy installed) all rows run.
  if [ "$(nproc)" -ge 2 ] && command -v nft >/dev/null && command -v iptables-legacy >/dev/null; then
    json_assert "$(all)" 'map(select(.type == "live")) | all(.ok)'
  fi
}

@test "live: XDP rows say their mode; XDP native drop is cheaper and faster than the stack" {
  json_assert "$(all)" 'map(select(.type == "live" and .name == "xdp_native_drop"))[0].xdp_mode == "native"'
  json_assert "$(all)" 'map(select(.type == "live" and .name == "xdp_generic_drop"))[0].xdp_mode == "generic"'
  json_assert "$(all)" 'map(select(.type == "live" and .name == "xdp_forward"))[0].xdp_mode == "native"'
  json_assert "$(all)" 'map(select(.type == "live" and .name == "udp_closed"))[0].xdp_mode == null'
  json_assert "$(all)" '(map(select(.type == "live")) | INDEX(.name)) as $r |
    $r.xdp_native_drop.ok and $r.udp_closed.ok and
    $r.xdp_native_drop.ratio_to_xdp_drop == 1 and
    $r.xdp_native_drop.ns_per_pkt.median < $r.udp_closed.ns_per_pkt.median and
    $r.xdp_native_drop.pps.median > $r.udp_closed.pps.median and
    $r.udp_closed.ratio_to_xdp_drop > 1 and
    ($r.xdp_native_drop.cores_for_28mpps - $r.xdp_native_drop.ns_per_pkt.median * 0.028 | fabs) < 0.01'
}

@test "--svg draws a chart with every measured row" {
  svg="$BATS_FILE_TMPDIR/bench.svg"
  head -c 4 "$svg" | grep -q '<svg'
  tail -1 "$svg" | grep -q '</svg>'
  grep -q '>XDP native drop<' "$svg"
  grep -q '>count vs xdp_pass<' "$svg"
  # one bar per measured live row, one per measured program, plus the background
  bars=$(grep -c '<rect x=' "$svg")
  want=$(jq -s '[.[] | select((.type == "live" or .type == "prog") and .ok)] | length' < "$RUN")
  [ "$bars" -eq "$want" ]
}

no_bench_ns() { [ -z "$(ip netns list | grep '^bpflab-bench' || true)" ]; }

@test "nothing is left behind: no namespaces, no napi threads" {
  no_bench_ns
  [ -z "$(ps -eo comm | grep '^napi/b[0-9a-f]*r-' || true)" ]
}

@test "the restoring method agrees with plain repeat for a program that does not rewrite" {
  out=$("$BPFLAB" bench --section progs --method restore --reps 3 --json 2>/dev/null)
  c=$(printf '%s\n' "$out" | jq -c 'select(.type == "prog" and .name == "count")')
  json_assert "$c" '.ok and .method == "restore" and .retval == 2 and .delta_ns.median > -20'
  # Without the restorer's cost the figures are the plain repeat ones: both near the
  # floor, not a cold-cache repeat=1 figure.
  plain=$(jq -c 'select(.type == "prog" and .name == "count")' < "$RUN")
  json_assert "$plain" ".delta_ns.median < $(echo "$c" | jq '.delta_ns.median') + 40"
}

@test "bad arguments: clear error, exit 2, nothing created" {
  for a in "--duration 0" "--duration x" "--reps 0" "--reps 33" "--section foo" \
           "--rows xdp_native_drop,nope" "--method fast" "extra"; do
    # shellcheck disable=SC2086
    run "$BPFLAB" bench $a
    [ "$status" -eq 2 ] || { echo "bench $a gave $status: $output"; return 1; }
    [[ $output == *bench:* ]]
  done
  run "$BPFLAB" bench --svg /nonexistent/dir/x.svg --section progs
  [ "$status" -eq 2 ]
  [[ $output == *"cannot write --svg"* ]]
  no_bench_ns
}

@test "Ctrl-C during the live section stops, reports, and removes the namespaces" {
  "$BPFLAB" bench --section live --reps 5 --duration 2 --json > "$BATS_TEST_TMPDIR/int.jsonl" \
    2> "$BATS_TEST_TMPDIR/int.err" &
  BGPID=$!
  for _ in $(seq 1 100); do ip netns list | grep -q "^bpflab-bench$(printf '%x' $BGPID)-rx" && break; sleep 0.05; done
  sleep 1.5
  kill -INT $BGPID
  rc=0; wait $BGPID || rc=$?
  BGPID=
  [ "$rc" -eq 1 ]
  json_assert "$(cat "$BATS_TEST_TMPDIR/int.jsonl" | jq -s .)" '.[-1].type == "end" and .[-1].interrupted == true'
  no_bench_ns
}

@test "kill -9 leaves namespaces that the next run removes" {
  "$BPFLAB" bench --section live --rows xdp_native_drop --reps 5 --duration 2 >/dev/null 2>&1 &
  BGPID=$!
  for _ in $(seq 1 100); do ip netns list | grep -q "^bpflab-bench$(printf '%x' $BGPID)-rx" && break; sleep 0.05; done
  sleep 1
  kill -9 $BGPID; wait $BGPID 2>/dev/null || true
  stale=$(printf 'bpflab-bench%x-rx' $BGPID)
  ip netns list | grep -q "^$stale"
  BGPID=
  "$BPFLAB" bench --section live --rows udp_closed --reps 1 --duration 0.2 --json >/dev/null 2>&1
  no_bench_ns
}
