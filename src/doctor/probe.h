/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel feature probes: `bpflab doctor` and every runtime fallback ask the same code.
 *
 * Each feature is probed by doing the thing (load a few instructions, attach them where
 * attaching is the question), never by reading the kernel version. Network attach probes
 * run in an anonymous network namespace the probe creates and leaves; it has no name, so
 * the kernel removes it (and the veth pair inside) as soon as the probe returns, whatever
 * happens. Results are cached for the life of the process.
 *
 * Commands pick their fallbacks with probe_feature() or probe_pick(), e.g.
 *   if (probe_feature(FEAT_KPROBE)->status != PROBE_OK) use the syscall tracepoints;
 * and the doctor's per-command verdicts come from the table in probe.c (probe_commands),
 * evaluated by probe_verdict(), so the doctor and the commands cannot disagree. */
#ifndef BPFLAB_PROBE_H
#define BPFLAB_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum feature {
	FEAT_KERNEL,          /* kernel release (informational; never used to decide) */
	FEAT_BPF,             /* bpf(): a 2-instruction program loads */
	FEAT_BTF,             /* /sys/kernel/btf/vmlinux parses */
	FEAT_JIT,             /* bpf_jit_enable, and a loaded program is really JIT-compiled */
	FEAT_BPFFS,           /* bpffs at /sys/fs/bpf, or bpflab can mount it */
	FEAT_TRACEFS,         /* tracefs at /sys/kernel/tracing, or bpflab can mount it */
	FEAT_NETNS,           /* a network namespace with a veth pair can be made */
	FEAT_XDP_NATIVE,      /* XDP link in driver mode on a veth */
	FEAT_XDP_GENERIC,     /* XDP link in skb (generic) mode on lo */
	FEAT_TC_CLSACT,       /* clsact qdisc + cls_bpf filter (bpf_tc_hook_create/attach) */
	FEAT_TCX,             /* tcx link (BPF_TCX_INGRESS) */
	FEAT_TRACEPOINT,      /* perf_event tracepoint syscalls:sys_enter_execve (value says so) */
	FEAT_RAW_TP,          /* raw tracepoint: sched_process_exec */
	FEAT_TP_BTF,          /* BTF-typed raw tracepoint: btf_trace_sched_process_exec */
	FEAT_KPROBE,          /* kprobe attach (kprobe PMU or tracefs kprobe_events) */
	FEAT_FENTRY,          /* BPF trampoline, fentry */
	FEAT_FEXIT,           /* BPF trampoline, fexit */
	FEAT_LSM,             /* BPF LSM program */
	FEAT_UPROBE,          /* uprobe PMU, attached to a function of /proc/self/exe */
	FEAT_RINGBUF,         /* BPF_MAP_TYPE_RINGBUF */
	FEAT_TEST_RUN,        /* BPF_PROG_TEST_RUN on XDP */
	FEAT_XDP_LIVE_FRAMES, /* BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES */
	FEAT_SYNCOOKIE,       /* XDP may call bpf_tcp_raw_gen/check_syncookie_ipv4/6 */
	FEAT_CT_KFUNC,        /* XDP may call the conntrack kfuncs bpf_xdp_ct_lookup/bpf_ct_release */
	FEAT_NET_TP,          /* the network stack's tracepoints bpflab trace uses (tp_btf types) */
	FEAT__MAX,
	FEAT_NONE = -1,       /* ends a list of alternatives */
};

/* What probing needs: it loads every program type and makes a throwaway namespace. */
#define PROBE_CAPS (CAPN_BPF | CAPN_PERFMON | CAPN_NET_ADMIN | CAPN_SYS_ADMIN)
#define PROBE_CAPS_WHY "the probes load every program type (CAP_BPF, CAP_PERFMON, " \
	"CAP_NET_ADMIN) and make a throwaway network namespace (CAP_SYS_ADMIN)"

