// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reference model of the load balancer (docs/lb.md), written from the documented rules
 * and the RFCs, not from lb.bpf.c or src/bpf: its own parser of the frame bytes, its own
 * rewrite with every checksum recomputed from scratch, and its own conntrack and NAT
 * reverse tables.
 *
 * State: the model keeps the flows and reverse entries itself (it never reads them back
 * to decide); after each packet fuzz_lb.c checks that the entries this packet created or
 * used are in the program's maps exactly as the model has them (pseudo-counter
 * "state_mismatch"). What the model reads from the maps is user-space data only: the
 * backends and each VIP's Maglev table, as `lb` wrote them.
 *
 * Checksums: a rewritten header whose checksum was right gets the full recomputation
 * (RFC 1624 §3: the incremental update must equal it). One whose checksum was wrong
 * keeps its error: HC' = ~(~HC + ~X + X'), X and X' the full sums before and after, so a
 * receiver still sees it is broken. UDP: 0 (no checksum) stays 0, a computed 0 is sent as
 * 0xffff (RFC 768). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "lb.h"

#define LBM_CAP 16384        /* per table, a power of two */
#define LBM_RESET_AT 4096    /* flows before both sides are cleared: far from LRU eviction */
#define LBM_VIPS 4
#define LBM_BACKENDS 5

/* Counter layout of the lb targets: the program's counters, then per VIP and per backend
 * packets/bytes/new flows (vip_stats, backend_stats), then the state check. */
enum {
	LBM_C_VIP = LBC__MAX,
	LBM_C_BE = LBM_C_VIP + 3 * LBM_VIPS,
	LBM_C_STATE = LBM_C_BE + 3 * LBM_BACKENDS,
	LBM_NCOUNTERS,
};

struct lbm_vip {
	uint32_t addr;   /* as the bytes lie in the packet (network order in memory) */
	uint16_t port;
	uint8_t proto;
	uint32_t id;
	uint32_t *table; /* Maglev table: slot -> backend id */
};

struct lbm_ct_e {
	bool used;
	struct lb_flow k;
	struct lb_ct v;
};

struct lbm_rev_e {
	bool used;
	struct lb_flow k;
	struct lb_rev v;
};

/* What one packet must have left in the maps (checked after it ran). */
struct lbm_check {
	bool rev;            /* reverse map, else conntrack */
	bool present;
	struct lb_flow k;
	struct lb_ct ct;
	struct lb_rev rv;
};

/* Encap targets: the routes fuzz_lb.c puts in its namespace, as the FIB must answer. */
enum lbm_route { LBM_RT_NONE, LBM_RT_OK, LBM_RT_NO_NEIGH };
struct lbm_rt {
	uint32_t net, mask;  /* network order */
	enum lbm_route kind;
	uint32_t mtu;
};

struct lb_model {
	uint32_t mode, table_size;
	uint32_t snat;
	uint32_t tunnel_src;         /* network order */
	uint8_t gw_mac[6];           /* the next hop's MAC of every LBM_RT_OK route */
	int nrt;
	struct lbm_rt rt[4];
	uint8_t mac[6];
	int nvips;
	struct lbm_vip vips[LBM_VIPS];
	struct lb_backend be[LB_MAX_BACKENDS];
	uint32_t be_ids[LBM_BACKENDS];   /* counter slot -> backend id */
	int nbe;
	struct lbm_ct_e ct[LBM_CAP];
	struct lbm_rev_e rev[LBM_CAP];
	int nct, nrev;
	int ncheck;
	struct lbm_check check[3];
	bool reset;          /* the tables were cleared before this packet: clear the maps */
};

static uint32_t lbm_hash_key(const struct lb_flow *k)
{
	return lb_flow_hash(k->saddr, k->daddr, k->sport, k->dport, k->proto) & (LBM_CAP - 1);
}

