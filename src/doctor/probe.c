// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel feature probes by doing: load a few instructions, attach where attach is the
 * question. This file: the result cache, the helpers every probe shares, work in a child
 * process, and the simple probes (bpf, BTF, JIT, filesystems, ring buffer). Tracing
 * attach probes are in probe_trace.c, network ones in probe_net.c, what each command
 * needs and the verdicts in probe_table.c, work in a child process and the pseudo
 * filesystem reads in probe_child.c. */
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
	[FEAT_SYNCOOKIE] = { "syncookie_helpers", "SYN-cookie helpers (XDP)" },
	[FEAT_CT_KFUNC] = { "ct_kfuncs", "conntrack kfuncs (XDP)" },
	[FEAT_NET_TP] = { "net_tracepoints", "net tracepoints" },
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

void set_res(struct probe_result *r, enum probe_status st, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void set_res(struct probe_result *r, enum probe_status st, int err, const char *fmt, ...)
{
	va_list ap;

	r->status = st;
	r->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

void set_hint(struct probe_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void set_hint(struct probe_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->hint, sizeof(r->hint), fmt, ap);
	va_end(ap);
}

/* EPERM/EACCES are policy (the feature exists, we may not use it); "does not exist"
 * errors mean the kernel lacks it; anything else is a probe we cannot interpret. */
enum probe_status classify(int err)
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

void set_failed(struct probe_result *r, int err, const char *what)
{
	set_res(r, classify(err), err, "%s %s with %s", what,
		classify(err) == PROBE_REFUSED ? "refused" : "failed", probe_errno_name(err));
}

/* ---- tiny programs ---- */

#define INSN_MOV64_IMM(r, v) ((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (r), .imm = (v) })
#define INSN_EXIT ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

/* "return ret": enough for every program type we probe. -errno on failure; the
 * verifier's log goes to log when given. */
int load_ret_log(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret,
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

int load_ret(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret)
{
	return load_ret_log(type, eat, btf_id, ret, NULL, 0);
}

static bool filesystem_known(const char *type)
{
	char buf[4096], pat[64];
	int n;

	snprintf(pat, sizeof(pat), "\t%s\n", type);
	/* read_text strips the last newline, which the pattern needs: put it back, bounded. */
	n = read_text("/proc/filesystems", buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\n';
	buf[n + 1] = 0;
	return strstr(buf, pat) != NULL;
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
			set_hint(r, "loading needs CAP_BPF, and an XDP program CAP_NET_ADMIN: run with them "
				 "(as root, or setpriv --ambient-caps=+bpf,+net_admin)");
		return;
	}
	close(fd);
	set_res(r, PROBE_OK, 0, "loaded a 2-instruction XDP program");
}

static struct btf *vmlinux_btf;
static int vmlinux_btf_err;

struct btf *get_vmlinux_btf(int *err)
{
	if (!vmlinux_btf && !vmlinux_btf_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_btf_err = errno ? -errno : -ENOENT;
	}
	if (err)
		*err = vmlinux_btf_err;
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
	btf = get_vmlinux_btf(NULL);
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

/* A filesystem bpflab mounts itself when it needs it: mounted (at `at`), known to the
 * kernel but not mounted (fine: `later` says when bpflab mounts it), or missing. */
static void probe_fs(struct probe_result *r, const char *at, const char *type,
		     const char *later, const char *missing, const char *hint)
{
	if (at) {
		snprintf(r->value, sizeof(r->value), "mounted");
		set_res(r, PROBE_OK, 0, "mounted at %s", at);
	} else if (filesystem_known(type)) {
		snprintf(r->value, sizeof(r->value), "not mounted");
		set_res(r, PROBE_OK, 0, "not mounted; bpflab mounts it at %s", later);
	} else {
		set_res(r, PROBE_MISSING, ENODEV, "no %s in /proc/filesystems", missing);
		set_hint(r, "%s", hint);
	}
}

static void probe_bpffs(struct probe_result *r)
{
	probe_fs(r, fs_is_mounted("/sys/fs/bpf", BPF_FS_MAGIC) ? "/sys/fs/bpf" : NULL, "bpf",
		 "/sys/fs/bpf when it pins", "bpf filesystem", "pinning (count --pin, lb) needs bpffs");
}

static void probe_tracefs(struct probe_result *r)
{
	probe_fs(r, tracefs_mounted(), "tracefs", "/sys/kernel/tracing when it needs it", "tracefs",
		 "tracepoints and trace_pipe need tracefs (CONFIG_TRACING=y)");
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

/* bpflab filter --synproxy: the four helpers of src/filter/syncookie.bpf.h, each in an
 * XDP program the kernel loads (libbpf's helper probe), so "missing" is the kernel's say. */
static void probe_syncookie(struct probe_result *r)
{
	static const struct { enum bpf_func_id id; const char *name; } h[] = {
		{ BPF_FUNC_tcp_raw_gen_syncookie_ipv4, "bpf_tcp_raw_gen_syncookie_ipv4" },
		{ BPF_FUNC_tcp_raw_gen_syncookie_ipv6, "bpf_tcp_raw_gen_syncookie_ipv6" },
		{ BPF_FUNC_tcp_raw_check_syncookie_ipv4, "bpf_tcp_raw_check_syncookie_ipv4" },
		{ BPF_FUNC_tcp_raw_check_syncookie_ipv6, "bpf_tcp_raw_check_syncookie_ipv6" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++) {
		int ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, h[i].id, NULL);

		if (ret == 1)
			continue;
		if (ret == 0) {
			set_res(r, PROBE_MISSING, EINVAL, "an XDP program calling %s does not load",
				h[i].name);
			set_hint(r, "the kernel predates 6.0 (or lacks CONFIG_SYN_COOKIES): "
				 "filter --synproxy needs it; the nftables synproxy alone still works");
		} else {
			set_failed(r, ret, h[i].name);
		}
		return;
	}
	set_res(r, PROBE_OK, 0, "XDP programs calling bpf_tcp_raw_{gen,check}_syncookie_ipv{4,6} load");
}

/* bpf_xdp_ct_lookup + bpf_ct_release, called from a tiny XDP program as syncookie.bpf.h
 * calls them (a 12-byte IPv4 tuple, 12-byte options, the current netns). */
static void probe_ct_kfunc(struct probe_result *r)
{
	int err = 0, lookup, release, fd;
	struct btf *btf = get_vmlinux_btf(&err);

	if (!btf) {
		set_failed(r, err, "reading the kernel BTF for the kfuncs");
		return;
	}
	lookup = btf__find_by_name_kind(btf, "bpf_xdp_ct_lookup", BTF_KIND_FUNC);
	release = btf__find_by_name_kind(btf, "bpf_ct_release", BTF_KIND_FUNC);
	if (lookup < 0 || release < 0) {
		set_res(r, PROBE_MISSING, ENOENT, "no bpf_xdp_ct_lookup/bpf_ct_release in the kernel BTF");
		set_hint(r, "conntrack is a module not loaded yet (modprobe nf_conntrack), or the "
			 "kernel predates 6.0: filter --synproxy needs it to let established flows pass");
		return;
	}
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -16 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -32 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -24 },
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -32, .imm = -1 },
		{ .code = BPF_ST | BPF_MEM | BPF_B, .dst_reg = BPF_REG_10, .off = -24, .imm = 6 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_6 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -16 },
		INSN_MOV64_IMM(BPF_REG_3, 12),
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_4, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_4, .imm = -32 },
		INSN_MOV64_IMM(BPF_REG_5, 12),
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = lookup },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = BPF_REG_0, .off = 2, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_KFUNC_CALL, .imm = release },
		INSN_MOV64_IMM(BPF_REG_0, XDP_PASS),
		INSN_EXIT,
	};
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bpflab_probe", "Dual BSD/GPL", insns,
			   ARRAY_SIZE(insns), NULL);
	if (fd < 0) {
		set_failed(r, fd, "loading an XDP program that calls bpf_xdp_ct_lookup");
		return;
	}
	close(fd);
	set_res(r, PROBE_OK, 0, "an XDP program calling bpf_xdp_ct_lookup and bpf_ct_release loads");
}

