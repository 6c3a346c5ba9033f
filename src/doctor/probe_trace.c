// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Tracing attach probes: tracepoints, kprobes, uprobes, raw and BTF tracepoints and the
 * BPF trampoline, each by attaching a two-instruction program where it would run. */
#define _GNU_SOURCE
#include "probe.h"
#include "probe_int.h"
#include "util.h"
#include "bpfutil.h"
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* ---- perf_event based attach: tracepoint, kprobe, uprobe ---- */

static int perf_open(struct perf_event_attr *a, pid_t pid, int cpu)
{
	int fd = syscall(__NR_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int perf_set_bpf(int pfd, int prog_fd)
{
	return ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) ? -errno : 0;
}

/* The end of every perf_event probe: prog attached to pfd (perf_open's result, maybe
 * -errno), both closed whatever happens. 0, or -1 with r saying which step failed. */
static int perf_attach(struct probe_result *r, int pfd, int prog, const char *open_what,
		       const char *attach_what)
{
	int err;

	if (pfd < 0) {
		close(prog);
		set_failed(r, pfd, open_what);
		return -1;
	}
	err = perf_set_bpf(pfd, prog);
	close(pfd);
	close(prog);
	if (err) {
		set_failed(r, err, attach_what);
		return -1;
	}
	return 0;
}

/* Type number of a dynamic PMU (kprobe, uprobe), or -errno. */
static int pmu_type(const char *pmu)
{
	char path[128], buf[32];
	int n;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	n = read_text(path, buf, sizeof(buf));
	return n < 0 ? n : atoi(buf);
}

/* The syscall tracepoints specifically: they are what bpflab uses (exec, --printk). */
void probe_tracepoint(struct probe_result *r)
{
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_TRACEPOINT,
				     .sample_period = 1, .wakeup_events = 1 };
	char buf[32];
	int prog, err;

	err = tracefs_read("events/syscalls/sys_enter_execve/id", buf, sizeof(buf));
	if (err < 0) {
		bool others = tracefs_read("events/sched/sched_process_exec/id", buf, sizeof(buf)) >= 0;
		set_res(r, err == -ENOENT ? PROBE_MISSING : PROBE_UNKNOWN, err,
			"no syscalls:sys_enter_execve tracepoint in tracefs (%s)%s", strerr(err),
			others ? "; other tracepoints exist" : "");
		set_hint(r, "syscall tracepoints need CONFIG_FTRACE_SYSCALLS=y; bpflab exec falls back to raw_tp");
		return;
	}
	a.config = strtoull(buf, NULL, 10);
	prog = load_ret(BPF_PROG_TYPE_TRACEPOINT, 0, 0, 0);
	if (prog < 0) {
		set_failed(r, prog, "loading a tracepoint program");
		return;
	}
	if (perf_attach(r, perf_open(&a, -1, 0), prog, "perf_event_open on the tracepoint",
			"attaching to the tracepoint (PERF_EVENT_IOC_SET_BPF)"))
		return;
	snprintf(r->value, sizeof(r->value), "syscalls:sys_enter_execve");
	set_res(r, PROBE_OK, 0, "attached to syscalls:sys_enter_execve (id %llu) through perf_event_open",
		(unsigned long long)a.config);
}

static bool kallsyms_has(const char *sym)
{
	char line[512], pat[128];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return false;
	snprintf(pat, sizeof(pat), " %s\n", sym);
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, pat);
		/* " T name\n": the name is the last field; module symbols have a suffix. */
		found = p && p[strlen(pat)] == 0;
	}
	fclose(f);
	return found;
}

void probe_kprobe(struct probe_result *r)
{
	static const char *const targets[] = { "do_nanosleep", "do_sys_openat2", "ksys_read" };
	int type = pmu_type("kprobe"), prog, pfd = -1;
	char buf[8];
	size_t i;

	prog = load_ret(BPF_PROG_TYPE_KPROBE, 0, 0, 0);
	if (prog < 0) {
		set_failed(r, prog, "loading a kprobe program");
		return;
	}
	if (type < 0) {
		close(prog);
		if (tracefs_read("kprobe_events", buf, sizeof(buf)) >= 0) {
			set_res(r, PROBE_OK, 0, "no kprobe PMU, but tracefs has kprobe_events (legacy attach, not tried)");
			return;
		}
		if (kallsyms_has("register_kprobe")) {
			set_res(r, PROBE_MISSING, ENOENT,
				"kprobes exist but there is no kprobe PMU nor kprobe_events (CONFIG_KPROBE_EVENTS is off)");
		} else {
			set_res(r, PROBE_MISSING, ENOENT, "no kprobe support in this kernel (CONFIG_KPROBES is off)");
		}
		set_hint(r, "the program type loads, but nothing can attach it; bpflab exec uses the syscall tracepoints instead");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		struct perf_event_attr a = { .size = sizeof(a), .type = type,
					     .config1 = (uintptr_t)targets[i] };
		pfd = perf_open(&a, -1, 0);
		if (pfd >= 0)
			break;
	}
	if (perf_attach(r, pfd, prog, "perf_event_open on the kprobe PMU",
			"attaching a kprobe program"))
		return;
	set_res(r, PROBE_OK, 0, "attached to a kprobe on %s through the kprobe PMU", targets[i]);
}

