#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab exec end to end: known argv seen exactly once, failures with their errno,
# execveat, filters, an exec storm whose loss is counted exactly, --printk.
# Exec tracing is machine-wide: every assertion selects this file's own processes, by
# a uniquely named binary (-n), by its arguments (-l) or by a cgroup made here (-c).
load helpers

setup_file() {
  require_bpf
  # World-readable, so a process running as another uid (for -u) can exec from it.
  HXDIR=$(mktemp -d /tmp/bpflab-exec-XXXXXX)
  chmod 755 "$HXDIR"
  cc -O2 -o "$HXDIR/hx" "$BATS_TEST_DIRNAME/helper_exec.c"
  # Unique command names (comm is at most 15 characters).
  TNAME="xt$(printf '%x' $$)$RANDOM"; TNAME=${TNAME:0:15}
  cp /bin/true "$HXDIR/$TNAME"
  printf 'not a program\n' > "$HXDIR/noexec"
  chmod 644 "$HXDIR/noexec"
  CG=/sys/fs/cgroup/unified/bpflab-exec-$$
  [ -d /sys/fs/cgroup/unified ] || CG=/sys/fs/cgroup/bpflab-exec-$$
  mkdir "$CG"
  export HXDIR TNAME CG
}

teardown_file() {
  rm -rf "$HXDIR"
  rmdir "$CG" 2>/dev/null || true
}

setup() {
  require_bpf
  T="$HXDIR/$TNAME"
  OUTF="$BATS_TEST_TMPDIR/exec.json"
  ERRF="$BATS_TEST_TMPDIR/exec.err"
  TPID= NS=
}

