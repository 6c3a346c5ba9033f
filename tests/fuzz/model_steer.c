// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reference model of the dsr probe steering (src/lb/steer.bpf.c), written from what
 * lb_steer.h documents, not from the program: on egress a packet marked
 * LB_STEER_MAGIC | id whose backend id is in steer_be, TCP/UDP to that backend's
 * address:port, goes out to VIP:port and its flow (VIP:port -> LB:sport) is remembered; on
 * ingress a packet of a remembered flow comes back from the backend's address:port.
 * Everything else passes unchanged; so do ours whose lengths lie (counted as malformed).
 * A backend of an encap VIP gets the steered probe inside the tunnel docs/lb.md
 * ("Encapsulation") gives lb's own encap packets, as lb_steer.h says the probe goes: an
 * outer IPv4 header (tos of the inner, id 0, DF, TTL 64, protocol 4 or 17, its checksum
 * right) from the tunnel source to the backend, for GUE a UDP header from 49152 + the
 * probe's source port's low 14 bits to 6080, length 8 + inner, checksum 0; the Ethernet
 * header kept, and any bytes after the inner packet after it (counted: steered + encap).
 * IPv6 the same way (lb_steer.h): ours is an untagged IPv6 frame whose next header is TCP
 * or UDP (an extension header makes it not ours), lengths from payload_len; the rewrite
 * has no header checksum to fix, only the L4 one over the IPv6 pseudo-header (RFC 8200
 * 8.1); a v6 backend's tunnel is an outer IPv6 header (traffic class of the inner, flow
 * label = the probe's source port, hop limit 64, next header 41 or 17, from the IPv6
 * tunnel source). A VIP and its backend are of one family; a packet of the other family
 * is not a probe of that backend.
 * The frame is judged by model_net.c's decoder; every checksum is recomputed in full
 * (a wrong one keeps its error, RFC 1624 section 3; UDP 0 stays 0, a computed 0 is 0xffff).
 *
 * State: the model keeps its own flow table (never read back to decide); fuzz_steer.c
 * checks after each steered probe that the program's steer_flows holds that flow as the
 * model has it (pseudo-counter "state_mismatch"). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "lb_steer.h"

#define STEERM_IDS 16           /* backend ids the fuzzer configures: 1..STEERM_IDS-1 */
#define STEERM_CAP 4096         /* flow table slots, a power of two */
#define STEERM_RESET_AT 1024    /* flows before both tables are cleared: far from LRU eviction */

enum { STEERM_C_STATE = LB_STEER__MAX, STEERM_NCOUNTERS };

/* A backend's steering, byte strings as they lie in the packet. */
struct steerm_be {
	bool used;
	uint8_t fam;             /* 4 or 6: of the VIP and the backend */
	uint8_t vip[16], be[16]; /* IPv4: the first 4 bytes */
	uint8_t vip_port[2], be_port[2];
	uint8_t proto;
	uint8_t encap;           /* 0 none, 1 IPIP, 2 GUE (the config's words) */
};

struct steerm_flow {
	bool used;
	uint8_t fam, vip[16], lb[16], vip_port[2], lb_port[2], proto;
	struct steerm_be be;     /* the backend the probe went to, as steer_be had it */
};

struct steerm {
	struct steerm_be be[STEERM_IDS];
	struct steerm_flow flows[STEERM_CAP];
	int nflows;
	bool ingress;            /* direction of the packet being generated / modelled */
	uint8_t tunnel_src[4];   /* encap: the outer sources lb was started with */
	uint8_t tunnel_src6[16];
	/* the flow the last steered probe must have left in steer_flows (fuzz_steer.c) */
	bool check;
	struct steerm_flow last;
};

static uint32_t steerm_hash(uint8_t fam, const uint8_t *vip, const uint8_t *lb,
			    const uint8_t *vp, const uint8_t *lp, uint8_t proto)
{
	uint32_t h = 2166136261u ^ fam;
	const uint8_t *parts[4] = { vip, lb, vp, lp };
	const int lens[4] = { 16, 16, 2, 2 };

	for (int i = 0; i < 4; i++)
		for (int k = 0; k < lens[i]; k++)
			h = (h ^ parts[i][k]) * 16777619u;
	return (h ^ proto) * 16777619u;
}

