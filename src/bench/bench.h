/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `bpflab bench` inside: options, result rows, and the two sections (BPF_PROG_TEST_RUN
 * per-program costs in cmd_bench.c, live traffic through veth pairs in bench_live.c). */
#ifndef BPFLAB_BENCH_H
#define BPFLAB_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_MAX_ROWS 32
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
	const char *method;       /* "repeat" or "repeat1" */
	int repeat, rounds;
	struct spread ns, base_ns, delta_ns;
	uint32_t retval, expect;
	bool ok;
	char reason[160];
};

struct live_row {
	const char *id;           /* stable key, e.g. "xdp_native_drop" */
	const char *label;        /* table text */
	const char *group;        /* "drop" or "forward" */
	const char *mode;         /* "native", "generic" or NULL when not XDP */
	bool ok;
	char reason[200];
	struct spread pps, ns;    /* packets/s and CPU ns per packet on the receiving CPU */
	struct spread gen_pps;    /* frames/s the generator offered */
	double share;             /* median share of the receiving CPU our threads used, 0..1 */
	double busy;              /* median share of the receiving CPU in use by anyone */
	double cores_28m;         /* ns * 28e6 / 1e9 */
	double ratio;             /* ns / ns of xdp_native_drop */
};

int bench_live(const struct bench_opts *o, struct live_row *rows, int *nrows);
/* Names of every live row, for --rows checking and the "explained" rule. */
extern const char *const bench_live_ids[];

#endif
