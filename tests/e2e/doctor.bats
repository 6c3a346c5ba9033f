#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab doctor against independent oracles: what the kernel really does, checked with
# other tools (iproute2 loading an object, a separate C loader, sysfs/procfs), so a doctor
# that misreports fails here. Also: valid JSON, fast, nothing left behind.
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
  [ "$(id -u)" -eq 0 ] || return 0
  local d=$BATS_FILE_TMPDIR
  # The doctor once for the whole file; -v also says which throwaway netns it used.
  "$BPFLAB" -v doctor --json > "$d/doctor.json" 2> "$d/doctor.err"
  echo $? > "$d/doctor.rc"
  # Oracle 1: a tiny XDP + TC object that iproute2 loads with its own libbpf.
  cat > "$d/oracle.bpf.c" <<'EOF'
#include <linux/bpf.h>
#define SEC(n) __attribute__((section(n), used))
SEC("xdp") int oracle_xdp(void *ctx) { return XDP_PASS; }
SEC("tc") int oracle_tc(void *ctx) { return 0; }
char _license[] SEC("license") = "GPL";
EOF
  clang -O2 -g -target bpf -I"/usr/include/$(cc -print-multiarch)" -c "$d/oracle.bpf.c" -o "$d/oracle.bpf.o"
  # Oracle 2: a separate loader for trampoline programs; prints "ok" or the errno name.
  cat > "$d/tramp.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
int main(int argc, char **argv) /* TYPE ATTACH_TYPE FUNC */
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, argv[3], BTF_KIND_FUNC) : -1;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = atoi(argv[2]), .attach_btf_id = id);
	int fd = bpf_prog_load(atoi(argv[1]), "oracle", "GPL", insns, 2, &o);
	printf("%s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
	return 0;
}
EOF
  cc -o "$d/tramp" "$d/tramp.c" -lbpf
}

setup() {
  require_bpf
  D=$BATS_FILE_TMPDIR
  J=$(cat "$D/doctor.json")
  NS=""
}

teardown() {
  [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null || true
}

feature() { # name -> its JSON object
  printf '%s\n' "$J" | jq -c ".features.$1"
}

@test "doctor --json: one valid JSON object, exit 0, every feature and command, under 3 s" {
  [ "$(cat "$D/doctor.rc")" -eq 0 ]
  [ "$(wc -l < "$D/doctor.json")" -eq 1 ]
  json_assert "$J" '.type == "doctor" and (.kernel | length > 0) and .elapsed < 3'
  json_assert "$J" '.features | length == 25 and all(.[]; .status | IN("ok","missing","refused","unknown"))'
  json_assert "$J" '.features | all(.[]; .status != "unknown")'
  json_assert "$J" '.commands | keys == (["bench","count","exec","filter","lab","lb","ping","trace","verify"])'
  json_assert "$J" '.commands | all(.[]; .status | IN("works","fallback","unavailable"))'
  local t0 t1
  t0=$(date +%s%N)
  run "$BPFLAB" doctor --json
  t1=$(date +%s%N)
  [ "$status" -eq 0 ]
  [ $(( (t1 - t0) / 1000000 )) -lt 3000 ]
}

@test "kprobe: matches the kernel (no kprobe PMU, no kprobe_events, no register_kprobe)" {
  local pmu=0 events=0 sym=0
  [ -e /sys/bus/event_source/devices/kprobe ] && pmu=1
  # tracefs may be unmounted: look in a private mount namespace, changing nothing.
  unshare -m sh -c 'mount --make-rprivate / && { mountpoint -q /sys/kernel/tracing ||
    mount -t tracefs none /sys/kernel/tracing; } && test -e /sys/kernel/tracing/kprobe_events' && events=1
  grep -qE ' register_kprobe$' /proc/kallsyms && sym=1
  if [ $pmu -eq 0 ] && [ $events -eq 0 ] && [ $sym -eq 0 ]; then
    json_assert "$(feature kprobe)" '.status == "missing"'
    json_assert "$(feature kprobe)" '.detail == "no kprobe support in this kernel (CONFIG_KPROBES is off)"'
    if [ -r /proc/config.gz ]; then zgrep -q '^# CONFIG_KPROBES is not set' /proc/config.gz; fi
  elif [ $pmu -eq 1 ]; then
    json_assert "$(feature kprobe)" '.status == "ok"'
  else
    json_assert "$(feature kprobe)" '.status != "ok" or (.detail | test("kprobe_events"))'
  fi
}

