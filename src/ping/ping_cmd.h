/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What cmd_ping.c (attach, run) shares with ping_show.c (its output, text or JSON). */
#ifndef BPFLAB_PING_CMD_H
#define BPFLAB_PING_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "bpfutil.h"
#include "ifstats.h"
#include "ping.h"

struct ping_bpf;

struct ping_ctx {
	const char *ifname;
	int ifindex;
	bool on_lo;
	bool quiet;
	enum ping_action action;
	bool tc;
	const char *tc_via;      /* "tcx" or "clsact" */
	enum xdp_mode mode;
	char reason[320];        /* why --hook auto chose this hook; "" when forced */
	bool tx_doomed;          /* forced XDP_TX on a veth whose peer cannot take it */
	bool tx_counted;         /* tx0 holds the driver's XDP_TX counters at attach */
	struct ifstats_xdp tx0;
	struct ping_bpf *skel;
	double mono_to_real;     /* add to CLOCK_MONOTONIC seconds to get wall time */
	__u64 events;
};

/* ring_buffer__new callback (arg: the ping_ctx): one echo record or line per event. */
int ping_show_event(void *arg, void *data, size_t size);
void ping_show_attached(const struct ping_ctx *c);
/* s: the counters at exit; txd: replies the driver dropped since attach. */
void ping_show_summary(const struct ping_ctx *c, const struct ping_stats *s, double elapsed,
		       __u64 txd);

#endif
