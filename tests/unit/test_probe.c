// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The doctor's verdict logic on fake probe results (no root), the command table against
 * commands.def, and, as root, the live probe cache. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "tap.h"
#include "probe.h"
#include "opts.h"
#include "util.h"

static struct probe_result res[FEAT__MAX];

static void all_ok(void)
{
	memset(res, 0, sizeof(res));
	for (int f = 0; f < FEAT__MAX; f++) {
		res[f].status = PROBE_OK;
		snprintf(res[f].detail, sizeof(res[f].detail), "%s ok", probe_feature_name(f));
	}
}

static void set(enum feature f, enum probe_status st, int err, const char *detail, const char *hint)
{
	res[f].status = st;
	res[f].err = err;
	snprintf(res[f].detail, sizeof(res[f].detail), "%s", detail);
	snprintf(res[f].hint, sizeof(res[f].hint), "%s", hint ? hint : "");
}

static struct cmd_verdict verdict(const char *cmd)
{
	struct cmd_verdict v;
	const struct cmd_req *c = probe_command(cmd);

	memset(&v, 0, sizeof(v));
	if (!ok(c != NULL, "%s is in the doctor's table", cmd))
		return v;
	probe_verdict(c, res, &v);
	return v;
}

#define has(hay, needle, ...) ({ \
	const char *h_ = (hay), *n_ = (needle); \
	int r_ = ok(strstr(h_, n_) != NULL, __VA_ARGS__); \
	if (!r_) printf("#   '%s' not in '%s'\n", n_, h_); \
	r_; })

static void test_all_ok(void)
{
	all_ok();
	for (size_t i = 0; i < probe_ncommands; i++) {
		struct cmd_verdict v;
		probe_verdict(&probe_commands[i], res, &v);
		ok(v.kind == VERDICT_WORKS && !strcmp(v.text, "works") && !v.limits[0] && !v.talk[0],
		   "all OK: %s works, no limits", probe_commands[i].name);
		for (int n = 0; n < PROBE_MAX_NEEDS && probe_commands[i].need[n].what; n++)
			if (v.pick[n] != 0)
				ok(0, "all OK: %s need %d takes its first choice", probe_commands[i].name, n);
	}
}

/* This machine: no kprobes, trampolines refused. */
static void test_this_machine(void)
{
	struct cmd_verdict v;

	all_ok();
	set(FEAT_KPROBE, PROBE_MISSING, ENOENT, "no kprobe support in this kernel (CONFIG_KPROBES is off)", "x");
	set(FEAT_FENTRY, PROBE_REFUSED, EPERM, "fentry load refused with EPERM", "lockdown");
	set(FEAT_FEXIT, PROBE_REFUSED, EPERM, "fexit load refused with EPERM", "lockdown");
	set(FEAT_LSM, PROBE_REFUSED, EPERM, "lsm load refused with EPERM", "lockdown");
	v = verdict("exec");
	is_int(v.kind, VERDICT_FALLBACK, "no kprobes: exec works with a fallback");
	is_str(v.text, "works with fallback: the syscall tracepoints of execve and execveat instead "
		       "of the talk's kprobe on execve (no kprobe support in this kernel "
		       "(CONFIG_KPROBES is off))", "no kprobes: exec says what it uses instead, and why");
	is_int(v.pick[0], 0, "no kprobes: exec hooks execve with the syscall tracepoints");
	is_int(v.pick[1], 0, "no kprobes: exec sees successful execs with tp_btf");
	has(v.talk, "kprobe missing here", "no kprobes: the talk's way is reported");
	for (size_t i = 0; i < probe_ncommands; i++) {
		if (!strcmp(probe_commands[i].name, "exec"))
			continue;
		v = verdict(probe_commands[i].name);
		is_int(v.kind, VERDICT_WORKS, "no kprobes, no fentry: %s still works", probe_commands[i].name);
	}
}

