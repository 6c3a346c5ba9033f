// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench, section live: every row (bench_rows.c) measured in interleaved rounds on
 * the bench's namespaces (bench_env.c) with live traffic (bench_traffic.c): packets per
 * second, CPU ns per packet on the receiving CPU, and whether the run was clean. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
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
	double busy[BENCH_MAX_REPS], share[BENCH_MAX_REPS], refused[BENCH_MAX_REPS];
	int done;
	bool failed;
	/* paced: a row reports it when most repetitions measured it (a window is lost to
	 * the machine's other load more easily than a saturated one: paced_measure) */
	double pc_rate[BENCH_MAX_REPS], pc_pps[BENCH_MAX_REPS], pc_ns[BENCH_MAX_REPS];
	double pc_gp[BENCH_MAX_REPS], pc_share[BENCH_MAX_REPS], pc_loss;
	int pc_done;
	bool pc_limited;
	char pc_why[160];
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
	if (d->kind != R_XDP_TX && d->kind != R_XDP_SWAP && d->kind != R_CASE)
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

/* Frames lost before or after the layer: refused by rX's full ring (the generator then
 * frees them), XDP_TX frames the driver could not send back, what the program counts as
 * lost. */
static long long frames_lost(const struct row_count *a, const struct row_count *b)
{
	return (long long)(b->gv.xmit_errors - a->gv.xmit_errors) +
	       (long long)(b->v.tx_errors - a->v.tx_errors) + (b->lost - a->lost);
}

/* What one window with the generator running measured. */
struct window {
	double pps, ns, gpps, share, busy;
	long long handled, offered, lost;
	double loss;            /* lost / offered */
	double gen_share;       /* of the generator's CPU, the generator thread's */
	double refused;         /* refused by rX's ring / offered */
};

/* A counter read with the moment and the receiver's CPU time it stands for: the middle
 * of the read, since some layers' counters take a process to read (nft, iptables), and
 * a window timed between the reads would give those rows too high a rate and too low a
 * cost. The generator's count is read next, with its own moment. */
struct stamp {
	struct row_count c;
	double t, ts;
	unsigned long long n, gn;
	long long sent;
	int err;
};

static void stamp_read(struct bench_env *e, const struct row_def *d, struct row_state *s,
		       const pid_t *tids, int ntids, pid_t gtid, struct stamp *st)
{
	double t0 = now_mono();
	unsigned long long n0 = benv_threads_ns(tids, ntids);

	st->err = row_count_read(e, d, s, &st->c);
	st->sent = benv_gen_sent(&s->g);
	st->ts = now_mono();
	st->n = (n0 + benv_threads_ns(tids, ntids)) / 2;
	st->t = (t0 + now_mono()) / 2;
	st->gn = benv_threads_ns(&gtid, 1);
}

static int window_measure(struct bench_env *e, const struct row_def *d, struct row_state *s,
			  const pid_t *tids, int ntids, double secs, struct window *w)
{
	unsigned long long b0, t0, b1, t1;
	pid_t gtid = atomic_load(&s->g.tid);
	struct stamp a, b;
	double dt;

	benv_cpu_ticks(e->o->cpu_rx, &b0, &t0);
	stamp_read(e, d, s, tids, ntids, gtid, &a);
	sleep_s(secs);
	stamp_read(e, d, s, tids, ntids, gtid, &b);
	benv_cpu_ticks(e->o->cpu_rx, &b1, &t1);
	if (a.err || b.err || a.sent < 0 || b.sent < 0 || b.t <= a.t || b.ts <= a.ts)
		return -1;
	dt = b.t - a.t;
	w->handled = b.c.handled - a.c.handled;
	w->offered = b.sent - a.sent;
	w->lost = frames_lost(&a.c, &b.c);
	w->pps = w->handled / dt;
	w->gpps = w->offered / (b.ts - a.ts);
	w->ns = w->handled > 0 ? (double)(b.n - a.n) / w->handled : 0;
	w->share = (b.n - a.n) / (dt * 1e9);
	w->gen_share = (b.gn - a.gn) / ((b.ts - a.ts) * 1e9);
	w->busy = t1 > t0 ? (double)(b1 - b0) / (t1 - t0) : 0;
	w->loss = w->offered > 0 ? (double)w->lost / w->offered : 0;
	w->refused = w->offered > 0 ?
		     (double)(b.c.gv.xmit_errors - a.c.gv.xmit_errors) / w->offered : 0;
	return 0;
}

