/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one path that opens, configures and loads filter.bpf.c: `filter start`, the bench
 * cases, tests/prog/test_filter.c and tests/fuzz all go through it. */
#ifndef BPFLAB_FILTER_PROG_H
#define BPFLAB_FILTER_PROG_H

#include <stdbool.h>
#include <linux/types.h>
#include "filter.h"

/* Every map filter.bpf.c has and user space works on, by its pinned name (data_fast and
 * bss: the global sections .data.fast and .bss, filter.h). */
#define FILTER_MAPS(X) \
	X(ctl) X(gens) X(rules) X(rule_stats) X(stats) X(src4_b) X(l2) \
	X(dst4_b) X(src6) X(dst6) X(src_cls) X(dst_cls) X(proto_bits) X(sport_map) \
	X(dport_map) X(sport_cls) X(dport_cls) X(extra_map) X(extra_cls) X(buckets) \
	X(top_src) X(events) X(next_prog) X(data_fast) X(bss)

struct filter_fds {
#define FILTER_FD_(n) int n;
	FILTER_MAPS(FILTER_FD_)
#undef FILTER_FD_
};

struct synproxy_cfg;
struct filter_prog_cfg {
	bool no_event_limit;       /* tests: every drop is an event */
	__u8 top_shift;            /* 0: FILTER_TOP_SAMPLE_SHIFT; 255: every drop */
	const struct synproxy_cfg *syn;  /* --synproxy, or NULL */
};

struct filter_bpf;
struct filter_bpf *filter_prog_load(const struct filter_prog_cfg *cfg);
int filter_prog_fd(struct filter_bpf *skel);
void filter_prog_destroy(struct filter_bpf *skel);
void filter_fds_from_skel(struct filter_bpf *skel, struct filter_fds *f);
/* Opens every map pinned in dir; 0 or -errno (fds are -1 where not opened). */
int filter_fds_open(const char *dir, struct filter_fds *f);
void filter_fds_close(struct filter_fds *f);
/* Every non-internal map of the skeleton with its name, for pinning: n written. */
int filter_prog_pin_objs(struct filter_bpf *skel, const char **names, int *fds, int cap);
/* The syncookie counters map, or -1 when this build has none. */
int filter_prog_syn_stats_fd(struct filter_bpf *skel);

#endif
