// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reference model of the dsr probe steering (src/lb/steer.bpf.c), written from what
 * lb_steer.h documents, not from the program: on egress a packet marked
 * LB_STEER_MAGIC | id whose backend id is in steer_be, TCP/UDP to that backend's
 * address:port, goes out to VIP:port and its flow (VIP:port -> LB:sport) is remembered; on
 * ingress a packet of a remembered flow comes back from the backend's address:port.
 * Everything else passes unchanged; so do ours whose lengths lie (counted as malformed).
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

#define STEERM_IDS 8            /* backend ids the fuzzer configures: 1..STEERM_IDS-1 */
#define STEERM_CAP 4096         /* flow table slots, a power of two */
#define STEERM_RESET_AT 1024    /* flows before both tables are cleared: far from LRU eviction */

enum { STEERM_C_STATE = LB_STEER__MAX, STEERM_NCOUNTERS };

/* A backend's steering, byte strings as they lie in the packet. */
struct steerm_be {
	bool used;
	uint8_t vip[4], be[4];
	uint8_t vip_port[2], be_port[2];
	uint8_t proto;
};

struct steerm_flow {
	bool used;
	uint8_t vip[4], lb[4], vip_port[2], lb_port[2], proto;
	struct steerm_be be;     /* the backend the probe went to, as steer_be had it */
};

struct steerm {
	struct steerm_be be[STEERM_IDS];
	struct steerm_flow flows[STEERM_CAP];
	int nflows;
	bool ingress;            /* direction of the packet being generated / modelled */
	/* the flow the last steered probe must have left in steer_flows (fuzz_steer.c) */
	bool check;
	struct steerm_flow last;
};

static uint32_t steerm_hash(const uint8_t *vip, const uint8_t *lb, const uint8_t *vp,
			    const uint8_t *lp, uint8_t proto)
{
	uint32_t h = 2166136261u;
	const uint8_t *parts[4] = { vip, lb, vp, lp };
	const int lens[4] = { 4, 4, 2, 2 };

	for (int i = 0; i < 4; i++)
		for (int k = 0; k < lens[i]; k++)
			h = (h ^ parts[i][k]) * 16777619u;
	return (h ^ proto) * 16777619u;
}

static bool steerm_same(const struct steerm_flow *f, const uint8_t *vip, const uint8_t *lb,
			const uint8_t *vp, const uint8_t *lp, uint8_t proto)
{
	return f->used && !memcmp(f->vip, vip, 4) && !memcmp(f->lb, lb, 4) &&
	       !memcmp(f->vip_port, vp, 2) && !memcmp(f->lb_port, lp, 2) && f->proto == proto;
}

/* The slot of the flow, or the empty slot where it would go. */
static struct steerm_flow *steerm_slot(struct steerm *m, const uint8_t *vip, const uint8_t *lb,
				       const uint8_t *vp, const uint8_t *lp, uint8_t proto)
{
	uint32_t i = steerm_hash(vip, lb, vp, lp, proto) & (STEERM_CAP - 1);

	while (m->flows[i].used && !steerm_same(&m->flows[i], vip, lb, vp, lp, proto))
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

/* Pseudo-header (RFC 793 / 768) + the segment's len bytes, without the checksum field. */
static uint32_t steerm_l4_sum(const uint8_t *ip, const uint8_t *l4, uint32_t len, uint8_t proto)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	fuzz_put16(ph + 10, (uint16_t)len);
	return steerm_sum_without(l4, len, proto == IPPROTO_TCP ? 16 : 6, fuzz_sum(ph, 12, 0));
}

/* Writes the address at IP offset aoff and the port at L4 offset poff of a whole packet
 * (IPv4 at ip, 20-byte header), both checksums recomputed. */