static bool steerm_same(const struct steerm_flow *f, uint8_t fam, const uint8_t *vip,
			const uint8_t *lb, const uint8_t *vp, const uint8_t *lp, uint8_t proto)
{
	return f->used && f->fam == fam && !memcmp(f->vip, vip, 16) && !memcmp(f->lb, lb, 16) &&
	       !memcmp(f->vip_port, vp, 2) && !memcmp(f->lb_port, lp, 2) && f->proto == proto;
}

/* The slot of the flow, or the empty slot where it would go (addresses 16 bytes,
 * IPv4 zero-padded). */
static struct steerm_flow *steerm_slot(struct steerm *m, uint8_t fam, const uint8_t *vip,
				       const uint8_t *lb, const uint8_t *vp, const uint8_t *lp,
				       uint8_t proto)
{
	uint32_t i = steerm_hash(fam, vip, lb, vp, lp, proto) & (STEERM_CAP - 1);

	while (m->flows[i].used && !steerm_same(&m->flows[i], fam, vip, lb, vp, lp, proto))
		i = (i + 1) & (STEERM_CAP - 1);
	return &m->flows[i];
}

static void steerm_reset(struct steerm *m)
{
	memset(m->flows, 0, sizeof(m->flows));
	m->nflows = 0;
}

/* ---- checksums ---- */

/* The new field: the full recomputation when the old one was right, else its error kept.
 * x_in, x_out: the sums without the field. */
static uint16_t steerm_fix(uint16_t hc, uint32_t x_in, uint32_t x_out)
{
	if (fuzz_fold(x_in + hc) == 0xffff)
		return (uint16_t)~fuzz_fold(x_out);
	return (uint16_t)~fuzz_fold((uint16_t)~hc + (uint16_t)~fuzz_fold(x_in) + fuzz_fold(x_out));
}

static uint32_t steerm_sum_without(const uint8_t *p, uint32_t len, uint32_t co, uint32_t sum)
{
	sum = fuzz_sum(p, co, sum);
	return fuzz_sum(p + co + 2, len - co - 2, sum);
}

/* Pseudo-header (RFC 793 / 768; RFC 8200 8.1 for IPv6) + the segment's len bytes,
 * without the checksum field. */
static uint32_t steerm_l4_sum(uint8_t fam, const uint8_t *ip, const uint8_t *l4, uint32_t len,
			      uint8_t proto)
{
	uint8_t ph[40];
	uint32_t n;

	memset(ph, 0, sizeof(ph));
	if (fam == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		fuzz_put16(ph + 10, (uint16_t)len);
		n = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		fuzz_put16(ph + 34, (uint16_t)len);
		ph[39] = proto;
		n = 40;
	}
	return steerm_sum_without(l4, len, proto == IPPROTO_TCP ? 16 : 6, fuzz_sum(ph, n, 0));
}

/* Writes the address at IP offset aoff and the port at L4 offset poff of a whole packet
 * (IPv4 at ip with a 20-byte header, or IPv6 with no extension header), the checksums
 * recomputed: IPv4's header checksum, and the L4 one. */
static void steerm_rewrite(uint8_t fam, uint8_t *ip, int aoff, const uint8_t *addr, int poff,
			   const uint8_t *port)
{
	uint32_t l3 = fam == 4 ? 20 : 40, alen = fam == 4 ? 4 : 16;
	uint8_t proto = fam == 4 ? ip[9] : ip[6], *l4 = ip + l3;
	uint32_t clen = proto == IPPROTO_TCP
			? (fam == 4 ? fuzz_get16(ip + 2) - 20u : fuzz_get16(ip + 4))
			: fuzz_get16(l4 + 4);
	int co = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t hc_ip = fuzz_get16(ip + 10), hc_l4 = fuzz_get16(l4 + co);
	uint32_t ip_in = steerm_sum_without(ip, 20, 10, 0);
	uint32_t l4_in = steerm_l4_sum(fam, ip, l4, clen, proto);

	memcpy(ip + aoff, addr, alen);
	memcpy(l4 + poff, port, 2);
	if (fam == 4)
		fuzz_put16(ip + 10, steerm_fix(hc_ip, ip_in, steerm_sum_without(ip, 20, 10, 0)));
	if (proto == IPPROTO_UDP && !hc_l4)
		return; /* no checksum (or, in IPv6, an invalid 0): left as it was */
	uint16_t v = steerm_fix(hc_l4, l4_in, steerm_l4_sum(fam, ip, l4, clen, proto));
	if (proto == IPPROTO_UDP && !v)
		v = 0xffff;
	fuzz_put16(l4 + co, v);
}

