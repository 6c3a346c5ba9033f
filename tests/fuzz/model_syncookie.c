// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reference for the XDP SYN-cookie responder (docs/filter.md "SYN floods"), written
 * from RFC 9293 (TCP, its options), RFC 7323 (window scale, timestamps), RFC 2018 (SACK),
 * RFC 3168 (ECN setup), RFC 1122/4291 (addresses a host never answers) and the kernel
 * SYNPROXY's timestamp-cookie layout, never from syncookie.bpf.h. No conntrack entry ever
 * exists for the fuzzer's addresses, so every packet to a protected port is judged as new.
 * What no model can know, the cookie (the kernel's secret) and the clock in the TSval, is
 * settled after the run by fuzz_syncookie.c: the cookie must validate, the clock be now. */
#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "syncookie.h"

#define SC_MSS4 1460
#define SC_MSS6 1440
#define SC_WSCALE 7
#define SC_TTL 64

static bool sc_port_protected(uint16_t port)
{
	return port == 80 || port == 443 || (port >= 8000 && port <= 8010);
}

/* What the SYN asked for, per the options' own rules (RFC 9293 3.2): kind 0 ends the
 * list, kind 1 is one byte, every other has a length byte >= 2 inside the header; an
 * option with an unexpected length is skipped; a malformed list ends the walk. */
struct sc_opts {
	bool ts, sack;
	int wscale;          /* -1: none; else min(value, 14) (RFC 7323 2.3) */
	uint8_t tsval[4];
};

static void sc_parse_opts(const uint8_t *th, uint32_t thlen, struct sc_opts *o)
{
	uint32_t i = 20;

	memset(o, 0, sizeof(*o));
	o->wscale = -1;
	while (i < thlen) {
		uint8_t kind = th[i], len;
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thlen)
			break;
		len = th[i + 1];
		if (len < 2 || i + len > thlen)
			break;
		if (kind == 3 && len == 3)
			o->wscale = th[i + 2] > 14 ? 14 : th[i + 2];
		else if (kind == 4 && len == 2)
			o->sack = true;
		else if (kind == 8 && len == 10) {
			o->ts = true;
			memcpy(o->tsval, th + i + 2, 4);
		}
		i += len;
	}
}

static bool sc_bad_v4(const uint8_t *a)
{
	/* this network, loopback, multicast, reserved and broadcast (RFC 1122 3.2.1.3) */
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static bool sc_bad_src6(const uint8_t *a)
{
	static const uint8_t zero[15];
	/* multicast (RFC 4291 2.7); the unspecified and loopback addresses (2.5.2, 2.5.3) */
	return a[0] == 0xff || (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1));
}

/* Ones' complement check of an IPv4 header or of a TCP segment with its pseudo header:
 * the sum over everything, the checksum field included, is -0. */
static bool sc_csum_ok4(const uint8_t *ip, int ihl)
{
	return fuzz_fold(fuzz_sum(ip, ihl, 0)) == 0xffff;
}

static uint32_t sc_pseudo(int family, const uint8_t *l3, uint32_t l4len)
{
	uint8_t ph[40];
	uint32_t n;

	if (family == 4) {
		memcpy(ph, l3 + 12, 8);
		n = 8;
	} else {
		memcpy(ph, l3 + 8, 32);
		n = 32;
	}
	ph[n] = 0;
	ph[n + 1] = IPPROTO_TCP;
	fuzz_put16(ph + n + 2, (uint16_t)l4len); /* IPv6's 32-bit length sums the same */
	return fuzz_sum(ph, n + 4, 0);
}

/* Where the expected SYN-ACK keeps what settle_tx fills in. */
struct sc_tx {
	uint32_t l3, l4;     /* offsets in x->out */
	bool ts;
	int family;
};

