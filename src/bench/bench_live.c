// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench, section live: every row (bench_rows.c) measured in interleaved rounds on
 * the bench's namespaces (bench_env.c) with live traffic (bench_traffic.c): packets per
 * second, CPU ns per packet on the receiving CPU, and whether the run was clean. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "bench.h"
#include "bench_rows.h"

#define WARMUP_S 0.2

/* Repetitions of one row, collected across interleaved rounds. */
struct row_acc {
	double pps[BENCH_MAX_REPS], ns[BENCH_MAX_REPS], gp[BENCH_MAX_REPS];
	double busy[BENCH_MAX_REPS], share[BENCH_MAX_REPS];
	int done;
	bool failed;
};

static void sleep_s(double s)
{
	double end = now_mono() + s;

	while (!exiting && now_mono() < end)
		usleep(10000);
}

/* Whether a run lost what it needed, or gave a verdict other than the row's: then it is
 * no measurement of the row, and says why. */
static bool run_broken(const struct row_def *d, const struct row_state *s,
			  const struct row_count *c0, const struct row_count *c1,
			  char *why, size_t wlen)
{
	unsigned long long all, want, err;
	__u32 verdict;

	if (d->kind == R_SYN_KERNEL || d->kind == R_SYN_NFT) {
		long long in = c1->ip_in - c0->ip_in, out = c1->handled - c0->handled;

		/* Every SYN the stack took in must have been answered, and (the kernel's
		 * cookies) the kernel must count as many cookies as the sender got SYN-ACKs. */
		if (in != out) {
			snprintf(why, wlen, "%lld of %lld SYNs the stack took in got no SYN-ACK back "
				 "to the sender", in - out, in);
			return true;
		}
		if (d->kind == R_SYN_KERNEL && c1->cookies - c0->cookies != out) {
			snprintf(why, wlen, "the kernel counted %lld SYN cookies sent, the sender "
				 "got %lld SYN-ACKs", c1->cookies - c0->cookies, out);
			return true;
		}
		return false;
	}
	if (d->kind == R_NFT_SET) {
		long long got = c1->handled - c0->handled;
		long long dropped = row_nft_set_dropped(s->g.e); /* the rule is new each time */

		if (dropped != got) {
			snprintf(why, wlen, "the set's rule dropped %lld of the %lld frames %s "
				 "received", dropped, got, s->g.e->if_r);
			return true;
		}
		return false;
	}
	if (d->kind != R_XDP_TX && d->kind != R_CASE)
		return false;
	verdict = row_verdict(d, s);
	all = c1->v.packets - c0->v.packets;
	want = veth_verdict(&c1->v, verdict) - veth_verdict(&c0->v, verdict);
	err = c1->v.tx_errors - c0->v.tx_errors;
	if (all != want) {
		const struct benv_veth *a = &c0->v, *b = &c1->v;

		snprintf(why, wlen, "%llu of %llu frames got a verdict other than %s (drop %llu, "
			 "tx %llu, redirect %llu, pass %llu)", all - want, all,
			 xdp_action_str(verdict), b->drops - a->drops, b->tx - a->tx,
			 b->redirect - a->redirect,
			 veth_verdict(b, XDP_PASS) - veth_verdict(a, XDP_PASS));
		return true;
	}
	if (err) {
		snprintf(why, wlen, "lost %llu of %llu XDP_TX frames (the driver could not send "
			 "them)", err, want);
		return true;
	}
	if (c1->lost > c0->lost) {
		snprintf(why, wlen, "the program lost %lld events or packets it needed",
			 c1->lost - c0->lost);
		return true;
	}
	return false;
}

/* Counters once the frames still queued have been handled: two reads 10 ms apart that
 * agree (a loaded machine can keep the NAPI thread waiting), at most 0.5 s. */
static int row_settled(struct bench_env *e, const struct row_def *d, struct row_state *s,
		       struct row_count *c)
{
	struct row_count prev;
	int err = row_count_read(e, d, s, &prev);

	for (int i = 0; i < 50 && !err; i++) {
		usleep(10000);
		err = row_count_read(e, d, s, c);
		if (!err && c->handled == prev.handled && c->v.packets == prev.v.packets &&
		    c->lost == prev.lost && c->ip_in == prev.ip_in)
			return 0;
		prev = *c;
	}
	*c = prev;
	return err;
}

struct rep_out {
	double pps, ns, gpps, share, busy;
};

/* One repetition: traffic on, warm up, then count packets and the receiver's CPU time
 * over the window. */
