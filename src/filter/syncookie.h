/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The types the XDP SYN-cookie responder (syncookie.bpf.h) shares with user space. */
#ifndef BPFLAB_SYNCOOKIE_H
#define BPFLAB_SYNCOOKIE_H

#include <linux/types.h>

/* The --synproxy port set: a bitmap over all 65536 ports, so a lookup is one load whatever
 * the number of ports (no loop for the verifier to walk). */
#define SYN_PORT_WORDS 1024

/* Defaults of what our SYN-ACK advertises when rodata leaves them 0 (as the kernel's
 * SYNPROXY examples: MSS of a 1500-byte link, window scale 7). */
#define SYN_DEFAULT_MSS4 1460
#define SYN_DEFAULT_MSS6 1440
#define SYN_DEFAULT_WSCALE 7
#define SYN_DEFAULT_TTL 64

/* One counter per outcome; every packet fw_syncookie() does not hand back (-1) lands in
 * exactly one of them. */
enum syn_stat {
	SYN_SYNACK = 0,    /* SYN answered in XDP with a cookie SYN-ACK (XDP_TX) */
	SYN_ACK_OK,        /* ACK whose cookie validated: passed to the kernel's SYNPROXY */
	SYN_ACK_BAD,       /* ACK with a wrong or expired cookie: dropped */
	SYN_ESTABLISHED,   /* packet of a flow conntrack has confirmed: passed */
	SYN_BAD_CSUM,      /* SYN with a wrong IPv4 or TCP checksum: dropped, never answered */
	SYN_BAD_FLAGS,     /* no conntrack entry and not exactly one of SYN/ACK, or SYN with
			    * FIN/RST, or ACK with RST: dropped */
	SYN_BAD_ADDR,      /* SYN from/to a broadcast, multicast, loopback or unspecified
			    * address or from a group MAC: dropped, never reflected */
	SYN_FRAGMENT,      /* IP fragment to a protected port: dropped (TCP does not fragment) */
	SYN_DATA,          /* SYN carrying payload (TCP Fast Open): dropped, the client
			    * retries without data */
	SYN_ERROR,         /* a helper or kfunc failed (resize, conntrack, cookie): dropped */
	SYN_STAT_MAX,
};

static inline void syncookie_port_set(volatile __u64 *words, __u16 port)
{
	words[port >> 6] |= 1ULL << (port & 63);
}

#endif