static void sc_model(const struct fuzz_pkt *in, struct fuzz_expect *x, struct sc_tx *tx)
{
	const uint8_t *b = in->data;
	struct ref_pkt r;
	struct sc_opts o;

	memset(tx, 0, sizeof(*tx));
	x->verdict = FUZZ_PASS;
	if (ref_parse(b, in->len, &r) != REF_OK)
		return;                      /* the parser's verdict: not this code's */
	if (r.proto != IPPROTO_TCP || r.frag == REF_FRAG_LATER)
		return;
	const uint8_t *th = b + r.l4;
	if (!sc_port_protected(fuzz_get16(th + 2)))
		return;
	if ((b[0] & 1) || r.rh_left)
		return;                      /* not addressed to us: not ours to judge */
	if (r.frag == REF_FRAG_FIRST) {
		x->verdict = FUZZ_DROP;
		x->counters[SYN_FRAGMENT]++;
		return;
	}
	uint8_t fl = th[13];
	bool syn = fl & 0x02, ack = fl & 0x10;
	x->verdict = FUZZ_DROP;
	if (syn == ack || (ack && (fl & 0x04)) || (syn && (fl & 0x05))) {
		x->counters[SYN_BAD_FLAGS]++;
		return;
	}
	if (ack) {
		/* a cookie the fuzzer did not get from us: 2^-32 odds of being right */
		x->counters[SYN_ACK_BAD]++;
		return;
	}
	const uint8_t *l3 = b + r.l3;
	uint32_t thlen = (th[12] >> 4) * 4u;
	if (b[6] & 1) {
		x->counters[SYN_BAD_ADDR]++;
		return;
	}
	if (r.l4_len != thlen) {
		x->counters[SYN_DATA]++;
		return;
	}
	if (r.family == 4 ? (sc_bad_v4(l3 + 12) || sc_bad_v4(l3 + 16))
			  : (sc_bad_src6(l3 + 8) || l3[24] == 0xff)) {
		x->counters[SYN_BAD_ADDR]++;
		return;
	}
	if ((r.family == 4 && !sc_csum_ok4(l3, r.ihl)) ||
	    fuzz_fold(fuzz_sum(th, thlen, sc_pseudo(r.family, l3, thlen))) != 0xffff) {
		x->counters[SYN_BAD_CSUM]++;
		return;
	}

	/* The answer: Ethernet and VLAN tags as they came, MACs swapped; a fresh IP header;
	 * a SYN-ACK whose options the kernel's SYNPROXY would send. */
	sc_parse_opts(th, thlen, &o);
	bool ecn = (fl & 0xc0) == 0xc0;
	uint8_t *w = x->out;
	uint32_t iplen = r.family == 4 ? 20 : 40, optlen = 4, tl;
	memcpy(w, b + 6, 6);
	memcpy(w + 6, b, 6);
	memcpy(w + 12, b + 12, r.l3 - 12);
	uint8_t *ip = w + r.l3, *t = ip + iplen;
	if (o.ts)
		optlen += 12 + (o.wscale >= 0 ? 4 : 0);
	tl = 20 + optlen;
	memset(ip, 0, iplen + tl);
	if (r.family == 4) {
		ip[0] = 0x45;
		fuzz_put16(ip + 2, (uint16_t)(20 + tl));
		fuzz_put16(ip + 6, 0x4000);
		ip[8] = SC_TTL;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, l3 + 16, 4);
		memcpy(ip + 16, l3 + 12, 4);
		fuzz_put16(ip + 10, fuzz_csum(ip, 20, 0));
	} else {
		ip[0] = 0x60;
		fuzz_put16(ip + 4, (uint16_t)tl);
		ip[6] = IPPROTO_TCP;
		ip[7] = SC_TTL;
		memcpy(ip + 8, l3 + 24, 16);
		memcpy(ip + 24, l3 + 8, 16);
	}
	memcpy(t, th + 2, 2);
	memcpy(t + 2, th, 2);
	/* t+4: the cookie (settled) */
	fuzz_put32(t + 8, fuzz_get32(th + 4) + 1);
	t[12] = (uint8_t)((tl / 4) << 4);
	t[13] = 0x12 | (ecn && o.ts ? 0x40 : 0);
	/* window 0 (the SYNPROXY's), checksum after settling, urgent 0 */
	uint8_t *op = t + 20;
	op[0] = 2; op[1] = 4;
	fuzz_put16(op + 2, r.family == 4 ? SC_MSS4 : SC_MSS6);
	if (o.ts) {
		op[4] = o.sack ? 4 : 1;
		op[5] = o.sack ? 2 : 1;
		op[6] = 8;
		op[7] = 10;
		/* op+8: TSval: the clock (settled) with the low 6 bits the cookie cannot keep */
		op[11] = (uint8_t)((o.wscale >= 0 ? o.wscale : 0xf) | (o.sack ? 0x10 : 0) |
				   (ecn ? 0x20 : 0));
		memcpy(op + 12, o.tsval, 4);
		if (o.wscale >= 0) {
			op[16] = 1; op[17] = 3; op[18] = 3; op[19] = SC_WSCALE;
		}
	}
	x->out_len = r.l3 + iplen + tl;
	x->verdict = FUZZ_TX;
	x->counters[SYN_SYNACK]++;
	tx->l3 = r.l3;
	tx->l4 = r.l3 + iplen;
	tx->ts = o.ts;
	tx->family = r.family;
}
