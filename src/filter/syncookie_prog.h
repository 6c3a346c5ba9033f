/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opens, configures and loads syncookie.bpf.c, the SYN-cookie responder alone (the code of
 * bpflab filter --synproxy): tests/prog/test_syncookie.c, the fuzzer and the bench's
 * helper-only case (the bench's answered SYN goes through the filter program itself). */
#ifndef BPFLAB_SYNCOOKIE_PROG_H
#define BPFLAB_SYNCOOKIE_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "syncookie.h"

struct pkt_spec;

struct syncookie_bpf;

struct syncookie_prog_cfg {
	const __u16 *ports;   /* the protected ports */
	int nports;
	__u16 mss4, mss6;     /* 0: SYN_DEFAULT_* */
	__u8 wscale, ttl;
};

/* The skeleton, or NULL with errno set (the cause printed with pr_warn). */
struct syncookie_bpf *syncookie_prog_load(const struct syncookie_prog_cfg *cfg);
int syncookie_prog_fd(struct syncookie_bpf *skel);
int syncookie_prog_stats_fd(struct syncookie_bpf *skel);
void syncookie_prog_destroy(struct syncookie_bpf *skel);

/* Counters summed over CPUs (out[SYN_STAT_MAX]); 0 or -errno. Any skeleton's syn_stats. */
int syncookie_read_stats(int map_fd, __u64 *out);
/* Zeroes every counter; 0 or -errno. */
int syncookie_reset_stats(int map_fd);
/* Builds into buf (PKT_MAX) the SYN a Linux client sends (MSS 1460, SACK-permitted,
 * timestamps, window scale 7) with ps's MACs, addresses and ports (ps is made TCP); its
 * length. The bench case's packet, and the SYN bench's kernel rows flood the stack with. */
size_t syncookie_bench_syn(struct pkt_spec *ps, uint8_t *buf);
/* "synack", "ack_ok", ... (the JSON names, docs/json.md); NULL past SYN_STAT_MAX. */
const char *syncookie_stat_name(int i);

#endif
