/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `bpflab bench` inside. Each file has one role, and data flows one way:
 *   cmd_bench.c     options, the machine, runs the sections into a struct bench_result
 *   bench_progs.c   section progs: BPF_PROG_TEST_RUN per program against its bare twin
 *   bench_live.c    section live: the rows, each set up, measured and torn down
 *   bench_env.c     what the live rows run on: namespaces, traffic, CPU accounting
 *   bench_report.c  the result as text tables or JSON Lines
 *   bench_svg.c     the result as a chart
 *   bench_stats.c   median and range
 * Nothing renders while it measures: the result is complete before it is printed. */
#ifndef BPFLAB_BENCH_H
#define BPFLAB_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_ROWS 64
#define BENCH_MAX_REPS 32
/* The talk's "Some numbers": the packet rate whose cost in cores it compares. */
#define BENCH_TALK_PPS 28e6

struct bench_opts {
	bool quick;
	bool progs, live;      /* sections to run */
	const char *method;    /* force a timing method on every case (cross-checks) */
	double duration;       /* seconds per live repetition */
	int reps;              /* repetitions per live row, rounds per program */
	const char *rows;      /* comma list of live rows to run, NULL for all */
	double load;           /* live: receiver's CPU share the paced window aims at; 0: none */
	double loss_tol;       /* share of offered frames a paced window may lose */
	int cpu_gen, cpu_rx;   /* traffic generator and receiver CPUs */
};

/* Median and range of a set of repetitions. */
struct spread {
	double med, min, max;
	int n;
};
void spread_of(const double *v, int n, struct spread *s);

struct prog_row {
	char name[40];
	char baseline[16];        /* "" for a bare program */
	bool tc;                  /* a TC program: its verdicts are TC_ACT_* */
	const char *method;       /* "repeat", "restore" or "repeat1" */
	int repeat, rounds;
	struct spread ns, base_ns, delta_ns;
	uint32_t retval, expect;
	bool ok;
	char reason[160];
};

struct live_row {
	const char *id;           /* stable key, e.g. "xdp_native_drop" */
	const char *label;        /* table text */
	const char *group;        /* "drop", "tx" (back out of the receiving port) or "forward" */
	const char *mode;         /* "native", "generic" or NULL when not XDP */
	const char *baseline;     /* id of the bare row a bpflab program is compared with */
	bool ok;
	char reason[200];
	struct spread pps, ns;    /* packets/s and CPU ns per packet on the receiving CPU */
	struct spread gen_pps;    /* frames/s the generator offered */
	double share;             /* median share of the receiving CPU our threads used, 0..1 */
	double busy;              /* median share of the receiving CPU in use by anyone */
	double cores_28m;         /* ns * 28e6 / 1e9 */
	double ratio;             /* ns / ns of xdp_native_drop */
	double rate_vs_base;      /* ns of the baseline row / ns: 1 = as cheap as bare */
	double pps_vs_base;       /* pps seen / pps seen by the baseline row */
	double refused;           /* median share of the generator's frames rX's ring refused */
	/* The same row with the generator paced to a set load of the receiving CPU
	 * (bench_live.c, docs/bench.md "Saturated and paced"): the receiver's ring is not
	 * overrun, so the generator frees no refused frames into the page pool the
	 * receiver returns its frames to. */
	struct live_paced {
		bool ok;
		char reason[160];
		struct spread rate;       /* offered frames/s asked */
		struct spread pps, ns;    /* handled packets/s, receiver CPU ns per packet */
		struct spread gen_pps;    /* offered frames/s measured */
		double share;             /* median share of the receiving CPU our threads used */
		double loss;              /* largest share of offered frames a window lost */
		bool gen_limited;         /* the generator could not offer the rate asked */
		double rate_vs_base, pps_vs_base;
	} paced;
};

struct bench_machine {
	char kernel[128], cpu[128], date[32], host[64];
	long cores;
	int stats_enabled;
};

/* Everything one run measured, then rendered once. */
struct bench_result {
	struct bench_machine m;
	struct bench_opts o;
	struct prog_row prows[BENCH_MAX_ROWS];
	int np;
	struct live_row lrows[BENCH_MAX_ROWS];
	int nl;
	double elapsed;
	bool interrupted;
};

int bench_progs(const struct bench_opts *o, struct prog_row *rows, int *nrows);
int bench_live(const struct bench_opts *o, struct live_row *rows, int *nrows);
/* Whether id names a live row (for --rows). */
bool bench_live_known(const char *id);
/* The ids, comma separated, for messages. */
const char *bench_live_id_list(void);

void bench_print_text(const struct bench_result *r);
void bench_print_json(const struct bench_result *r);
/* 0, or -errno when writing failed. */
int bench_write_svg(FILE *f, const struct bench_result *r);

#endif