teardown() {
  [ -n "$TPID" ] && kill -9 "$TPID" 2>/dev/null || true
  [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null || true
}

# Starts a tracer in the background with --json plus the given options.
tracer() {
  "$BPFLAB" exec --json "$@" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF"
}

# Ctrl-C: the tracer drains its ring buffer and writes the summary.
stop_tracer() {
  kill -INT "$TPID"
  wait "$TPID"
  TPID=
  grep -q '"type":"summary"' "$OUTF"
}

events() { grep '"type":"exec"' "$OUTF" || true; }
# Ids of loaded exec programs (other tracers may run too: compare sets, not emptiness).
exec_prog_ids() { bpftool -j prog show | jq -r '.[] | select(.name == "exec_exit_execve") | .id' | sort; }
nevents() { events | wc -l; }

# Runs a command inside this file's cgroup: the shell moves itself, then execs it.
in_cg() {
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

@test "known arguments: spaces, quotes, empty, escapes, non-UTF-8 — once, exactly" {
  tracer -n "^$TNAME\$"
  "$T" 'a b' '' 'say "hi"' $'\e[31mred' $'\xff\xfe' 'ünï' "it's"
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  e=$(events)
  json_assert "$e" ".comm == \"$TNAME\" and .filename == \"$T\" and .syscall == \"execve\""
  json_assert "$e" '.retval == 0 and .error == null and .uid == 0 and .argc == 8'
  json_assert "$e" ".args == [\"$T\", \"a b\", \"\", \"say \\\"hi\\\"\", \"\\u001b[31mred\", \"\\\\xff\\\\xfe\", \"ünï\", \"it's\"]"
  json_assert "$e" ".args_truncated == false and .ppid == $BASHPID and .pcomm == \"bash\""
}

@test "terminal output escapes control characters and bytes that are not UTF-8" {
  "$BPFLAB" exec -n "^$TNAME\$" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF" "ARGS"
  "$T" $'\e[2J\e]0;title\a' $'\xff' 'back\slash'
  "$T" 'q"uote' 'two words'
  kill -INT "$TPID"; wait "$TPID"; TPID=
  ! grep -q $'\e' "$OUTF"
  ! grep -q $'\a' "$OUTF"
  grep -qF "$T \\x1b[2J\\x1b]0;title\\x07 \\xff back\\\\slash" "$OUTF"
  grep -qF "$T q\"uote two words" "$OUTF"
  [ "$(grep -c "$TNAME" "$OUTF")" -eq 2 ]
}

@test "-q puts every argument in quotes, escaping inner quotes" {
  "$BPFLAB" exec -q -n "^$TNAME\$" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF" "ARGS"
  "$T" 'q"uote' '' 'two words'
  kill -INT "$TPID"; wait "$TPID"; TPID=
  grep -qF "\"$T\" \"q\\\"uote\" \"\" \"two words\"" "$OUTF"
}

@test "0 arguments: the kernel hands the program one empty argv[0]; a failure shows none" {
  tracer -l '^$'
  "$HXDIR/hx" noargs "$T"
  run "$HXDIR/hx" noargs "$HXDIR/missing-$TNAME"
  [ "$status" -eq 127 ]
  stop_tracer
  ok=$(events | jq -c "select(.filename == \"$T\")")
  [ "$(echo "$ok" | wc -l)" -eq 1 ]
  # Since Linux 5.18 an empty argv becomes {""} so argv[0] is never NULL.
  json_assert "$ok" '.retval == 0 and .argc == 1 and .args == [""] and .args_truncated == false'
  bad=$(events | jq -c "select(.filename == \"$HXDIR/missing-$TNAME\")")
  [ "$(echo "$bad" | wc -l)" -eq 1 ]
  json_assert "$bad" '.retval == -2 and .error == "ENOENT" and .argc == 0 and .args == []'
}

@test "a freshly forked child exec'ing string literals: filename and arguments seen" {
  tracer -l '^fresh-literal-a fresh-literal-b$'
  "$HXDIR/hx" fresh "$T"
  "$HXDIR/hx" fresh missing
  stop_tracer
  [ "$(nevents)" -eq 2 ]
  json_assert "$(events | jq -sc .)" "map(.filename) == [\"$T\", \"/nonexistent/fresh-literal-path\"] and map(.retval) == [0, -2]"
  json_assert "$(events | jq -sc .)" 'all(.[]; .args_truncated == false and .args_unreadable == false and .filename_unreadable == false)'
}

@test "100 arguments: 20 shown with the truncation marked; all with --max-args 100" {
  args=(); for i in $(seq 1 99); do args+=("arg$i"); done
  "$BPFLAB" exec --json --max-args 100 -n "^$TNAME\$" > "$BATS_TEST_TMPDIR/all.json" 2>/dev/null &
  P2=$!
  wait_for_line "$BATS_TEST_TMPDIR/all.json"
  tracer -n "^$TNAME\$"
  "$T" "${args[@]}"
  # the same through the failure path, which reads argv pointer by pointer
  "$HXDIR/hx" argv "$HXDIR/gone/$TNAME" "$TNAME" "${args[@]}" 2>/dev/null || true
  stop_tracer
  kill -INT "$P2"; wait "$P2"
  want20=$(printf '%s\n' "$T" "${args[@]:0:19}" | jq -R . | jq -sc .)
  want100=$(printf '%s\n' "$T" "${args[@]}" | jq -R . | jq -sc .)
  [ "$(nevents)" -eq 2 ]
  ok=$(events | jq -c 'select(.retval == 0)')
  json_assert "$ok" ".argc == 100 and .args_truncated == true and .args == $want20"
  bad=$(events | jq -c 'select(.retval != 0)')
  json_assert "$bad" ".error == \"ENOENT\" and .args_truncated == true and (.args | length) == 20"
  json_assert "$bad" ".args[0] == \"$TNAME\" and .args[1:] == ($want20 | .[1:])"
  all=$(grep '"type":"exec"' "$BATS_TEST_TMPDIR/all.json")
  [ "$(echo "$all" | wc -l)" -eq 2 ]
  json_assert "$(echo "$all" | jq -c 'select(.retval == 0)')" ".argc == 100 and .args_truncated == false and .args == $want100"
  json_assert "$(echo "$all" | jq -c 'select(.retval != 0)')" ".argc == 100 and .args_truncated == false and (.args | length) == 100 and .args[99] == \"arg99\""
}

@test "a 10000-byte argument is cut where the 8 KiB buffer ends, and marked" {
  long=$(head -c 10000 /dev/zero | tr '\0' 'a')
  tracer -n "^$TNAME\$"
  "$T" "$long" tail
  "$HXDIR/hx" argv "$HXDIR/gone/$TNAME" "$T" "$long" tail 2>/dev/null || true
  stop_tracer
  [ "$(nevents)" -eq 2 ]
  # 8192 bytes: argv[0] and its NUL, then as much of the long one as fits
  keep=$((8192 - ${#T} - 1))
  for sel in '.retval == 0' '.retval != 0'; do
    e=$(events | jq -c "select($sel)")
    json_assert "$e" ".args_truncated == true and (.args | length) == 2 and .args[0] == \"$T\""
    json_assert "$e" ".args[1] == (\"a\" * $keep)"
  done
  json_assert "$(events | jq -c 'select(.retval == 0)')" '.argc == 3'
}

@test "-x shows only failures, each with its -errno (missing file, not executable)" {
  tracer -x -c "$CG"
  in_cg "$HXDIR/hx" argv "$HXDIR/no-such-file" a1 || true
  in_cg "$HXDIR/hx" argv "$HXDIR/noexec" a2 || true
  in_cg "$HXDIR/hx" argv "$HXDIR" a3 || true
  in_cg "$T" ok
  stop_tracer
  [ "$(nevents)" -eq 3 ]
  json_assert "$(events | jq -sc .)" 'map(.retval) == [-2, -13, -13] and map(.error) == ["ENOENT", "EACCES", "EACCES"]'
  json_assert "$(events | jq -sc .)" "map(.filename) == [\"$HXDIR/no-such-file\", \"$HXDIR/noexec\", \"$HXDIR\"] and map(.args) == [[\"a1\"], [\"a2\"], [\"a3\"]]"
  json_assert "$(events | jq -sc .)" "all(.[]; .comm == \"hx\" and .syscall == \"execve\")"
}

@test "execveat (fexecve) is seen, with its arguments" {
  tracer -l "^$TNAME-at one\$"
  "$HXDIR/hx" fexec "$T" "$TNAME-at" one
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  e=$(events)
  json_assert "$e" '.syscall == "execveat" and .retval == 0 and (.filename | startswith("/dev/fd/"))'
  json_assert "$e" ".args == [\"$TNAME-at\", \"one\"] and .argc == 2"
  # and a failing execveat, whose filename is the empty AT_EMPTY_PATH string
  tracer -x -l "^$TNAME-bad\$"
  run "$HXDIR/hx" fexec "$HXDIR/noexec" "$TNAME-bad"
  [ "$status" -eq 127 ]
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" '.syscall == "execveat" and .error == "EACCES" and .filename == ""'
}

@test "storm: 20000 execs into a 4 KiB ring — events + lost == execs, loss reported" {
  tracer -c "$CG" --ringbuf-size 4096
  in_cg "$HXDIR/hx" fail 20000 "$HXDIR/no-such-file" > /dev/null
  stop_tracer
  s=$(grep '"type":"summary"' "$OUTF")
  # the 20000 failures, and the exec of hx itself inside the cgroup
  json_assert "$s" '.lost > 0 and .events + .lost == 20001'
  [ "$(nevents)" -eq "$(echo "$s" | jq .events)" ]
  # reported while running, not only at exit
  grep -q '"type":"lost"' "$OUTF"
  grep -q 'events lost so far' "$ERRF"
  [ "$(grep '"type":"lost"' "$OUTF" | tail -1 | jq .lost)" -eq "$(echo "$s" | jq .lost)" ]
}

@test "default ring, 1000 fork+execs at full speed: nothing lost" {
  tracer -c "$CG"
  in_cg "$HXDIR/hx" forks 1000 "$T" > /dev/null
  stop_tracer
  s=$(grep '"type":"summary"' "$OUTF")
  json_assert "$s" '.lost == 0 and .events == 1001'
  [ "$(events | jq -c "select(.filename == \"$T\" and .args == [\"$T\"] and .retval == 0)" | wc -l)" -eq 1000 ]
  ! grep -q '"type":"lost"' "$OUTF"
}

@test "-u UID selects exactly that user's execs" {
  tracer -u 4242 -n "^$TNAME\$"
  "$T" as-root
  setpriv --reuid 4242 --regid 4242 --clear-groups "$T" as-4242
  "$T" as-root-again
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" ".uid == 4242 and .args == [\"$T\", \"as-4242\"]"
}

@test "-n matches the command name, -l the joined arguments (not the name)" {
  cp /bin/true "$HXDIR/other$TNAME"
  tracer -n "^$TNAME\$"
  "$T" one; "$HXDIR/other$TNAME" two
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" ".args == [\"$T\", \"one\"]"

  # argv[0] is "zzz": the name $TNAME is not in the arguments, so -l must not match it
  # (the exec of hx itself matches: its arguments hold the path)
  tracer -l "$TNAME"
  "$HXDIR/hx" argv "$T" zzz qqq
  "$T" "x$TNAME"
  stop_tracer
  [ "$(nevents)" -eq 2 ]
  json_assert "$(events | jq -sc .)" "map(.comm) == [\"hx\", \"$TNAME\"] and .[1].args == [\"$T\", \"x$TNAME\"]"

  tracer -l '^zzz q+$'
  "$HXDIR/hx" argv "$T" zzz qqq
  "$HXDIR/hx" argv "$T" zzz qqq rrr
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" ".args == [\"zzz\", \"qqq\"] and .comm == \"$TNAME\""
}

@test "-c CGROUP selects processes in the cgroup, and only them" {
  tracer -c "$CG"
  "$T" outside
  in_cg "$T" inside
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" ".args == [\"$T\", \"inside\"]"
}

@test "bpflab --netns NS exec selects processes in that network namespace" {
  NS="bx$(printf '%x' $$)$RANDOM"
  ip netns add "$NS"
  run_in_ns() { ip netns exec "$NS" "$@"; }
  "$BPFLAB" --netns "$NS" exec --json -n "^$TNAME\$" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF"
  "$T" outside
  run_in_ns "$T" inside
  kill -INT "$TPID"; wait "$TPID"; TPID=
  json_assert "$(head -1 "$OUTF")" ".netns == \"$NS\""
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" ".args == [\"$T\", \"inside\"]"
}

@test "-v names the hooks; the attached record says which were used" {
  run "$BPFLAB" -v exec -d 0.2
  [ "$status" -eq 0 ]
  [[ $output == *"hooks: tracepoint syscalls:sys_exit_execve{,at} (failures) + tp_btf sched_process_exec (successes)"* ]]
  run "$BPFLAB" exec --json -d 0.2 -n "^$TNAME\$"
  [ "$status" -eq 0 ]
  json_assert "$(echo "$output" | head -1)" '.type == "attached" and .syscall_hook == "tracepoint" and .exec_hook == "tp_btf" and .ringbuf_size == 4194304 and .max_args == 20'
  json_assert "$(echo "$output" | tail -1)" '.type == "summary" and .lost == 0 and .shown == 0'
}

@test "the raw_tp fallback (no tracefs needed) sees successes and failures too" {
  BPFLAB_EXEC_HOOKS=raw_tp tracer -n "^$TNAME\$"
  "$T" raw one
  "$HXDIR/hx" argv "$HXDIR/gone/$TNAME" "$TNAME" raw two 2>/dev/null || true
  "$HXDIR/hx" fexec "$HXDIR/noexec" "$TNAME" 2>/dev/null || true
  stop_tracer
  json_assert "$(head -1 "$OUTF")" '.syscall_hook == "raw_tp" and .exec_hook == "raw_tp"'
  [ "$(nevents)" -eq 2 ]
  json_assert "$(events | jq -sc .)" "map(.retval) == [0, -2] and map(.args) == [[\"$T\", \"raw\", \"one\"], [\"$TNAME\", \"raw\", \"two\"]]"
  # the execveat failure: its name is the file's (noexec), so -n leaves it out; -l finds it
  BPFLAB_EXEC_HOOKS=raw_tp tracer -x -l "^$TNAME-raw\$"
  "$HXDIR/hx" fexec "$HXDIR/noexec" "$TNAME-raw" 2>/dev/null || true
  stop_tracer
  [ "$(nevents)" -eq 1 ]
  json_assert "$(events)" '.syscall == "execveat" and .error == "EACCES"'
}

@test "--printk: the talk's Hello, exec! lines, read from trace_pipe" {
  "$BPFLAB" exec --printk --json > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF"
  # Each run is two execves by one pid: bash's exec of hx, then hx's exec of true.
  # (trace_pipe names tasks from a comm cache that can be stale: match on the pid.)
  pids=()
  for i in 1 2 3; do
    "$HXDIR/hx" argv /bin/true true & pids+=($!); wait $!
  done
  for i in $(seq 1 40); do
    [ "$(grep -c "\"pid\":${pids[2]}," "$OUTF")" -ge 2 ] && break
    sleep 0.05
  done
  kill -INT "$TPID"; wait "$TPID"; TPID=
  for p in "${pids[@]}"; do
    mine=$(grep "\"pid\":$p," "$OUTF")
    [ "$(echo "$mine" | wc -l)" -eq 2 ]
    json_assert "$(echo "$mine" | jq -sc .)" 'all(.[]; .type == "printk" and .message == "Hello, exec!" and .cpu >= 0)'
  done
}

@test "--printk shows only its own lines: other programs' and trace_marker's are skipped" {
  TFS=/sys/kernel/tracing
  [ -w "$TFS/trace_marker" ] || TFS=/sys/kernel/debug/tracing
  "$BPFLAB" exec --printk --json > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_for_line "$OUTF"
  # One process: its own execve (a real line of ours), then two lines that only look like
  # bpf_trace_printk ones, one of them even with our message.
  sh -c 'echo "bpf_trace_printk: Hello, exec!" > "$0/trace_marker"
         echo "bpf_trace_printk: Packet received" > "$0/trace_marker"' "$TFS" &
  p=$!; wait $p
  for i in $(seq 1 40); do grep -q "\"pid\":$p," "$OUTF" && break; sleep 0.05; done
  sleep 0.3
  kill -INT "$TPID"; wait "$TPID"; TPID=
  [ "$(grep -c "\"pid\":$p," "$OUTF")" -eq 1 ]
  ! grep -q 'Packet received' "$OUTF"
  json_assert "$(grep '"type":"printk"' "$OUTF" | jq -sc .)" 'all(.[]; .message == "Hello, exec!")'
  grep -q "lines of other programs are skipped" "$ERRF" || grep -q '"type":"attached"' "$OUTF"
}

@test "--ringbuf-size takes what its message says: up to 1G, K/M/G suffixes" {
  run "$BPFLAB" exec --ringbuf-size 1G --json -d 0.1 -n "^$TNAME\$"
  [ "$status" -eq 0 ]
  json_assert "$(head -1 <<<"$output")" '.type == "attached" and .ringbuf_size == 1073741824'
  run "$BPFLAB" exec --ringbuf-size 64K --json -d 0.1 -n "^$TNAME\$"
  [ "$status" -eq 0 ]
  json_assert "$(head -1 <<<"$output")" '.ringbuf_size == 65536'
  run "$BPFLAB" exec --ringbuf-size 2G -d 0.1
  [ "$status" -eq 2 ]
  [[ $output == *"from 4096 to 1G"* ]]
}

@test "--help says what it probed, not what it assumed (no 'this kernel has no kprobes')" {
  run "$BPFLAB" exec --help
  [ "$status" -eq 0 ]
  [[ $output != *"this kernel has no kprobes"* ]]
  [[ $output == *"bpflab doctor"* ]]
  # What it says of this kernel is probed, and is what the doctor says.
  kp=$("$BPFLAB" doctor --json 2>/dev/null | jq -r .features.kprobe.status)
  [[ $output == *"Here (probed now): "*"kprobes: $kp."* ]]
}

@test "bad input is refused with exit 2 and attaches nothing" {
  for a in "--max-args 0" "--max-args 1025" "--ringbuf-size 5000" "--ringbuf-size 2K" \
           "-u nosuchuser_xyz" "-n (" "-d -1" "extra" "--printk -x"; do
    run "$BPFLAB" exec $a
    [ "$status" -eq 2 ] || { echo "$a -> $status: $output"; return 1; }
    [[ $output == *"bpflab exec"* ]]
  done
  before=$(exec_prog_ids)
  run "$BPFLAB" exec -c /tmp -d 0.1
  [ "$status" -eq 2 ]
  [[ $output == *"not a cgroup v2 directory"* ]]
  [ "$(exec_prog_ids)" = "$before" ]
}

@test "kill -9 leaves no program attached; hello is the same command" {
  before=$(exec_prog_ids)
  tracer
  mine=$(comm -13 <(echo "$before") <(exec_prog_ids))
  [ "$(echo "$mine" | grep -c .)" -eq 1 ]
  kill -9 "$TPID"; wait "$TPID" || true; TPID=
  for i in $(seq 1 50); do exec_prog_ids | grep -qx "$mine" || break; sleep 0.1; done
  ! exec_prog_ids | grep -qx "$mine"
  run "$BPFLAB" hello --help
  [ "$status" -eq 0 ]
  [[ $output == *"usage: bpflab exec"* ]]
}
