// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench: the talk's "Some numbers" on this machine. Section "progs": each bpflab
 * program against the bare program of its hook through BPF_PROG_TEST_RUN; section
 * "live": drop and forwarding at each layer with live-frames traffic (bench_live.c). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "pkt.h"
#include "benchcase.h"
#include "bench.h"
#include "bare.skel.h"

#define RESTORE_MAX 256 /* as in bare.bpf.c */

const char cmd_bench_usage[] =
	"usage: bpflab bench [options]\n"
	"\n"
	"Measure what a packet costs at each layer, on this machine, in one run:\n"
	"  progs  every bpflab program against the bare program of its hook\n"
	"         (BPF_PROG_TEST_RUN, interleaved rounds, median and range, ns per packet)\n"
	"  live   drop at XDP native/generic, TC, nftables, iptables, the UDP stack, and\n"
	"         forwarding by Linux vs an XDP fib_lookup forwarder, with traffic from\n"
	"         XDP live frames through veth pairs in throwaway namespaces: packets/s,\n"
	"         CPU ns per packet on the receiving CPU, cores for 28 Mpps\n"
	"\n"
	"options:\n"
	"      --quick           short run for CI and the demo (~30 s)\n"
	"  -d, --duration S      seconds per live repetition (default 2, quick 0.5)\n"
	"      --reps N          repetitions per live row / rounds per program (default 5, quick 3)\n"
	"      --section S       progs, live or all (default all)\n"
	"      --rows LIST       live rows to run, comma separated (see docs/bench.md)\n"
	"      --method M        time every program with M: repeat, restore or repeat1\n"
	"                        (default: repeat, or restore for programs that rewrite)\n"
	"      --svg FILE        also draw the results as a bar chart into FILE\n"
	"  -j, --json            JSON Lines: a machine record, then one record per row\n"
	"  -v, --verbose         show libbpf's messages\n";


void spread_of(const double *v, int n, struct spread *s)
{
	double t[BENCH_MAX_REPS * 4];

	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return;
	if (n > (int)ARRAY_SIZE(t))
		n = ARRAY_SIZE(t);
	memcpy(t, v, n * sizeof(*t));
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && t[k - 1] > t[k]; k--) {
			double x = t[k];
			t[k] = t[k - 1];
			t[k - 1] = x;
		}
	s->n = n;
	s->min = t[0];
	s->max = t[n - 1];
	s->med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* ---- machine ---- */

struct machine {
	char kernel[128], cpu[128], date[32], host[64];
	long cores;
	int stats_enabled;
};

