#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab bench: one --quick run checked for structure and sanity (every row measured or
# explained, rates positive, XDP drop cheaper than the stack), not for absolute speed;
# bad arguments; Ctrl-C and kill -9 leave no namespace behind.
load helpers

LIVE_IDS='["xdp_native_drop","xdp_read_drop","count_drop","ping_drop","filter_drop","nft_set_drop","xdp_generic_drop","tc_drop","nft_ingress_drop","nft_raw_drop","iptables_raw_drop","udp_closed","udp_socket","xdp_native_tx","xdp_swap_tx","lb_nat","lb_dsr","syncookie","syncookie_helper","syn_kernel","syn_nft_synproxy","linux_forward","nft_dnat_forward","xdp_forward"]'
# bpflab's own programs in the live section, and the bare row each is compared with
OURS='{"count_drop":"xdp_native_drop","ping_drop":"xdp_native_drop","lb_nat":"xdp_native_tx","lb_dsr":"xdp_native_tx","syncookie":"xdp_native_tx","syncookie_helper":"xdp_native_tx"}'

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
  json_assert "$(all)" '.[-1].type == "end" and .[-1].interrupted == false and .[-1].elapsed < 90'
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
    jq -c 'select(.type == "live" and (.ok | not)) | {name, reason}' < "$RUN" >&2
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