/* Open addressing in a fixed table: the model's conntrack and reverse tables alike. */
#define LBM_FIND_FN(name, etype, tab, count)						\
static struct etype *name(struct lb_model *m, const struct lb_flow *k, bool add)	\
{											\
	for (uint32_t i = lbm_hash_key(k), n = 0; n < LBM_CAP;				\
	     i = (i + 1) & (LBM_CAP - 1), n++) {					\
		struct etype *e = &m->tab[i];						\
		if (!e->used) {								\
			if (!add)							\
				return NULL;						\
			e->used = true;							\
			e->k = *k;							\
			memset(&e->v, 0, sizeof(e->v));				\
			m->count++;							\
			return e;							\
		}									\
		if (!memcmp(&e->k, k, sizeof(*k)))					\
			return e;							\
	}										\
	return NULL;									\
}
LBM_FIND_FN(lbm_ct_find, lbm_ct_e, ct, nct)
LBM_FIND_FN(lbm_rev_find, lbm_rev_e, rev, nrev)

/* Before a packet: keep both sides far below the LRU capacity, where nothing is evicted. */
static void lbm_begin(struct lb_model *m)
{
	m->ncheck = 0;
	m->reset = false;
	if (m->nct >= LBM_RESET_AT || m->nrev >= LBM_RESET_AT) {
		memset(m->ct, 0, sizeof(m->ct));
		memset(m->rev, 0, sizeof(m->rev));
		m->nct = m->nrev = 0;
		m->reset = true;
	}
}

static uint32_t lbm_raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t lbm_raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static const struct lb_backend *lbm_backend(const struct lb_model *m, uint32_t id)
{
	if (!id || id >= LB_MAX_BACKENDS || !(m->be[id].flags & LB_BE_USED))
		return NULL;
	return &m->be[id];
}

static int lbm_vip_slot(const struct lb_model *m, uint32_t id)
{
	for (int i = 0; i < m->nvips; i++)
		if (m->vips[i].id == id)
			return i;
	return -1;
}

static int lbm_be_slot(const struct lb_model *m, uint32_t id)
{
	for (int i = 0; i < m->nbe; i++)
		if (m->be_ids[i] == id)
			return i;
	return -1;
}

/* ---- checksums ---- */

/* The new checksum field: the full recomputation when the old one was right, else the
 * old error kept (see the top of the file). x_in, x_out: sums without the field. */
static uint16_t lbm_fix(uint16_t hc, uint32_t x_in, uint32_t x_out)
{
	if (fuzz_fold(x_in + hc) == 0xffff)
		return (uint16_t)~fuzz_fold(x_out);
	return (uint16_t)~fuzz_fold((uint16_t)~hc + (uint16_t)~fuzz_fold(x_in) + fuzz_fold(x_out));
}

/* Sum of a region with its 16-bit checksum field at `co` taken as zero. */
static uint32_t lbm_sum_without(const uint8_t *p, uint32_t len, uint32_t co, uint32_t sum)
{
	sum = fuzz_sum(p, co, sum);
	return fuzz_sum(p + co + 2, len - co - 2, sum);
}

/* TCP/UDP sum (pseudo-header + segment) without the checksum field. len: the bytes the
 * checksum covers (TCP: the IP payload; UDP: its own length). */
static uint32_t lbm_l4_sum(const uint8_t *ip, const uint8_t *l4, uint32_t len, uint8_t proto)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	fuzz_put16(ph + 10, (uint16_t)len);
	return lbm_sum_without(l4, len, proto == IPPROTO_TCP ? 16 : 6, fuzz_sum(ph, 12, 0));
}

/* Rewrites the addresses and ports of a TCP/UDP packet (IPv4, no options), every
 * checksum as lbm_fix says. */
