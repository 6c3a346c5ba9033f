#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Exec tracing cost: the same exec workloads with no tracer, with `bpflab exec` and with
# bpftrace printing the same fields (execsnoop.bt's way), as ratios inside one run; then
# the highest exec rate the default ring buffer takes with nothing lost.
# Two workloads: N fork+exec of /bin/true (real work, ~0.8 ms each) and M execve() of a
# missing file in a loop (~1.5 µs each: the tracer's cost is most of what is measured).
# Output: JSON Lines on stdout, a short summary on stderr.
#   bench/exec.sh [--quick]       (OUT=.output-foo to use another build)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-.output}
BPFLAB="$PWD/$OUT/bpflab"
quick=${BENCH_QUICK:-}
[ "${1:-}" = --quick ] && quick=1
if [ -n "$quick" ]; then NFORK=300 NFAIL=30000 REPS=1; else NFORK=1000 NFAIL=100000 REPS=5; fi
# The workload runs on CPU 0 (where the BPF programs then run too); the tracers' readers
# are left to the scheduler, as in real use (pinned, they starve whenever something else
# holds their CPU).
last_cpu=$(( $(nproc) - 1 ))
on_work() { taskset -c 0 "$@"; }

[ -x "$BPFLAB" ] || { echo "bench/exec.sh: build first ($BPFLAB missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/exec.sh: needs root" >&2; exit 4; }
have_bpftrace=1
command -v bpftrace >/dev/null || have_bpftrace=0

tmp=$(mktemp -d /tmp/bpflab-bench-exec-XXXXXX)
tracer_pid=
cleanup() {
  if [ -n "$tracer_pid" ]; then
    kill -INT "$tracer_pid" 2>/dev/null || true
    wait "$tracer_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cc -O2 -o "$tmp/hx" tests/e2e/helper_exec.c

wait_file() { # file pattern
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/exec.sh: tracer did not start:" >&2; cat "$1" >&2; return 1
}

start_tracer() { # none | bpflab | bpftrace  [bpflab's ring buffer size]
  : > "$tmp/err"
  case $1 in
  none) ;;
  bpflab)
    # --duration: a safety net, so that no tracer outlives a killed benchmark for long.
    # A 64 MiB ring holds a whole burst of the failing-exec workload even when the reader
    # gets no CPU for a while (a shared 2-core machine): the cost measured is tracing,
    # not loss. The default ring's limit is measured on its own below (exec_rate).
    "$BPFLAB" exec --ringbuf-size "${2:-64M}" --duration 600 > /dev/null 2> "$tmp/err" &
    tracer_pid=$!
    wait_file "$tmp/err" Tracing ;;
  bpftrace)
    # Its output goes through a FIFO to a reader that waits for READY, then discards.
    rm -f "$tmp/fifo"; mkfifo "$tmp/fifo"
    { while read -r l; do echo "$l" >> "$tmp/err"; [ "$l" = READY ] && break; done
      exec cat > /dev/null; } < "$tmp/fifo" &
    timeout -s INT 600 bpftrace -B line -e '
      BEGIN { printf("READY\n"); }
      tracepoint:syscalls:sys_enter_execve, tracepoint:syscalls:sys_enter_execveat {
        printf("%d %d %d %s ", uid, pid, curtask->real_parent->tgid, comm); join(args->argv);
      }
      tracepoint:syscalls:sys_exit_execve, tracepoint:syscalls:sys_exit_execveat {
        printf("%d ret %d\n", pid, args->ret);
      }' > "$tmp/fifo" 2> /dev/null &
    tracer_pid=$!
    wait_file "$tmp/err" READY ;;
  esac
}

