/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one path that opens, configures and loads ping.bpf.c: used by `bpflab ping`, its
 * bench cases, tests/prog/test_ping.c and the fuzzer (tests/fuzz). */
#ifndef BPFLAB_PING_PROG_H
#define BPFLAB_PING_PROG_H

#include <stdbool.h>
#include <linux/types.h>
#include "ping.h"

struct ping_bpf;

/* One address of this namespace, with its prefix length (IPv4: its subnet's directed
 * broadcast is never answered nor accepted as a source). */
struct ping_local {
	struct ping_addr a;     /* IPv4 as ::ffff:a.b.c.d */
	__u8 plen;
	bool v4;
};

struct ping_prog_cfg {
	enum ping_action action;
	bool tc;                /* load ping_tc (TC ingress) instead of ping_xdp */
	bool on_lo;             /* the interface is loopback */
	bool events;            /* send ring-buffer events (not --quiet) */
	__u32 event_rate;       /* events/s per CPU before suppression; 0: PING_EVENT_RATE;
				 * UINT32_MAX: no limit */
	const struct ping_local *local;
	int nlocal;
};

/* Opens, sets every .rodata value from cfg, loads, fills the overflow map. Returns the
 * skeleton or NULL with errno set (the cause printed with pr_warn). */
struct ping_bpf *ping_prog_load(const struct ping_prog_cfg *cfg);
/* The loaded program's fd (ping_tc with cfg->tc, else ping_xdp). */
int ping_prog_fd(struct ping_bpf *skel, bool tc);
/* Counters summed over CPUs. 0 or -errno. */
int ping_prog_stats(struct ping_bpf *skel, struct ping_stats *sum);
/* Requests per source: the sources map plus what each CPU has not yet added to it.
 * Fills up to cap rows (unsorted); returns the number or -errno. */
struct ping_source {
	struct ping_addr a;
	__u64 n;
};
int ping_prog_sources(struct ping_bpf *skel, struct ping_source *rows, int cap);
/* This namespace's addresses (getifaddrs), into a calloc'ed array the caller frees.
 * Returns the count or -errno. */
int ping_prog_local_addrs(struct ping_local **out);

#endif