static void lbm_rewrite(uint8_t *ip, uint32_t l4_len, uint8_t proto, uint32_t saddr,
			uint32_t daddr, uint16_t sport, uint16_t dport)
{
	uint8_t *l4 = ip + 20;
	uint32_t clen = proto == IPPROTO_TCP ? l4_len : fuzz_get16(l4 + 4);
	int co = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t hc_ip = fuzz_get16(ip + 10), hc_l4 = fuzz_get16(l4 + co);
	uint32_t ip_in = lbm_sum_without(ip, 20, 10, 0);
	uint32_t l4_in = lbm_l4_sum(ip, l4, clen, proto);

	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	memcpy(l4, &sport, 2);
	memcpy(l4 + 2, &dport, 2);
	fuzz_put16(ip + 10, lbm_fix(hc_ip, ip_in, lbm_sum_without(ip, 20, 10, 0)));
	if (proto == IPPROTO_UDP && !hc_l4)
		return; /* no checksum, and it stays so */
	uint16_t v = lbm_fix(hc_l4, l4_in, lbm_l4_sum(ip, l4, clen, proto));
	if (proto == IPPROTO_UDP && !v)
		v = 0xffff;
	fuzz_put16(l4 + co, v);
}

/* ---- the model ---- */

struct lbm_pkt {
	const uint8_t *b;
	uint32_t len, l3, l4, l4_len;
	bool ok;            /* every header there and its lengths hold */
	bool frag, later, opts;
	uint8_t proto;
	uint32_t saddr, daddr;
};

/* IPv4 after Ethernet and up to two VLAN tags. Returns 0: not IPv4, 1: an IPv4 header too
 * short to hold the addresses, 2: parsed (p->ok says whether it is whole). */
static int lbm_parse(const uint8_t *b, uint32_t len, struct lbm_pkt *p)
{
	uint32_t off = 12, hl, tot;
	uint16_t et = fuzz_get16(b + 12);

	memset(p, 0, sizeof(*p));
	p->b = b;
	p->len = len;
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (off + 6 > len)
			return 0;
		off += 4;
		et = fuzz_get16(b + off);
	}
	if (et != 0x0800)
		return 0;
	p->l3 = off + 2;
	if (p->l3 + 20 > len)
		return 1;
	const uint8_t *ip = b + p->l3;
	p->saddr = lbm_raw32(ip + 12);
	p->daddr = lbm_raw32(ip + 16);
	p->proto = ip[9];
	hl = (ip[0] & 15) * 4u;
	tot = fuzz_get16(ip + 2);
	if (ip[0] >> 4 != 4 || hl < 20 || tot < hl || p->l3 + tot > len)
		return 2;
	p->opts = hl > 20;
	p->later = (fuzz_get16(ip + 6) & 0x1fff) != 0;
	p->frag = p->later || (fuzz_get16(ip + 6) & 0x2000);
	p->l4 = p->l3 + hl;
	p->l4_len = tot - hl;
	if (!p->later) {
		const uint8_t *l4 = b + p->l4;
		switch (p->proto) {
		case IPPROTO_TCP:
			if (p->l4_len < 20 || l4[12] >> 4 < 5 || (l4[12] >> 4) * 4u > p->l4_len)
				return 2;
			break;
		case IPPROTO_UDP: {
			if (p->l4_len < 8)
				return 2;
			uint16_t ul = fuzz_get16(l4 + 4);
			/* a first fragment holds only part of what the UDP length counts */
			if (ul < 8 || (!p->frag && ul > p->l4_len))
				return 2;
			break;
		}
		case IPPROTO_ICMP:
			if (p->l4_len < 8)
				return 2;
			break;
		}
	}
	p->ok = true;
	return 2;
}

static uint32_t lbm_encap_of(const struct lb_backend *be)
{
	return (be->flags >> LB_BE_ENCAP_SHIFT) & LB_VIP_ENCAP_MASK;
}

static void lbm_set_macs(uint8_t *out, const uint8_t *dst)
{
	memcpy(out + 6, out, 6);
	memcpy(out, dst, 6);
}

