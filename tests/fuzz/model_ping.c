// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reference model of ping.bpf.c, from RFC 792 / 4443 (echo), RFC 1122 3.2.1.3,
 * 3.2.2.6 and RFC 1812 5.3.7 (what a host must not answer), RFC 1071 (checksums, always
 * recomputed from scratch here) and docs/ping.md. Uses ping.h only for the counter enum. */
#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "ping.h"

struct ping_model_cfg {
	enum ping_action action;
	bool events;
};

/* IPv4 options, RFC 791 3.1: -1 malformed, 0 only NOP/EOL (or none), 1 something the
 * reply would have to process (a host reverses a source route, updates record route and
 * timestamp: RFC 1122 3.2.2.6), which ping leaves to the kernel. */
static int pm_opts4(const uint8_t *o, int len)
{
	int some = 0;

	for (int i = 0; i < len;) {
		uint8_t type = o[i];
		if (type == 0)          /* end of option list: the rest is padding */
			break;
		if (type == 1) {        /* no-operation */
			i++;
			continue;
		}
		if (i + 2 > len)
			return -1;
		int olen = o[i + 1];
		if (olen < 2 || i + olen > len)
			return -1;
		/* loose/strict source route, record route: length >= 3, pointer >= 4;
		 * timestamp (RFC 791 p.22): length >= 4, pointer >= 5 */
		if (type == 0x83 || type == 0x89 || type == 7) {
			if (olen < 3 || o[i + 2] < 4)
				return -1;
		} else if (type == 68) {
			if (olen < 4 || o[i + 2] < 5)
				return -1;
		}
		some = 1;
		i += olen;
	}
	return some;
}

static bool pm_local4(const struct fuzz_env *e, const uint8_t *a)
{
	for (int i = 0; i < e->nlocal4; i++)
		if (!memcmp(e->local4[i], a, 4))
			return true;
	return false;
}

static bool pm_local6(const struct fuzz_env *e, const uint8_t *a)
{
	for (int i = 0; i < e->nlocal6; i++)
		if (!memcmp(e->local6[i], a, 16))
			return true;
	return false;
}

/* 255.255.255.255 or the directed broadcast of one of our subnets (prefix <= 30; a /31
 * has none, RFC 3021). */
static bool pm_bcast4(const struct fuzz_env *e, const uint8_t *a)
{
	uint32_t v = fuzz_get32(a);

	if (v == 0xffffffff)
		return true;
	for (int i = 0; i < e->nlocal4; i++) {
		int pl = e->plen4[i];
		uint32_t host = pl >= 32 ? 0 : 0xffffffffu >> pl;
		if (pl <= 30 && v == (fuzz_get32(e->local4[i]) | host))
			return true;
	}
	return false;
}

static bool pm_refuse4(const struct fuzz_env *e, const uint8_t *f, const struct ref_pkt *r,
		       bool opts)
{
	const uint8_t *ip = f + r->l3, *s = ip + 12, *d = ip + 16;

	if ((f[0] & 1) || (f[6] & 1))                     /* L2 broadcast / multicast */
		return true;
	if (fuzz_fold(fuzz_sum(ip, r->ihl, 0)) != 0xffff)  /* RFC 1122 3.2.1.2 */
		return true;
	if ((d[0] & 0xf0) == 0xe0 || pm_bcast4(e, d))     /* to a group or a broadcast */
		return true;
	if (s[0] == 0 || s[0] >= 224 || pm_bcast4(e, s))  /* RFC 1122 3.2.1.3 sources */
		return true;
	if (!e->on_lo && (s[0] == 127 || d[0] == 127))
		return true;
	if (opts)
		return true;
	if (!(e->on_lo && d[0] == 127) && !pm_local4(e, d))
		return true;
	if (!e->on_lo && pm_local4(e, s))
		return true;
	return false;
}

static bool pm_v6_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };
	return !memcmp(a, lo, 16);
}

static bool pm_refuse6(const struct fuzz_env *e, const uint8_t *f, const struct ref_pkt *r)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *ip = f + r->l3, *s = ip + 8, *d = ip + 24;

	if ((f[0] & 1) || (f[6] & 1))
		return true;
	if (d[0] == 0xff)
		return true;
	/* RFC 4443 2.2 / 4291: unspecified, multicast, IPv4-mapped sources */
	if (!memcmp(s, zero, 16) || s[0] == 0xff || !memcmp(s, mapped, 12))
		return true;
	if (!e->on_lo && (pm_v6_loopback(s) || pm_v6_loopback(d)))
		return true;
	if (r->rh_left)                                   /* RFC 8200 4.4: not there yet */
		return true;
	if (!(e->on_lo && pm_v6_loopback(d)) && !pm_local6(e, d))
		return true;
	if (!e->on_lo && pm_local6(e, s))
		return true;
	return false;
}

