/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by decap.bpf.c and `bpflab lb decap`: the backend side of lb's L3 DSR.
 * The wire format it strips is lb-encap's (docs/lb.md, "Encapsulation"): IPIP (outer
 * IPv4 or IPv6, protocol 4 or 41) and GUE variant 1 (UDP to LB_GUE_PORT, the inner IP
 * header right after the UDP header). */
#ifndef BPFLAB_DECAP_H
#define BPFLAB_DECAP_H

#include <linux/types.h>
#include "lb.h"

#ifndef LB_GUE_PORT
#define LB_GUE_PORT 6080 /* lb.h's, for a tree where encap has not landed yet */
#endif

#define DECAP_MAX_VIPS 64

/* Verdict counters: every packet adds 1 to exactly one (docs/lb.md, "Decap"). */
enum decap_counter {
	DC_PASS_NOT_FOR_US,     /* not to our MAC (broadcast, multicast, another host's): untouched */
	DC_PASS_NOT_ENCAP,      /* not IPIP nor UDP to LB_GUE_PORT (or not IP): untouched */
	DC_DECAP,               /* stripped, the inner packet passed to the stack */
	DC_DROP_NO_VIP,         /* well formed, but the inner destination is no VIP we serve */
	DC_DROP_OUTER_FRAGMENT, /* the outer packet is a fragment (the LB never fragments) */
	DC_DROP_OUTER_MALFORMED, /* outer IP/UDP cut short or lying, bad IPv4 header checksum */
	DC_DROP_INNER_MALFORMED, /* inner header cut short, lying, of the wrong version, or its
				  * length is not the outer payload's */
	DC_DROP_INNER_FRAGMENT, /* the inner packet is a fragment: no port to match a VIP on */
	DC__MAX
};

/* A VIP this backend serves. Addresses in network order; IPv4 in addr[0..3], the rest 0.
 * port 0 and proto 0: every packet to the address (a VIP given without :PORT/PROTO). */
struct decap_vip_key {
	__u8 addr[16];
	__be16 port;
	__u8 proto;    /* IPPROTO_TCP / IPPROTO_UDP, 0 with port 0 */
	__u8 family;   /* 4 or 6 */
};

/* Index of the VIP into vip_stats, 0..DECAP_MAX_VIPS-1. */
struct decap_vip {
	__u32 id;
};

struct decap_counters {
	__u64 c[DC__MAX];
};

/* Per VIP: inner packets delivered, and their bytes (the inner IP packet's length). */
struct decap_stats {
	__u64 packets;
	__u64 bytes;
};

#endif