# Stops the tracer; sets LOST to the events it lost (bpflab's summary; 0 for the others).
stop_tracer() {
  LOST=0
  [ -z "$tracer_pid" ] && return
  kill -INT "$tracer_pid"
  wait "$tracer_pid" 2>/dev/null || true
  tracer_pid=
  wait 2>/dev/null || true # the FIFO reader
  if [ "$1" = bpflab ]; then
    LOST=$(sed -n 's/.* shown, \([0-9]*\) lost.*/\1/p' "$tmp/err" | tail -1)
    [ -n "$LOST" ] || { echo "bench/exec.sh: no summary from bpflab:" >&2; cat "$tmp/err" >&2; exit 1; }
  fi
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minmax() { tr ' ' '\n' | grep . | sort -g | sed -n '1p;$p' | paste -sd' '; }

declare -A t
tracers="none bpflab"
[ $have_bpftrace = 1 ] && tracers="$tracers bpftrace"
for rep in $(seq 1 "$REPS"); do
  for tr in $tracers; do
    start_tracer "$tr"
    f=$(on_work "$tmp/hx" forks "$NFORK" /bin/true)
    x=$(on_work "$tmp/hx" fail "$NFAIL" "$tmp/no-such-file")
    stop_tracer "$tr"
    t[$tr,fork]+="$(awk -v s="$f" -v n="$NFORK" 'BEGIN {printf "%.3f", s / n * 1e6}') "
    t[$tr,fail]+="$(awk -v s="$x" -v n="$NFAIL" 'BEGIN {printf "%.4f", s / n * 1e6}') "
    t[$tr,lost]+="$LOST "
  done
done

summary=()
for w in fork fail; do
  base=$(echo "${t[none,$w]}" | median)
  for tr in $tracers; do
    med=$(echo "${t[$tr,$w]}" | median)
    read -r mn mx < <(echo "${t[$tr,$w]}" | minmax)
    ratio=$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.3f", a / b}')
    added=$(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.3f", a - b}')
    lost=$(echo "${t[$tr,lost]}" | tr ' ' '\n' | awk '{s+=$1} END {print s+0}')
    # A tracer that lost events did less work than its row claims: the row says so and
    # carries no result (one tracer run covers both workloads, so a loss taints both).
    jq -cn --arg w "$([ $w = fork ] && echo fork_exec_true || echo failed_execve)" --arg tr "$tr" \
      --argjson n "$([ $w = fork ] && echo "$NFORK" || echo "$NFAIL")" --argjson reps "$REPS" \
      --argjson med "$med" --argjson mn "$mn" --argjson mx "$mx" --argjson ratio "$ratio" \
      --argjson added "$added" --argjson lost "$lost" \
      'if $lost > 0 then
         {type: "exec_cost", workload: $w, tracer: $tr, n: $n, reps: $reps, ok: false,
          reason: "\($lost) events lost: not a result", us_per_exec: null, ratio: null,
          added_us: null, lost: $lost}
       else
         {type: "exec_cost", workload: $w, tracer: $tr, n: $n, reps: $reps, ok: true,
          us_per_exec: {median: $med, min: $mn, max: $mx}, ratio: $ratio, added_us: $added,
          lost: $lost}
       end'
    if [ "$lost" -gt 0 ]; then
      summary+=("$(printf '  %-14s %-9s not measured: %s events lost' \
        "$([ $w = fork ] && echo fork+exec || echo failed-exec)" "$tr" "$lost")")
    else
      summary+=("$(printf '  %-14s %-9s %9.3f us/exec  x%-6s (+%s us)' \
        "$([ $w = fork ] && echo fork+exec || echo failed-exec)" "$tr" "$med" "$ratio" "$added")")
    fi
  done
done

# Highest rate with nothing lost on the default ring: failing execs as fast as one CPU
# can make them, then as fast as both can (the reader then competes with them for CPU).
rates=()
best=0
for par in 1 2; do
  start_tracer bpflab 4M
  gens=()
  for i in $(seq 1 $par); do
    taskset -c $(( (i - 1) % (last_cpu + 1) )) "$tmp/hx" fail "$NFAIL" "$tmp/no-such-file" > "$tmp/gen$i" &
    gens+=($!)
  done
  wait "${gens[@]}"
  stop_tracer bpflab
  lost=$LOST
  # the generators ran side by side: the slowest one's time is the run's
  rate=$(cat "$tmp"/gen* | sort -g | tail -1 | awk -v n=$((NFAIL * par)) '{printf "%.0f", n / $1}')
  rm -f "$tmp"/gen*
  jq -cn --argjson par "$par" --argjson execs $((NFAIL * par)) --argjson rate "$rate" \
    --argjson lost "${lost:-0}" '{type: "exec_rate", workload: "failed_execve", generators: $par,
      execs: $execs, execs_per_s: $rate, lost: $lost, ringbuf_size: 4194304}'
  rates+=("$(printf '  %d generator(s): %s execs/s, lost %s' "$par" "$rate" "${lost:-0}")")
  [ "${lost:-0}" -eq 0 ] && [ "$rate" -gt "$best" ] && best=$rate
done
jq -cn --argjson best "$best" '{type: "exec_max_lossless_rate", execs_per_s: $best, ringbuf_size: 4194304}'
rates+=("  highest rate seen with nothing lost: $best execs/s")

{
  echo "exec tracing cost (median of $REPS; ratio to no tracer):"
  printf '%s\n' "${summary[@]}"
  echo "default 4 MiB ring at full speed:"
  printf '%s\n' "${rates[@]}"
} >&2
