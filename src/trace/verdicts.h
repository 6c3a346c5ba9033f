/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The user side of src/bpf/verdict.h: finds the running bpflab packet programs through
 * the kernel (program ids are global: every network namespace's), turns their verdict
 * reports on, feeds their rings to a libbpf ring_buffer, turns them off again, and names
 * what the records say. Nothing is pinned, nothing left: a trace killed with -9 leaves a
 * flag on, which the next verdicts_enable() takes over. */
#ifndef BPFLAB_VERDICTS_H
#define BPFLAB_VERDICTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "verdict.h"

/* One program (or programs sharing maps) whose verdicts are read. */
struct verdict_src {
	__u32 prog_id;
	char prog_name[16];
	enum verdict_kind kind;  /* from the program's name (count_*, ping_*, lb_*, filter_*) */
	__u32 ctl_map_id, ring_map_id;
	bool on;                 /* this process turned it on */
	__u32 busy_pid;          /* not on: another live trace (this pid) holds it */
	__u32 stale_pid;         /* it was on, left by this dead process: taken over */
};

/* Called for every record, in ring order per program. Return non-zero to stop the
 * current ring_buffer__poll/consume (as libbpf's callbacks do). */
typedef int (*verdicts_cb)(void *ctx, const struct verdict_src *src,
			   const struct verdict_rec *rec);

struct verdicts;

struct verdicts *verdicts_open(verdicts_cb cb, void *ctx);
/* Scans the kernel's programs for new ones with trace_ctl + trace_ring maps. Returns the
 * number of new sources, or -errno. */
int verdicts_find(struct verdicts *v);
/* Adds one program by id (a bpflab packet program: trace_ctl + trace_ring), as
 * verdicts_find() would: 1 added, 0 known already, -ENOENT not such a program. */
int verdicts_add_prog(struct verdicts *v, __u32 prog_id);
/* Turns every found source on and adds its ring to *rb (created when *rb is NULL; the
 * caller may have added its own rings to it). A source held by another live trace is
 * skipped (busy_pid). Records older than the enable are dropped (a killed trace's).
 * Returns the number of sources on, or -errno. Call again after verdicts_find() to add
 * programs started later. */
int verdicts_enable(struct verdicts *v, struct ring_buffer **rb);
/* Renews the lease (VERDICT_LEASE_NS) of every source this process has on: call it at
 * least every few seconds (verdicts_enable does too). */
void verdicts_keepalive(struct verdicts *v);
/* Turns off what this process turned on. Safe to call twice; async-signal-safe enough
 * for an exit path (map updates only). */
void verdicts_disable(struct verdicts *v);
/* verdicts_disable, then frees (not the ring_buffer: the caller's). */
void verdicts_close(struct verdicts *v);

int verdicts_count(const struct verdicts *v);
const struct verdict_src *verdicts_src(const struct verdicts *v, int i);
/* Records the rings could not take since enable, over every source. */
__u64 verdicts_lost(const struct verdicts *v);

/* Names: "count", "ping", "lb", "filter". */
const char *verdicts_kind_name(enum verdict_kind k);
/* "XDP_DROP", "TC_ACT_SHOT", ... */
const char *verdicts_verdict_name(__u8 hook, __u32 verdict);
/* true when the verdict ends the packet's life here (XDP_DROP/ABORTED, TC_ACT_SHOT). */
bool verdicts_is_drop(__u8 hook, __u32 verdict);
/* The reason in words, into buf: "udp" (count), "refused_dst_not_ours" (ping),
 * "drop_no_backend" (lb), "rule_3" (filter). Returns buf. */
const char *verdicts_reason(const struct verdict_rec *r, char *buf, size_t len);

#endif
