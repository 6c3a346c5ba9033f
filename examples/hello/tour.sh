#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The hard way, each step of the talk run for real and checked: compile, inspect, load and
# pin, list, attach to lo (of a throwaway network namespace, never the host's), trace_pipe,
# the counter map growing with traffic, detach, unpin, nothing left.
#   usage: tour.sh OUTDIR        (root; `make -C examples/hello tour` calls it)
# Every command is printed with its real output; a failed check exits 1 and the trap
# removes what the tour made. TOUR_FAIL_AT=N fails step N on purpose (tests use it).
set -euo pipefail
cd "$(dirname "$0")"
OUTDIR=$(realpath "${1:?usage: tour.sh OUTDIR}")
OBJ=hello.bpf.o # the tour works in OUTDIR, on a copy of the source, as in the talk
NS="hello$(printf '%x' $$)$(printf '%x' $((RANDOM % 4096)))"
PIN="/sys/fs/bpf/hello_$NS" # bpffs names: no dots
TRACEFS=/sys/kernel/tracing
PINGS=5
stepno=0 checks=0

bold= norm=
if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true); norm=$(tput sgr0 2>/dev/null || true); fi
step() { stepno=$((stepno + 1)); printf '\n%s== %d. %s ==%s\n' "$bold" "$stepno" "$*" "$norm"
	 if [ "${TOUR_FAIL_AT:-}" = "$stepno" ]; then check "TOUR_FAIL_AT=$stepno: failing on purpose" false; fi; }
say() { printf '   %s\n' "$*"; }
# run CMD...: prints the command and its output; the output is kept in $OUT for checks.
run() {
	printf '   $ %s\n' "$*"
	local rc=0
	OUT=$("$@" 2>&1) || rc=$?
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/     /'
	return $rc
}
# runsh 'CMD | FILTER': the same for a pipeline, printed as written.
runsh() {
	printf '   $ %s\n' "$1"
	local rc=0
	OUT=$(bash -c "$1" 2>&1) || rc=$?
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/     /'
	return $rc
}
# check "what it should show" CMD...: CMD's status decides.
check() {
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then
		checks=$((checks + 1)); printf '   ok: %s\n' "$what"
	else
		printf '   FAILED: %s\n' "$what" >&2; exit 1
	fi
}
has() { grep -qE -- "$1" <<<"$OUT"; }
# Commands inside the namespace: nsenter --net moves only the network namespace, so the
# bpffs at /sys/fs/bpf (and our pin) stays visible -- unlike `ip netns exec`.
IN_NS=(nsenter "--net=/run/netns/$NS")
in_ns() { "${IN_NS[@]}" "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${TRACE_PID:-}" ] && kill "$TRACE_PID" 2>/dev/null
	if ip netns list | grep -qw "$NS"; then
		in_ns bpftool net detach xdp dev lo 2>/dev/null || true
		ip netns del "$NS" 2>/dev/null || true
	fi
	rm -f "$PIN"
	rm -f "$OUTDIR/trace.$NS" "$OUTDIR/ping.$NS"
	if [ $rc -ne 0 ]; then echo "tour failed at step $stepno; cleaned up" >&2; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "tour.sh: loading BPF needs root" >&2; exit 4; }
for t in clang llvm-objdump file bpftool nsenter ip ping timeout jq; do
	command -v $t >/dev/null || { echo "tour.sh: missing $t (scripts/deps.sh installs it)" >&2; exit 1; }
done

cp hello.bpf.c "$OUTDIR/"
cd "$OUTDIR"
step "Compile the C program for the BPF target, with BTF (-g)"
run clang -target bpf -g -O2 -I"/usr/include/$(cc -print-multiarch)" -c hello.bpf.c -o $OBJ
check "the object was written" test -s "$OBJ"

step "Check the compiled object"
run file "$OBJ"
check "an ELF relocatable object for eBPF" has 'ELF 64-bit LSB relocatable, eBPF'
run llvm-objdump -S "$OBJ"
check "section xdp holds hello(), source interleaved (-g)" has '<hello>:'
check "bpf_printk is helper call 6 (bpf_trace_printk)" has 'call 6'
check "the counter add is atomic (lock ... +=)" has 'lock \*\(u32 \*\)'
check "returns XDP_PASS (2)" has 'r0 = 2'
run llvm-objdump -h "$OBJ"
check "it carries type information: a .BTF section" has ' \.BTF '
check "and line info for the verifier's log: .BTF.ext" has ' \.BTF\.ext '

step "A throwaway network namespace: its lo is the talk's lo"
run ip netns add "$NS"
run ip -n "$NS" link set lo up
run ip -n "$NS" link show lo
check "lo is up in $NS" has 'LOOPBACK,UP'

step "Load the program and pin it in the BPF filesystem (loaded, not attached yet)"
mountpoint -q /sys/fs/bpf || run mount -t bpf bpf /sys/fs/bpf
run bpftool prog load "$OBJ" "$PIN"
check "pinned at $PIN" test -e "$PIN"

step "List it: bpftool prog list / prog show"
ID=$(bpftool prog show pinned "$PIN" --json | jq -r .id)
say "bpftool prog list shows every program on the machine; here only ours (id $ID):"
runsh "bpftool prog list | grep -A3 '^$ID:'"
check "listed as an xdp program named hello" has "^$ID: xdp  name hello"
check "GPL-compatible, as its license section says" has 'gpl'
run bpftool prog show pinned "$PIN" --pretty
check "type xdp in JSON too" jq -e '.type == "xdp" and .name == "hello"' <<<"$OUT"
MAPS=$(jq -r '.map_ids | join(" ")' <<<"$OUT")
check "it uses maps (the counter's .bss, printk's format in .rodata): $MAPS" test -n "$MAPS"

