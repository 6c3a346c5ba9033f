// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The models' own packet decoder, written from the RFCs (791, 8200, 793, 768, 792, 4443)
 * and parse.h's documented contract, never from its code: what a frame is, how long its
 * IP packet says it is, and whether its headers hold. Shared by the models. */
#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"

enum ref_result { REF_OK, REF_NOT_IP, REF_MALFORMED, REF_EXTHDRS };
enum ref_frag { REF_FRAG_NONE, REF_FRAG_FIRST, REF_FRAG_LATER };

/* IPv6 extension headers a receiver walks before giving up (parse.h PARSE_MAX_EXTHDRS). */
#define REF_MAX_EXTHDRS 8

struct ref_pkt {
	enum ref_result res;
	uint16_t ethertype;       /* after VLAN tags */
	int nvlan;
	uint16_t vlan_tci[2];
	uint32_t l3, l4, ip_end;  /* offsets in the frame */
	uint32_t l4_len;          /* ip_end - l4 */
	int family;               /* 4, 6 */
	uint8_t proto;            /* upper-layer protocol */
	int ihl;                  /* IPv4 header bytes */
	enum ref_frag frag;
	bool rh_left;             /* an IPv6 routing header with segments left > 0 */
	int next;                 /* IPv6 extension headers walked */
};

static bool ref_is_ext6(uint8_t nh)
{
	/* hop-by-hop, routing, fragment, destination options, AH */
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static enum ref_result ref_l4(const uint8_t *b, struct ref_pkt *r)
{
	if (r->frag == REF_FRAG_LATER)
		return REF_OK;
	switch (r->proto) {
	case IPPROTO_TCP: {
		if (r->l4_len < 20)
			return REF_MALFORMED;
		unsigned doff = b[r->l4 + 12] >> 4;
		if (doff < 5 || doff * 4 > r->l4_len)
			return REF_MALFORMED;
		return REF_OK;
	}
	case IPPROTO_UDP: {
		if (r->l4_len < 8)
			return REF_MALFORMED;
		unsigned ulen = fuzz_get16(b + r->l4 + 4);
		if (ulen < 8 || (r->frag == REF_FRAG_NONE && ulen > r->l4_len))
			return REF_MALFORMED;
		return REF_OK;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* RFC 792 is IPv4's, RFC 4443 IPv6's: the other family's number is an opaque payload */
		if (r->proto != (r->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			return REF_OK;
		return r->l4_len < 8 ? REF_MALFORMED : REF_OK;
	default:
		return REF_OK;
	}
}

static enum ref_result ref_parse(const uint8_t *b, uint32_t len, struct ref_pkt *r)
{
	uint32_t off = 14;

	memset(r, 0, sizeof(*r));
	r->res = REF_MALFORMED;
	if (len < 14)
		return r->res;
	r->ethertype = fuzz_get16(b + 12);
	while (r->nvlan < 2 && (r->ethertype == 0x8100 || r->ethertype == 0x88a8)) {
		if (off + 4 > len)
			return r->res;
		r->vlan_tci[r->nvlan++] = fuzz_get16(b + off);
		r->ethertype = fuzz_get16(b + off + 2);
		off += 4;
	}
	r->l3 = off;
	if (r->ethertype == 0x0800) {
		if (off + 20 > len || b[off] >> 4 != 4 || (b[off] & 15) < 5)
			return r->res;
		r->family = 4;
		r->ihl = (b[off] & 15) * 4;
		uint32_t tot = fuzz_get16(b + off + 2);
		if (tot < (uint32_t)r->ihl || off + r->ihl > len || off + tot > len)
			return r->res;
		uint16_t fo = fuzz_get16(b + off + 6);
		if (fo & 0x1fff)
			r->frag = REF_FRAG_LATER;
		else if (fo & 0x2000)
			r->frag = REF_FRAG_FIRST;
		r->proto = b[off + 9];
		r->l4 = off + r->ihl;
		r->ip_end = off + tot;
	} else if (r->ethertype == 0x86dd) {
		if (off + 40 > len || b[off] >> 4 != 6)
			return r->res;
		r->family = 6;
		r->ip_end = off + 40 + fuzz_get16(b + off + 4);
		if (r->ip_end > len)
			return r->res;
		uint8_t nh = b[off + 6];
		uint32_t cur = off + 40;
		int nfrag = 0;
		while (ref_is_ext6(nh)) {
			if (r->next == REF_MAX_EXTHDRS)
				return r->res = REF_EXTHDRS;
			/* RFC 8200 4.1: hop-by-hop only right after the IPv6 header */
			if (nh == 0 && r->next > 0)
				return r->res;
			if (cur + 8 > r->ip_end)
				return r->res;
			uint32_t hl;
			if (nh == 44) {
				nfrag++;
				hl = 8;
				/* any fragment header makes it a fragment; two: no L4 to trust */
				if ((fuzz_get16(b + cur + 2) & 0xfff8) || nfrag > 1)
					r->frag = REF_FRAG_LATER;
				else
					r->frag = REF_FRAG_FIRST;
			} else if (nh == 51) {
				hl = (b[cur + 1] + 2u) * 4;   /* RFC 4302: in 4-byte units, minus 2 */
			} else {
				hl = (b[cur + 1] + 1u) * 8;
				if (nh == 43 && b[cur + 3])
					r->rh_left = true;
			}
			r->next++;
			nh = b[cur];
			cur += hl;
			if (cur > r->ip_end)
				return r->res;
		}
		r->proto = nh;
		r->l4 = cur;
	} else {
		return r->res = REF_NOT_IP;
	}
	r->l4_len = r->ip_end - r->l4;
	return r->res = ref_l4(b, r);
}
