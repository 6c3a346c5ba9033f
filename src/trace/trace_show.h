/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What `bpflab trace` prints: events gathered into journeys (one per packet, in time
 * order), rendered as text lines or JSON Lines; --summary counts; --pcap frames. */
#ifndef BPFLAB_TRACE_SHOW_H
#define BPFLAB_TRACE_SHOW_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "trace.h"

/* An event as shown: the BPF record, or one of our programs' verdicts made into one. */
struct trace_item {
	struct trace_rec r;
	char prog[16];        /* verdict: "lb", "ping", ... */
	char verdict[24];     /* verdict: "XDP_DROP" */
	char why[40];         /* verdict: its reason, "drop_no_backend" */
	__u32 prog_id;
};

struct pcapng;
struct trace_show {
	bool json, summary_only;
	double start_mono, mono_to_real;
	double idle_flush;         /* seconds without events after which a journey is shown */
	struct pcapng *pcap;
	__u64 packets, events, shown_events, dropped;
	__u64 max_packets;         /* --count: stop after this many journeys (0: no limit) */
	bool done;                 /* --count reached */
	struct trace_journey *j;   /* journeys in flight */
	size_t nj, capj;
	struct trace_count *cnt;   /* --summary: by reason and location */
	size_t ncnt, capcnt;
	__u64 next_display_id;
};

void trace_show_init(struct trace_show *s);
/* Takes one item (copied). */
void trace_show_item(struct trace_show *s, const struct trace_item *it);
/* Shows journeys idle for idle_flush seconds (all with force). */
void trace_show_flush(struct trace_show *s, bool force);
void trace_show_free(struct trace_show *s);

struct trace_attached {
	int nhooks, nmissing;
	const char *hooks;     /* "skb:kfree_skb skb:consume_skb ..." */
	const char *missing;   /* "" when none */
	const char *filter;    /* as typed; "" none */
	__u32 ringbuf_size;
	int verdict_progs;     /* bpflab programs reporting verdicts */
	const char *pcap;      /* NULL none */
};
void trace_show_attached(const struct trace_show *s, const struct trace_attached *a);
void trace_show_lost(const struct trace_show *s, __u64 lost, __u64 verdicts_lost, __u32 ringbuf_size);
struct trace_summary {
	double elapsed;
	__u64 seen, matched, events, lost, verdicts, verdicts_lost;
	__u32 ringbuf_size;
};
void trace_show_summary(struct trace_show *s, const struct trace_summary *sum);

/* Name of a network namespace by inode (/run/netns), or NULL. */
const char *trace_netns_name(__u32 ino);

#endif