/* RFC 1624 eqn. 3, the one definition of "carry a wrong checksum over": a request whose
 * checksum is wrong gets a reply exactly as wrong. */
static uint16_t pm_eqn3(uint16_t hc, uint16_t m, uint16_t m2)
{
	return (uint16_t)~fuzz_fold((uint32_t)(uint16_t)~hc + (uint16_t)~m + m2);
}

/* Fills x with the reply, or returns false when ping must leave this one to the kernel
 * (the one case where the exact checksum needs the whole payload: see docs/ping.md). */
static bool pm_reply(const struct fuzz_env *e, const struct fuzz_pkt *in, const struct ref_pkt *r,
		     struct fuzz_expect *x)
{
	uint8_t *o = x->out, tmp[16];
	uint8_t *ip = o + r->l3, *ic = o + r->l4;
	uint32_t ph = 0;
	uint16_t old = fuzz_get16(in->data + r->l4 + 2), e3, full;
	bool valid;

	memcpy(o, in->data, in->len);
	x->out_len = in->len;
	memcpy(o, in->data + 6, 6);
	memcpy(o + 6, in->data, 6);
	if (r->family == 4) {
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip[8] = 64;
		fuzz_put16(ip + 10, 0);
		fuzz_put16(ip + 10, fuzz_csum(ip, r->ihl, 0));
	} else {
		uint8_t tail[8] = { 0 };
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;
		ph = fuzz_sum(ip + 8, 32, 0);
		fuzz_put32(tail, r->l4_len);
		tail[7] = IPPROTO_ICMPV6;
		ph = fuzz_sum(tail, 8, ph);
	}
	/* The request's checksum verifies when its sum including the field is -0. */
	valid = fuzz_fold(fuzz_sum(in->data + r->l4, r->l4_len, ph)) == 0xffff;
	ic[0] = r->family == 4 ? 0 : 129;
	e3 = pm_eqn3(old, r->family == 4 ? 0x0800 : 0x8000, r->family == 4 ? 0x0000 : 0x8100);
	fuzz_put16(ic + 2, 0);
	full = fuzz_csum(ic, r->l4_len, ph);
	if (r->family == 4 && e3 == 0 && !fuzz_get32(ic + 4) && r->l4_len > 8)
		return false;
	fuzz_put16(ic + 2, valid ? full : e3);
	return true;
}

static void ping_model(const struct fuzz_env *e, const struct ping_model_cfg *cfg,
		       const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	const uint8_t *f = in->data;
	struct ref_pkt r;
	uint64_t *c = x->counters;
	bool opts = false;

	x->verdict = FUZZ_PASS;
	c[PS_PACKETS] = 1;
	switch (ref_parse(f, in->len, &r)) {
	case REF_NOT_IP:
		return;
	case REF_EXTHDRS:
		c[PS_EXTHDRS] = 1;
		return;
	case REF_MALFORMED:
		c[PS_MALFORMED] = 1;
		return;
	case REF_OK:
		break;
	}
	if (r.frag != REF_FRAG_NONE) {
		c[PS_FRAGMENTS] = 1;
		return;
	}
	if (r.family == 4 ? r.proto != IPPROTO_ICMP || f[r.l4] != 8 :
			    r.proto != IPPROTO_ICMPV6 || f[r.l4] != 128)
		return;
	if (f[r.l4 + 1] != 0) {                  /* RFC 792: echo has code 0 */
		c[PS_MALFORMED] = 1;
		return;
	}
	if (r.family == 4 && r.ihl > 20) {
		int k = pm_opts4(f + r.l3 + 20, r.ihl - 20);
		if (k < 0) {
			c[PS_MALFORMED] = 1;
			return;
		}
		opts = k > 0;
	}
	c[r.family == 4 ? PS_ECHO4 : PS_ECHO6] = 1;
	x->events = cfg->events;
	if (cfg->action == PING_DROP) {
		c[PS_DROPPED] = 1;
		x->verdict = FUZZ_DROP;
		return;
	}
	if (cfg->action == PING_REPLY) {
		bool refused = r.family == 4 ? pm_refuse4(e, f, &r, opts) : pm_refuse6(e, f, &r);
		if (!refused && pm_reply(e, in, &r, x)) {
			c[PS_REPLIED] = 1;
			x->verdict = FUZZ_TX;
			return;
		}
		c[PS_REFUSED] = 1;
	}
	c[PS_PASSED] = 1;
}