static void steerm_rewrite(uint8_t *ip, int aoff, const uint8_t *addr, int poff,
			   const uint8_t *port)
{
	uint8_t proto = ip[9], *l4 = ip + 20;
	uint32_t clen = proto == IPPROTO_TCP ? fuzz_get16(ip + 2) - 20u : fuzz_get16(l4 + 4);
	int co = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t hc_ip = fuzz_get16(ip + 10), hc_l4 = fuzz_get16(l4 + co);
	uint32_t ip_in = steerm_sum_without(ip, 20, 10, 0);
	uint32_t l4_in = steerm_l4_sum(ip, l4, clen, proto);

	memcpy(ip + aoff, addr, 4);
	memcpy(l4 + poff, port, 2);
	fuzz_put16(ip + 10, steerm_fix(hc_ip, ip_in, steerm_sum_without(ip, 20, 10, 0)));
	if (proto == IPPROTO_UDP && !hc_l4)
		return; /* no checksum, and it stays so */
	uint16_t v = steerm_fix(hc_l4, l4_in, steerm_l4_sum(ip, l4, clen, proto));
	if (proto == IPPROTO_UDP && !v)
		v = 0xffff;
	fuzz_put16(l4 + co, v);
}

/* ---- the model ---- */

enum steerm_kind { STEERM_NOT, STEERM_BAD, STEERM_OK };

/* What lb_steer.h calls ours to consider: untagged IPv4 (EtherType 0x0800), a 20-byte
 * header, not a fragment, TCP or UDP. Then whole (model_net.c's decoder finds every length
 * right) or malformed; *ports false when the frame ends before the ports. */
static enum steerm_kind steerm_classify(const uint8_t *b, uint32_t len, bool *ports)
{
	struct ref_pkt r;
	uint8_t proto;

	*ports = false;
	if (len < 14 || fuzz_get16(b + 12) != 0x0800)
		return STEERM_NOT;
	if (len < 34)
		return STEERM_BAD;
	proto = b[23];
	if ((b[14] & 15) != 5 || (fuzz_get16(b + 20) & 0x3fff) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return STEERM_NOT;
	if (len < 34u + (proto == IPPROTO_TCP ? 20 : 8))
		return STEERM_BAD;
	*ports = true;
	return ref_parse(b, len, &r) == REF_OK && r.family == 4 ? STEERM_OK : STEERM_BAD;
}

static void steerm_model(struct steerm *m, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	const uint8_t *b = in->data, *ip = b + 14, *l4 = b + 34;
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
		k = steerm_classify(b, in->len, &ports);
		if (k == STEERM_NOT)
			return;
		if (!ports) {
			x->counters[LB_STEER_MALFORMED]++;
			return;
		}
		if (ip[9] != be->proto || memcmp(ip + 16, be->be, 4) || memcmp(l4 + 2, be->be_port, 2))
			return;
		if (k == STEERM_BAD) {
			x->counters[LB_STEER_MALFORMED]++;
			return;
		}
		struct steerm_flow *f = steerm_slot(m, be->vip, ip + 12, be->vip_port, l4, ip[9]);
		if (!f->used)
			m->nflows++;
		f->used = true;
		memcpy(f->vip, be->vip, 4);
		memcpy(f->lb, ip + 12, 4);
		memcpy(f->vip_port, be->vip_port, 2);
		memcpy(f->lb_port, l4, 2);
		f->proto = ip[9];
		f->be = *be;
		m->last = *f;
		m->check = true;
		memcpy(x->out, b, in->len);
		x->out_len = in->len;
		x->pass_rewritten = true;
		steerm_rewrite(x->out + 14, 16, be->vip, 2, be->vip_port);
		x->counters[LB_STEER_STEERED]++;
		return;
	}
	k = steerm_classify(b, in->len, &ports);
	if (k == STEERM_NOT || !ports)
		return;
	/* an answer comes from VIP:port to LB:sport */
	struct steerm_flow *f = steerm_slot(m, ip + 12, ip + 16, l4, l4 + 2, ip[9]);
	if (!f->used)
		return;
	if (k == STEERM_BAD) {
		x->counters[LB_STEER_MALFORMED]++;
		return;
	}
	memcpy(x->out, b, in->len);
	x->out_len = in->len;
	x->pass_rewritten = true;
	steerm_rewrite(x->out + 14, 12, f->be.be, 0, f->be.be_port);
	x->counters[LB_STEER_RESTORED]++;
}