enum probe_status {
	PROBE_UNKNOWN = 0, /* the probe could not run (not root, no `ip`, ...) */
	PROBE_OK,
	PROBE_MISSING,     /* the kernel does not have it */
	PROBE_REFUSED,     /* the kernel has it but refuses us (EPERM/EACCES: policy) */
};

struct probe_result {
	enum probe_status status;
	int err;          /* positive errno behind MISSING/REFUSED/UNKNOWN, 0 if none */
	char value[64];   /* short fact: release, mount point, "1", ... ("" if none) */
	char detail[192]; /* one line: what was tried and what happened */
	char hint[256];   /* one line: what it usually means / what to do ("" if OK) */
};

/* Probes (once per process) and returns the result; never NULL. */
const struct probe_result *probe_feature(enum feature f);
/* Probes everything, sharing one throwaway netns for the network probes. */
void probe_all(void);
bool probe_ok(enum feature f);
/* The first alternative whose probe is OK, or -1: alts ends at FEAT_NONE or n. */
int probe_pick(const enum feature *alts, size_t n);

const char *probe_feature_name(enum feature f); /* JSON key: "xdp_native", ... */
const char *probe_feature_title(enum feature f); /* human: "XDP native (veth)" */
const char *probe_status_str(enum probe_status s); /* "ok", "missing", ... */
const char *probe_errno_name(int err); /* "EPERM"; takes +/-errno; "" for 0 */

/* What each bpflab command needs, as data. A need lists alternatives in order of
 * preference, with how the command uses each one; `scope` says which option needs it
 * (NULL: the whole command does). */
#define PROBE_MAX_ALTS 3
#define PROBE_MAX_NEEDS 6
struct cmd_need {
	const char *what;
	enum feature alt[PROBE_MAX_ALTS];
	const char *via[PROBE_MAX_ALTS];
	const char *scope;
};
struct cmd_req {
	const char *name;   /* bpflab command */
	const char *note;   /* always true, whatever the probes say (NULL if none) */
	struct cmd_need need[PROBE_MAX_NEEDS];
	/* What the talk used where bpflab deliberately does otherwise (FEAT_NONE: nothing):
	 * reported, never required. */
	enum feature talk;
	const char *talk_via;
};
extern const struct cmd_req probe_commands[];
extern const size_t probe_ncommands;

enum verdict_kind { VERDICT_WORKS, VERDICT_FALLBACK, VERDICT_UNAVAILABLE };
struct cmd_verdict {
	enum verdict_kind kind;
	char text[512];   /* "works", "works with fallback: ...", "unavailable: ...; fix" */
	char limits[384]; /* options that cannot work here ("" if none) */
	char talk[320];   /* the talk's way, when it would not work here ("" otherwise) */
	int pick[PROBE_MAX_NEEDS]; /* index into need[i].alt of what is used; -1: none */
	int nfallbacks;
};
/* Pure: evaluates req against results[FEAT__MAX]; tests feed it fake results. */
void probe_verdict(const struct cmd_req *req, const struct probe_result *results,
		   struct cmd_verdict *out);
/* A command's entry in the table; NULL when it is not there. */
const struct cmd_req *probe_command(const char *name);
/* The alternative a command takes for its need number `need` (its index in the table),
 * from the live probes: the same choice the doctor reports. FEAT_NONE if none works. */
enum feature probe_need_pick(const char *cmd, int need);
/* How `bpflab exec` hooks execve/execveat here: FEAT_TRACEPOINT (the syscall
 * tracepoints), else FEAT_RAW_TP (raw sys_enter/sys_exit), else FEAT_NONE. The talk's
 * kprobe is never used: this kernel has none, and tracepoints are the stable interface. */
enum feature probe_exec_attach(void);
/* How it sees successful execs (sched_process_exec): FEAT_TP_BTF, else FEAT_RAW_TP. */
enum feature probe_exec_sched(void);
const char *verdict_kind_str(enum verdict_kind k); /* "works", "fallback", "unavailable" */

#endif