static void machine_read(struct machine *m)
{
	struct utsname u;
	char line[256];
	time_t t = time(NULL);
	FILE *f;

	memset(m, 0, sizeof(*m));
	if (!uname(&u)) {
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
		snprintf(m->host, sizeof(m->host), "%s", u.nodename);
	}
	strcpy(m->cpu, "unknown");
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			snprintf(m->cpu, sizeof(m->cpu), "%s", c + 2);
			m->cpu[strcspn(m->cpu, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	m->cores = sysconf(_SC_NPROCESSORS_ONLN);
	strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	m->stats_enabled = -1;
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	if (f) {
		if (fscanf(f, "%d", &m->stats_enabled) != 1)
			m->stats_enabled = -1;
		fclose(f);
	}
}

/* ---- section progs ---- */

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

static const char *verdict_str(bool tc, __u32 v)
{
	static char buf[16];

	if (!tc)
		return xdp_action_str(v);
	switch ((int)v) {
	case TC_ACT_OK: return "ok";
	case TC_ACT_SHOT: return "shot";
	case TC_ACT_REDIRECT: return "redirect";
	}
	snprintf(buf, sizeof(buf), "%u", v);
	return buf;
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
	if (c->method && !strcmp(c->method, "restore") && b->pkt_len > RESTORE_MAX) {
		snprintf(why, len, "packet of %zu bytes is longer than the restorer's %d",
			 b->pkt_len, RESTORE_MAX);
		return NULL;
	}
	if (c->method)
		return c->method;
	if (!b->rewrites)
		return "repeat";
	return xdp && b->pkt_len <= RESTORE_MAX ? "restore" : "repeat1";
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

static int bench_progs(const struct bench_opts *o, struct prog_row *rows, int *nrows)
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

/* ---- rendering ---- */

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

static void json_machine(const struct machine *m, const struct bench_opts *o)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", "machine");
	json_kstr(&j, "kernel", m->kernel);
	json_kstr(&j, "cpu_model", m->cpu);
	json_kint(&j, "cores", m->cores);
	json_kstr(&j, "host", m->host);
	json_kstr(&j, "date", m->date);
	json_kint(&j, "bpf_stats_enabled", m->stats_enabled);
	json_kbool(&j, "quick", o->quick);
	json_kdouble(&j, "duration", o->duration);
	json_kint(&j, "reps", o->reps);
	json_kint(&j, "cpu_generator", o->cpu_gen);
	json_kint(&j, "cpu_receiver", o->cpu_rx);
	json_obj_end(&j);
	json_newline(&j);
}

static void json_prog(const struct prog_row *r)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", "prog");
	json_kstr(&j, "name", r->name);
	if (r->baseline[0])
		json_kstr(&j, "baseline", r->baseline);
	else
		json_key(&j, "baseline"), json_null(&j);
	json_kbool(&j, "ok", r->ok);
	if (!r->ok)
		json_kstr(&j, "reason", r->reason);
	if (r->method)
		json_kstr(&j, "method", r->method);
	json_kint(&j, "repeat", r->repeat);
	json_kint(&j, "rounds", r->rounds);
	json_kuint(&j, "retval", r->retval);
	json_kuint(&j, "expect_retval", r->expect);
	if (r->ok) {
		json_spread(&j, "ns", &r->ns);
		if (r->baseline[0]) {
			json_spread(&j, "baseline_ns", &r->base_ns);
			json_spread(&j, "delta_ns", &r->delta_ns);
		}
	}
	json_obj_end(&j);
	json_newline(&j);
}

static void json_live(const struct live_row *r)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", "live");
	json_kstr(&j, "name", r->id);
	json_kstr(&j, "label", r->label);
	json_kstr(&j, "group", r->group);
	if (r->mode)
		json_kstr(&j, "xdp_mode", r->mode);
	json_kbool(&j, "ok", r->ok);
	if (!r->ok) {
		json_kstr(&j, "reason", r->reason);
	} else {
		json_spread(&j, "pps", &r->pps);
		json_spread(&j, "ns_per_pkt", &r->ns);
		json_spread(&j, "generator_pps", &r->gen_pps);
		json_kdouble(&j, "rx_cpu_share", r->share);
		json_kdouble(&j, "rx_cpu_busy_all", r->busy);
		json_kdouble(&j, "pps_per_core", r->ns.med > 0 ? 1e9 / r->ns.med : 0);
		json_kdouble(&j, "cores_for_28mpps", r->cores_28m);
		json_kdouble(&j, "ratio_to_xdp_drop", r->ratio);
	}
	json_obj_end(&j);
	json_newline(&j);
}

static void print_prog_table(const struct prog_row *rows, int n)
{
	printf("\nprograms (BPF_PROG_TEST_RUN, ns per packet: median [min-max] over rounds)\n");
	printf("  %-18s %-9s %-8s %-22s %-10s %-22s %s\n", "program", "baseline", "method",
	       "ns/pkt", "base ns", "delta ns", "verdict");
	for (int i = 0; i < n; i++) {
		const struct prog_row *r = &rows[i];
		char a[40], b[40], d[40];

		if (!r->ok) {
			printf("  %-18s %-9s  not measured: %s\n", r->name, r->baseline[0] ? r->baseline : "-",
			       r->reason);
			continue;
		}
		snprintf(a, sizeof(a), "%.1f [%.1f-%.1f]", r->ns.med, r->ns.min, r->ns.max);
		if (r->baseline[0]) {
			snprintf(b, sizeof(b), "%.1f", r->base_ns.med);
			snprintf(d, sizeof(d), "%+.1f [%+.1f..%+.1f]", r->delta_ns.med, r->delta_ns.min,
				 r->delta_ns.max);
		} else {
			strcpy(b, "-");
			strcpy(d, "-");
		}
		printf("  %-18s %-9s %-8s %-22s %-10s %-22s %s\n", r->name,
		       r->baseline[0] ? r->baseline : "-", r->method, a, b, d,
		       verdict_str(!strncmp(r->name, "tc_", 3), r->retval));
	}
}

