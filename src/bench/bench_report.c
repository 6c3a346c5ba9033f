// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A bench result, rendered: the tables a person reads, or JSON Lines (docs/bench.md
 * gives the records). Both read the same struct; nothing here measures. */
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "bench.h"

static const char *verdict_str(bool tc, uint32_t v, char *buf, size_t len)
{
	if (!tc)
		return xdp_action_str(v);
	switch ((int)v) {
	case TC_ACT_OK: return "ok";
	case TC_ACT_SHOT: return "shot";
	case TC_ACT_REDIRECT: return "redirect";
	}
	snprintf(buf, len, "%u", v);
	return buf;
}

/* ---- JSON ---- */

static void json_spread(struct json *j, const char *k, const struct spread *s)
{
	json_key(j, k);
	json_obj_begin(j);
	json_kdouble(j, "median", s->med);
	json_kdouble(j, "min", s->min);
	json_kdouble(j, "max", s->max);
	json_kint(j, "n", s->n);
	json_obj_end(j);
}

static void json_machine(struct json *j, const struct bench_machine *m,
			 const struct bench_opts *o)
{
	json_record_begin(j, j->f, "machine");
	json_kstr(j, "kernel", m->kernel);
	json_kstr(j, "cpu_model", m->cpu);
	json_kint(j, "cores", m->cores);
	json_kstr(j, "host", m->host);
	json_kstr(j, "date", m->date);
	json_kint(j, "bpf_stats_enabled", m->stats_enabled);
	json_kbool(j, "quick", o->quick);
	json_kdouble(j, "duration", o->duration);
	json_kint(j, "reps", o->reps);
	json_kint(j, "cpu_generator", o->cpu_gen);
	json_kint(j, "cpu_receiver", o->cpu_rx);
	json_kdouble(j, "paced_load", o->load);
	json_kdouble(j, "pace_loss_tolerance", o->loss_tol);
	json_record_end(j);
}

static void json_prog(struct json *j, const struct prog_row *r)
{
	json_record_begin(j, j->f, "prog");
	json_kstr(j, "name", r->name);
	if (r->baseline[0])
		json_kstr(j, "baseline", r->baseline);
	else
		json_key(j, "baseline"), json_null(j);
	json_kbool(j, "ok", r->ok);
	if (!r->ok)
		json_kstr(j, "reason", r->reason);
	if (r->method)
		json_kstr(j, "method", r->method);
	json_kint(j, "repeat", r->repeat);
	json_kint(j, "rounds", r->rounds);
	json_kuint(j, "retval", r->retval);
	json_kuint(j, "expect_retval", r->expect);
	if (r->ok) {
		json_spread(j, "ns", &r->ns);
		if (r->baseline[0]) {
			json_spread(j, "baseline_ns", &r->base_ns);
			json_spread(j, "delta_ns", &r->delta_ns);
		}
	}
	json_record_end(j);
}

/* The row with the generator paced (struct live_paced). */
static void json_live_paced(struct json *j, const struct live_row *r)
{
	const struct live_paced *n = &r->paced;

	json_key(j, "paced");
	json_obj_begin(j);
	json_kbool(j, "ok", n->ok);
	if (!n->ok) {
		json_kstr(j, "reason", n->reason);
	} else {
		json_spread(j, "rate_pps", &n->rate);
		json_spread(j, "pps", &n->pps);
		json_spread(j, "ns_per_pkt", &n->ns);
		json_spread(j, "generator_pps", &n->gen_pps);
		json_kdouble(j, "rx_cpu_share", n->share);
		json_kdouble(j, "pps_per_core", n->ns.med > 0 ? 1e9 / n->ns.med : 0);
		json_kdouble(j, "cores_for_28mpps", n->ns.med * BENCH_TALK_PPS / 1e9);
		json_kdouble(j, "loss", n->loss);
		json_kbool(j, "generator_limited", n->gen_limited);
		if (r->baseline && n->rate_vs_base > 0) {
			json_kdouble(j, "rate_vs_baseline", n->rate_vs_base);
			json_kdouble(j, "pps_vs_baseline", n->pps_vs_base);
		}
	}
	json_obj_end(j);
}