@test "fentry, fexit, lsm: match an independent loader (EPERM here)" {
  local f fex lsm
  # BPF_PROG_TYPE_TRACING=26, BPF_TRACE_FENTRY=24, BPF_TRACE_FEXIT=25; LSM=29, BPF_LSM_MAC=27
  f=$("$D/tramp" 26 24 bpf_fentry_test1)
  fex=$("$D/tramp" 26 25 bpf_fentry_test1)
  lsm=$("$D/tramp" 29 27 bpf_lsm_file_open)
  check() { # feature oracle-result
    if [ "$2" = ok ]; then
      json_assert "$(feature "$1")" '.status == "ok" or (.detail | test("loads, but attach"))'
    elif [ "$2" = EPERM ] || [ "$2" = EACCES ]; then
      json_assert "$(feature "$1")" ".status == \"refused\" and .errno_name == \"$2\""
      json_assert "$(feature "$1")" ".detail | test(\"refused with $2\")"
      json_assert "$(feature "$1")" '.hint | test("lockdown")'
    else
      json_assert "$(feature "$1")" ".status != \"ok\" and .errno_name == \"$2\""
    fi
  }
  check fentry "$f"
  check fexit "$fex"
  check lsm "$lsm"
  # What the brief says this machine does; the oracle above is what decides elsewhere.
  [ "$f" = EPERM ]
}

@test "XDP native, XDP generic and TC clsact: match iproute2 loading an object in a throwaway netns" {
  NS="drorc$(printf '%x' $$)$((RANDOM % 1000))"
  ip netns add "$NS"
  ip -n "$NS" link add dva type veth peer name dvb
  local gen=missing drv=missing tc=missing
  ip -n "$NS" link set dev lo xdpgeneric obj "$D/oracle.bpf.o" sec xdp && gen=ok
  ip -n "$NS" link set dev dva xdpdrv obj "$D/oracle.bpf.o" sec xdp && drv=ok
  tc -n "$NS" qdisc add dev lo clsact && tc -n "$NS" filter add dev lo ingress bpf da \
    obj "$D/oracle.bpf.o" sec tc && tc=ok
  json_assert "$(feature xdp_generic)" ".status == \"$gen\" or (\"$gen\" == \"missing\" and .status != \"ok\")"
  json_assert "$(feature xdp_native)" ".status == \"$drv\" or (\"$drv\" == \"missing\" and .status != \"ok\")"
  json_assert "$(feature tc_clsact)" ".status == \"$tc\" or (\"$tc\" == \"missing\" and .status != \"ok\")"
  # this machine: all three work
  [ "$gen$drv$tc" = okokok ]
}

@test "ring buffer, BTF, JIT agree with bpftool/procfs; tcx, test_run, live frames, tracing hooks OK" {
  bpftool feature probe kernel -j | jq -e '.map_types.have_ringbuf_map_type == true'
  json_assert "$(feature ringbuf)" '.status == "ok"'
  [ -r /sys/kernel/btf/vmlinux ]
  json_assert "$(feature btf)" '.status == "ok"'
  [ "$(cat /proc/sys/net/core/bpf_jit_enable)" != 0 ]
  json_assert "$(feature jit)" ".status == \"ok\" and .value == \"$(cat /proc/sys/net/core/bpf_jit_enable)\""
  json_assert "$(feature bpffs)" ".value == \"$(mountpoint -q /sys/fs/bpf && echo mounted || echo 'not mounted')\""
  for f in bpf netns tcx test_run xdp_live_frames tracepoint raw_tp tp_btf uprobe tracefs; do
    json_assert "$(feature $f)" '.status == "ok"'
  done
}

@test "commands: exec uses the syscall tracepoints because there are no kprobes; built commands say built" {
  json_assert "$J" '.commands.exec.uses[0].feature == "tracepoint" and .commands.exec.uses[1].feature == "tp_btf"'
  if printf '%s\n' "$J" | jq -e '.features.kprobe.status != "ok"' >/dev/null; then
    json_assert "$J" '.commands.exec.status == "fallback"'
    json_assert "$J" '.commands.exec.text | startswith("works with fallback: the syscall tracepoints of execve and execveat instead of the talk'"'"'s kprobe on execve")'
  fi
  json_assert "$J" '.commands.count.status == "works" and .commands.lab.status == "works"'
  json_assert "$J" '.commands.count.uses[0].feature == "xdp_native"'
  # "built" matches the binary's own command list
  local c
  for c in count ping exec verify lb bench lab; do
    if "$BPFLAB" help "$c" >/dev/null 2>&1; then
      json_assert "$J" ".commands.$c.built == true"
    else
      json_assert "$J" ".commands.$c.built == false"
    fi
  done
}