/* out = the frame of len bytes (already rewritten) wrapped as the header comment says;
 * returns the new length. */
static uint32_t steerm_wrap(const struct steerm *m, const struct steerm_be *be, uint8_t *out,
			    const uint8_t *frame, uint32_t len)
{
	bool gue = be->encap == 2, v4 = be->fam == 4;
	uint32_t ol3 = v4 ? 20 : 40, olen = ol3 + (gue ? 8 : 0);
	uint32_t ilen = v4 ? fuzz_get16(frame + 16) : 40u + fuzz_get16(frame + 18);
	uint16_t psport = fuzz_get16(frame + 14 + ol3);
	uint8_t *o = out + 14, *u = o + ol3;

	memcpy(out, frame, 14);
	memmove(out + 14 + olen, frame + 14, len - 14);
	memset(o, 0, olen);
	if (v4) {
		o[0] = 0x45;
		o[1] = frame[15];
		fuzz_put16(o + 2, (uint16_t)(olen + ilen));
		fuzz_put16(o + 6, 0x4000);
		o[8] = 64;
		o[9] = gue ? IPPROTO_UDP : 4;
		memcpy(o + 12, m->tunnel_src, 4);
		memcpy(o + 16, be->be, 4);
		fuzz_put16(o + 10, (uint16_t)~fuzz_fold(fuzz_sum(o, 20, 0)));
	} else {
		uint8_t tc = (uint8_t)((frame[14] & 15) << 4 | frame[15] >> 4);

		o[0] = 0x60 | tc >> 4;
		o[1] = (uint8_t)((tc & 15) << 4);
		fuzz_put16(o + 2, psport);
		fuzz_put16(o + 4, (uint16_t)(olen - 40 + ilen));
		o[6] = gue ? IPPROTO_UDP : 41;
		o[7] = 64;
		memcpy(o + 8, m->tunnel_src6, 16);
		memcpy(o + 24, be->be, 16);
	}
	if (gue) {
		fuzz_put16(u, (uint16_t)(49152 | (psport & 0x3fff)));
		fuzz_put16(u + 2, 6080);
		fuzz_put16(u + 4, (uint16_t)(8 + ilen));
	}
	return len + olen;
}

/* ---- the model ---- */

enum steerm_kind { STEERM_NOT, STEERM_BAD, STEERM_OK };

/* What lb_steer.h calls ours to consider: untagged IPv4 (EtherType 0x0800), a 20-byte
 * header, not a fragment, TCP or UDP; or untagged IPv6 (0x86dd) whose next header is TCP
 * or UDP. Then whole (model_net.c's decoder finds every length right) or malformed;
 * *ports false when the frame ends before the ports. *fam: 4 or 6. */