static void json_live(struct json *j, const struct live_row *r)
{
	json_record_begin(j, j->f, "live");
	json_kstr(j, "name", r->id);
	json_kstr(j, "label", r->label);
	json_kstr(j, "group", r->group);
	if (r->mode)
		json_kstr(j, "xdp_mode", r->mode);
	if (r->baseline)
		json_kstr(j, "baseline", r->baseline);
	json_kbool(j, "ok", r->ok);
	if (!r->ok) {
		json_kstr(j, "reason", r->reason);
	} else {
		json_spread(j, "pps", &r->pps);
		json_spread(j, "ns_per_pkt", &r->ns);
		json_spread(j, "generator_pps", &r->gen_pps);
		json_kdouble(j, "rx_cpu_share", r->share);
		json_kdouble(j, "rx_cpu_busy_all", r->busy);
		json_kdouble(j, "pps_per_core", r->ns.med > 0 ? 1e9 / r->ns.med : 0);
		json_kdouble(j, "cores_for_28mpps", r->cores_28m);
		json_kdouble(j, "ratio_to_xdp_drop", r->ratio);
		if (r->baseline && r->rate_vs_base > 0) {
			json_kdouble(j, "rate_vs_baseline", r->rate_vs_base);
			json_kdouble(j, "pps_vs_baseline", r->pps_vs_base);
		}
		json_kdouble(j, "generator_refused", r->refused);
		json_live_paced(j, r);
	}
	json_record_end(j);
}

void bench_print_json(const struct bench_result *r)
{
	struct json j;

	json_init(&j, stdout);
	json_machine(&j, &r->m, &r->o);
	for (int i = 0; i < r->np; i++)
		json_prog(&j, &r->prows[i]);
	for (int i = 0; i < r->nl; i++)
		json_live(&j, &r->lrows[i]);
	json_record_begin(&j, stdout, "end");
	json_kdouble(&j, "elapsed", r->elapsed);
	json_kbool(&j, "interrupted", r->interrupted);
	json_record_end(&j);
}

/* ---- text ---- */

static void print_prog_table(const struct prog_row *rows, int n)
{
	printf("\nprograms (BPF_PROG_TEST_RUN, ns per packet: median [min-max] over rounds)\n");
	printf("  %-18s %-9s %-8s %-22s %-10s %-22s %s\n", "program", "baseline", "method",
	       "ns/pkt", "base ns", "delta ns", "verdict");
	for (int i = 0; i < n; i++) {
		const struct prog_row *r = &rows[i];
		char a[40], b[40] = "-", d[40] = "-", v[16];

		if (!r->ok) {
			printf("  %-18s %-9s  not measured: %s\n", r->name,
			       r->baseline[0] ? r->baseline : "-", r->reason);
			continue;
		}
		snprintf(a, sizeof(a), "%.1f [%.1f-%.1f]", r->ns.med, r->ns.min, r->ns.max);
		if (r->baseline[0]) {
			snprintf(b, sizeof(b), "%.1f", r->base_ns.med);
			snprintf(d, sizeof(d), "%+.1f [%+.1f..%+.1f]", r->delta_ns.med,
				 r->delta_ns.min, r->delta_ns.max);
		}
		printf("  %-18s %-9s %-8s %-22s %-10s %-22s %s\n", r->name,
		       r->baseline[0] ? r->baseline : "-", r->method, a, b, d,
		       verdict_str(r->tc, r->retval, v, sizeof(v)));
	}
}

