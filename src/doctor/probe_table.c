// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What each bpflab command needs, as data, and the verdict it gets from the probes: the
 * doctor reports from here and the commands pick their fallbacks from here
 * (probe_need_pick), so the two cannot disagree. */
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

/* ---- what each command needs ---- */

#define XDP_NEED { "XDP attach", { FEAT_XDP_NATIVE, FEAT_XDP_GENERIC, FEAT_NONE }, \
		   { "native XDP", "generic XDP (skb path, slower)" }, NULL }
#define LO_NOTE "on lo (the default) XDP is always generic: lo has no native XDP"

const struct cmd_req probe_commands[] = {
	{ "count", LO_NOTE, {
		XDP_NEED,
		{ "pinning", { FEAT_BPFFS, FEAT_NONE }, { "bpffs" }, "--pin" },
		{ NULL } }, FEAT_NONE, NULL },
	{ "ping", LO_NOTE, {
		XDP_NEED,
		{ "events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ "TC hook", { FEAT_TCX, FEAT_TC_CLSACT, FEAT_NONE }, { "a tcx link", "a clsact qdisc" },
		  "--reply --hook tc" },
		{ NULL } }, FEAT_NONE, NULL },
	/* Keep in step with the programs of src/exec/exec.bpf.c and their fallbacks. */
	{ "exec", NULL, {
		{ "a hook on execve/execveat", { FEAT_TRACEPOINT, FEAT_RAW_TP, FEAT_NONE },
		  { "the syscall tracepoints of execve and execveat",
		    "raw_tp sys_enter/sys_exit (runs for every syscall: costs more)" }, NULL },
		{ "a hook on successful execs", { FEAT_TP_BTF, FEAT_RAW_TP, FEAT_NONE },
		  { "tp_btf sched_process_exec", "raw_tp sched_process_exec" }, NULL },
		{ "events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ "a tracepoint", { FEAT_TRACEPOINT, FEAT_NONE }, { "the sys_enter_execve tracepoint" }, "--printk" },
		{ "trace_pipe", { FEAT_TRACEFS, FEAT_NONE }, { "trace_pipe in tracefs" }, "--printk" },
		{ NULL } }, FEAT_KPROBE, "kprobe on execve" },
	{ "verify", NULL, {
		{ "program load with a verifier log", { FEAT_BPF, FEAT_NONE }, { "bpf()" }, NULL },
		{ "jited sizes", { FEAT_JIT, FEAT_NONE }, { "the BPF JIT" }, "jited sizes" },
		{ NULL } }, FEAT_NONE, NULL },
	{ "lb", NULL, {
		XDP_NEED,
		{ "pinned maps", { FEAT_BPFFS, FEAT_NONE }, { "bpffs" }, NULL },
		{ NULL } }, FEAT_NONE, NULL },
	{ "bench", NULL, {
		{ "a traffic generator", { FEAT_XDP_LIVE_FRAMES, FEAT_NONE }, { "XDP live frames" }, NULL },
		{ "per-packet cost", { FEAT_TEST_RUN, FEAT_NONE }, { "BPF_PROG_TEST_RUN" }, NULL },
		{ "throwaway namespaces", { FEAT_NETNS, FEAT_NONE }, { "netns + veth" }, NULL },
		{ "the XDP native row", { FEAT_XDP_NATIVE, FEAT_NONE }, { "native XDP" }, "the XDP native row" },
		{ "the XDP generic row", { FEAT_XDP_GENERIC, FEAT_NONE }, { "generic XDP" }, "the XDP generic row" },
		{ "the TC ingress row", { FEAT_TC_CLSACT, FEAT_NONE }, { "a clsact qdisc" }, "the TC ingress row" },
		}, FEAT_NONE, NULL },
	/* Keep in step with the programs of src/trace/trace.bpf.c. */
	{ "trace", NULL, {
		{ "typed tracepoints", { FEAT_TP_BTF, FEAT_NONE }, { "tp_btf programs (the sk_buff itself)" }, NULL },
		{ "the stack's tracepoints", { FEAT_NET_TP, FEAT_NONE },
		  { "skb:kfree_skb with its reason and the others this kernel has (net_tracepoints)" }, NULL },
		{ "events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ NULL } }, FEAT_NONE, NULL },
	{ "lab", NULL, {
		{ "namespaces", { FEAT_NETNS, FEAT_NONE }, { "network namespaces, veth and a bridge" }, NULL },
		{ NULL } }, FEAT_NONE, NULL },
	/* filter-syn: what --synproxy needs (src/filter/syncookie.bpf.h); filter-core: the rest */
	{ "filter", NULL, {
		XDP_NEED,
		{ "pinned maps", { FEAT_BPFFS, FEAT_NONE }, { "bpffs" }, NULL },
		{ "drop events", { FEAT_RINGBUF, FEAT_NONE }, { "a BPF ring buffer" }, NULL },
		{ "SYN cookies in XDP", { FEAT_SYNCOOKIE, FEAT_NONE },
		  { "bpf_tcp_raw_gen/check_syncookie_ipv4/6" }, "--synproxy" },
		{ "established flows past the cookies", { FEAT_CT_KFUNC, FEAT_NONE },
		  { "bpf_xdp_ct_lookup" }, "--synproxy" },
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
