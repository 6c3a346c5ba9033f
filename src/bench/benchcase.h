/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A bpflab program set up for a per-packet cost measurement (BPF_PROG_TEST_RUN repeat,
 * and live frames). Each feature provides setup functions; `bpflab bench` runs them
 * beside the bare program of the same hook, in the same run, and some of them (see the
 * row table in bench_live.c) also with live traffic. The same packets as the tests: the
 * benchmark fixtures are the test fixtures. */
#ifndef BPFLAB_BENCHCASE_H
#define BPFLAB_BENCHCASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pkt.h"

struct bench_prog {
	const char *name;       /* row name, e.g. "count", "ping --reply" */
	const char *baseline;   /* bare program of its hook: "xdp_pass", "xdp_drop", "xdp_tx" */
	int prog_fd;
	uint8_t pkt[PKT_MAX];
	size_t pkt_len;
	__u32 expect_retval;    /* the verdict it must give: a mismatch fails the row */
	bool rewrites;          /* it changes the packet, so repeat runs see the rewritten one:
				 * the runner must restore the packet (docs/bench.md) */
	/* For the live rows (the program attached to a veth and fed live frames of pkt):
	 * what the command would read, and what the program counts as lost. Zero: none. */
	int events_fd;          /* ring buffer the command consumes: the bench drains it too */
	long long (*lost)(struct bench_prog *b); /* events or packets the program lost, so far */
	void *priv;             /* skeleton or state for cleanup */
	void (*cleanup)(struct bench_prog *b);
};

/* Fills b (already zeroed) and loads the program; 0 or -errno. */
typedef int (*bench_setup_fn)(struct bench_prog *b);

#define BENCH_CASE(fn) int fn(struct bench_prog *b);
#include "bench_cases.def"
#undef BENCH_CASE

#endif