static void lbm_stats(const struct lb_model *m, struct fuzz_expect *x, uint32_t vip_id,
		      uint32_t bid, uint32_t len, int new_flow)
{
	int v = lbm_vip_slot(m, vip_id), b = lbm_be_slot(m, bid);

	if (v >= 0) {
		x->counters[LBM_C_VIP + 3 * v] += 1;
		x->counters[LBM_C_VIP + 3 * v + 1] += len;
		x->counters[LBM_C_VIP + 3 * v + 2] += new_flow;
	}
	if (b >= 0) {
		x->counters[LBM_C_BE + 3 * b] += 1;
		x->counters[LBM_C_BE + 3 * b + 1] += len;
		x->counters[LBM_C_BE + 3 * b + 2] += new_flow;
	}
}

static void lbm_expect_ct(struct lb_model *m, const struct lb_flow *k, const struct lb_ct *v)
{
	struct lbm_check *c = &m->check[m->ncheck++];

	memset(c, 0, sizeof(*c));
	c->k = *k;
	c->present = v != NULL;
	if (v)
		c->ct = *v;
}

static void lbm_expect_rev(struct lb_model *m, const struct lb_flow *k, const struct lb_rev *v)
{
	struct lbm_check *c = &m->check[m->ncheck++];

	memset(c, 0, sizeof(*c));
	c->rev = true;
	c->k = *k;
	c->present = v != NULL;
	if (v)
		c->rv = *v;
}

static enum fuzz_verdict lbm_verdict(struct fuzz_expect *x, enum fuzz_verdict v, int counter)
{
	x->verdict = v;
	x->counters[counter]++;
	return v;
}

/* An encap VIP's packet (docs/lb.md "Encapsulation"): the route to the backend decides;
 * a packet that fits goes out as Ethernet (to the gateway) + outer IPv4 [+ UDP] + the
 * frame from its IP header on, byte for byte (VLAN tags are not carried); one too big
 * for the route's MTU gets ICMP fragmentation needed back when it has DF and is not
 * ICMP itself, else is dropped. `hash` is the client flow's. */
static enum fuzz_verdict lbm_encap(const struct lb_model *m, const struct lbm_pkt *p,
				   const struct lb_backend *be, uint32_t hash,
				   struct fuzz_expect *x)
{
	uint32_t encap = lbm_encap_of(be), hl = encap == LB_ENCAP_GUE ? 28 : 20;
	const uint8_t *in = p->b + p->l3;
	uint32_t inner = fuzz_get16(in + 2), tail = p->len - p->l3;
	const struct lbm_rt *rt = NULL;
	uint8_t *o;

