// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench, section progs: each bpflab program against the bare program of its hook
 * through BPF_PROG_TEST_RUN, interleaved rounds, median and range of ns per packet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "util.h"
#include "bpfutil.h"
#include "pkt.h"
#include "benchcase.h"
#include "bench.h"
#include "bare.h"
#include "bare.skel.h"

struct bare_set {
	const char *name;
	int fd;
	bool tc;
	__u32 verdict;
};

static int bare_fd(struct bare_set *set, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(set[i].name, name))
			return set[i].fd;
	return -1;
}

/* One repeat run; the kernel's duration is the mean ns per repetition. */
static int run_repeat(int fd, const uint8_t *pkt, size_t len, int repeat, int cpu,
		      double *ns, __u32 *retval)
{
	uint8_t out[PKT_MAX];
	struct test_run t = { .in = pkt, .in_len = len, .out = out, .out_cap = sizeof(out),
			      .repeat = repeat, .cpu = cpu };
	int err = test_run_xdp(fd, &t);

	if (err)
		return err;
	*ns = t.duration;
	*retval = t.retval;
	return 0;
}

/* `calls` runs of one repetition each, every one from the untouched packet: the honest
 * way to time a program that rewrites its packet, since repeat does not restore it. The
 * kernel still times each run itself (no syscall in the figure), at ns resolution, so
 * the mean of many calls is precise; the timer's own cost cancels against the baseline
 * measured the same way. Every call's verdict is checked. */
static int run_calls(int fd, const uint8_t *pkt, size_t len, int calls, int cpu, double *ns,
		     __u32 *retval, __u32 expect, bool check)
{
	double sum = 0;
	int err;

	for (int i = 0; i < calls; i++) {
		double d;
		err = run_repeat(fd, pkt, len, 1, cpu, &d, retval);
		if (err)
			return err;
		if (check && *retval != expect)
			return 0;
		sum += d;
	}
	*ns = sum / calls;
	return 0;
}

struct progs_cfg {
	int repeat, rounds, calls, cpu;
	const char *method;     /* forced method for every case, NULL: chosen per case */
	struct bare_bpf *skel;  /* for the restoring wrapper */
};

static void measure_bare(struct bare_set *b, const uint8_t *pkt, size_t len,
			 const struct progs_cfg *c, struct prog_row *r)
{
	double ns[BENCH_MAX_REPS];
	__u32 ret = 0;

	snprintf(r->name, sizeof(r->name), "%s", b->name);
	r->tc = b->tc;
	r->method = "repeat";
	r->repeat = c->repeat;
	r->rounds = c->rounds;
	r->expect = b->verdict;
	for (int i = 0; i < c->rounds; i++) {
		int err = run_repeat(b->fd, pkt, len, c->repeat, c->cpu, &ns[i], &ret);
		if (err) {
			snprintf(r->reason, sizeof(r->reason), "BPF_PROG_TEST_RUN failed: %s",
				 strerr(err));
			return;
		}
	}
	r->retval = ret;
	spread_of(ns, c->rounds, &r->ns);
	r->ok = ret == b->verdict;
	if (!r->ok)
		snprintf(r->reason, sizeof(r->reason), "verdict %u, expected %u", ret, b->verdict);
}

/* How to time a case: "repeat" (the kernel loops on one packet), "restore" (the kernel
 * loops on xdp_restore, which puts the original frame back and tail-calls the program:
 * for XDP programs that rewrite), "repeat1" (one run per call, each from the original
 * packet: the fallback for rewriting programs of other hooks; cold caches every call,
 * so it reads higher than the steady state). */
static const char *choose_method(const struct bench_prog *b, const struct progs_cfg *c,
				 char *why, size_t len)
{
	bool xdp = !strncmp(b->baseline, "xdp_", 4);

	if (c->method && !strcmp(c->method, "restore") && !xdp) {
		snprintf(why, len, "--method restore works for XDP programs only");
		return NULL;
	}
	if (c->method && !strcmp(c->method, "restore") && b->pkt_len > BARE_RESTORE_MAX) {
		snprintf(why, len, "packet of %zu bytes is longer than the restorer's %d",
			 b->pkt_len, BARE_RESTORE_MAX);
		return NULL;
	}
	if (c->method)
		return c->method;
	if (!b->rewrites)
		return "repeat";
	return xdp && b->pkt_len <= BARE_RESTORE_MAX ? "restore" : "repeat1";
}

static int run_method(const char *method, const struct progs_cfg *c, int fd,
		      const struct bench_prog *b, double *ns, __u32 *ret, bool check)
{
	if (!strcmp(method, "repeat1"))
		return run_calls(fd, b->pkt, b->pkt_len, c->calls, c->cpu, ns, ret,
				 b->expect_retval, check);
	if (!strcmp(method, "restore")) {
		__u32 key = 0;
		if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.restore_jmp), &key, &fd, 0))
			return -errno;
		fd = bpf_program__fd(c->skel->progs.xdp_restore);
	}
	return run_repeat(fd, b->pkt, b->pkt_len, c->repeat, c->cpu, ns, ret);
}

static void measure_case(struct bench_prog *b, int base_fd, const struct progs_cfg *c,
			 struct prog_row *r)
{
	double ns[BENCH_MAX_REPS], base[BENCH_MAX_REPS], delta[BENCH_MAX_REPS];
	__u32 ret = 0, bret = 0, key = 0;
	int err = 0;

