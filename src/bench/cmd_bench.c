// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench: the talk's "Some numbers" on this machine. Options and the machine here;
 * the sections (bench_progs.c, bench_live.c) fill one struct bench_result, which is then
 * rendered once (bench_report.c, bench_svg.c). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "opts.h"
#include "util.h"
#include "bench.h"

/* The receiver's load in the paced windows. Its cost per packet hardly moves between
 * 5% and 60% (it wakes for every group of 16 frames at any load below 1); what the
 * headroom buys is a ring that is not overrun when something else takes its CPU for a
 * while, or the generator catches up after losing its own. */
#define LOAD_DEFAULT 0.5
/* Share of its frames a paced window may lose and still be a measurement. They are lost
 * when the receiver's NAPI thread, asleep between groups of frames, wakes late (another
 * process on its CPU, the hypervisor): its ring holds 256 frames, 50 us at 5 Mpps. On a
 * shared 2-vCPU VM that is 1-15% of the frames at any load, so zero loss (RFC 2544) is
 * not reachable; the cost per packet is taken over the frames handled, and the loss is
 * reported with it. */
#define PACE_LOSS_TOL 0.05

/* The command line, before it becomes struct bench_opts (whose defaults depend on --quick). */
struct bench_cli {
	bool quick;
	double duration;   /* -1: 2 s, quick 0.3 s */
	uint64_t reps;     /* 0: 5, quick 3 */
	double load;       /* -1: LOAD_DEFAULT */
	int section, method;
	const char *rows, *svg;
};

enum { SECTION_ALL, SECTION_PROGS, SECTION_LIVE };
static const struct opt_enum sections[] = {
	{ .name = "progs", .value = SECTION_PROGS },
	{ .name = "live", .value = SECTION_LIVE },
	{ .name = "all", .value = SECTION_ALL },
	{ .name = NULL }
};
/* Index 0 is "not forced"; the others are the timing methods' names. */
static const char *const method_names[] = { NULL, "repeat", "restore", "repeat1" };
static const struct opt_enum methods[] = {
	{ .name = "repeat", .value = 1 },
	{ .name = "restore", .value = 2 },
	{ .name = "repeat1", .value = 3 },
	{ .name = NULL }
};

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct bench_cli, field, arg, help)
static const struct opt_def bench_opts[] = {
	{ O("quick", 0, OPT_FLAG, quick, NULL, "short run for CI and the demo (~45 s)") },
	{ O("duration", 'd', OPT_DURATION, duration, "S", "seconds per live repetition"),
	  .def = "2, quick 0.3", .dmin = 0.1, .dmax = 60 },
	{ O("reps", 0, OPT_UINT, reps, "N", "repetitions per live row / rounds per program"),
	  .def = "5, quick 3", .min = 1, .max = BENCH_MAX_REPS },
	{ O("load", 0, OPT_DOUBLE, load, "F",
	    "live: also measure each row with the generator paced to keep the receiver's "
	    "CPU busy F of the time, 0: not"),
	  .def = "0.5", .dmin = 0.05, .dmax = 1, .zero_ok = true },
	{ O("section", 0, OPT_ENUM, section, "S", "which section to run"), .def = "all",
	  .values = sections },
	{ O("rows", 0, OPT_STR, rows, "LIST", "live rows to run, comma separated (see docs/bench.md)") },
	{ O("method", 0, OPT_ENUM, method, "M", "time every program with M"),
	  .def = "repeat, or restore for programs that rewrite", .values = methods },
	{ O("svg", 0, OPT_FILE, svg, "FILE", "also draw the results as a bar chart into FILE") },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_bench_spec = {
	.name = "bench",
	.args = "[options]",
	.about = "Measure what a packet costs at each layer, on this machine, in one run:\n"
		 "  progs  every bpflab program against the bare program of its hook\n"
		 "         (BPF_PROG_TEST_RUN, interleaved rounds, median and range, ns per packet)\n"
		 "  live   drop at XDP native/generic, TC, nftables, iptables, the UDP stack;\n"
		 "         XDP_TX; forwarding by Linux, nftables DNAT and an XDP fib_lookup\n"
		 "         forwarder; and bpflab's count --drop, ping --drop and lb nat/dsr beside\n"
		 "         their bare rows, with traffic from XDP live frames through veth pairs in\n"
		 "         throwaway namespaces: packets/s, CPU ns per packet on the receiving CPU,\n"
		 "         cores for 28 Mpps; a row whose run was not clean is not reported\n",
	.opts = bench_opts,
	.json_help = "JSON Lines: a machine record, then one record per row",
};

static void machine_read(struct bench_machine *m)
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
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
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

int cmd_bench(int argc, char **argv)
{
	struct bench_cli cli = { .duration = -1, .load = -1 };
	/* Large (two row tables): static, not on the stack. */
	static struct bench_result res;
	struct bench_opts *o = &res.o;
	const char *svg;
	int err;
	FILE *svgf = NULL;
	double start;

	if ((err = opts_parse(&cmd_bench_spec, argc, argv, &cli)) != OPTS_GO_ON)
		return err;
	memset(&res, 0, sizeof(res));
	o->quick = cli.quick;
	o->progs = cli.section != SECTION_LIVE;
	o->live = cli.section != SECTION_PROGS;
	o->duration = cli.duration;
	o->reps = cli.reps ? (int)cli.reps : -1;
	o->rows = cli.rows;
	o->method = method_names[cli.method];
	svg = cli.svg;
	if (o->rows) {
		char buf[256], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", o->rows);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!bench_live_known(tok))
				return usage_error("bench", "unknown live row '%s' (rows: %s)", tok,
						   bench_live_id_list());
	}
	if (o->reps < 0)
		o->reps = o->quick ? 3 : 5;
	if (o->duration < 0)
		o->duration = o->quick ? 0.3 : 2;
	o->load = cli.load >= 0 ? cli.load : LOAD_DEFAULT;
	o->loss_tol = PACE_LOSS_TOL;
	if ((err = require_root("bpflab bench")))
		return err;
	if (svg) {
		svgf = fopen(svg, "w");
		if (!svgf) {
			pr_warn("cannot write --svg file '%s': %s\n", svg, strerror(errno));
			return EXIT_USAGE;
		}
	}
	o->cpu_rx = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	o->cpu_gen = 0;
	machine_read(&res.m);
	if (res.m.stats_enabled > 0)
		pr_warn("warning: kernel.bpf_stats_enabled=1 adds 50-100 ns to every program run; "
			"turn it off for honest figures (sysctl kernel.bpf_stats_enabled=0)\n");
	start = now_mono();
	if (o->progs && !exiting) {
		err = bench_progs(o, res.prows, &res.np);
		if (err) {
			if (svgf)
				fclose(svgf);
			return err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		}
	}
	if (o->live && !exiting)
		bench_live(o, res.lrows, &res.nl);
	res.interrupted = exiting;
	res.elapsed = now_mono() - start;
	if (res.interrupted)
		pr_warn("interrupted: results so far\n");

	if (g_opts.json)
		bench_print_json(&res);
	else
		bench_print_text(&res);
	if (svgf) {
		err = bench_write_svg(svgf, &res);
		if (fclose(svgf) && !err)
			err = -errno;
		if (err)
			pr_warn("writing %s: %s\n", svg, strerr(err));
	}
	return res.interrupted ? EXIT_FAIL : EXIT_OK;
}