@test "nothing left behind: the throwaway netns and its veth are gone, mounts unchanged" {
  local before_m after_m ino veth
  before_m=$(grep -cE ' (tracefs|securityfs|debugfs) ' /proc/self/mounts || true)
  run "$BPFLAB" -v doctor --json
  [ "$status" -eq 0 ]
  ino=$(printf '%s\n' "$output" | grep -oE 'throwaway netns net:\[[0-9]+\]' | grep -oE '[0-9]+')
  veth=$(printf '%s\n' "$output" | grep -oE 'ip link add bpfp[0-9]+a' | awk '{print $4}')
  [ -n "$ino" ] && [ -n "$veth" ]
  after_m=$(grep -cE ' (tracefs|securityfs|debugfs) ' /proc/self/mounts || true)
  [ "$before_m" = "$after_m" ]
  # The doctor names no namespace; the one it used must be gone: no process is in it, and
  # no name under /run/netns holds it (a check that holds even while other labs come and go).
  ! find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$ino\]" 2>/dev/null | grep -q .
  for f in /run/netns/*; do
    [ -e "$f" ] || continue
    [ "$(stat -L -c %i "$f")" != "$ino" ]
  done
  ! ip link show "$veth" >/dev/null 2>&1
  [ -z "$(ls /sys/fs/bpf | grep -i probe || true)" ]
}

@test "without root: exit 4 naming the capabilities; bad arguments: exit 2" {
  # A copy outside the checkout: it may be 0700 (cloned under /root).
  unpriv_copy
  run as_nobody_with "" "$UNPRIV_DIR/bpflab" doctor --json
  unpriv_cleanup
  [ "$status" -eq 4 ]
  [[ $output == *CAP_BPF* && $output == *CAP_NET_ADMIN* ]]
  run "$BPFLAB" doctor --bogus
  [ "$status" -eq 2 ]
  run "$BPFLAB" doctor extra
  [ "$status" -eq 2 ]
  [[ $output == *"unexpected argument 'extra'"* ]]
}

@test "fresh boot (bpffs and tracefs unmounted, in a private mount namespace): probed anyway, nothing mounted" {
  # umount only inside our own private mount namespace; the machine's mounts stay.
  run unshare -m --propagation private sh -c '
    umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null
    umount /sys/fs/bpf 2>/dev/null
    "$0" doctor --json && { grep -cE " (tracefs|bpf) " /proc/self/mounts || true; }' "$BPFLAB"
  [ "$status" -eq 0 ]
  local j=${lines[0]}
  json_assert "$j" '.features.tracefs.status == "ok" and .features.tracefs.value == "not mounted"'
  json_assert "$j" '.features.bpffs.status == "ok" and .features.bpffs.value == "not mounted"'
  json_assert "$j" '.features.tracepoint.status == "ok" and .features.tracepoint.value == "syscalls:sys_enter_execve"'
  json_assert "$j" '.features.kprobe.detail == "no kprobe support in this kernel (CONFIG_KPROBES is off)"'
  json_assert "$j" '.commands.exec.status == "fallback" and .commands.lb.status == "works"'
  # the doctor mounted nothing in its own namespace either
  [ "${lines[1]}" = 0 ]
}

@test "doctor and exec cannot disagree: exec attaches what doctor says it uses; no tracker ids" {
  run --separate-stderr "$BPFLAB" doctor --json
  [ "$status" -eq 0 ]
  json_assert "$output" '[.. | objects | has("issue")] | any | not'
  sys=$(jq -r '.commands.exec.uses[0].feature' <<<"$output")
  sched=$(jq -r '.commands.exec.uses[1].feature' <<<"$output")
  run --separate-stderr "$BPFLAB" exec --json -d 0.1 -n '^nothing-matches$'
  [ "$status" -eq 0 ]
  json_assert "$(head -1 <<<"$output")" ".type == \"attached\" and .syscall_hook == \"$sys\" and .exec_hook == \"$sched\""
}