@test "live: every row is also measured paced: the generator held to the rate asked, little lost" {
  json_assert "$(all)" '.[0].paced_load == 0.5 and .[0].pace_loss_tolerance > 0'
  tol=$(jq -s '.[0].pace_loss_tolerance' < "$RUN")
  # Paced, xdp_gen waits for each group's time: what it offered cannot exceed what was
  # asked (unpaced, it offers all it can: 40-80% more than a bpflab row takes).
  json_assert "$(all)" "map(select(.type == \"live\" and .ok)) | all(
    .generator_refused >= 0 and .generator_refused <= 1 and has(\"paced\") and
    (if .paced.ok then
       .paced.ns_per_pkt.median > 0 and .paced.pps.median > 0 and .paced.rate_pps.median > 0 and
       .paced.generator_pps.median <= .paced.rate_pps.median * 1.05 and
       .paced.loss <= $tol and .paced.pps.n >= 2 and .paced.rx_cpu_share > 0 and
       .paced.ns_per_pkt.min <= .paced.ns_per_pkt.median and
       .paced.ns_per_pkt.median <= .paced.ns_per_pkt.max
     else (.paced.reason | length > 0) and (.paced | has(\"ns_per_pkt\") | not) end))"
  # Some row was paced (all of them, on a quiet machine).
  json_assert "$(all)" 'map(select(.type == "live" and .ok and .paced.ok)) | length > 0'
  jq -c 'select(.type == "live" and .ok and (.paced.ok | not)) | {name, r: .paced.reason}' < "$RUN" >&2
  # bpflab's rows compare with their bare rows' paced figures too.
  json_assert "$(all)" "(map(select(.type == \"live\")) | INDEX(.name)) as \$r | $OURS | to_entries |
    all(.key as \$k | .value as \$b |
      if (\$r[\$k].paced.ok // false) and (\$r[\$b].paced.ok // false) then
        ((\$r[\$k].paced.rate_vs_baseline - \$r[\$b].paced.ns_per_pkt.median /
          \$r[\$k].paced.ns_per_pkt.median) | fabs) < 1e-4
      else (\$r[\$k].paced | has(\"rate_vs_baseline\") | not) end)"
}

@test "--load 0: no paced window" {
  out=$("$BPFLAB" bench --section live --rows xdp_native_drop --reps 1 --duration 0.2 --load 0 \
        --json 2>/dev/null)
  json_assert "$(printf '%s\n' "$out" | jq -s .)" '.[0].paced_load == 0 and
    (map(select(.type == "live"))[0] | .ok and (.paced.ok | not) and (.paced.reason | test("--load 0")))'
  no_bench_ns
}

@test "live: bpflab's programs run beside their bare rows, compared within the run" {
  json_assert "$(all)" "(map(select(.type == \"live\")) | INDEX(.name)) as \$r | $OURS | to_entries |
    all(.key as \$k | .value as \$b | \$r[\$k].baseline == \$b and \$r[\$k].xdp_mode == \"native\" and
      (if \$r[\$k].ok and \$r[\$b].ok then
         ((\$r[\$k].rate_vs_baseline - \$r[\$b].ns_per_pkt.median / \$r[\$k].ns_per_pkt.median) | fabs) < 1e-4 and
         ((\$r[\$k].pps_vs_baseline - \$r[\$k].pps.median / \$r[\$b].pps.median) | fabs) < 1e-4
       else (\$r[\$k].ok | not) and (\$r[\$k].reason | length > 0) end))"
  # The bare rows carry no comparison; a row that is not measured carries no figures.
  json_assert "$(all)" 'map(select(.type == "live" and .baseline == null)) | all(has("rate_vs_baseline") | not)'
  json_assert "$(all)" 'map(select(.type == "live" and (.ok | not))) | all(has("pps") or has("ns_per_pkt") | not)'
  # The bpflab rows are set up by their features' bench cases: the same programs measure
  # in the progs section.
  for p in "count --drop" "ping --drop" "lb nat ct hit" "lb dsr ct hit"; do
    json_assert "$(all)" "map(select(.type == \"prog\" and .name == \"$p\")) | length == 1"
  done
}

@test "a live row whose run saw frames its program did not handle as expected is not reported" {
  # lb nat must XDP_TX every frame; pings from the generator's own stack are not for the
  # VIP and pass. The row must say so instead of giving a figure.
  "$BPFLAB" bench --section live --rows lb_nat --reps 3 --duration 1 --json \
    > "$BATS_TEST_TMPDIR/lossy.jsonl" 2>/dev/null &
  BGPID=$!
  gen=$(printf 'bpflab-bench%x-gen' $BGPID)
  for _ in $(seq 1 200); do ip netns list | grep -q "^$gen" && break; sleep 0.05; done
  for _ in $(seq 1 60); do
    ip netns exec "$gen" ping -q -c 5 -i 0.01 -W 0.1 198.18.101.2 >/dev/null 2>&1 || true
    kill -0 $BGPID 2>/dev/null || break
    sleep 0.05
  done
  wait $BGPID || true
  BGPID=
  r=$(jq -c 'select(.type == "live" and .name == "lb_nat")' < "$BATS_TEST_TMPDIR/lossy.jsonl")
  json_assert "$r" '(.ok | not) and (.reason | test("got a verdict other than tx .*pass [1-9]")) and
    (has("pps") | not)'
  no_bench_ns
}

@test "--svg draws a chart a person can read: whole labels, axes with units, ranges, the talk's numbers" {
  if ! command -v rsvg-convert >/dev/null; then
    [ -z "${CI:-}" ] || { echo "rsvg-convert missing (make deps installs librsvg2-bin)" >&2; return 1; }
    skip "needs rsvg-convert (librsvg2-bin)"
  fi
  svg="$BATS_FILE_TMPDIR/bench.svg" png="$BATS_FILE_TMPDIR/bench.png"
  rsvg-convert -o "$png" "$svg"
  [ -s "$png" ]
  run python3 "$BATS_TEST_DIRNAME/bench_chart.py" "$svg" "$png" "$RUN"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "the chart check fails a chart whose label runs off the canvas" {
  command -v rsvg-convert >/dev/null || skip "needs rsvg-convert (librsvg2-bin)"
  svg="$BATS_FILE_TMPDIR/bench.svg" bad="$BATS_TEST_TMPDIR/bad.svg"
  # The same chart, one label moved to start left of the canvas.
  sed '0,/class="label" text-anchor="end"/s/<text x="[0-9.]*" \(y="[0-9.]*" class="label" text-anchor="end"\)/<text x="20" \1/' \
    "$svg" > "$bad"
  ! cmp -s "$svg" "$bad"
  rsvg-convert -o "$BATS_TEST_TMPDIR/bad.png" "$bad"
  run python3 "$BATS_TEST_DIRNAME/bench_chart.py" "$bad" "$BATS_TEST_TMPDIR/bad.png" "$RUN"
  [ "$status" -eq 1 ]
  [[ $output == *"runs off the canvas"* ]]
}

# Another bench running on the machine has namespaces (and NAPI threads) of its own; none
# may belong to a process that is gone.
gone() { ! kill -0 "$((16#$1))" 2>/dev/null; }
no_bench_ns() {
  for id in $(ip netns list | sed -nE 's/^bpflab-bench([0-9a-f]+)-.*/\1/p'); do
    gone "$id" && { echo "namespace of a finished bench left: bpflab-bench$id" >&2; return 1; }
  done
  return 0
}

@test "nothing is left behind: no namespaces, no napi threads" {
  no_bench_ns
  for id in $(ps -eo comm | sed -nE 's/^napi\/b([0-9a-f]+)r-.*/\1/p'); do
    if gone "$id"; then echo "NAPI thread of a finished bench left: $id" >&2; return 1; fi
  done
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
           "--rows xdp_native_drop,nope" "--method fast" "--load 2" "--load x" "extra"; do
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
  # The results so far, then (exit 1 under --json) the error record.
  json_assert "$(jq -s . < "$BATS_TEST_TMPDIR/int.jsonl")" 'map(select(.type == "end")) |
    length == 1 and .[0].interrupted == true'
  json_assert "$(jq -s . < "$BATS_TEST_TMPDIR/int.jsonl")" 'map(select(.type == "live")) | length > 0 and
    all(.ok or .reason == "interrupted" or (.reason | length > 0))'
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
