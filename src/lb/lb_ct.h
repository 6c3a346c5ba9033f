/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The conntrack tables from user space (lb.h, "The conntrack tables"): arrays of
 * buckets, so a flow is found by computing its bucket and scanning its slots, and the
 * tracked flows are the non-empty slots. lb show, lb conns, the tests and the fuzzer all
 * read the tables through here. */
#ifndef BPFLAB_LB_CT_H
#define BPFLAB_LB_CT_H

#include <stdbool.h>
#include <linux/types.h>
#include "lb.h"

/* --ct-size: n rounded up to a power of two, or 0 when n is outside
 * [LB_CT_MIN, LB_CT_MAX]. */
__u32 lb_ct_size_round(__u64 n);

/* A fresh bucket hash seed for a new balancer, never 0 (0 asks for one: lb_prog.h). */
__u32 lb_ct_seed_new(void);

/* The flow's value from the table of its family, by the bucket the program computes
 * from m's seed and size. 0, -ENOENT (not tracked) or -errno. */
int lb_ct4_lookup(int fd, const struct lb_meta *m, const struct lb_ct4_key *k, struct lb_ct *v);
int lb_ct6_lookup(int fd, const struct lb_meta *m, const struct lb_ct6_key *k, struct lb_ct *v);

/* One tracked flow as a walk sees it. */
struct lb_ct_flow {
	__u8 family;          /* LB_FAM4 / LB_FAM6 */
	union lb_addr saddr;  /* IPv4 in saddr.v4, the rest zero */
	__be16 sport;
	__u16 vip_id;
	struct lb_ct v;
	__u32 bucket, slot;
};
/* Called for every non-empty slot; a non-zero return stops the walk with that value. */
typedef int (*lb_ct_fn)(void *ctx, const struct lb_ct_flow *f);

/* Reads a table of family fam (LB_FAM4: conntrack, LB_FAM6: conntrack6) in batches of
 * buckets: a copy per batch, so a flow written under the walk may be seen or not. 0, the
 * callback's value, or -errno. */
int lb_ct_walk(int fd, int fam, lb_ct_fn fn, void *ctx);
/* Non-empty slots of the table: the flows it tracks. -errno on failure. */
long long lb_ct_count(int fd, int fam);
/* Every slot emptied (tests, fuzzer): what a fresh table holds. 0 or -errno. */
int lb_ct_clear(int fd, int fam);

#endif