static void test_exec_fallbacks(void)
{
	struct cmd_verdict v;

	all_ok();
	set(FEAT_TRACEPOINT, PROBE_MISSING, ENOENT, "no tracepoint id", NULL);
	v = verdict("exec");
	is_int(v.kind, VERDICT_FALLBACK, "no tracepoints: exec falls back");
	is_int(v.pick[0], 1, "no tracepoints: exec uses raw_tp sys_enter/sys_exit");
	has(v.text, "raw_tp sys_enter/sys_exit", "no tracepoints: the fallback is named");
	has(v.limits, "--printk unavailable: syscall tracepoint missing: no tracepoint id",
	    "no tracepoints: --printk is the limit, with the reason");

	set(FEAT_RAW_TP, PROBE_MISSING, EINVAL, "raw_tp failed with EINVAL", "old kernel");
	v = verdict("exec");
	is_int(v.kind, VERDICT_UNAVAILABLE, "no tracepoints nor raw_tp: exec is unavailable");
	has(v.text, "unavailable: a hook on execve/execveat needs syscall tracepoint missing: no tracepoint id",
	    "unavailable names the need, the preferred feature and its detail");
	ok(strstr(v.text, "a hook on successful execs") == NULL,
	   "tp_btf OK: the sched hook is not reported missing");

	all_ok();
	set(FEAT_TP_BTF, PROBE_MISSING, ENOENT, "no btf_trace_sched_process_exec", NULL);
	v = verdict("exec");
	is_int(v.pick[1], 1, "no tp_btf: exec uses raw_tp sched_process_exec");
	is_int(v.kind, VERDICT_FALLBACK, "no tp_btf: a fallback");

	all_ok();
	set(FEAT_RINGBUF, PROBE_MISSING, EINVAL, "creating a ringbuf failed with EINVAL", "no ring buffer");
	v = verdict("exec");
	is_int(v.kind, VERDICT_UNAVAILABLE, "no ring buffer: exec unavailable");
	has(v.text, "events needs ring buffer map missing: creating a ringbuf failed with EINVAL; no ring buffer",
	    "no ring buffer: reason and hint");
	is_int(verdict("ping").kind, VERDICT_UNAVAILABLE, "no ring buffer: ping unavailable");
	is_int(verdict("count").kind, VERDICT_WORKS, "no ring buffer: count still works");
}

static void test_net_fallbacks(void)
{
	struct cmd_verdict v;

	all_ok();
	set(FEAT_XDP_NATIVE, PROBE_MISSING, EOPNOTSUPP, "attach to veth failed with EOPNOTSUPP", NULL);
	v = verdict("count");
	is_int(v.kind, VERDICT_FALLBACK, "no native XDP: count falls back");
	has(v.text, "generic XDP (skb path, slower) instead of native XDP", "no native XDP: generic named");
	is_int(verdict("lb").kind, VERDICT_FALLBACK, "no native XDP: lb falls back to generic");
	v = verdict("bench");
	is_int(v.kind, VERDICT_WORKS, "no native XDP: bench runs");
	has(v.limits, "the XDP native row unavailable", "no native XDP: bench loses that row");

	all_ok();
	set(FEAT_XDP_NATIVE, PROBE_UNKNOWN, 0, "no veth pair to try native XDP on", NULL);
	set(FEAT_XDP_GENERIC, PROBE_REFUSED, EPERM, "attach refused with EPERM", "run as root");
	v = verdict("ping");
	is_int(v.kind, VERDICT_UNAVAILABLE, "unknown is not OK: no XDP at all makes ping unavailable");
	has(v.text, "XDP attach needs XDP native (veth) unknown", "unknown status is reported as such");

	all_ok();
	set(FEAT_TCX, PROBE_MISSING, EINVAL, "bpf_link_create with BPF_TCX_INGRESS failed with EINVAL", NULL);
	v = verdict("ping");
	is_int(v.kind, VERDICT_FALLBACK, "no tcx: ping falls back to clsact");
	has(v.text, "a clsact qdisc instead of a tcx link", "no tcx: says so");
	set(FEAT_TC_CLSACT, PROBE_MISSING, EOPNOTSUPP, "no clsact", NULL);
	v = verdict("ping");
	is_int(v.kind, VERDICT_WORKS, "no TC at all: ping works (only an option needs TC)");
	has(v.limits, "--reply --hook tc unavailable", "no TC at all: the option is the limit");

	all_ok();
	set(FEAT_BPFFS, PROBE_MISSING, ENODEV, "no bpf filesystem", "pinning needs bpffs");
	is_int(verdict("lb").kind, VERDICT_UNAVAILABLE, "no bpffs: lb unavailable (pinned maps)");
	v = verdict("count");
	is_int(v.kind, VERDICT_WORKS, "no bpffs: count works");
	has(v.limits, "--pin unavailable", "no bpffs: count --pin is the limit");

	all_ok();
	set(FEAT_XDP_LIVE_FRAMES, PROBE_MISSING, EINVAL, "live frames failed with EINVAL", NULL);
	v = verdict("bench");
	is_int(v.kind, VERDICT_UNAVAILABLE, "no live frames: bench has no traffic generator");
	has(v.text, "a traffic generator needs XDP live frames missing", "no live frames: reason");
	set(FEAT_NETNS, PROBE_MISSING, ENODEV, "no veth", NULL);
	is_int(verdict("lab").kind, VERDICT_UNAVAILABLE, "no veth: lab unavailable");
}