static int row_rep(struct bench_env *e, const struct row_def *d, struct row_state *s,
		   struct rep_out *out, char *why, size_t wlen)
{
	unsigned long long b0, t0, b1, t1, n0, n1;
	struct row_count c0, c1, all0, all1;
	pid_t tids[BENV_MAX_TIDS];
	long long s0, s1;
	double w0, w1;
	int ntids, e0, e1, ea;

	/* The rate comes from reads inside the window, while frames are in flight; whether
	 * anything was lost or given another verdict is decided on reads with the traffic
	 * stopped (the veth driver adds up its counters at different points of a NAPI poll). */
	ea = row_count_read(e, d, s, &all0);
	if (benv_gen_start(&s->g)) {
		snprintf(why, wlen, "cannot start the generator thread");
		return -1;
	}
	sleep_s(WARMUP_S / 2);
	/* The NAPI thread exists once traffic flows (and again after each XDP change). */
	ntids = benv_receiver_tids(e->if_r, e->o->cpu_rx, tids, BENV_MAX_TIDS - 1);
	if (ntids < 0) {
		benv_gen_stop(&s->g);
		snprintf(why, wlen, "no threaded NAPI kthread for %s: cannot keep the receiver "
			 "on its own CPU", e->if_r);
		return -1;
	}
	if (s->helping && atomic_load(&s->helper.tid))
		tids[ntids++] = atomic_load(&s->helper.tid);
	sleep_s(WARMUP_S / 2);
	e0 = row_count_read(e, d, s, &c0);
	s0 = benv_gen_sent(&s->g);
	benv_cpu_ticks(e->o->cpu_rx, &b0, &t0);
	n0 = benv_threads_ns(tids, ntids);
	w0 = now_mono();
	sleep_s(e->o->duration);
	n1 = benv_threads_ns(tids, ntids);
	w1 = now_mono();
	benv_cpu_ticks(e->o->cpu_rx, &b1, &t1);
	s1 = benv_gen_sent(&s->g);
	e1 = row_count_read(e, d, s, &c1);
	benv_gen_stop(&s->g);
	ea = ea ?: row_settled(e, d, s, &all1);
	if (s->g.err) {
		snprintf(why, wlen, "live-frames generator failed: %s", strerr(s->g.err));
		return -1;
	}
	if (exiting) {
		snprintf(why, wlen, "interrupted");
		return -1;
	}
	if (e0 || e1 || ea) {
		snprintf(why, wlen, "could not read the row's packet counter");
		return -1;
	}
	if (c1.handled <= c0.handled) {
		snprintf(why, wlen, "no packets reached this layer (generator sent %lld)", s1 - s0);
		return -1;
	}
	if (run_broken(d, s, &all0, &all1, why, wlen))
		return -1;
	out->pps = (c1.handled - c0.handled) / (w1 - w0);
	out->gpps = (s1 - s0) / (w1 - w0);
	out->ns = (double)(n1 - n0) / (c1.handled - c0.handled);
	out->share = (n1 - n0) / ((w1 - w0) * 1e9);
	out->busy = t1 > t0 ? (double)(b1 - b0) / (t1 - t0) : 0;
	pr_debug("bench: %s: %lld pkts, %.0f pps, %.0f ns/pkt, share %.2f, busy %.2f, %d threads\n",
		 d->id, c1.handled - c0.handled, out->pps, out->ns, out->share, out->busy, ntids);
	return 0;
}

/* ---- the section ---- */

static bool row_wanted(const struct bench_opts *o, const char *id)
{
	char buf[256], *tok, *save;

	if (!o->rows)
		return true;
	snprintf(buf, sizeof(buf), "%s", o->rows);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, id))
			return true;
	return false;
}

static void row_finish(struct live_row *r, const struct row_acc *a)
{
	struct spread bs;
	int k = a->done;

	spread_of(a->pps, k, &r->pps);
	spread_of(a->ns, k, &r->ns);
	spread_of(a->gp, k, &r->gen_pps);
	spread_of(a->busy, k, &bs);
	r->busy = bs.med;
	spread_of(a->share, k, &bs);
	r->share = bs.med;
	r->cores_28m = r->ns.med * BENCH_TALK_PPS / 1e9;
	r->ok = true;
	r->reason[0] = 0;
}

static const struct live_row *row_by_id(const struct live_row *rows, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (id && !strcmp(rows[i].id, id))
			return &rows[i];
	return NULL;
}

