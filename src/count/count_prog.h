/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one path that opens, configures and loads count.bpf.c: used by `bpflab count`, its
 * bench case, tests/prog/test_count.c and the fuzzer (tests/fuzz). */
#ifndef BPFLAB_COUNT_PROG_H
#define BPFLAB_COUNT_PROG_H

#include <stdbool.h>
#include <linux/types.h>
#include "count.h"

struct count_bpf;

struct count_prog_cfg {
	bool drop;              /* XDP_DROP every packet (the talk's experiment), else XDP_PASS */
};

/* Opens, sets .rodata from cfg, loads. The skeleton, or NULL with errno set (the cause
 * printed with pr_warn). */
struct count_bpf *count_prog_load(const struct count_prog_cfg *cfg);
int count_prog_fd(struct count_bpf *skel);
/* Counters summed over CPUs, and the talk's global counter. 0 or -errno. */
int count_prog_stats(struct count_bpf *skel, struct count_stats *sum, __u64 *counter);

#endif
