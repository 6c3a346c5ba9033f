// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reference model of `lb decap` (decap.bpf.c), from docs/lb.md ("Decap"), lb-encap's
 * wire format (RFC 2003 IPIP, RFC 2473 IPv6 tunnels, GUE variant 1) and RFC 791's header
 * checksum, on model_net.c's decoder: verdict, the frame passed on, and every counter. */
#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "decap.h"

#define DECAP_FZ_NVIPS 3
/* Model counters: the verdict counters, then packets and bytes of each VIP. */
#define DECAP_FZ_NCOUNTERS (DC__MAX + 2 * DECAP_FZ_NVIPS)

struct decap_model_vip {
	int family;
	uint8_t addr[16];
	uint16_t port;  /* host order; 0: any */
	uint8_t proto;
};

struct decap_model {
	uint8_t own_mac[6];
	struct decap_model_vip vips[DECAP_FZ_NVIPS];
};

/* A frame parse_packet (model_net's ref_parse) refused: could its bytes still be a tunnel
 * packet (protocol 4 or 41, or UDP whose destination port reads LB_GUE_PORT)? */
static bool decap_model_broken_ours(const uint8_t *b, uint32_t len, const struct ref_pkt *r)
{
	uint32_t l3 = r->l3, l4;
	uint8_t proto;

	if (r->ethertype == 0x0800 && l3) {
		if (l3 + 20 > len)
			return false;
		proto = b[l3 + 9];
		l4 = (b[l3] & 15) * 4u;
		if (l4 < 20)
			return proto == 4 || proto == 41;
	} else if (r->ethertype == 0x86dd && l3) {
		if (l3 + 40 > len)
			return false;
		proto = b[l3 + 6];
		l4 = 40;
	} else {
		return false;
	}
	if (proto == 4 || proto == 41)
		return true;
	return proto == IPPROTO_UDP && l3 + l4 + 4 <= len &&
	       fuzz_get16(b + l3 + l4 + 2) == LB_GUE_PORT;
}

static int decap_model_vip(const struct decap_model *m, int family, const uint8_t *dst,
			   bool has_port, uint8_t proto, uint16_t port)
{
	int any = -1;

	for (int i = 0; i < DECAP_FZ_NVIPS; i++) {
		const struct decap_model_vip *v = &m->vips[i];
		if (v->family != family || memcmp(v->addr, dst, family == 4 ? 4 : 16))
			continue;
		if (!v->port)
			any = i;
		else if (has_port && v->proto == proto && v->port == port)
			return i;
	}
	return any;
}

static int decap_model_classify(const struct decap_model *m, bool tc, const uint8_t *b, uint32_t len,
				uint32_t *inner_off, uint16_t *inner_type, uint32_t *inner_len, int *vip)
{
	struct ref_pkt r, q;
	static uint8_t fake[FUZZ_PKT_MAX + 14];
	uint32_t payload;
	unsigned v;

	if (len < 14)
		return DC_PASS_NOT_ENCAP;
	if (memcmp(b, m->own_mac, 6))
		return DC_PASS_NOT_FOR_US;
	ref_parse(b, len, &r);
	if (r.res == REF_NOT_IP)
		return DC_PASS_NOT_ENCAP;
	if (r.res != REF_OK)
		return decap_model_broken_ours(b, len, &r) ? DC_DROP_OUTER_MALFORMED : DC_PASS_NOT_ENCAP;
	if (tc && r.nvlan)
		return DC_PASS_NOT_ENCAP; /* documented: tc leaves in-band VLAN tags to XDP */
	if (r.proto == IPPROTO_UDP) {
		if (r.frag == REF_FRAG_LATER || fuzz_get16(b + r.l4 + 2) != LB_GUE_PORT)
			return DC_PASS_NOT_ENCAP;
		*inner_off = r.l4 + 8;
		payload = fuzz_get16(b + r.l4 + 4) - 8u;
	} else if (r.proto == 4 || r.proto == 41) {
		*inner_off = r.l4;
		payload = r.l4_len;
	} else {
		return DC_PASS_NOT_ENCAP;
	}
	if (r.frag != REF_FRAG_NONE)
		return DC_DROP_OUTER_FRAGMENT;
	if (r.family == 4 && fuzz_fold(fuzz_sum(b + r.l3, r.ihl, 0)) != 0xffff)
		return DC_DROP_OUTER_MALFORMED;
	if (r.family == 6 && r.next)
		return DC_DROP_OUTER_MALFORMED; /* documented: no outer extension headers */
	if (*inner_off + 1 > len || payload < 1)
		return DC_DROP_INNER_MALFORMED;
	v = b[*inner_off] >> 4;
	if (r.proto == 4 ? v != 4 : r.proto == 41 ? v != 6 : v != 4 && v != 6)
		return DC_DROP_INNER_MALFORMED;
	*inner_type = v == 4 ? 0x0800 : 0x86dd;
	/* The inner packet as a frame of its own, for the decoder. */
	memset(fake, 0, 12);
	fuzz_put16(fake + 12, *inner_type);
	memcpy(fake + 14, b + *inner_off, len - *inner_off);
	ref_parse(fake, 14 + len - *inner_off, &q);
	if (q.res != REF_OK)
		return DC_DROP_INNER_MALFORMED;
	*inner_len = q.ip_end - 14;
	if (*inner_len != payload)
		return DC_DROP_INNER_MALFORMED;
	if (q.frag != REF_FRAG_NONE)
		return DC_DROP_INNER_FRAGMENT;
	*vip = decap_model_vip(m, q.family, fake + 14 + (q.family == 4 ? 16 : 24),
			       q.proto == IPPROTO_TCP || q.proto == IPPROTO_UDP, q.proto,
			       q.proto == IPPROTO_TCP || q.proto == IPPROTO_UDP ?
			       fuzz_get16(fake + q.l4 + 2) : 0);
	return *vip < 0 ? DC_DROP_NO_VIP : DC_DECAP;
}

static void decap_model(const struct decap_model *m, bool tc, const struct fuzz_pkt *in,
			struct fuzz_expect *x)
{
	uint32_t inner_off = 0, inner_len = 0, l3;
	uint16_t type = 0;
	int vip = -1;
	int what = decap_model_classify(m, tc, in->data, in->len, &inner_off, &type, &inner_len, &vip);

	x->counters[what] = 1;
	if (what != DC_DECAP) {
		x->verdict = what < DC_DROP_NO_VIP ? FUZZ_PASS : FUZZ_DROP;
		return;
	}
	/* As if it had arrived directly: the same MACs and VLAN tags, the inner EtherType, the
	 * inner packet and whatever followed it in the frame. */
	x->verdict = FUZZ_PASS;
	x->pass_rewritten = true;
	l3 = 14;
	while (l3 < 22 && (fuzz_get16(in->data + l3 - 2) == 0x8100 || fuzz_get16(in->data + l3 - 2) == 0x88a8))
		l3 += 4;
	memcpy(x->out, in->data, l3 - 2);
	fuzz_put16(x->out + l3 - 2, type);
	memcpy(x->out + l3, in->data + inner_off, in->len - inner_off);
	x->out_len = l3 + in->len - inner_off;
	x->counters[DC__MAX + 2 * vip] = 1;
	x->counters[DC__MAX + 2 * vip + 1] = inner_len;
}
