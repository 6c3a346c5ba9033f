// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel feature probes by doing: load a few instructions, attach where attach is the
 * question. Network probes run in a child process inside an anonymous netns, so nothing
 * they create can outlive them; pseudo filesystems that are not mounted are read through
 * a private mount in a child, so probing never changes the machine. */
#define _GNU_SOURCE
#include "probe.h"
#include "util.h"
#include "bpfutil.h"

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
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* Not in the Linux 6.1 uapi headers we build against. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif
#define KERNEL_ENOTSUPP 524 /* kernel-internal, but it does reach user space */

#define BPF_FS_MAGIC 0xcafe4a11
#define TRACEFS_MAGIC 0x74726163
#define SECURITYFS_MAGIC 0x73636673

#define PROBE_CHILD_TIMEOUT_MS 5000

static const struct {
	const char *name, *title;
} feature_names[FEAT__MAX] = {
	[FEAT_KERNEL] = { "kernel", "kernel release" },
	[FEAT_BPF] = { "bpf", "bpf() program load" },
	[FEAT_BTF] = { "btf", "kernel BTF" },
	[FEAT_JIT] = { "jit", "BPF JIT" },
	[FEAT_BPFFS] = { "bpffs", "bpffs" },
	[FEAT_TRACEFS] = { "tracefs", "tracefs" },
	[FEAT_NETNS] = { "netns", "netns + veth" },
	[FEAT_XDP_NATIVE] = { "xdp_native", "XDP native (veth)" },
	[FEAT_XDP_GENERIC] = { "xdp_generic", "XDP generic (lo)" },
	[FEAT_TC_CLSACT] = { "tc_clsact", "TC clsact" },
	[FEAT_TCX] = { "tcx", "TC tcx link" },
	[FEAT_TRACEPOINT] = { "tracepoint", "syscall tracepoint" },
	[FEAT_RAW_TP] = { "raw_tp", "raw_tp" },
	[FEAT_TP_BTF] = { "tp_btf", "tp_btf" },
	[FEAT_KPROBE] = { "kprobe", "kprobe" },
	[FEAT_FENTRY] = { "fentry", "fentry" },
	[FEAT_FEXIT] = { "fexit", "fexit" },
	[FEAT_LSM] = { "lsm", "BPF LSM" },
	[FEAT_UPROBE] = { "uprobe", "uprobe" },
	[FEAT_RINGBUF] = { "ringbuf", "ring buffer map" },
	[FEAT_TEST_RUN] = { "test_run", "BPF_PROG_TEST_RUN (XDP)" },
	[FEAT_XDP_LIVE_FRAMES] = { "xdp_live_frames", "XDP live frames" },
};

static struct probe_result results[FEAT__MAX];
static bool probed[FEAT__MAX];

const char *probe_feature_name(enum feature f)
{
	return f >= 0 && f < FEAT__MAX ? feature_names[f].name : "?";
}

const char *probe_feature_title(enum feature f)
{
	return f >= 0 && f < FEAT__MAX ? feature_names[f].title : "?";
}

const char *probe_status_str(enum probe_status s)
{
	switch (s) {
	case PROBE_OK: return "ok";
	case PROBE_MISSING: return "missing";
	case PROBE_REFUSED: return "refused";
	default: return "unknown";
	}
}