static void print_live_table(const struct live_row *rows, int n)
{
	printf("\nlive (receiver's CPU ns per packet, median [min-max]; Mpps seen; Mpps one core "
	       "would do at that cost)\n");
	printf("  %-34s %-8s %-19s %-17s %8s %9s %7s\n", "layer", "xdp", "ns/pkt (CPU)", "Mpps seen",
	       "Mpps/core", "cores@28M", "x drop");
	for (int i = 0; i < n; i++) {
		const struct live_row *r = &rows[i];
		char a[40], b[40];

		if (!r->ok) {
			printf("  %-34s  not run: %s\n", r->label, r->reason);
			continue;
		}
		snprintf(a, sizeof(a), "%.2f [%.2f-%.2f]", r->pps.med / 1e6, r->pps.min / 1e6,
			 r->pps.max / 1e6);
		snprintf(b, sizeof(b), "%.0f [%.0f-%.0f]", r->ns.med, r->ns.min, r->ns.max);
		printf("  %-34s %-8s %-19s %-17s %8.2f %9.1f %7.1f\n", r->label, r->mode ? r->mode : "-",
		       b, a, r->ns.med > 0 ? 1e3 / r->ns.med : 0, r->cores_28m, r->ratio);
	}
}

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<') fputs("&lt;", f);
		else if (*s == '>') fputs("&gt;", f);
		else if (*s == '&') fputs("&amp;", f);
		else fputc(*s, f);
	}
}

/* Two bar charts, each scaled to its own largest value: CPU ns per packet of each live
 * layer (the talk's "more functions, less pps"), and each program's cost over its bare
 * twin. Plain SVG, no script, readable in any browser. */