	for (int i = 0; i < m->nrt && !rt; i++)
		if ((be->addr & m->rt[i].mask) == m->rt[i].net)
			rt = &m->rt[i];
	/* the kernel checks the MTU before it looks for the next hop's MAC */
	if (rt && rt->kind != LBM_RT_NONE && inner + hl > rt->mtu) {
		uint8_t *ip, *ic;

		if (!(fuzz_get16(in + 6) & 0x4000) || in[9] == IPPROTO_ICMP)
			return lbm_verdict(x, FUZZ_DROP, LBC_DROP_TOO_BIG);
		/* Ethernet and tags as they came, MACs swapped; IPv4 + ICMP + 28 quoted bytes */
		memcpy(x->out, p->b + 6, 6);
		memcpy(x->out + 6, p->b, 6);
		memcpy(x->out + 12, p->b + 12, p->l3 - 12);
		ip = x->out + p->l3;
		ic = ip + 20;
		memset(ip, 0, 28);
		ip[0] = 0x45;
		fuzz_put16(ip + 2, 56);
		ip[8] = LB_ENCAP_TTL;
		ip[9] = IPPROTO_ICMP;
		memcpy(ip + 12, in + 16, 4);
		memcpy(ip + 16, in + 12, 4);
		fuzz_put16(ip + 10, fuzz_csum(ip, 20, 0));
		ic[0] = 3;
		ic[1] = 4;
		fuzz_put16(ic + 6, (uint16_t)(rt->mtu - hl));
		memcpy(ic + 8, in, 28);
		fuzz_put16(ic + 2, fuzz_csum(ic, 36, 0));
		x->out_len = p->l3 + 56;
		return lbm_verdict(x, FUZZ_TX, LBC_ICMP_TOO_BIG);
	}
	if (!rt || rt->kind == LBM_RT_NONE)
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_ROUTE);
	if (rt->kind == LBM_RT_NO_NEIGH)
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_NEIGH);
	memcpy(x->out, m->gw_mac, 6);
	memcpy(x->out + 6, m->mac, 6);
	fuzz_put16(x->out + 12, 0x0800);
	o = x->out + 14;
	memset(o, 0, hl);
	o[0] = 0x45;
	o[1] = in[1];
	fuzz_put16(o + 2, (uint16_t)(inner + hl));
	fuzz_put16(o + 6, 0x4000);
	o[8] = LB_ENCAP_TTL;
	o[9] = encap == LB_ENCAP_GUE ? IPPROTO_UDP : 4;
	memcpy(o + 12, &m->tunnel_src, 4);
	memcpy(o + 16, &be->addr, 4);
	fuzz_put16(o + 10, fuzz_csum(o, 20, 0));
	if (encap == LB_ENCAP_GUE) {
		fuzz_put16(o + 20, (uint16_t)(LB_GUE_SPORT_MIN | (hash & 0x3fff)));
		fuzz_put16(o + 22, LB_GUE_PORT);
		fuzz_put16(o + 24, (uint16_t)(inner + 8));
	}
	memcpy(o + hl, in, tail);
	x->out_len = 14 + hl + tail;
	return lbm_verdict(x, FUZZ_TX, LBC_TX_ENCAP);
}

/* A new flow to a VIP (docs/lb.md "nat"/"dsr"): Maglev, then in nat a reverse entry. */
static enum fuzz_verdict lbm_balance(struct lb_model *m, const struct lbm_pkt *p,
				     const struct lbm_vip *vip, struct fuzz_expect *x)
{
	const uint8_t *l4 = p->b + p->l4;
	struct lb_flow f = { .saddr = p->saddr, .daddr = p->daddr, .sport = lbm_raw16(l4),
			     .dport = lbm_raw16(l4 + 2), .proto = p->proto };
	const struct lb_backend *be = NULL;
	struct lbm_ct_e *ct;
	uint32_t bid = 0;
	uint16_t nat_port = 0;
	int new_flow = 0;

	if (!f.sport) {
		lbm_expect_ct(m, &f, NULL);
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_PORT_ZERO);
	}
	ct = lbm_ct_find(m, &f, false);
	if (ct) {
		bid = ct->v.backend_id;
		nat_port = ct->v.nat_port;
		be = lbm_backend(m, bid);
		if (!be || be->vip_id != vip->id) {
			x->counters[LBC_CT_STALE]++;
			be = NULL;
		}
	} else {
		x->counters[LBC_CT_MISS]++;
	}
	if (!be) {
		uint32_t h = lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport, f.proto);
		struct lb_ct nct = { .vip_id = vip->id };

		bid = vip->table ? vip->table[h % m->table_size] : 0;
		be = lbm_backend(m, bid);
		if (!be) {
			lbm_expect_ct(m, &f, ct ? &ct->v : NULL);
			return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_BACKEND);
		}
		nct.backend_id = bid;
		if (m->mode == LB_MODE_NAT && !lbm_encap_of(be)) {
			/* The client's port if its reverse entry is free or already this flow's,
			 * else LB_NAT_TRIES - 1 ports from the flow hash. */
			struct lb_rev rv = { .client_addr = f.saddr, .vip_addr = f.daddr,
					     .client_port = f.sport, .vip_port = f.dport,
					     .backend_id = bid, .vip_id = vip->id };
			struct lb_flow rk = { .saddr = be->addr, .daddr = m->snat, .sport = be->port,
					      .proto = f.proto };
			struct lbm_rev_e *e = NULL;

			memcpy(rv.client_mac, p->b + 6, 6);
			for (int i = 0; i < LB_NAT_TRIES && !nct.nat_port; i++) {
				uint16_t port = i ? htons(LB_NAT_PORT_MIN + lb_mix32(h + i) %
							  (65536 - LB_NAT_PORT_MIN)) : f.sport;
				rk.dport = port;
				e = lbm_rev_find(m, &rk, false);
				if (!e) {
					e = lbm_rev_find(m, &rk, true);
					if (i)
						x->counters[LBC_NAT_PORT_REMAP]++;
				} else if (!(e->v.client_addr == f.saddr && e->v.client_port == f.sport &&
					     e->v.vip_addr == f.daddr && e->v.vip_port == f.dport)) {
					continue;
				}
				e->v = rv;
				nct.nat_port = port;
			}
			if (!nct.nat_port) {
				lbm_expect_ct(m, &f, ct ? &ct->v : NULL);
				return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NAT_PORT);
			}
			lbm_expect_rev(m, &e->k, &e->v);
		}
		if (!ct)
			ct = lbm_ct_find(m, &f, true);
		ct->v = nct;
		nat_port = nct.nat_port;
		new_flow = 1;
	}
	lbm_expect_ct(m, &f, &ct->v);
	lbm_stats(m, x, vip->id, bid, p->len, new_flow);
	if (lbm_encap_of(be))
		return lbm_encap(m, p, be, lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport,
							f.proto), x);
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	if (m->mode == LB_MODE_NAT)
		lbm_rewrite(x->out + p->l3, p->l4_len, p->proto, m->snat, be->addr, nat_port,
			    be->port);
	lbm_set_macs(x->out, be->mac);
	return lbm_verdict(x, FUZZ_TX, LBC_TX_BACKEND);
}