const char *probe_errno_name(int err)
{
	static char buf[32];
	const char *n;

	if (err < 0)
		err = -err;
	if (!err)
		return "";
	if (err == KERNEL_ENOTSUPP)
		return "ENOTSUPP";
	n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static void set_res(struct probe_result *r, enum probe_status st, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_res(struct probe_result *r, enum probe_status st, int err, const char *fmt, ...)
{
	va_list ap;

	r->status = st;
	r->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

static void set_hint(struct probe_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_hint(struct probe_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->hint, sizeof(r->hint), fmt, ap);
	va_end(ap);
}

/* EPERM/EACCES are policy (the feature exists, we may not use it); "does not exist"
 * errors mean the kernel lacks it; anything else is a probe we cannot interpret. */
static enum probe_status classify(int err)
{
	switch (err < 0 ? -err : err) {
	case EPERM:
	case EACCES:
		return PROBE_REFUSED;
	case EINVAL:
	case EOPNOTSUPP:
	case KERNEL_ENOTSUPP:
	case ENOENT:
	case ENODEV:
	case ENOSYS:
	case E2BIG:
	case ESRCH:
		return PROBE_MISSING;
	default:
		return PROBE_UNKNOWN;
	}
}

static void set_failed(struct probe_result *r, int err, const char *what)
{
	set_res(r, classify(err), err, "%s %s with %s", what,
		classify(err) == PROBE_REFUSED ? "refused" : "failed", probe_errno_name(err));
}

/* ---- tiny programs ---- */

#define INSN_MOV64_IMM(r, v) ((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (r), .imm = (v) })
#define INSN_EXIT ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

/* "return ret": enough for every program type we probe. -errno on failure; the
 * verifier's log goes to log when given. */
static int load_ret_log(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret,
			char *log, size_t log_len)
{
	const struct bpf_insn insns[] = { INSN_MOV64_IMM(BPF_REG_0, ret), INSN_EXIT };
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat, .attach_btf_id = btf_id,
		    .log_buf = log, .log_size = log ? log_len : 0, .log_level = log ? 1 : 0);
	int fd;

	if (log)
		log[0] = 0;
	fd = bpf_prog_load(type, "bpflab_probe", "Dual BSD/GPL", insns, ARRAY_SIZE(insns), &o);
	return fd; /* libbpf 1.x: -errno on failure */
}

static int load_ret(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret)
{
	return load_ret_log(type, eat, btf_id, ret, NULL, 0);
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n;
}

/* ---- work in a child process: its netns and mounts die with it ---- */

struct child_out {
	int ret;
	char data[];
};

/* Runs fn(ctx) in a child and copies ctx (len bytes) back. Returns fn's return value,
 * or -errno when the child could not run or report (then ctx is untouched). */
static int run_child(int (*fn)(void *ctx), void *ctx, size_t len)
{
	size_t total = sizeof(struct child_out) + len, got = 0;
	struct child_out *out = calloc(1, total);
	int pfd[2], status, ret;
	double deadline = now_mono() + PROBE_CHILD_TIMEOUT_MS / 1000.0;
	pid_t pid;

	if (!out)
		return -ENOMEM;
	if (pipe2(pfd, O_CLOEXEC)) {
		free(out);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		free(out);
		return ret;
	}
	if (pid == 0) {
		const char *p = (const char *)out;
		close(pfd[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		out->ret = fn(ctx);
		memcpy(out->data, ctx, len);
		while (got < total) {
			ssize_t n = write(pfd[1], p + got, total - got);
			if (n <= 0)
				_exit(1);
			got += n;
		}
		_exit(0);
	}
	close(pfd[1]);
	while (got < total) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int left = (int)((deadline - now_mono()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) == 0) {
			kill(pid, SIGKILL); /* our own child, stuck */
			break;
		}
		n = read(pfd[0], (char *)out + got, total - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < total) {
		free(out);
		return -ECHILD;
	}
	memcpy(ctx, out->data, len);
	ret = out->ret;
	free(out);
	return ret;
}

/* A pseudo filesystem file: read where it is mounted; when it is not, mount it in a
 * private mount namespace of a child, so the machine's mounts are left as they were. */
struct fs_read_ctx {
	const char *type, *mnt, *rel;
	char buf[512];
};

static int fs_read_child(void *arg)
{
	struct fs_read_ctx *c = arg;
	char path[512];

	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount(c->type, c->mnt, c->type, 0, NULL))
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", c->mnt, c->rel);
	return read_text(path, c->buf, sizeof(c->buf));
}

static const char *tracefs_mounted(void)
{
	if (fs_is_mounted("/sys/kernel/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/tracing";
	if (fs_is_mounted("/sys/kernel/debug/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

/* >= 0: bytes read into buf; -errno otherwise (-ENOENT: no such file). */
static int tracefs_read(const char *rel, char *buf, size_t len)
{
	struct fs_read_ctx c = { .type = "tracefs", .mnt = "/sys/kernel/tracing", .rel = rel };
	const char *m = tracefs_mounted();
	char path[512];
	int n;

	if (m) {
		snprintf(path, sizeof(path), "%s/%s", m, rel);
		return read_text(path, buf, len);
	}
	n = run_child(fs_read_child, &c, sizeof(c));
	if (n >= 0)
		snprintf(buf, len, "%s", c.buf);
	return n;
}

static int securityfs_read(const char *rel, char *buf, size_t len)
{
	struct fs_read_ctx c = { .type = "securityfs", .mnt = "/sys/kernel/security", .rel = rel };
	char path[512];
	int n;

	if (fs_is_mounted("/sys/kernel/security", SECURITYFS_MAGIC)) {
		snprintf(path, sizeof(path), "/sys/kernel/security/%s", rel);
		return read_text(path, buf, len);
	}
	n = run_child(fs_read_child, &c, sizeof(c));
	if (n >= 0)
		snprintf(buf, len, "%s", c.buf);
	return n;
}

/* "none [integrity] confidentiality" -> "integrity"; "" when unknown. */
static void lockdown_state(char *out, size_t len)
{
	char buf[128], *a, *b;

	out[0] = 0;
	if (securityfs_read("lockdown", buf, sizeof(buf)) < 0)
		return;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (a && b)
		snprintf(out, len, "%.*s", (int)(b - a - 1), a + 1);
}

static bool filesystem_known(const char *type)
{
	char buf[4096], pat[64];

	snprintf(pat, sizeof(pat), "\t%s\n", type);
	return read_text("/proc/filesystems", buf, sizeof(buf)) > 0 && (strcat(buf, "\n"), strstr(buf, pat));
}

/* ---- simple probes ---- */

static void probe_kernel(struct probe_result *r)
{
	struct utsname u;

	if (uname(&u)) {
		set_res(r, PROBE_UNKNOWN, errno, "uname failed");
		return;
	}
	snprintf(r->value, sizeof(r->value), "%s", u.release);
	set_res(r, PROBE_OK, 0, "Linux %s %s (for information only: every feature below is probed)",
		u.release, u.machine);
}

static void probe_bpf(struct probe_result *r)
{
	int fd = load_ret(BPF_PROG_TYPE_XDP, 0, 0, XDP_PASS);

	if (fd < 0) {
		set_failed(r, fd, "loading a 2-instruction XDP program");
		if (fd == -ENOSYS)
			set_hint(r, "no bpf() syscall: the kernel needs CONFIG_BPF_SYSCALL=y");
		else
			set_hint(r, "bpflab needs CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN: run as root");
		return;
	}
	close(fd);
	set_res(r, PROBE_OK, 0, "loaded a 2-instruction XDP program");
}

static struct btf *vmlinux_btf;
static int vmlinux_btf_err;

static struct btf *get_vmlinux_btf(void)
{
	if (!vmlinux_btf && !vmlinux_btf_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_btf_err = errno ? -errno : -ENOENT;
	}
	return vmlinux_btf;
}

static void probe_btf(struct probe_result *r)
{
	struct btf *btf;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		set_res(r, PROBE_MISSING, errno, "no /sys/kernel/btf/vmlinux");
		set_hint(r, "the kernel needs CONFIG_DEBUG_INFO_BTF=y for tp_btf, fentry and building bpflab");
		return;
	}
	btf = get_vmlinux_btf();
	if (!btf) {
		set_res(r, PROBE_UNKNOWN, vmlinux_btf_err, "/sys/kernel/btf/vmlinux does not parse: %s",
			strerr(vmlinux_btf_err));
		return;
	}
	snprintf(r->value, sizeof(r->value), "%u types", btf__type_cnt(btf));
	set_res(r, PROBE_OK, 0, "/sys/kernel/btf/vmlinux: %u types", btf__type_cnt(btf));
}

/* The loaded program itself says whether it was JIT-compiled; bpf_jit_enable is only
 * visible from the initial netns, so it is reported when readable, never required. */
static void probe_jit(struct probe_result *r)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char buf[16], sysctl[48] = "bpf_jit_enable not visible from this netns";
	int fd;

	if (read_text("/proc/sys/net/core/bpf_jit_enable", buf, sizeof(buf)) >= 0) {
		snprintf(r->value, sizeof(r->value), "%s", buf);
		snprintf(sysctl, sizeof(sysctl), "bpf_jit_enable=%s", buf);
	}
	fd = load_ret(BPF_PROG_TYPE_XDP, 0, 0, XDP_PASS);
	if (fd < 0) {
		set_res(r, PROBE_UNKNOWN, fd, "%s; could not load a program to check", sysctl);
		return;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.jited_prog_len = 0;
	close(fd);
	if (info.jited_prog_len) {
		set_res(r, PROBE_OK, 0, "%s; a loaded program has %u bytes of native code", sysctl,
			info.jited_prog_len);
	} else {
		set_res(r, PROBE_MISSING, 0, "%s; a loaded program was not JIT-compiled", sysctl);
		set_hint(r, "programs run in the interpreter (slower): sysctl net.core.bpf_jit_enable=1, "
			 "or a kernel with CONFIG_BPF_JIT=y");
	}
}

static void probe_bpffs(struct probe_result *r)
{
	if (fs_is_mounted("/sys/fs/bpf", BPF_FS_MAGIC)) {
		snprintf(r->value, sizeof(r->value), "mounted");
		set_res(r, PROBE_OK, 0, "mounted at /sys/fs/bpf");
	} else if (filesystem_known("bpf")) {
		snprintf(r->value, sizeof(r->value), "not mounted");
		set_res(r, PROBE_OK, 0, "not mounted; bpflab mounts it at /sys/fs/bpf when it pins");
	} else {
		set_res(r, PROBE_MISSING, ENODEV, "no bpf filesystem in /proc/filesystems");
		set_hint(r, "pinning (count --pin, lb) needs bpffs");
	}
}

static void probe_tracefs(struct probe_result *r)
{
	const char *m = tracefs_mounted();

	if (m) {
		snprintf(r->value, sizeof(r->value), "mounted");
		set_res(r, PROBE_OK, 0, "mounted at %s", m);
	} else if (filesystem_known("tracefs")) {
		snprintf(r->value, sizeof(r->value), "not mounted");
		set_res(r, PROBE_OK, 0, "not mounted; bpflab mounts it at /sys/kernel/tracing when it needs it");
	} else {
		set_res(r, PROBE_MISSING, ENODEV, "no tracefs in /proc/filesystems");
		set_hint(r, "tracepoints and trace_pipe need tracefs (CONFIG_TRACING=y)");
	}
}

static void probe_ringbuf(struct probe_result *r)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bpflab_probe", 0, 0, page > 0 ? page : 4096, NULL);

	if (fd < 0) {
		set_failed(r, fd, "creating a BPF_MAP_TYPE_RINGBUF map");
		if (r->status == PROBE_MISSING)
			set_hint(r, "no ring buffer in this kernel; event streams need it (bpflab has no perf-buffer fallback)");
		return;
	}
	close(fd);
	set_res(r, PROBE_OK, 0, "created a %ld-byte BPF_MAP_TYPE_RINGBUF map", page > 0 ? page : 4096);
}

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
static void probe_tracepoint(struct probe_result *r)
{
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_TRACEPOINT,
				     .sample_period = 1, .wakeup_events = 1 };
	char buf[32];
	int prog, pfd, err;

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
	pfd = perf_open(&a, -1, 0);
	if (pfd < 0) {
		set_failed(r, pfd, "perf_event_open on the tracepoint");
		close(prog);
		return;
	}
	err = perf_set_bpf(pfd, prog);
	close(pfd);
	close(prog);
	if (err) {
		set_failed(r, err, "attaching to the tracepoint (PERF_EVENT_IOC_SET_BPF)");
		return;
	}
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

static void probe_kprobe(struct probe_result *r)
{
	static const char *const targets[] = { "do_nanosleep", "do_sys_openat2", "ksys_read" };
	int type = pmu_type("kprobe"), prog, pfd = -1, err = 0;
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
		err = pfd;
	}
	if (pfd < 0) {
		close(prog);
		set_failed(r, err, "perf_event_open on the kprobe PMU");
		return;
	}
	err = perf_set_bpf(pfd, prog);
	close(pfd);
	close(prog);
	if (err) {
		set_failed(r, err, "attaching a kprobe program");
		return;
	}
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

static void probe_uprobe(struct probe_result *r)
{
	int type = pmu_type("uprobe"), prog, pfd, err;
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
	pfd = perf_open(&a, 0, -1);
	if (pfd < 0) {
		close(prog);
		set_failed(r, pfd, "perf_event_open on the uprobe PMU");
		return;
	}
	err = perf_set_bpf(pfd, prog);
	close(pfd);
	close(prog);
	if (err) {
		set_failed(r, err, "attaching a uprobe program");
		return;
	}
	set_res(r, PROBE_OK, 0, "attached to bpflab_uprobe_target in %s+0x%llx through the uprobe PMU",
		path, (unsigned long long)off);
}

static void probe_raw_tp(struct probe_result *r)
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
	struct btf *btf = get_vmlinux_btf();
	int id;

	if (!btf) {
		set_res(r, PROBE_MISSING, vmlinux_btf_err, "needs kernel BTF, which is not available");
		set_hint(r, "the kernel needs CONFIG_DEBUG_INFO_BTF=y");
		return vmlinux_btf_err ? vmlinux_btf_err : -ENOENT;
	}
	id = btf__find_by_name_kind(btf, name, kind);
	if (id < 0) {
		set_res(r, PROBE_MISSING, ENOENT, "no %s in the kernel's BTF", name);
		return -ENOENT;
	}
	return id;
}

static void probe_tp_btf(struct probe_result *r)
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

/* fentry, fexit and lsm all go through a BPF trampoline. */
static void probe_trampoline(struct probe_result *r, enum bpf_prog_type type,
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

/* ---- network probes, in a child inside an anonymous netns ---- */

struct net_ctx {
	struct probe_result r[FEAT__MAX];
};

static const enum feature net_features[] = {
	FEAT_NETNS, FEAT_XDP_NATIVE, FEAT_XDP_GENERIC, FEAT_TC_CLSACT, FEAT_TCX,
	FEAT_TEST_RUN, FEAT_XDP_LIVE_FRAMES,
};

static void xdp_attach_probe(struct probe_result *r, int ifindex, __u32 flags, const char *where)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	int prog = load_ret(BPF_PROG_TYPE_XDP, BPF_XDP, 0, XDP_PASS), link;

	if (prog < 0) {
		set_failed(r, prog, "loading an XDP program");
		return;
	}
	link = bpf_link_create(prog, ifindex, BPF_XDP, &o);
	close(prog);
	if (link < 0) {
		char what[96];
		snprintf(what, sizeof(what), "attach to %s", where);
		set_failed(r, link, what);
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "bpf_link attached to %s in a throwaway netns", where);
}

static void tc_probe(struct probe_result *r, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1);
	int prog = load_ret(BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0), err;

	if (prog < 0) {
		set_failed(r, prog, "loading a TC program");
		return;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		close(prog);
		set_failed(r, err, "creating a clsact qdisc (bpf_tc_hook_create)");
		if (r->status == PROBE_MISSING)
			set_hint(r, "the kernel needs CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF");
		return;
	}
	o.prog_fd = prog;
	err = bpf_tc_attach(&hook, &o);
	close(prog);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	if (err) {
		set_failed(r, err, "attaching a cls_bpf filter (bpf_tc_attach)");
		return;
	}
	set_res(r, PROBE_OK, 0, "clsact qdisc + cls_bpf filter on lo in a throwaway netns");
}

static void tcx_probe(struct probe_result *r, int ifindex)
{
	int prog = load_ret(BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0), link;

	if (prog < 0) {
		set_failed(r, prog, "loading a TC program");
		return;
	}
	link = bpf_link_create(prog, ifindex, (enum bpf_attach_type)BPF_TCX_INGRESS, NULL);
	close(prog);
	if (link < 0) {
		set_failed(r, link, "bpf_link_create with BPF_TCX_INGRESS");
		if (r->status == PROBE_MISSING)
			set_hint(r, "no tcx links in this kernel; TC programs use a clsact qdisc instead");
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "tcx link (BPF_TCX_INGRESS) on lo in a throwaway netns");
}

static void test_run_probe(struct probe_result *r, bool live)
{
	unsigned char pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	/* Live frames are really sent to the stack unless dropped: drop them. */
	int want = live ? XDP_DROP : XDP_PASS;
	int prog = load_ret(BPF_PROG_TYPE_XDP, live ? BPF_XDP : 0, 0, want), err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1,
		    .flags = live ? BPF_F_TEST_XDP_LIVE_FRAMES : 0);

	if (prog < 0) {
		set_failed(r, prog, "loading an XDP program");
		return;
	}
	err = bpf_prog_test_run_opts(prog, &o);
	close(prog);
	if (err) {
		set_failed(r, err, live ? "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES"
					: "BPF_PROG_TEST_RUN on XDP");
		if (live && r->status == PROBE_MISSING)
			set_hint(r, "no live-frames mode: bpflab bench has no traffic generator here");
		return;
	}
	if (!live && (int)o.retval != want) {
		set_res(r, PROBE_UNKNOWN, 0, "BPF_PROG_TEST_RUN returned %u, expected %d", o.retval, want);
		return;
	}
	if (live)
		set_res(r, PROBE_OK, 0, "sent one frame through an XDP_DROP program in a throwaway netns");
	else
		set_res(r, PROBE_OK, 0, "ran an XDP program on a 64-byte frame: XDP_PASS");
}

static int net_child(void *arg)
{
	struct net_ctx *c = arg;
	struct stat before, after;
	char a[16], b[16];
	int err, ifa;

	for (size_t i = 0; i < ARRAY_SIZE(net_features); i++)
		set_res(&c->r[net_features[i]], PROBE_UNKNOWN, 0, "not probed");
	if (stat("/proc/self/ns/net", &before))
		return -errno;
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		for (size_t i = 0; i < ARRAY_SIZE(net_features); i++)
			set_res(&c->r[net_features[i]], PROBE_UNKNOWN, err,
				"could not create a throwaway network namespace: %s", strerr(err));
		set_res(&c->r[FEAT_NETNS], classify(err) == PROBE_REFUSED ? PROBE_REFUSED : PROBE_UNKNOWN,
			err, "could not create a network namespace: %s", strerr(err));
		return err;
	}
	/* Never touch the namespace we came from, whatever went wrong above. (/proc/1 may
	 * not be readable, so compare with our own namespace before unshare.) */
	if (stat("/proc/self/ns/net", &after) || after.st_ino == before.st_ino)
		return -EPERM;
	/* Tests use this to check that the namespace is gone afterwards. */
	pr_debug("probing network attach in throwaway netns net:[%lu]\n", (unsigned long)after.st_ino);

	test_run_probe(&c->r[FEAT_TEST_RUN], false);
	test_run_probe(&c->r[FEAT_XDP_LIVE_FRAMES], true);
	xdp_attach_probe(&c->r[FEAT_XDP_GENERIC], 1, XDP_FLAGS_SKB_MODE, "lo (generic mode)");
	tc_probe(&c->r[FEAT_TC_CLSACT], 1);
	tcx_probe(&c->r[FEAT_TCX], 1);

	/* pid-based names: unique even if the namespace were ever shared. */
	snprintf(a, sizeof(a), "bpfp%da", (int)getpid() % 10000000);
	snprintf(b, sizeof(b), "bpfp%db", (int)getpid() % 10000000);
	err = run_cmdf(true, "ip link add %s type veth peer name %s", a, b);
	ifa = err ? 0 : (int)if_nametoindex(a);
	if (!ifa) {
		set_res(&c->r[FEAT_NETNS], PROBE_MISSING, err < 0 ? -err : ENODEV,
			"made a network namespace, but `ip link add ... type veth` failed (%s)",
			err < 0 ? strerr(err) : err == 127 ? "no ip command" : "exit status");
		set_hint(&c->r[FEAT_NETNS], "the lab needs veth (CONFIG_VETH) and iproute2's ip");
		set_res(&c->r[FEAT_XDP_NATIVE], PROBE_UNKNOWN, 0, "no veth pair to try native XDP on");
		return 0;
	}
	set_res(&c->r[FEAT_NETNS], PROBE_OK, 0, "made a network namespace with a veth pair");
	xdp_attach_probe(&c->r[FEAT_XDP_NATIVE], ifa, XDP_FLAGS_DRV_MODE, "veth (native mode)");
	if (c->r[FEAT_XDP_NATIVE].status == PROBE_MISSING)
		set_hint(&c->r[FEAT_XDP_NATIVE], "the veth driver has no native XDP here; generic XDP works instead");
	/* The veth pair and the namespace go away when this child exits. */
	return 0;
}

static void probe_net(void)
{
	struct net_ctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return;
	err = run_child(net_child, c, sizeof(*c));
	for (size_t i = 0; i < ARRAY_SIZE(net_features); i++) {
		enum feature f = net_features[i];
		if (err == -ECHILD)
			set_res(&c->r[f], PROBE_UNKNOWN, ECHILD, "the probe process did not report");
		results[f] = c->r[f];
		probed[f] = true;
	}
	free(c);
}

/* ---- the cache ---- */

static void probe_one(enum feature f)
{
	struct probe_result *r = &results[f];

	if (f != FEAT_KERNEL && !is_root()) {
		set_res(r, PROBE_UNKNOWN, EPERM, "not probed: needs root");
		probed[f] = true;
		return;
	}
	switch (f) {
	case FEAT_KERNEL: probe_kernel(r); break;
	case FEAT_BPF: probe_bpf(r); break;
	case FEAT_BTF: probe_btf(r); break;
	case FEAT_JIT: probe_jit(r); break;
	case FEAT_BPFFS: probe_bpffs(r); break;
	case FEAT_TRACEFS: probe_tracefs(r); break;
	case FEAT_TRACEPOINT: probe_tracepoint(r); break;
	case FEAT_RAW_TP: probe_raw_tp(r); break;
	case FEAT_TP_BTF: probe_tp_btf(r); break;
	case FEAT_KPROBE: probe_kprobe(r); break;
	case FEAT_FENTRY:
		probe_trampoline(r, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "bpf_fentry_test1", "fentry");
		break;
	case FEAT_FEXIT:
		probe_trampoline(r, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "bpf_fentry_test1", "fexit");
		break;
	case FEAT_LSM:
		probe_trampoline(r, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open", "lsm");
		break;
	case FEAT_UPROBE: probe_uprobe(r); break;
	case FEAT_RINGBUF: probe_ringbuf(r); break;
	default:
		probe_net();
		return;
	}
	probed[f] = true;
}

const struct probe_result *probe_feature(enum feature f)
{
	static const struct probe_result bad = { .status = PROBE_UNKNOWN, .detail = "no such feature" };

	if (f < 0 || f >= FEAT__MAX)
		return &bad;
	if (!probed[f])
		probe_one(f);
	return &results[f];
}

bool probe_ok(enum feature f)
{
	return probe_feature(f)->status == PROBE_OK;
}

void probe_all(void)
{
	for (int f = 0; f < FEAT__MAX; f++)
		probe_feature(f);
}

int probe_pick(const enum feature *alts, size_t n)
{
	for (size_t i = 0; i < n && alts[i] != FEAT_NONE; i++)
		if (probe_ok(alts[i]))
			return i;
	return -1;
}

/* ---- what each command needs ---- */

#define XDP_NEED { "XDP attach", { FEAT_XDP_NATIVE, FEAT_XDP_GENERIC, FEAT_NONE }, \
		   { "native XDP", "generic XDP (skb path, slower)" }, NULL }
#define LO_NOTE "on lo (the default) XDP is always generic: lo has no native XDP"

const struct cmd_req probe_commands[] = {
	{ "count", "issue 2", LO_NOTE, {
		XDP_NEED,
		{ "pinning", { FEAT_BPFFS, FEAT_NONE }, { "bpffs" }, "--pin" },
		{ NULL } }, FEAT_NONE, NULL },
	{ "ping", "issue 3", LO_NOTE, {
		XDP_NEED,
		{ "events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ "TC hook", { FEAT_TCX, FEAT_TC_CLSACT, FEAT_NONE }, { "a tcx link", "a clsact qdisc" },
		  "--reply --hook tc" },
		{ NULL } }, FEAT_NONE, NULL },
	/* Keep in step with the programs of src/exec/exec.bpf.c and their fallbacks. */
	{ "exec", "issue 4", NULL, {
		{ "a hook on execve/execveat", { FEAT_TRACEPOINT, FEAT_RAW_TP, FEAT_NONE },
		  { "the syscall tracepoints of execve and execveat",
		    "raw_tp sys_enter/sys_exit (runs for every syscall: costs more)" }, NULL },
		{ "a hook on successful execs", { FEAT_TP_BTF, FEAT_RAW_TP, FEAT_NONE },
		  { "tp_btf sched_process_exec", "raw_tp sched_process_exec" }, NULL },
		{ "events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ "a tracepoint", { FEAT_TRACEPOINT, FEAT_NONE }, { "the sys_enter_execve tracepoint" }, "--printk" },
		{ "trace_pipe", { FEAT_TRACEFS, FEAT_NONE }, { "trace_pipe in tracefs" }, "--printk" },
		{ NULL } }, FEAT_KPROBE, "kprobe on execve" },
	{ "verify", "issue 5", NULL, {
		{ "program load with a verifier log", { FEAT_BPF, FEAT_NONE }, { "bpf()" }, NULL },
		{ "jited sizes", { FEAT_JIT, FEAT_NONE }, { "the BPF JIT" }, "jited sizes" },
		{ NULL } }, FEAT_NONE, NULL },
	{ "lb", "issue 6", NULL, {
		XDP_NEED,
		{ "pinned maps", { FEAT_BPFFS, FEAT_NONE }, { "bpffs" }, NULL },
		{ NULL } }, FEAT_NONE, NULL },
	{ "bench", "issue 7", NULL, {
		{ "a traffic generator", { FEAT_XDP_LIVE_FRAMES, FEAT_NONE }, { "XDP live frames" }, NULL },
		{ "per-packet cost", { FEAT_TEST_RUN, FEAT_NONE }, { "BPF_PROG_TEST_RUN" }, NULL },
		{ "throwaway namespaces", { FEAT_NETNS, FEAT_NONE }, { "netns + veth" }, NULL },
		{ "the XDP native row", { FEAT_XDP_NATIVE, FEAT_NONE }, { "native XDP" }, "the XDP native row" },
		{ "the XDP generic row", { FEAT_XDP_GENERIC, FEAT_NONE }, { "generic XDP" }, "the XDP generic row" },
		{ "the TC ingress row", { FEAT_TC_CLSACT, FEAT_NONE }, { "a clsact qdisc" }, "the TC ingress row" },
		}, FEAT_NONE, NULL },
	{ "lab", "issue 2", NULL, {
		{ "namespaces", { FEAT_NETNS, FEAT_NONE }, { "network namespaces, veth and a bridge" }, NULL },
		{ NULL } }, FEAT_NONE, NULL },
};
const size_t probe_ncommands = ARRAY_SIZE(probe_commands);

const struct cmd_req *probe_command(const char *name)
{
	for (size_t i = 0; i < probe_ncommands; i++)
		if (!strcmp(probe_commands[i].name, name))
			return &probe_commands[i];
	return NULL;
}

const char *verdict_kind_str(enum verdict_kind k)
{
	switch (k) {
	case VERDICT_WORKS: return "works";
	case VERDICT_FALLBACK: return "fallback";
	default: return "unavailable";
	}
}

static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* "kprobe missing: no kprobe support ... ; hint" */
static void why(char *buf, size_t cap, enum feature f, const struct probe_result *r)
{
	append(buf, cap, "%s %s: %s", probe_feature_title(f), probe_status_str(r->status), r->detail);
	if (r->hint[0])
		append(buf, cap, "; %s", r->hint);
}

void probe_verdict(const struct cmd_req *req, const struct probe_result *res,
		   struct cmd_verdict *out)
{
	char fallbacks[512] = "", missing[512] = "";

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < PROBE_MAX_NEEDS; i++)
		out->pick[i] = -1;
	for (int i = 0; i < PROBE_MAX_NEEDS && req->need[i].what; i++) {
		const struct cmd_need *n = &req->need[i];
		enum feature first = n->alt[0];
		int pick = -1;

		for (int a = 0; a < PROBE_MAX_ALTS && n->alt[a] != FEAT_NONE; a++) {
			/* A zero-initialised trailing alt is FEAT_KERNEL (0): never an alternative. */
			if (a > 0 && n->alt[a] == FEAT_KERNEL)
				break;
			if (res[n->alt[a]].status == PROBE_OK) {
				pick = a;
				break;
			}
		}
		out->pick[i] = pick;
		if (pick > 0) {
			append(fallbacks, sizeof(fallbacks), "%s%s instead of %s (", fallbacks[0] ? "; " : "",
			       n->via[pick], n->via[0]);
			append(fallbacks, sizeof(fallbacks), "%s)", res[first].detail);
			out->nfallbacks++;
		} else if (pick < 0 && n->scope) {
			append(out->limits, sizeof(out->limits), "%s%s unavailable: ",
			       out->limits[0] ? "; " : "", n->scope);
			why(out->limits, sizeof(out->limits), first, &res[first]);
		} else if (pick < 0) {
			append(missing, sizeof(missing), "%s%s needs ", missing[0] ? "; " : "", n->what);
			why(missing, sizeof(missing), first, &res[first]);
		}
	}
	/* bpflab does some things differently from the talk on purpose; when the talk's way
	 * would not work here, say that what bpflab does is, here, the fallback. */
	if (req->talk_via && req->talk != FEAT_NONE && res[req->talk].status != PROBE_OK) {
		snprintf(out->talk, sizeof(out->talk), "the talk used %s: %s %s here (%s)",
			 req->talk_via, probe_feature_title(req->talk),
			 probe_status_str(res[req->talk].status), res[req->talk].detail);
		if (out->pick[0] >= 0) {
			append(fallbacks, sizeof(fallbacks), "%s%s instead of the talk's %s (%s)",
			       fallbacks[0] ? "; " : "", req->need[0].via[out->pick[0]], req->talk_via,
			       res[req->talk].detail);
			out->nfallbacks++;
		}
	}
	if (missing[0]) {
		out->kind = VERDICT_UNAVAILABLE;
		snprintf(out->text, sizeof(out->text), "unavailable: %s", missing);
	} else if (out->nfallbacks) {
		out->kind = VERDICT_FALLBACK;
		snprintf(out->text, sizeof(out->text), "works with fallback: %s", fallbacks);
	} else {
		out->kind = VERDICT_WORKS;
		snprintf(out->text, sizeof(out->text), "works");
	}
}

enum feature probe_need_pick(const char *cmd, int need)
{
	const struct cmd_req *c = probe_command(cmd);
	int i;

	if (!c || need < 0 || need >= PROBE_MAX_NEEDS || !c->need[need].what)
		return FEAT_NONE;
	i = probe_pick(c->need[need].alt, PROBE_MAX_ALTS);
	return i < 0 ? FEAT_NONE : c->need[need].alt[i];
}

enum feature probe_exec_attach(void)
{
	return probe_need_pick("exec", 0);
}

enum feature probe_exec_sched(void)
{
	return probe_need_pick("exec", 1);
}