static void print_live_table(const struct live_row *rows, int n)
{
	printf("\nlive (receiver's CPU ns per packet, median [min-max]; Mpps seen; Mpps one core "
	       "would do at that cost; bpflab programs: rate as a share of their bare row's)\n");
	printf("  %-36s %-8s %-19s %-17s %8s %9s %7s %7s\n", "layer", "xdp", "ns/pkt (CPU)",
	       "Mpps seen", "Mpps/core", "cores@28M", "x drop", "vs bare");
	for (int i = 0; i < n; i++) {
		const struct live_row *r = &rows[i];
		char a[40], b[40], c[16] = "-", x[16] = "-";

		if (!r->ok) {
			printf("  %-36s  not run: %s\n", r->label, r->reason);
			continue;
		}
		snprintf(a, sizeof(a), "%.2f [%.2f-%.2f]", r->pps.med / 1e6, r->pps.min / 1e6,
			 r->pps.max / 1e6);
		snprintf(b, sizeof(b), "%.0f [%.0f-%.0f]", r->ns.med, r->ns.min, r->ns.max);
		if (r->baseline && r->rate_vs_base > 0)
			snprintf(c, sizeof(c), "%.0f%%", r->rate_vs_base * 100);
		if (r->ratio > 0)
			snprintf(x, sizeof(x), "%.1f", r->ratio);
		printf("  %-36s %-8s %-19s %-17s %8.2f %9.1f %7s %7s\n", r->label,
		       r->mode ? r->mode : "-", b, a, r->ns.med > 0 ? 1e3 / r->ns.med : 0,
		       r->cores_28m, x, c);
	}
}

/* The paced figures of the same rows: what the program costs without the generator's
 * overrun (docs/bench.md, "Saturated and paced"). */
static void print_paced_table(const struct live_row *rows, int n, double load)
{
	printf("\nlive, paced (the generator paced to keep the receiving CPU %.0f%% busy; "
	       "receiver's CPU ns per packet, median [min-max]; gen: the generator's limit)\n",
	       load * 100);
	printf("  %-36s %-19s %-17s %8s %7s %9s\n", "layer", "ns/pkt (CPU)", "Mpps handled",
	       "Mpps/core", "vs bare", "refused*");
	for (int i = 0; i < n; i++) {
		const struct live_row *r = &rows[i];
		const struct live_paced *p = &r->paced;
		char a[40], b[40], c[16] = "-", f[16];

		if (!r->ok)
			continue;
		snprintf(f, sizeof(f), "%.0f%%", r->refused * 100);
		if (!p->ok) {
			printf("  %-36s  not measured: %s\n", r->label, p->reason);
			continue;
		}
		snprintf(a, sizeof(a), "%.2f [%.2f-%.2f]%s", p->pps.med / 1e6, p->pps.min / 1e6,
			 p->pps.max / 1e6, p->gen_limited ? " gen" : "");
		snprintf(b, sizeof(b), "%.0f [%.0f-%.0f]", p->ns.med, p->ns.min, p->ns.max);
		if (r->baseline && p->rate_vs_base > 0)
			snprintf(c, sizeof(c), "%.0f%%", p->rate_vs_base * 100);
		printf("  %-36s %-19s %-17s %8.2f %7s %9s\n", r->label, b, a,
		       p->ns.med > 0 ? 1e3 / p->ns.med : 0, c, f);
	}
	printf("  (* share of the generator's frames the receiver's full ring refused in the "
	       "saturated windows)\n");
}

void bench_print_text(const struct bench_result *r)
{
	const struct bench_machine *m = &r->m;

	printf("bpflab bench on %s: %s, %ld cores, kernel %s, %s%s\n", m->host, m->cpu, m->cores,
	       m->kernel, m->date, r->o.quick ? " (quick)" : "");
	if (r->np)
		print_prog_table(r->prows, r->np);
	if (r->nl)
		print_live_table(r->lrows, r->nl);
	if (r->nl && r->o.load > 0)
		print_paced_table(r->lrows, r->nl, r->o.load);
	printf("\n(%.0f s%s; figures from one VM are noisy: compare ratios within one run)\n",
	       r->elapsed, r->interrupted ? ", interrupted" : "");
}