/* A new rate reaches the receiver at once (xdp_gen reads it per frame); what was queued
 * at the old one drains in well under this. */
#define RATE_SETTLE_S 0.01

/* Below this share of the asked rate, the generator is the limit, not the receiver. */
#define GEN_SHORT 0.95
/* The short window that finds the rate for the load asked, before the first measured one
 * (at most a third of the paced window: --quick keeps its length). Once: the cost per
 * packet paced hardly moves with the rate, and later repetitions keep the rate found. */
#define PACE_STEP_S 0.1

struct paced_out {
	bool ok, gen_limited;
	double rate;
	struct window w;
};

/* A window with the generator paced so that the receiver's threads are busy o->load of
 * their CPU: not overrun (the generator frees no refused frames into the page pool the
 * receiver returns its frames to), and every row at the same load. The first repetition
 * finds the rate in a short window below the saturated rate (at a cost of ns per packet,
 * load L needs L * 1e9 / ns packets/s); later ones pass it as `rate`. Frames lost here come
 * from the receiver not running for a while (its ring holds 256 frames: 50 us at 5 Mpps),
 * not from its rate: they are not in the count of packets handled, and a window that
 * lost more than o->loss_tol is not a measurement. */
static int paced_measure(struct bench_env *e, const struct row_def *d, struct row_state *s,
			 const pid_t *tids, int ntids, double sat_pps, double rate, double secs,
			 struct paced_out *out, char *why, size_t wlen)
{
	const struct bench_opts *o = e->o;
	double r = rate > 0 ? rate : 0.7 * sat_pps, step = fmin(PACE_STEP_S, secs / 3);
	int steps = rate > 0 ? 0 : 1;
	struct window w;

	memset(out, 0, sizeof(*out));
	benv_napi_rt(tids, ntids, true);
	for (int i = 0; i <= steps && !exiting; i++) {
		benv_gen_rate(&s->g, r);
		sleep_s(RATE_SETTLE_S);
		if (window_measure(e, d, s, tids, ntids, i < steps ? step : secs, &w)) {
			benv_napi_rt(tids, ntids, false);
			snprintf(why, wlen, "could not read the row's packet counter");
			return -1;
		}
		pr_debug("bench: %s: paced at %.3f Mpps: offered %.3f, handled %.3f, lost %lld, "
			 "%.0f ns/pkt, rx share %.2f, gen share %.2f\n", d->id, r / 1e6,
			 w.gpps / 1e6, w.pps / 1e6, w.lost, w.ns, w.share, w.gen_share);
		if (w.handled <= 0 || w.ns <= 0) {
			benv_napi_rt(tids, ntids, false);
			snprintf(why, wlen, "no packets reached this layer at %.3f Mpps", r / 1e6);
			return 0;
		}
		/* Not steered by what the generator offered: one that lost its CPU for a
		 * while offers less, and chasing that down would pace a row far below its
		 * load. */
		out->gen_limited = w.gpps < GEN_SHORT * r;
		if (i < steps)
			r = o->load * 1e9 / w.ns;
	}
	benv_napi_rt(tids, ntids, false);
	if (exiting)
		return 0;
	out->rate = r;
	if (w.loss > o->loss_tol) {
		snprintf(why, wlen, "lost %lld of %lld frames paced at %.3f Mpps", w.lost,
			 w.offered, r / 1e6);
		return 0;
	}
	out->ok = true;
	out->w = w;
	return 0;
}

struct rep_out {
	struct window sat;
	struct paced_out pc;
	char pc_why[160];
};

/* One repetition: traffic on, warm up, count packets and the receiver's CPU time over the
 * saturated window (the generator unpaced), then over the paced one; each takes half of
 * the repetition's duration when pacing is on. */