/* Ratios inside one run: to the XDP native drop, and each bpflab program to its bare row. */
static void rows_compare(struct live_row *rows, int n)
{
	const struct live_row *drop = row_by_id(rows, n, "xdp_native_drop");

	for (int i = 0; i < n; i++) {
		struct live_row *r = &rows[i];
		const struct live_row *b = row_by_id(rows, n, r->baseline);

		if (!r->ok)
			continue;
		r->ratio = drop && drop->ok && drop->ns.med > 0 ? r->ns.med / drop->ns.med : 0;
		if (b && b->ok && r->ns.med > 0 && b->pps.med > 0) {
			r->rate_vs_base = b->ns.med / r->ns.med;
			r->pps_vs_base = r->pps.med / b->pps.med;
		}
	}
}

int bench_live(const struct bench_opts *o, struct live_row *rows, int *nrows)
{
	static struct row_acc acc[BENCH_MAX_ROWS];
	static struct row_state st[BENCH_MAX_ROWS];
	const struct row_def *def[BENCH_MAX_ROWS];
	struct bench_env e = { .o = o };
	char why[200] = "";
	int n = 0, ok_env;

	memset(acc, 0, sizeof(acc));
	memset(st, 0, sizeof(st));
	for (int i = 0; i < BENCH_MAX_ROWS; i++)
		st[i].link_r = st[i].link_d = st[i].link_g = -1;
	for (size_t i = 0; i < bench_nrows && n < BENCH_MAX_ROWS; i++) {
		struct live_row *r = &rows[n];

		if (!row_wanted(o, bench_rows[i].id))
			continue;
		def[n++] = &bench_rows[i];
		memset(r, 0, sizeof(*r));
		r->id = bench_rows[i].id;
		r->label = bench_rows[i].label;
		r->group = bench_rows[i].group;
		r->baseline = bench_rows[i].baseline;
		r->mode = row_xdp_mode(&bench_rows[i]);
	}
	*nrows = n;
	if (o->cpu_gen == o->cpu_rx) {
		snprintf(why, sizeof(why), "needs 2 CPUs: the generator and the receiver each "
			 "take one");
		ok_env = -1;
	} else {
		ok_env = benv_up(&e, why, sizeof(why));
	}
	if (ok_env) {
		for (int i = 0; i < n; i++)
			snprintf(rows[i].reason, sizeof(rows[i].reason), "%s", why);
		goto out;
	}
	benv_gen_signals();
	/* Spawned helpers (ip, nft) inherit this: they stay off the receiving CPU. */
	benv_pin(0, o->cpu_gen);
	benv_spin_start(o->cpu_rx);

	/* Repetitions are interleaved: round k measures every row once, so a change in the
	 * machine's other load (a build starting) hits all rows alike, as in the progs
	 * section. Rows marked `last` do all their repetitions after the others. */
	for (int pass = 0; pass < 2 && !exiting; pass++) {
		for (int k = 0; k < o->reps && !exiting; k++) {
			for (int i = 0; i < n && !exiting; i++) {
				struct row_state *s = &st[i];
				struct live_row *r = &rows[i];
				struct rep_out out;

				if (def[i]->last != pass || acc[i].failed)
					continue;
				pr_info("bench live: %s (%d/%d, %.1f s)\n", r->label, k + 1, o->reps,
					o->duration);
				if (row_setup(&e, def[i], s, r->reason, sizeof(r->reason)) ||
				    row_rep(&e, def[i], s, &out, r->reason, sizeof(r->reason))) {
					acc[i].failed = true;
				} else {
					acc[i].pps[k] = out.pps;
					acc[i].ns[k] = out.ns;
					acc[i].gp[k] = out.gpps;
					acc[i].share[k] = out.share;
					acc[i].busy[k] = out.busy;
					acc[i].done++;
				}
				row_detach(&e, s);
			}
		}
	}
	benv_spin_stop();
	for (int i = 0; i < n; i++)
		row_unload(&st[i]);
	/* A row reports only when every repetition measured it: a failed or lossy window
	 * leaves its reason, never a figure. */
	for (int i = 0; i < n; i++) {
		if (acc[i].failed || acc[i].done < o->reps)
			continue;
		row_finish(&rows[i], &acc[i]);
		pr_info("bench live: %s: %.2f Mpps, %.0f ns/pkt\n", rows[i].label,
			rows[i].pps.med / 1e6, rows[i].ns.med);
	}
	for (int i = 0; i < n; i++)
		if (!rows[i].ok && !rows[i].reason[0])
			snprintf(rows[i].reason, sizeof(rows[i].reason), "interrupted");
	rows_compare(rows, n);
out:
	benv_down(&e);
	return 0;
}