step "Attach it to lo with bpftool net attach (inside the namespace)"
say "bpftool attaches in the network namespace it runs in. \`ip netns exec\` would give"
say "it a fresh /sys, without our bpffs, so the pinned path is not found there:"
run ip netns exec "$NS" bpftool prog show pinned "$PIN" || true
check "ip netns exec hides /sys/fs/bpf: bpftool fails to open the pin" has 'No such file'
say "nsenter --net changes only the network namespace: the pin stays visible."
say "(\`bpftool net attach xdp id $ID dev lo\` under ip netns exec works too: ids need no bpffs)"
run "${IN_NS[@]}" bpftool net attach xdp pinned "$PIN" dev lo
run "${IN_NS[@]}" bpftool net list
check "bpftool net list: xdp on lo, generic mode (lo has no native XDP), our id" has "lo\\(1\\) generic id $ID"
run ip -n "$NS" link show lo
check "ip link shows prog/xdp id $ID" has "prog/xdp id $ID"

step "Traffic, and what the program prints to trace_pipe"
if [ ! -e "$TRACEFS/trace_pipe" ]; then
	run mount -t tracefs tracefs "$TRACEFS"
fi
# A bounded read: trace_pipe blocks forever otherwise. Lines read here are consumed.
timeout 4 cat "$TRACEFS/trace_pipe" > "$OUTDIR/trace.$NS" 2>/dev/null &
TRACE_PID=$!
sleep 0.3
# In the background only to learn ping's pid (nsenter execs it): trace_pipe may still
# hold older lines nobody read, and only ours carry "<comm>-<pid>". Match the pid only:
# the comm comes from a cache and may still say nsenter.
printf '   $ %s\n' "${IN_NS[*]} ping -c 3 -i 0.2 -W 1 127.0.0.1"
"${IN_NS[@]}" ping -c 3 -i 0.2 -W 1 127.0.0.1 > "$OUTDIR/ping.$NS" 2>&1 &
PING_PID=$!
wait "$PING_PID" || true
OUT=$(cat "$OUTDIR/ping.$NS"); rm -f "$OUTDIR/ping.$NS"
printf '%s\n' "$OUT" | sed 's/^/     /'
check "3 pings answered on lo" has '3 received'
wait "$TRACE_PID" || true
TRACE_PID=
say "\$ timeout 4 cat $TRACEFS/trace_pipe   (the lines of our ping, pid $PING_PID)"
OUT=$(grep -E -- "-$PING_PID +\[" "$OUTDIR/trace.$NS" || true)
printf '%s\n' "$OUT" | sed 's/^/     /'
check "6 \"Packet received N\" lines: 3 requests and 3 replies" \
	test "$(grep -cE 'bpf_trace_printk: Packet received [0-9]+$' <<<"$OUT")" -eq 6

step "The global counter is a map: bpftool map list / map dump"
say "bpftool map list, only our program's maps ($MAPS):"
for m in $MAPS; do run bpftool map show id "$m"; done
BSS=$(for m in $MAPS; do bpftool map show id "$m" --json; done | jq -r 'select(.name == "hello.bss") | .id')
check "one of them is hello.bss, the .bss section of hello.bpf.o" test -n "$BSS"
counter() { bpftool map dump id "$BSS" --json | jq -r '.[0].formatted.value[".bss"][] | select(has("counter")) | .counter'; }
say "(the talk runs \`bpftool map dump name hello.bss\`; by id here, so that two tours at"
say " once cannot show each other's map)"
run bpftool map dump id "$BSS"
check "the dump is typed by BTF: it names counter" has '"counter": [0-9]+'
before=$(counter)
run "${IN_NS[@]}" ping -c $PINGS -i 0.1 -W 1 -q 127.0.0.1
run bpftool map dump id "$BSS"
after=$(counter)
say "counter: $before before, $after after $PINGS pings"
check "counter grew by exactly $((2 * PINGS)): each ping is a request and a reply on lo" \
	test "$((after - before))" -eq $((2 * PINGS))

step "Detach"
run "${IN_NS[@]}" bpftool net detach xdp dev lo
run ip -n "$NS" link show lo
check "no prog/xdp on lo any more" bash -c "! ip -n '$NS' link show lo | grep -q 'prog/xdp'"
run "${IN_NS[@]}" ping -c 2 -i 0.1 -W 1 -q 127.0.0.1
check "the counter stays still without the program" test "$(counter)" -eq "$after"

step "Unload: remove the pin, the last reference"
run rm "$PIN"
gone=0
for _ in $(seq 1 40); do # the kernel frees the program after an RCU grace period
	bpftool prog show id "$ID" >/dev/null 2>&1 || { gone=1; break; }
	sleep 0.05
done
check "program $ID is gone" test $gone -eq 1
gone=0
for _ in $(seq 1 40); do # and its maps once the program released them
	left=0
	for m in $MAPS; do bpftool map show id "$m" >/dev/null 2>&1 && left=1; done
	[ $left -eq 0 ] && { gone=1; break; }
	sleep 0.05
done
check "its maps ($MAPS) are gone" test $gone -eq 1
run ip netns del "$NS"
check "namespace $NS removed" bash -c "! ip netns list | grep -qw '$NS'"
check "nothing pinned left" test ! -e "$PIN"

printf '\n%stour passed: %d steps, %d checks%s\n' "$bold" "$stepno" "$checks" "$norm"
