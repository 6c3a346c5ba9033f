/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one path that opens, configures and loads decap.bpf.c: `lb decap`, its bench case,
 * tests/prog/test_decap.c and the fuzzer all go through it. Also the VIP words users type
 * (ADDR, ADDR:PORT/PROTO, [V6]:PORT/PROTO) and the counters' names, once. */
#ifndef BPFLAB_DECAP_PROG_H
#define BPFLAB_DECAP_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "decap.h"

struct decap_bpf;

struct decap_prog_cfg {
	__u8 mac[6];   /* the interface's own MAC: only frames to it are decapsulated */
};

/* Opens, sets .rodata, loads. NULL with errno set, after printing why. */
struct decap_bpf *decap_prog_load(const struct decap_prog_cfg *cfg);
int decap_prog_fd(struct decap_bpf *skel, bool tc);
void decap_prog_destroy(struct decap_bpf *skel);
/* Serves VIP k under index id (0..DECAP_MAX_VIPS-1). 0 or -errno (-EEXIST: given twice). */
int decap_prog_add_vip(struct decap_bpf *skel, const struct decap_vip_key *k, __u32 id);
/* Sums over CPUs. 0 or -errno. */
int decap_prog_counters(struct decap_bpf *skel, struct decap_counters *c);
int decap_prog_vip_stats(struct decap_bpf *skel, __u32 id, struct decap_stats *s);
int decap_prog_zero(struct decap_bpf *skel); /* tests: every counter back to 0 */

/* "198.18.0.100", "198.18.0.100:80/tcp", "2001:db8::1", "[2001:db8::1]:80/udp". Strict:
 * no leading zeros, ports 1-65535, no IPv4-mapped IPv6. 0 or -EINVAL, with why filled. */
int decap_parse_vip(const char *s, struct decap_vip_key *k, char *why, size_t whylen);
/* The same words back. */
void decap_fmt_vip(const struct decap_vip_key *k, char *buf, size_t len);

/* JSON field names of enum decap_counter ("decap", "drop_no_vip", ...). */
extern const char *const decap_counter_names[DC__MAX];

#endif
