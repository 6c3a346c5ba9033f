/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')),
 * written on 16-bit words in network order so they are right on any host byte order.
 * The user-space references (src/lib/pkt.c, tests/fuzz) recompute from scratch; tests compare. */
#ifndef BPFLAB_CSUM_H
#define BPFLAB_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	/* Two folds absorb every carry, including the one the first fold creates. */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The new value of a checksum `csum` whose data has a 16-bit word changing from `from`
 * to `to` (eqn. 3). It equals a full recomputation whenever the new data is not all zero:
 * eqn. 3 can never produce 0xffff, the checksum of all-zero data (RFC 1624 section 3 relies
 * on an IP header never being all zero). Where the data can be zero (an ICMP echo reply
 * with id 0, seq 0, zero payload), the caller must decide between 0x0000 and 0xffff. */
static __always_inline __sum16 csum_update2(__sum16 csum, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~csum;

	sum += (__u16)~from;
	sum += (__u16)to;
	return (__sum16)~csum_fold32(sum);
}

/* Checksum field `*csum` covers a 16-bit word that changes from `from` to `to`. */
static __always_inline void csum_replace2(__sum16 *csum, __be16 from, __be16 to)
{
	*csum = csum_update2(*csum, from, to);
}

/* Same for a 32-bit word (an IPv4 address): two 16-bit halves. */
static __always_inline void csum_replace4(__sum16 *csum, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~*csum;

	sum += (__u16)~(from & 0xffff);
	sum += (__u16)~(from >> 16);
	sum += (__u16)(to & 0xffff);
	sum += (__u16)(to >> 16);
	*csum = (__sum16)~csum_fold32(sum);
}

/* UDP over IPv4: a zero checksum means "none" and must stay zero; a computed zero is
 * sent as 0xffff (RFC 768). */
static __always_inline void csum_replace4_udp(__sum16 *csum, __be32 from, __be32 to)
{
	if (!*csum)
		return;
	csum_replace4(csum, from, to);
	if (!*csum)
		*csum = (__sum16)0xffff;
}

static __always_inline void csum_replace2_udp(__sum16 *csum, __be16 from, __be16 to)
{
	if (!*csum)
		return;
	csum_replace2(csum, from, to);
	if (!*csum)
		*csum = (__sum16)0xffff;
}

#endif