/* nat: a backend's reply to LB:port, found in the reverse table. */
static bool lbm_reply(struct lb_model *m, const struct lbm_pkt *p, struct fuzz_expect *x)
{
	const uint8_t *l4 = p->b + p->l4;
	struct lb_flow rk = { .saddr = p->saddr, .daddr = p->daddr, .sport = lbm_raw16(l4),
			      .dport = lbm_raw16(l4 + 2), .proto = p->proto };
	struct lbm_rev_e *e = lbm_rev_find(m, &rk, false);

	if (!e)
		return false;
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	lbm_rewrite(x->out + p->l3, p->l4_len, p->proto, e->v.vip_addr, e->v.client_addr,
		    e->v.vip_port, e->v.client_port);
	lbm_set_macs(x->out, e->v.client_mac);
	lbm_verdict(x, FUZZ_TX, LBC_REPLY);
	return true;
}

/* An ICMP error to a VIP address (docs/lb.md): RFC 792 quotes the IP header and 8 bytes,
 * all of which must lie inside the ICMP message as the outer tot_len has it. */
static enum fuzz_verdict lbm_icmp(struct lb_model *m, const struct lbm_pkt *p,
				  struct fuzz_expect *x)
{
	const uint8_t *ic = p->b + p->l4, *in = ic + 8, *inp = in + 20;
	const struct lb_backend *be;
	struct lbm_ct_e *ct;
	struct lb_flow f;