/* A function of our own binary for the uprobe probe to attach to. */
__attribute__((noinline, used)) int bpflab_uprobe_target(int x)
{
	__asm__ volatile("" : : : "memory");
	return x + 1;
}

/* File offset and path of a function of this process (from /proc/self/maps). */
static int self_func_offset(const void *fn, char *path, size_t plen, __u64 *off)
{
	unsigned long start, end, foff, addr = (unsigned long)fn;
	char line[1024], perms[8], file[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		file[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %511s", &start, &end, perms, &foff, file) < 4)
			continue;
		if (addr < start || addr >= end || perms[2] != 'x' || file[0] != '/')
			continue;
		snprintf(path, plen, "%s", file);
		*off = addr - start + foff;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

void probe_uprobe(struct probe_result *r)
{
	int type = pmu_type("uprobe"), prog, err;
	char path[512];
	__u64 off = 0;

	if (type < 0) {
		set_res(r, PROBE_MISSING, ENOENT, "no uprobe PMU in /sys/bus/event_source/devices");
		set_hint(r, "the kernel needs CONFIG_UPROBE_EVENTS=y");
		return;
	}
	err = self_func_offset((const void *)bpflab_uprobe_target, path, sizeof(path), &off);
	if (err) {
		set_res(r, PROBE_UNKNOWN, err, "cannot find bpflab's own code in /proc/self/maps");
		return;
	}
	prog = load_ret(BPF_PROG_TYPE_KPROBE, 0, 0, 0);
	if (prog < 0) {
		set_failed(r, prog, "loading a uprobe program");
		return;
	}
	struct perf_event_attr a = { .size = sizeof(a), .type = type,
				     .config1 = (uintptr_t)path, .config2 = off };
	if (perf_attach(r, perf_open(&a, 0, -1), prog, "perf_event_open on the uprobe PMU",
			"attaching a uprobe program"))
		return;
	set_res(r, PROBE_OK, 0, "attached to bpflab_uprobe_target in %s+0x%llx through the uprobe PMU",
		path, (unsigned long long)off);
}

void probe_raw_tp(struct probe_result *r)
{
	int prog = load_ret(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, 0), link;

	if (prog < 0) {
		set_failed(r, prog, "loading a raw_tp program");
		return;
	}
	link = bpf_raw_tracepoint_open("sched_process_exec", prog);
	close(prog);
	if (link < 0) {
		set_failed(r, link, "attaching raw_tp to sched_process_exec");
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "attached to raw tracepoint sched_process_exec");
}

/* BTF id of a vmlinux type, or -errno with r set. */
static int btf_id(struct probe_result *r, const char *name, int kind)
{
	int id, btf_err = 0;
	struct btf *btf = get_vmlinux_btf(&btf_err);

	if (!btf) {
		set_res(r, PROBE_MISSING, btf_err, "needs kernel BTF, which is not available");
		set_hint(r, "the kernel needs CONFIG_DEBUG_INFO_BTF=y");
		return btf_err ? btf_err : -ENOENT;
	}
	id = btf__find_by_name_kind(btf, name, kind);
	if (id < 0) {
		set_res(r, PROBE_MISSING, ENOENT, "no %s in the kernel's BTF", name);
		return -ENOENT;
	}
	return id;
}

void probe_tp_btf(struct probe_result *r)
{
	int id = btf_id(r, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF), prog, link;

	if (id < 0)
		return;
	prog = load_ret(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id, 0);
	if (prog < 0) {
		set_failed(r, prog, "loading tp_btf for sched_process_exec");
		return;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);
	if (link < 0) {
		set_failed(r, link, "attaching tp_btf to sched_process_exec");
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "attached a BTF-typed program to sched_process_exec");
}

/* Which of the tracepoints `bpflab trace` attaches (as tp_btf: their btf_trace_* types)
 * this kernel has. Keep in step with trace_hooks[] in src/trace/trace_prog.c. */
void probe_net_tp(struct probe_result *r)
{
	static const char *const tps[] = {
		"skb:kfree_skb", "skb:consume_skb", "net:netif_receive_skb", "net:netif_rx",
		"net:net_dev_queue", "net:net_dev_xmit", "xdp:xdp_exception", "xdp:xdp_redirect",
		"xdp:xdp_redirect_err", "fib:fib_table_lookup", "fib6:fib6_table_lookup",
		"tcp:tcp_send_reset", "tcp:tcp_receive_reset", "tcp:tcp_retransmit_skb",
		"tcp:tcp_bad_csum", "icmp:icmp_send", "udp:udp_fail_queue_rcv_skb",
		"neigh:neigh_update", "neigh:neigh_event_send_dead", "qdisc:qdisc_enqueue",
	};
	struct btf *btf = btf__load_vmlinux_btf();
	char missing[sizeof(r->detail)] = "", name[64];
	int have = 0, n = sizeof(tps) / sizeof(tps[0]);
	bool kfree = false;

	if (!btf) {
		set_res(r, PROBE_MISSING, errno, "no kernel BTF: the tracepoints' types are unknown");
		return;
	}
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "btf_trace_%s", strchr(tps[i], ':') + 1);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0) {
			have++;
			kfree |= i == 0;
		} else {
			size_t l = strlen(missing);
			snprintf(missing + l, sizeof(missing) - l, "%s%s", l ? " " : "", tps[i]);
		}
	}
	btf__free(btf);
	snprintf(r->value, sizeof(r->value), "%d/%d", have, n);
	if (!kfree)
		set_res(r, PROBE_MISSING, ENOENT, "%d of %d tracepoints, not skb:kfree_skb; missing: %s",
			have, n, missing);
	else if (missing[0])
		set_res(r, PROBE_OK, 0, "%d of %d tracepoints; missing: %s", have, n, missing);
	else
		set_res(r, PROBE_OK, 0, "all %d: skb:kfree_skb/consume_skb, net:*, xdp:*, fib/fib6 "
			"lookups, tcp:*, icmp_send, udp_fail_queue_rcv_skb, neigh:*, qdisc_enqueue", n);
}

