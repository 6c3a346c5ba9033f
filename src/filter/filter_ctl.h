/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The control plane on filter's maps: write a compiled rule set into the generation that
 * is not running, flip `ctl` (the one update that swaps), read back what runs. */
#ifndef BPFLAB_FILTER_CTL_H
#define BPFLAB_FILTER_CTL_H

#include "filter_prog.h"
#include "filter_rules.h"

int filter_active(const struct filter_fds *f, __u32 *gen);
/* Writes t into generation gen (never the active one while traffic runs). 0 or -errno. */
int filter_write_gen(const struct filter_fds *f, __u32 gen, const struct fr_tables *t, __u64 seq);
/* Makes gen the active generation: one map update. */
int filter_flip(const struct filter_fds *f, __u32 gen);
/* Both: the whole apply. *newgen: the generation now running. */
int filter_install(const struct filter_fds *f, const struct fr_tables *t, __u32 *newgen);

/* What runs, read back. */
struct filter_running {
	__u32 gen;
	struct filter_gen g;
	struct filter_rule rules[FILTER_MAX_RULES];
	struct filter_rule_stats stats[FILTER_MAX_RULES];
	__u64 c[FS__N];
};
int filter_read_running(const struct filter_fds *f, struct filter_running *r);

struct filter_top {
	struct filter_src_key k;
	__u64 drops, bytes;
};
/* The n sources with most (sampled) drops, most first; returns how many. */
int filter_read_top(const struct filter_fds *f, struct filter_top *out, int n);

__u64 filter_now_ns(void);

#endif