static enum steerm_kind steerm_classify(const uint8_t *b, uint32_t len, bool *ports,
					uint8_t *fam)
{
	struct ref_pkt r;
	uint8_t proto;
	uint32_t l4;

	*ports = false;
	if (len < 14)
		return STEERM_NOT;
	if (fuzz_get16(b + 12) == 0x0800) {
		*fam = 4;
		if (len < 34)
			return STEERM_BAD;
		proto = b[23];
		if ((b[14] & 15) != 5 || (fuzz_get16(b + 20) & 0x3fff) ||
		    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
			return STEERM_NOT;
		l4 = 34;
	} else if (fuzz_get16(b + 12) == 0x86dd) {
		*fam = 6;
		if (len < 54)
			return STEERM_BAD;
		proto = b[20];
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			return STEERM_NOT;
		l4 = 54;
	} else {
		return STEERM_NOT;
	}
	if (len < l4 + (proto == IPPROTO_TCP ? 20 : 8))
		return STEERM_BAD;
	*ports = true;
	return ref_parse(b, len, &r) == REF_OK && r.family == *fam ? STEERM_OK : STEERM_BAD;
}

static void steerm_model(struct steerm *m, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	const uint8_t *b = in->data, *ip = b + 14;
	uint8_t fam = 0, src[16] = { 0 }, dst[16] = { 0 }, proto;
	const uint8_t *l4;
	bool ports;
	enum steerm_kind k;

	x->verdict = FUZZ_PASS;
	m->check = false;
	if (!m->ingress) {
		uint32_t id = in->mark & 0xffff;
		const struct steerm_be *be;

		if ((in->mark & 0xffff0000u) != LB_STEER_MAGIC || id >= STEERM_IDS || !m->be[id].used)
			return;
		be = &m->be[id];
		k = steerm_classify(b, in->len, &ports, &fam);
		if (k == STEERM_NOT)
			return;
		if (!ports) {
			x->counters[LB_STEER_MALFORMED]++;
			return;
		}
		l4 = ip + (fam == 4 ? 20 : 40);
		proto = fam == 4 ? ip[9] : ip[6];
		memcpy(src, ip + (fam == 4 ? 12 : 8), fam == 4 ? 4 : 16);
		memcpy(dst, ip + (fam == 4 ? 16 : 24), fam == 4 ? 4 : 16);
		if (fam != be->fam || proto != be->proto || memcmp(dst, be->be, 16) ||
		    memcmp(l4 + 2, be->be_port, 2))
			return;
		if (k == STEERM_BAD) {
			x->counters[LB_STEER_MALFORMED]++;
			return;
		}
		struct steerm_flow *f = steerm_slot(m, fam, be->vip, src, be->vip_port, l4, proto);
		if (!f->used)
			m->nflows++;
		f->used = true;
		f->fam = fam;
		memcpy(f->vip, be->vip, 16);
		memcpy(f->lb, src, 16);
		memcpy(f->vip_port, be->vip_port, 2);
		memcpy(f->lb_port, l4, 2);
		f->proto = proto;
		f->be = *be;
		m->last = *f;
		m->check = true;
		memcpy(x->out, b, in->len);
		x->out_len = in->len;
		x->pass_rewritten = true;
		steerm_rewrite(fam, x->out + 14, fam == 4 ? 16 : 24, be->vip, 2, be->vip_port);
		x->counters[LB_STEER_STEERED]++;
		if (be->encap) {
			uint8_t tmp[FUZZ_PKT_MAX];

			memcpy(tmp, x->out, in->len);
			x->out_len = steerm_wrap(m, be, x->out, tmp, in->len);
			x->counters[LB_STEER_ENCAP]++;
		}
		return;
	}
	k = steerm_classify(b, in->len, &ports, &fam);
	if (k == STEERM_NOT || !ports)
		return;
	l4 = ip + (fam == 4 ? 20 : 40);
	proto = fam == 4 ? ip[9] : ip[6];
	memcpy(src, ip + (fam == 4 ? 12 : 8), fam == 4 ? 4 : 16);
	memcpy(dst, ip + (fam == 4 ? 16 : 24), fam == 4 ? 4 : 16);
	/* an answer comes from VIP:port to LB:sport */
	struct steerm_flow *f = steerm_slot(m, fam, src, dst, l4, l4 + 2, proto);
	if (!f->used)
		return;
	if (k == STEERM_BAD) {
		x->counters[LB_STEER_MALFORMED]++;
		return;
	}
	memcpy(x->out, b, in->len);
	x->out_len = in->len;
	x->pass_rewritten = true;
	steerm_rewrite(fam, x->out + 14, fam == 4 ? 12 : 8, f->be.be, 0, f->be.be_port);
	x->counters[LB_STEER_RESTORED]++;
}