/* fentry, fexit and lsm all go through a BPF trampoline. */
void probe_trampoline(struct probe_result *r, enum bpf_prog_type type,
			     enum bpf_attach_type eat, const char *func, const char *kind)
{
	char lockdown[32], lsms[256], log[1024];
	int id = btf_id(r, func, BTF_KIND_FUNC), prog, link;

	if (id < 0)
		return;
	prog = load_ret_log(type, eat, id, 0, log, sizeof(log));
	if (prog < 0) {
		/* An empty verifier log means the kernel said no before verifying anything. */
		set_res(r, classify(prog), prog, "%s load (attach_btf_id %s) %s with %s%s", kind, func,
			classify(prog) == PROBE_REFUSED ? "refused" : "failed", probe_errno_name(prog),
			log[0] ? "" : " before the verifier ran");
		if (classify(prog) != PROBE_REFUSED) {
			if (prog == -KERNEL_ENOTSUPP)
				set_hint(r, "no BPF trampoline for this arch/config");
			return;
		}
		lockdown_state(lockdown, sizeof(lockdown));
		if (lockdown[0])
			snprintf(r->value, sizeof(r->value), "lockdown=%s", lockdown);
		/* Say only what was checked: tp_btf loads with attach_btf_id too, without a
		 * trampoline, so BTF, the JIT and our capabilities are not the problem. */
		if (probe_ok(FEAT_TP_BTF))
			set_hint(r, "tp_btf (BTF-typed too, but no trampoline) loads, so the kernel refuses "
				 "BPF trampolines: usually lockdown or a kernel built without trampoline "
				 "support for this arch/config (lockdown here: %s)",
				 lockdown[0] ? lockdown : "unknown");
		else
			set_hint(r, "usually lockdown or a kernel built without trampoline support for this "
				 "arch/config (lockdown here: %s)", lockdown[0] ? lockdown : "unknown");
		if (type == BPF_PROG_TYPE_LSM && securityfs_read("lsm", lsms, sizeof(lsms)) >= 0 &&
		    !strstr(lsms, "bpf"))
			set_hint(r, "\"bpf\" is not in the active LSMs (%s): boot with lsm=...,bpf", lsms);
		return;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);
	if (link < 0) {
		char what[96];
		snprintf(what, sizeof(what), "%s loads, but attach to %s", kind, func);
		set_failed(r, link, what);
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "%s attached to %s", kind, func);
}