	r->method = choose_method(b, c, r->reason, sizeof(r->reason));
	if (!r->method)
		return;
	r->repeat = !strcmp(r->method, "repeat1") ? c->calls : c->repeat;
	r->rounds = c->rounds;
	r->expect = b->expect_retval;
	if (!strcmp(r->method, "restore")) {
		memset(c->skel->bss->restore_tmpl, 0, sizeof(c->skel->bss->restore_tmpl));
		memcpy(c->skel->bss->restore_tmpl, b->pkt, b->pkt_len);
		c->skel->bss->restore_len = b->pkt_len;
	}
	for (int i = 0; i < c->rounds && !exiting; i++) {
		/* Alternate which goes first, so a drift in the machine hits both alike. */
		for (int k = 0; k < 2 && !err; k++) {
			bool is_case = (i + k) % 2 == 0;

			err = run_method(r->method, c, is_case ? b->prog_fd : base_fd, b,
					 is_case ? &ns[i] : &base[i], is_case ? &ret : &bret, is_case);
			if (!err && is_case && ret != b->expect_retval) {
				r->retval = ret;
				snprintf(r->reason, sizeof(r->reason),
					 "verdict %s (%u), expected %s (%u)", xdp_action_str(ret), ret,
					 xdp_action_str(b->expect_retval), b->expect_retval);
				goto out;
			}
		}
		if (err) {
			snprintf(r->reason, sizeof(r->reason), "BPF_PROG_TEST_RUN failed: %s",
				 strerr(err));
			goto out;
		}
		delta[i] = ns[i] - base[i];
	}
	if (exiting) {
		snprintf(r->reason, sizeof(r->reason), "interrupted");
		goto out;
	}
	r->retval = ret;
	spread_of(ns, c->rounds, &r->ns);
	spread_of(base, c->rounds, &r->base_ns);
	spread_of(delta, c->rounds, &r->delta_ns);
	r->ok = true;
out:
	/* The prog array holds a reference: let the case's program go with its skeleton. */
	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.restore_jmp), &key);
}

#define BENCH_CASE(fn) fn,
static bench_setup_fn case_fns[] = {
#include "bench_cases.def"
};
#undef BENCH_CASE

int bench_progs(const struct bench_opts *o, struct prog_row *rows, int *nrows)
{
	struct progs_cfg c = {
		.repeat = o->quick ? 200000 : 1000000,
		.calls = o->quick ? 3000 : 20000,
		.rounds = o->reps,
		.cpu = o->cpu_rx,
		.method = o->method,
	};
	struct bare_bpf *skel;
	struct pkt_spec spec;
	uint8_t pkt[PKT_MAX];
	size_t len;
	int n = 0;

	skel = bare_bpf__open_and_load();
	if (!skel) {
		int err = -errno;
		pr_warn("failed to load the bare programs: %s\n", strerr(err));
		return err;
	}
	struct bare_set set[] = {
		{ "xdp_pass", bpf_program__fd(skel->progs.xdp_pass), false, XDP_PASS },
		{ "xdp_drop", bpf_program__fd(skel->progs.xdp_drop), false, XDP_DROP },
		{ "xdp_tx", bpf_program__fd(skel->progs.xdp_tx), false, XDP_TX },
		{ "tc_pass", bpf_program__fd(skel->progs.tc_pass), true, TC_ACT_OK },
		{ "tc_drop", bpf_program__fd(skel->progs.tc_drop), true, TC_ACT_SHOT },
	};
	c.skel = skel;
	pkt_spec_default(&spec);
	len = pkt_build(&spec, pkt);

	for (size_t i = 0; i < ARRAY_SIZE(set) && n < BENCH_MAX_ROWS && !exiting; i++) {
		pr_info("bench progs: %s\n", set[i].name);
		measure_bare(&set[i], pkt, len, &c, &rows[n++]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(case_fns) && n < BENCH_MAX_ROWS && !exiting; i++) {
		struct prog_row *r = &rows[n++];
		struct bench_prog b;
		int err, base;

		memset(&b, 0, sizeof(b));
		err = case_fns[i](&b);
		snprintf(r->name, sizeof(r->name), "%s", b.name ? b.name : "?");
		snprintf(r->baseline, sizeof(r->baseline), "%s", b.baseline ? b.baseline : "?");
		r->tc = b.baseline && !strncmp(b.baseline, "tc_", 3);
		if (err) {
			snprintf(r->reason, sizeof(r->reason), "setup failed: %s", strerr(err));
			if (b.cleanup)
				b.cleanup(&b);
			continue;
		}
		base = b.baseline ? bare_fd(set, ARRAY_SIZE(set), b.baseline) : -1;
		if (base < 0) {
			snprintf(r->reason, sizeof(r->reason), "unknown baseline '%s'", r->baseline);
		} else if (!b.pkt_len) {
			snprintf(r->reason, sizeof(r->reason), "the case gave no packet");
		} else {
			pr_info("bench progs: %s vs %s%s\n", r->name, r->baseline,
				b.rewrites ? " (rewrites its packet: restored every run)" : "");
			measure_case(&b, base, &c, r);
		}
		if (b.cleanup)
			b.cleanup(&b);
	}
	bare_bpf__destroy(skel);
	*nrows = n;
	return 0;
}
