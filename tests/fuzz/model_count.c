// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reference model of count.bpf.c: one verdict for everything, one protocol class per
 * packet (two for IP: the family and the upper layer), bytes = the whole frame. Uses
 * count.h only for the counter layout. */
#include <netinet/in.h>

#include "fuzz.h"
#include "count.h"

/* Counter vector: packets[CP__MAX], bytes[CP__MAX], actions[COUNT_ACTIONS], the global. */
#define CM_PACKETS(p) (p)
#define CM_BYTES(p) (CP__MAX + (p))
#define CM_ACTION(a) (2 * CP__MAX + (a))
#define CM_GLOBAL (2 * CP__MAX + COUNT_ACTIONS)
#define CM_N (CM_GLOBAL + 1)

static void count_add(uint64_t *c, int proto, uint32_t len)
{
	c[CM_PACKETS(proto)]++;
	c[CM_BYTES(proto)] += len;
}

static void count_model(bool drop, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct ref_pkt r;
	uint64_t *c = x->counters;

	x->verdict = drop ? FUZZ_DROP : FUZZ_PASS;
	c[CM_GLOBAL] = 1;
	c[CM_ACTION(drop ? 1 : 2)] = 1;  /* XDP_DROP 1, XDP_PASS 2 */
	switch (ref_parse(in->data, in->len, &r)) {
	case REF_MALFORMED:
		count_add(c, CP_MALFORMED, in->len);
		return;
	case REF_NOT_IP:
		count_add(c, r.ethertype == 0x0806 ? CP_ARP : CP_OTHER, in->len);
		return;
	case REF_EXTHDRS:
		/* IPv6, upper layer never reached */
		count_add(c, CP_IPV6, in->len);
		count_add(c, CP_OTHER, in->len);
		return;
	case REF_OK:
		break;
	}
	count_add(c, r.family == 4 ? CP_IPV4 : CP_IPV6, in->len);
	switch (r.proto) {
	case IPPROTO_ICMP: count_add(c, CP_ICMP, in->len); break;
	case IPPROTO_ICMPV6: count_add(c, CP_ICMPV6, in->len); break;
	case IPPROTO_TCP: count_add(c, CP_TCP, in->len); break;
	case IPPROTO_UDP: count_add(c, CP_UDP, in->len); break;
	default: count_add(c, CP_OTHER, in->len);
	}
}