	if (ic[0] != 3 && ic[0] != 11)
		return lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
	if (p->l4_len < 8 + 20 + 8 || in[0] >> 4 != 4 || (in[0] & 15) < 5 ||
	    fuzz_get16(in + 2) < 28)
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_MALFORMED);
	if ((in[0] & 15) != 5 || (in[9] != IPPROTO_TCP && in[9] != IPPROTO_UDP) ||
	    (fuzz_get16(in + 6) & 0x1fff))
		return lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
	/* quoted VIP:port -> client:port is the reply of the flow client -> VIP */
	memset(&f, 0, sizeof(f));
	f.saddr = lbm_raw32(in + 16);
	f.daddr = lbm_raw32(in + 12);
	f.sport = lbm_raw16(inp + 2);
	f.dport = lbm_raw16(inp);
	f.proto = in[9];
	ct = lbm_ct_find(m, &f, false);
	be = ct ? lbm_backend(m, ct->v.backend_id) : NULL;
	if (!be)
		return lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
	if (lbm_encap_of(be))
		return lbm_encap(m, p, be, lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport,
							f.proto), x);
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	if (m->mode == LB_MODE_NAT) {
		uint8_t *ip = x->out + p->l3, *oic = ip + 20, *oin = oic + 8, *oinp = oin + 20;
		uint16_t hc_ic = fuzz_get16(oic + 2), hc_in = fuzz_get16(oin + 10);
		uint16_t hc_ip = fuzz_get16(ip + 10);
		uint32_t ic_in = lbm_sum_without(oic, p->l4_len, 2, 0);
		uint32_t in_in = lbm_sum_without(oin, 20, 10, 0);
		uint32_t ip_in = lbm_sum_without(ip, 20, 10, 0);

		/* now about what the backend sent: backend:port -> LB:nat_port */
		memcpy(oin + 12, &be->addr, 4);
		memcpy(oin + 16, &m->snat, 4);
		memcpy(oinp, &be->port, 2);
		memcpy(oinp + 2, &ct->v.nat_port, 2);
		fuzz_put16(oin + 10, lbm_fix(hc_in, in_in, lbm_sum_without(oin, 20, 10, 0)));
		fuzz_put16(oic + 2, lbm_fix(hc_ic, ic_in, lbm_sum_without(oic, p->l4_len, 2, 0)));
		memcpy(ip + 12, &m->snat, 4);
		memcpy(ip + 16, &be->addr, 4);
		fuzz_put16(ip + 10, lbm_fix(hc_ip, ip_in, lbm_sum_without(ip, 20, 10, 0)));
	}
	lbm_set_macs(x->out, be->mac);
	return lbm_verdict(x, FUZZ_TX, LBC_ICMP_TO_BACKEND);
}

static bool lbm_is_vip_addr(const struct lb_model *m, uint32_t a)
{
	for (int i = 0; i < m->nvips; i++)
		if (m->vips[i].addr == a)
			return true;
	return false;
}

static void lb_model(struct lb_model *m, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	const struct lbm_vip *vip = NULL;
	struct lbm_pkt p;
	int r;

	lbm_begin(m);
	if (memcmp(in->data, m->mac, 6)) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_FOR_US);
		return;
	}
	r = lbm_parse(in->data, in->len, &p);
	if (r == 0) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_IPV4);
		return;
	}
	if (r == 1) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_VIP);
		return;
	}
	if (p.ok && !p.frag && !p.opts && (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)) {
		uint16_t dport = lbm_raw16(in->data + p.l4 + 2);
		for (int i = 0; i < m->nvips && !vip; i++)
			if (m->vips[i].addr == p.daddr && m->vips[i].port == dport &&
			    m->vips[i].proto == p.proto)
				vip = &m->vips[i];
	}
	if (vip) {
		lbm_balance(m, &p, vip, x);
		return;
	}
	if (!lbm_is_vip_addr(m, p.daddr)) {
		if (m->mode == LB_MODE_NAT && p.ok && !p.frag && !p.opts && p.daddr == m->snat &&
		    (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP) && lbm_reply(m, &p, x))
			return;
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_VIP);
		return;
	}
	if (!p.ok)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_MALFORMED);
	else if (p.frag)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_FRAGMENT);
	else if (p.opts)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_IP_OPTIONS);
	else if (p.proto == IPPROTO_ICMP)
		lbm_icmp(m, &p, x);
	else
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
}