static int row_rep(struct bench_env *e, const struct row_def *d, struct row_state *s,
		   double pc_rate, struct rep_out *out, char *why, size_t wlen)
{
	struct row_count all0, all1;
	pid_t tids[BENV_MAX_TIDS];
	double secs = e->o->load > 0 ? e->o->duration / 2 : e->o->duration;
	int ntids, ea, ew, en = 0;

	/* The rate comes from reads inside the window, while frames are in flight; whether
	 * anything was lost or given another verdict is decided on reads with the traffic
	 * stopped (the veth driver adds up its counters at different points of a NAPI poll). */
	memset(out, 0, sizeof(*out));
	ea = row_count_read(e, d, s, &all0);
	benv_gen_rate(&s->g, 0);
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
	ew = window_measure(e, d, s, tids, ntids, secs, &out->sat);
	if (!ew && e->o->load > 0 && out->sat.handled > 0)
		en = paced_measure(e, d, s, tids, ntids, out->sat.pps, pc_rate, secs, &out->pc,
				   out->pc_why, sizeof(out->pc_why));
	benv_gen_stop(&s->g);
	benv_gen_rate(&s->g, 0);
	ea = ea ?: row_settled(e, d, s, &all1);
	if (s->g.err) {
		snprintf(why, wlen, "live-frames generator failed: %s", strerr(s->g.err));
		return -1;
	}
	if (exiting) {
		snprintf(why, wlen, "interrupted");
		return -1;
	}
	if (ew || en || ea) {
		snprintf(why, wlen, "could not read the row's packet counter");
		return -1;
	}
	if (out->sat.handled <= 0) {
		snprintf(why, wlen, "no packets reached this layer (generator sent %lld)",
			 out->sat.offered);
		return -1;
	}
	if (run_broken(d, s, &all0, &all1, why, wlen))
		return -1;
	pr_debug("bench: %s: saturated %lld pkts, %.0f pps, %.0f ns/pkt, share %.2f, busy %.2f, "
		 "refused %.2f, gen share %.2f, %d threads\n", d->id, out->sat.handled,
		 out->sat.pps, out->sat.ns, out->sat.share, out->sat.busy, out->sat.refused,
		 out->sat.gen_share, ntids);
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
	spread_of(a->refused, k, &bs);
	r->refused = bs.med;
	r->cores_28m = r->ns.med * BENCH_TALK_PPS / 1e9;
	r->ok = true;
	r->reason[0] = 0;
	if (!a->pc_done || 2 * a->pc_done < k) {
		snprintf(r->paced.reason, sizeof(r->paced.reason), "%s",
			 a->pc_why[0] ? a->pc_why : "not paced (--load 0)");
		return;
	}
	spread_of(a->pc_rate, a->pc_done, &r->paced.rate);
	spread_of(a->pc_pps, a->pc_done, &r->paced.pps);
	spread_of(a->pc_ns, a->pc_done, &r->paced.ns);
	spread_of(a->pc_gp, a->pc_done, &r->paced.gen_pps);
	spread_of(a->pc_share, a->pc_done, &bs);
	r->paced.share = bs.med;
	r->paced.loss = a->pc_loss;
	r->paced.gen_limited = a->pc_limited;
	r->paced.ok = true;
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
		if (b && b->paced.ok && r->paced.ok && r->paced.ns.med > 0 &&
		    b->paced.pps.med > 0) {
			r->paced.rate_vs_base = b->paced.ns.med / r->paced.ns.med;
			r->paced.pps_vs_base = r->paced.pps.med / b->paced.pps.med;
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
				struct row_acc *a = &acc[i];
				double rate = a->pc_done ? a->pc_rate[a->pc_done - 1] : 0;

				if (row_setup(&e, def[i], s, r->reason, sizeof(r->reason)) ||
				    row_rep(&e, def[i], s, rate, &out, r->reason,
					    sizeof(r->reason))) {
					a->failed = true;
				} else {
					a->pps[k] = out.sat.pps;
					a->ns[k] = out.sat.ns;
					a->gp[k] = out.sat.gpps;
					a->share[k] = out.sat.share;
					a->busy[k] = out.sat.busy;
					a->refused[k] = out.sat.refused;
					a->done++;
					if (out.pc.ok) {
						int j = a->pc_done++;

						a->pc_rate[j] = out.pc.rate;
						a->pc_pps[j] = out.pc.w.pps;
						a->pc_ns[j] = out.pc.w.ns;
						a->pc_gp[j] = out.pc.w.gpps;
						a->pc_share[j] = out.pc.w.share;
						a->pc_loss = fmax(a->pc_loss, out.pc.w.loss);
						a->pc_limited |= out.pc.gen_limited;
					} else if (!a->pc_why[0] && o->load > 0) {
						snprintf(a->pc_why, sizeof(a->pc_why), "%s",
							 out.pc_why[0] ? out.pc_why :
							 "interrupted");
					}
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
		if (rows[i].paced.ok)
			pr_info("bench live: %s: %.2f Mpps, %.0f ns/pkt; paced: %.2f Mpps, %.0f "
				"ns/pkt\n", rows[i].label, rows[i].pps.med / 1e6, rows[i].ns.med,
				rows[i].paced.pps.med / 1e6, rows[i].paced.ns.med);
		else
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