static void write_svg(FILE *f, const struct machine *m, const struct prog_row *pr, int np,
		      const struct live_row *lr, int nl)
{
	const int W = 900, left = 300, barw = 440, rowh = 22;
	double lmax = 1, pmax = 1;
	int y, nlive = 0, nprog = 0, h;
	char t[300];

	for (int i = 0; i < nl; i++)
		if (lr[i].ok) {
			nlive++;
			if (lr[i].ns.med > lmax)
				lmax = lr[i].ns.med;
		}
	for (int i = 0; i < np; i++)
		if (pr[i].ok) {
			nprog++;
			double v = pr[i].baseline[0] ? pr[i].delta_ns.med : pr[i].ns.med;
			if (v > pmax)
				pmax = v;
		}
	h = 90 + (nlive ? 40 + nlive * rowh : 0) + (nprog ? 40 + nprog * rowh : 0) + 30;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "font-family=\"sans-serif\" font-size=\"13\">\n", W, h);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"10\" y=\"24\" font-size=\"17\" font-weight=\"bold\">bpflab bench: "
		   "what a packet costs at each layer</text>\n");
	snprintf(t, sizeof(t), "%s, %ld cores, kernel %s, %s", m->cpu, m->cores, m->kernel, m->date);
	fprintf(f, "<text x=\"10\" y=\"44\" fill=\"#555\">");
	svg_text(f, t);
	fprintf(f, "</text>\n");
	y = 70;
	if (nlive) {
		fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">live: CPU ns per packet "
			   "(shorter is cheaper); right: cores for 28 Mpps</text>\n", y + 10);
		y += 26;
		for (int i = 0; i < nl; i++) {
			const struct live_row *r = &lr[i];
			int w;
			if (!r->ok)
				continue;
			w = (int)(barw * r->ns.med / lmax);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 8, y + 15);
			svg_text(f, r->label);
			fprintf(f, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				   "fill=\"%s\"/>\n", left, y + 3, w < 1 ? 1 : w, rowh - 6,
				!strcmp(r->group, "forward") ? "#d08c2b" : r->mode ? "#2b7bd0" : "#888");
			fprintf(f, "<text x=\"%d\" y=\"%d\">%.0f ns, %.2f Mpps, %.1f cores</text>\n",
				left + w + 6, y + 15, r->ns.med, r->pps.med / 1e6, r->cores_28m);
			y += rowh;
		}
		y += 14;
	}
	if (nprog) {
		fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">programs: ns per packet "
			   "(bare programs), extra ns over the bare twin (bpflab programs)</text>\n",
			y + 10);
		y += 26;
		for (int i = 0; i < np; i++) {
			const struct prog_row *r = &pr[i];
			double v;
			int w;
			if (!r->ok)
				continue;
			v = r->baseline[0] ? r->delta_ns.med : r->ns.med;
			w = (int)(barw * (v > 0 ? v : 0) / pmax);
			snprintf(t, sizeof(t), "%s%s%s", r->name, r->baseline[0] ? " vs " : "",
				 r->baseline);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 8, y + 15);
			svg_text(f, t);
			fprintf(f, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
				   "fill=\"%s\"/>\n", left, y + 3, w < 1 ? 1 : w, rowh - 6,
				r->baseline[0] ? "#3a9d5d" : "#999");
			fprintf(f, "<text x=\"%d\" y=\"%d\">%s%.1f ns</text>\n", left + w + 6, y + 15,
				r->baseline[0] ? (v >= 0 ? "+" : "") : "", v);
			y += rowh;
		}
	}
	fprintf(f, "</svg>\n");
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, 0, 'q' },
		{ "duration", required_argument, 0, 'd' },
		{ "reps", required_argument, 0, 'r' },
		{ "section", required_argument, 0, 'S' },
		{ "rows", required_argument, 0, 'R' },
		{ "method", required_argument, 0, 'M' },
		{ "svg", required_argument, 0, 'G' },
		COMMON_LONGOPTS,
		{}
	};
	struct bench_opts o = { .progs = true, .live = true, .duration = -1, .reps = -1 };
	static struct prog_row prows[BENCH_MAX_ROWS];
	static struct live_row lrows[BENCH_MAX_ROWS];
	const char *svg = NULL;
	int np = 0, nl = 0, opt, err;
	struct machine m;
	FILE *svgf = NULL;
	uint64_t v;
	double start;

	while ((opt = getopt_long(argc, argv, "d:" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'q': o.quick = true; break;
		case 'M':
			if (strcmp(optarg, "repeat") && strcmp(optarg, "restore") &&
			    strcmp(optarg, "repeat1"))
				return usage_error("bench", "invalid --method '%s' (repeat, restore or "
						   "repeat1)", optarg);
			o.method = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration) || o.duration < 0.1 || o.duration > 60)
				return usage_error("bench", "invalid --duration '%s' (0.1 to 60 s)", optarg);
			break;
		case 'r':
			if (parse_u64(optarg, 1, BENCH_MAX_REPS, &v))
				return usage_error("bench", "invalid --reps '%s' (1 to %d)", optarg,
						   BENCH_MAX_REPS);
			o.reps = v;
			break;
		case 'S':
			if (!strcmp(optarg, "progs"))
				o.live = false;
			else if (!strcmp(optarg, "live"))
				o.progs = false;
			else if (strcmp(optarg, "all"))
				return usage_error("bench", "invalid --section '%s' (progs, live or all)",
						   optarg);
			break;
		case 'R': o.rows = optarg; break;
		case 'G': svg = optarg; break;
		default:
			if ((err = common_opt("bench", opt)) >= 0 && err != 0)
				return err;
		}
	}
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'", argv[optind]);
	if (o.rows) {
		char buf[256], *tok, *save;
		snprintf(buf, sizeof(buf), "%s", o.rows);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			bool found = false;
			for (int i = 0; bench_live_ids[i]; i++)
				found |= !strcmp(bench_live_ids[i], tok);
			if (!found)
				return usage_error("bench", "unknown live row '%s' (see docs/bench.md)", tok);
		}
	}
	if (o.reps < 0)
		o.reps = o.quick ? 3 : 5;
	if (o.duration < 0)
		o.duration = o.quick ? 0.5 : 2;
	if ((err = require_root("bpflab bench")))
		return err;
	if (svg) {
		svgf = fopen(svg, "w");
		if (!svgf) {
			pr_warn("cannot write --svg file '%s': %s\n", svg, strerror(errno));
			return EXIT_USAGE;
		}
	}
	o.cpu_rx = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	o.cpu_gen = 0;
	machine_read(&m);
	if (m.stats_enabled > 0)
		pr_warn("warning: kernel.bpf_stats_enabled=1 adds 50-100 ns to every program run; "
			"turn it off for honest figures (sysctl kernel.bpf_stats_enabled=0)\n");
	start = now_mono();
	if (o.progs && !exiting) {
		err = bench_progs(&o, prows, &np);
		if (err) {
			if (svgf)
				fclose(svgf);
			return err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		}
	}
	if (o.live && !exiting)
		bench_live(&o, lrows, &nl);
	if (exiting)
		pr_warn("interrupted: results so far\n");

	if (g_opts.json) {
		json_machine(&m, &o);
		for (int i = 0; i < np; i++)
			json_prog(&prows[i]);
		for (int i = 0; i < nl; i++)
			json_live(&lrows[i]);
		printf("{\"type\":\"end\",\"elapsed\":%.1f,\"interrupted\":%s}\n", now_mono() - start,
		       exiting ? "true" : "false");
	} else {
		printf("bpflab bench on %s: %s, %ld cores, kernel %s, %s%s\n", m.host, m.cpu, m.cores,
		       m.kernel, m.date, o.quick ? " (quick)" : "");
		if (np)
			print_prog_table(prows, np);
		if (nl)
			print_live_table(lrows, nl);
		printf("\n(%.0f s; figures from one VM are noisy: compare ratios within one run)\n",
		       now_mono() - start);
	}
	if (svgf) {
		write_svg(svgf, &m, prows, np, lrows, nl);
		if (fclose(svgf))
			pr_warn("writing %s: %s\n", svg, strerror(errno));
	}
	return exiting ? EXIT_FAIL : EXIT_OK;
}