/* ---- the cache ---- */

/* What probing a feature takes: a command that needs only tracing is not held back by
 * the network probes' needs. */
static unsigned feature_caps(enum feature f)
{
	switch (f) {
	case FEAT_KERNEL:
		return 0;
	case FEAT_BPF: case FEAT_BTF: case FEAT_JIT: case FEAT_RINGBUF:
	case FEAT_BPFFS: case FEAT_TRACEFS: case FEAT_NET_TP:
		return CAPN_BPF;
	case FEAT_SYNCOOKIE: case FEAT_CT_KFUNC: /* XDP programs, loaded, never attached */
		return CAPN_BPF | CAPN_NET_ADMIN;
	case FEAT_TRACEPOINT: case FEAT_RAW_TP: case FEAT_TP_BTF: case FEAT_KPROBE:
	case FEAT_FENTRY: case FEAT_FEXIT: case FEAT_LSM: case FEAT_UPROBE:
		return CAPN_BPF | CAPN_PERFMON;
	default: /* network probes: a throwaway netns, XDP and TC programs */
		return PROBE_CAPS;
	}
}

static void probe_one(enum feature f)
{
	struct probe_result *r = &results[f];

	if (caps_missing(feature_caps(f))) {
		char names[128];
		caps_names(caps_missing(feature_caps(f)), names, sizeof(names));
		set_res(r, PROBE_UNKNOWN, EPERM, "not probed: this process lacks %s", names);
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
	case FEAT_SYNCOOKIE: probe_syncookie(r); break;
	case FEAT_CT_KFUNC: probe_ct_kfunc(r); break;
	case FEAT_NET_TP: probe_net_tp(r); break;
	default:
		probe_net(results, probed);
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