/* Every command of the binary has an entry, so the doctor can't forget one. */
static void test_table_complete(void)
{
	static const char *const built[] = {
#define CMD(id, summary) #id,
#define ALIAS(name, id)
#include "commands.def"
#undef CMD
#undef ALIAS
	};

	for (size_t i = 0; i < ARRAY_SIZE(built); i++) {
		if (!strcmp(built[i], "doctor"))
			continue;
		ok(probe_command(built[i]) != NULL, "command '%s' has a doctor entry", built[i]);
	}
	ok(probe_command("nosuch") == NULL, "unknown command: no entry");
	for (size_t i = 0; i < probe_ncommands; i++) {
		const struct cmd_req *c = &probe_commands[i];
		int bad = 0;
		for (int n = 0; n < PROBE_MAX_NEEDS && c->need[n].what; n++)
			for (int a = 0; a < PROBE_MAX_ALTS && c->need[n].alt[a] != FEAT_NONE; a++)
				if (c->need[n].alt[a] <= FEAT_KERNEL || c->need[n].alt[a] >= FEAT__MAX ||
				    !c->need[n].via[a])
					bad++;
		is_int(bad, 0, "%s: every alternative is a real feature with a 'via'", c->name);
	}
}

static void test_names(void)
{
	int dup = 0;

	for (int f = 0; f < FEAT__MAX; f++)
		for (int g = f + 1; g < FEAT__MAX; g++)
			dup += !strcmp(probe_feature_name(f), probe_feature_name(g));
	is_int(dup, 0, "feature names are unique JSON keys");
	is_str(probe_feature_name(FEAT_KPROBE), "kprobe", "FEAT_KPROBE is 'kprobe'");
	is_str(probe_feature_name(FEAT_XDP_LIVE_FRAMES), "xdp_live_frames", "last feature named");
	is_str(probe_errno_name(EPERM), "EPERM", "errno name of EPERM");
	is_str(probe_errno_name(-EOPNOTSUPP), "EOPNOTSUPP", "negative errno works too");
	is_str(probe_errno_name(524), "ENOTSUPP", "kernel-internal ENOTSUPP named");
	is_str(probe_errno_name(0), "", "no errno: empty");
	is_str(probe_status_str(PROBE_REFUSED), "refused", "status string");
	is_str(verdict_kind_str(VERDICT_FALLBACK), "fallback", "verdict string");
}

static void test_live(void)
{
	const struct probe_result *a, *b;

	if (geteuid() != 0) {
		if (getenv("CI") && *getenv("CI"))
			ok(0, "live probes need root, and CI is set: failing instead of skipping");
		else
			tap_skip("live probes need root");
		return;
	}
	/* Without root, probes say so instead of guessing (checked in a child: cache). */
	pid_t pid = fork();
	if (pid == 0) {
		const struct probe_result *r;
		if (seteuid(65534))
			_exit(3);
		r = probe_feature(FEAT_XDP_NATIVE);
		/* seteuid away from 0 clears the effective capabilities: that is what counts. */
		_exit(r->status == PROBE_UNKNOWN && strstr(r->detail, "lacks CAP_") &&
		      strstr(r->detail, "CAP_NET_ADMIN") ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "live: without the capabilities a probe is 'unknown', naming them");

	a = probe_feature(FEAT_BPF);
	is_int(a->status, PROBE_OK, "live: a 2-instruction program loads (%s)", a->detail);
	b = probe_feature(FEAT_BPF);
	ok(a == b, "live: results are cached");
	ok(probe_feature(FEAT__MAX)->status == PROBE_UNKNOWN, "live: out-of-range feature is unknown");
	/* The exec command asks through these; they must agree with the table. */
	ok(probe_exec_attach() == FEAT_TRACEPOINT || probe_exec_attach() == FEAT_RAW_TP ||
	   probe_exec_attach() == FEAT_NONE, "live: exec never picks a kprobe");
	is_int(probe_need_pick("exec", 0), probe_exec_attach(), "live: probe_exec_attach is the table's pick");
	is_int(probe_need_pick("nosuch", 0), FEAT_NONE, "live: unknown command picks nothing");
}

int main(void)
{
	test_all_ok();
	test_this_machine();
	test_exec_fallbacks();
	test_net_fallbacks();
	test_table_complete();
	test_names();
	test_live();
	return tap_done();
}
