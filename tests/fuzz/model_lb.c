// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reference model of the load balancer (docs/lb.md), written from the documented rules
 * and the RFCs (791, 792, 8200, 4443, 768, 793, 2003, 2473, draft-ietf-intarea-gue), not
 * from lb.bpf.c or src/bpf: its own parser of the frame bytes (model_net.c's decoder for
 * IPv6 extension chains), its own rewrite with every checksum recomputed from scratch,
 * and its own conntrack and NAT reverse tables, for IPv4 and IPv6 alike.
 *
 * State: the model keeps the flows and reverse entries itself, in its own key format (it
 * never reads them back to decide); after each packet fuzz_lb.c checks that the entries
 * this packet created or used are in the program's maps exactly as the model has them
 * (pseudo-counter "state_mismatch"). What the model reads from the maps is user-space
 * data only: the backends and each VIP's Maglev table, as `lb` wrote them.
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
/* Flows before both sides are cleared. The program's conntrack is 32768 buckets of
 * LB_CT_WAYS = 4 slots (default --ct-size); the model has no buckets, so no flow may be
 * evicted: n flows overflow some bucket with probability about B * C(n,5) / B^5 =
 * n^5 / (120 B^4); for n = 512, B = 2^15: 2^45 / (120 * 2^60) = 2.5e-7 per reset (4096
 * would be 8e-3, 1024 8e-6). The NAT reverse maps (LRU, 131072 entries) are far from full. */
#define LBM_RESET_AT 512
#define LBM_VIPS 5
#define LBM_BACKENDS 8

/* Counter layout of the lb targets: the program's counters, then two pseudo-counters
 * (per-VIP/backend stats that differ from the model, map entries that differ). The
 * model's expected stats increments (packets/bytes/new flows per VIP and per backend)
 * follow, past what the runner compares: fuzz_lb.c checks them against vip_stats and
 * backend_stats itself, so the runner's summary line stays short. */
enum {
	LBM_C_STATS = LBC__MAX,
	LBM_C_STATE,
	LBM_NCOUNTERS,
	LBM_C_VIP = LBM_NCOUNTERS,
	LBM_C_BE = LBM_C_VIP + 3 * LBM_VIPS,
	LBM_C_END = LBM_C_BE + 3 * LBM_BACKENDS,
};

/* The model's own flow key: a 5-tuple as the bytes lie on the wire (ports in network
 * order), addresses in 16 bytes (IPv4 in the first 4, the rest zero). */
struct lbm_key {
	uint8_t family, proto;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
};

struct lbm_vip {
	int family;
	uint8_t addr[16];
	uint16_t port;   /* network order in memory */
	uint8_t proto;
	uint32_t id;
	uint32_t *table; /* Maglev table: slot -> backend id */
};

/* A backend as user space wrote it (the backends map), in the model's terms. */
struct lbm_be {
	bool used;
	int family;
	uint8_t addr[16];
	uint16_t port;   /* network order */
	uint8_t mac[6];
	uint32_t vip_id;
	uint32_t encap;  /* the VIP's enum lb_encap */
};

struct lbm_ct_e {
	bool used;
	struct lbm_key k;
	uint32_t backend_id, vip_id;
	uint16_t nat_port;
	/* The program's clock when it wrote the entry: not modelled, only checked (fuzz_lb.c
	 * records what the map says right after a write; later packets must leave it). */
	uint32_t created;
	/* Looked up by a packet to its VIP since it was written (lb.h's LB_CT_REF): the mark a
	 * full bucket's eviction passes over. Evictions are not modelled (LBM_RESET_AT). */
	bool ref;
};

/* Keyed by the reply as it arrives: backend:port -> LB:nat_port, with no protocol (a
 * port taken by a flow of one protocol is taken for the other too, docs/lb.md). */
struct lbm_rev_e {
	bool used;
	struct lbm_key k;    /* proto 0 */
	uint8_t client_addr[16], vip_addr[16];
	uint16_t client_port, vip_port;
	uint8_t client_mac[6];
	uint8_t proto;
};

/* What one packet must have left in the maps (checked after it ran). */
struct lbm_check {
	bool rev;            /* reverse map, else conntrack */
	bool present;
	bool written;        /* conntrack: this packet (re)wrote the entry */
	struct lbm_ct_e *e;  /* conntrack: the model's entry, for `created` */
	struct lbm_ct_e ct;
	struct lbm_rev_e rv;
};

/* Encap targets: the routes fuzz_lb.c puts in its namespace, as the FIB must answer. */
enum lbm_route { LBM_RT_NONE, LBM_RT_OK, LBM_RT_NO_NEIGH };
struct lbm_rt {
	int family;
	uint8_t net[16];
	int plen;
	enum lbm_route kind;
	uint32_t mtu;
};

/* Paths the model took, per family and kind: printed per target, so a run shows it
 * reached the deep paths (an IPv6 ICMP error rewritten for nat, a packet too big...). */
#define LBM_PATHS(X)								\
	X(tx4) X(tx6) X(tx6_ext) X(tx6_udp0) X(reply4) X(reply6) X(reply6_ext)	\
	X(icmp4_be) X(icmp6_be) X(icmp_encap) X(enc_4in4) X(enc_4in6)		\
	X(enc_6in4) X(enc_6in6) X(enc_gue4) X(enc_gue6) X(too_big4) X(too_big6)
#define LBM_PATH_ENUM(n) LBM_P_##n,
enum { LBM_PATHS(LBM_PATH_ENUM) LBM_P__N };
#define LBM_PATH_NAME(n) #n,
static const char *const lbm_path_names[LBM_P__N] = { LBM_PATHS(LBM_PATH_NAME) };

struct lb_model {
	uint64_t paths[LBM_P__N];
	uint32_t mode, table_size;
	uint8_t snat4[4], snat6[16];
	uint8_t tunnel_src4[4], tunnel_src6[16];
	uint8_t gw_mac[6];           /* the next hop's MAC of every LBM_RT_OK route */
	int nrt;
	struct lbm_rt rt[12];
	uint8_t mac[6];
	int nvips;
	struct lbm_vip vips[LBM_VIPS];
	struct lbm_be be[LB_MAX_BACKENDS];
	uint32_t be_ids[LBM_BACKENDS];   /* counter slot -> backend id */
	int nbe;
	struct lbm_ct_e ct[LBM_CAP];
	struct lbm_rev_e rev[LBM_CAP];
	int nct, nrev;
	int ncheck;
	struct lbm_check check[3];
	bool reset;          /* the tables were cleared before this packet: clear the maps */
};

static int lbm_alen(int family)
{
	return family == 4 ? 4 : 16;
}

/* FNV-1a over the key: the model's own table placement, nothing to do with lb's hash. */
static uint32_t lbm_hash_key(const struct lbm_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h & (LBM_CAP - 1);
}

/* Open addressing in a fixed table: the model's conntrack and reverse tables alike. */
#define LBM_FIND_FN(name, etype, tab, count)						\
static struct etype *name(struct lb_model *m, const struct lbm_key *k, bool add)	\
{											\
	for (uint32_t i = lbm_hash_key(k), n = 0; n < LBM_CAP;				\
	     i = (i + 1) & (LBM_CAP - 1), n++) {					\
		struct etype *e = &m->tab[i];						\
		if (!e->used) {								\
			if (!add)							\
				return NULL;						\
			memset(e, 0, sizeof(*e));					\
			e->used = true;							\
			e->k = *k;							\
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

/* Before a packet: keep both sides far below the point where anything is evicted. */
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

static uint16_t lbm_raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The flow hash lb.h defines (user space and the program must agree on it: Maglev slot,
 * NAT ports, GUE source port, IPv6 flow label all come from it). */
static uint32_t lbm_flow_hash(const struct lbm_key *k)
{
	union lb_addr s, d;

	memcpy(&s, k->saddr, 16);
	memcpy(&d, k->daddr, 16);
	return lb_flow_hash_addr(&s, &d, k->sport, k->dport, k->proto);
}

/* A backend a flow of this VIP and family may go to (docs/lb.md, step 7): in use, of this
 * VIP, and of the packet's family unless the VIP encapsulates. */
static const struct lbm_be *lbm_backend(const struct lb_model *m, uint32_t id, uint32_t vip_id,
					int family)
{
	const struct lbm_be *be;

	if (!id || id >= LB_MAX_BACKENDS)
		return NULL;
	be = &m->be[id];
	if (!be->used || be->vip_id != vip_id || (be->family != family && !be->encap))
		return NULL;
	return be;
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

static const uint8_t *lbm_snat(const struct lb_model *m, int family)
{
	return family == 4 ? m->snat4 : m->snat6;
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

/* The pseudo-header of an upper layer over `ip` (RFC 793/768 for IPv4, RFC 8200 8.1 for
 * IPv6: addresses, upper-layer length, next header). */
static uint32_t lbm_pseudo(int family, const uint8_t *ip, uint32_t len, uint8_t proto)
{
	uint8_t t[8] = { 0 };
	uint32_t s;

	if (family == 4)
		s = fuzz_sum(ip + 12, 8, 0);
	else
		s = fuzz_sum(ip + 8, 32, 0);
	fuzz_put32(t, len);
	t[7] = proto;
	return fuzz_sum(t, 8, s);
}

/* TCP/UDP sum (pseudo-header + segment) without the checksum field. len: the bytes the
 * checksum covers (TCP: the upper-layer length; UDP: its own length). */
static uint32_t lbm_l4_sum(int family, const uint8_t *ip, const uint8_t *l4, uint32_t len,
			   uint8_t proto)
{
	return lbm_sum_without(l4, len, proto == IPPROTO_TCP ? 16 : 6,
			       lbm_pseudo(family, ip, len, proto));
}

static void lbm_set_addrs(int family, uint8_t *ip, const uint8_t *s, const uint8_t *d)
{
	if (family == 4) {
		memcpy(ip + 12, s, 4);
		memcpy(ip + 16, d, 4);
	} else {
		memcpy(ip + 8, s, 16);
		memcpy(ip + 24, d, 16);
	}
}

/* Rewrites the addresses and ports of a TCP/UDP packet (IPv4 without options, or IPv6
 * with the L4 header at l4_off), every checksum as lbm_fix says. */
static void lbm_rewrite(int family, uint8_t *ip, uint32_t l4_off, uint32_t l4_len, uint8_t proto,
			const uint8_t *saddr, const uint8_t *daddr, uint16_t sport, uint16_t dport)
{
	uint8_t *l4 = ip + l4_off;
	uint32_t clen = proto == IPPROTO_TCP ? l4_len : fuzz_get16(l4 + 4);
	int co = proto == IPPROTO_TCP ? 16 : 6;
	uint16_t hc_l4 = fuzz_get16(l4 + co);
	uint32_t l4_in = lbm_l4_sum(family, ip, l4, clen, proto);

	if (family == 4) {
		uint16_t hc_ip = fuzz_get16(ip + 10);
		uint32_t ip_in = lbm_sum_without(ip, 20, 10, 0);

		lbm_set_addrs(4, ip, saddr, daddr);
		fuzz_put16(ip + 10, lbm_fix(hc_ip, ip_in, lbm_sum_without(ip, 20, 10, 0)));
	} else {
		lbm_set_addrs(6, ip, saddr, daddr);
	}
	memcpy(l4, &sport, 2);
	memcpy(l4 + 2, &dport, 2);
	if (proto == IPPROTO_UDP && !hc_l4)
		return; /* no checksum, and it stays so */
	uint16_t v = lbm_fix(hc_l4, l4_in, lbm_l4_sum(family, ip, l4, clen, proto));
	if (proto == IPPROTO_UDP && !v)
		v = 0xffff;
	fuzz_put16(l4 + co, v);
}

/* ---- the model ---- */

struct lbm_pkt {
	const uint8_t *b;
	uint32_t len, l3, l4, l4_len;
	int family;
	bool ok;            /* every header there and its lengths hold */
	bool frag, later;
	bool opts;          /* IPv4 options */
	bool rh_left;       /* IPv6: a routing header with segments left (not ours to end) */
	bool exthdrs;       /* IPv6: more extension headers than the parser walks */
	uint8_t proto;
	uint8_t saddr[16], daddr[16];
};

/* Ethernet and up to two VLAN tags, then IPv4 or IPv6. Returns 0: not IP, 1: an IP header
 * too short to hold the addresses, 2: parsed (p->ok says whether it is whole). */
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
	if (et != 0x0800 && et != 0x86dd)
		return 0;
	p->l3 = off + 2;
	p->family = et == 0x0800 ? 4 : 6;
	const uint8_t *ip = b + p->l3;
	if (p->family == 6) {
		struct ref_pkt r;

		if (p->l3 + 40 > len)
			return 1;
		memcpy(p->saddr, ip + 8, 16);
		memcpy(p->daddr, ip + 24, 16);
		p->proto = ip[6];
		ref_parse(b, len, &r);
		if (r.res == REF_EXTHDRS) {
			/* what the walk saw before the bound still counts: a fragment first */
			p->exthdrs = true;
			p->frag = r.frag != REF_FRAG_NONE;
			return 2;
		}
		if (r.res != REF_OK || r.family != 6)
			return 2;
		p->proto = r.proto;
		p->l4 = r.l4;
		p->l4_len = r.l4_len;
		p->frag = r.frag != REF_FRAG_NONE;
		p->later = r.frag == REF_FRAG_LATER;
		p->rh_left = r.rh_left;
		p->ok = true;
		return 2;
	}
	if (p->l3 + 20 > len)
		return 1;
	memcpy(p->saddr, ip + 12, 4);
	memcpy(p->daddr, ip + 16, 4);
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

static void lbm_expect_ct(struct lb_model *m, const struct lbm_key *k, uint32_t vip_id,
			  struct lbm_ct_e *v, bool written)
{
	struct lbm_check *c = &m->check[m->ncheck++];

	memset(c, 0, sizeof(*c));
	c->present = v != NULL;
	c->written = written;
	c->e = v;
	if (v)
		c->ct = *v;
	c->ct.k = *k;
	c->ct.vip_id = vip_id;
}

static void lbm_expect_rev(struct lb_model *m, const struct lbm_rev_e *v)
{
	struct lbm_check *c = &m->check[m->ncheck++];

	memset(c, 0, sizeof(*c));
	c->rev = true;
	c->present = true;
	c->rv = *v;
}

static enum fuzz_verdict lbm_verdict(struct fuzz_expect *x, enum fuzz_verdict v, int counter)
{
	x->verdict = v;
	x->counters[counter]++;
	return v;
}

static bool lbm_prefix(const uint8_t *a, const uint8_t *net, int plen)
{
	for (int i = 0; i < plen; i++)
		if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* The reply to a too-big packet (RFC 1191 / RFC 8201): from the packet's destination (the
 * VIP) to its source, out of the port it came in (MACs swapped, VLAN tags kept). IPv4:
 * ICMP type 3 code 4 with the next-hop MTU, quoting the IP header and 8 bytes; IPv6:
 * ICMPv6 packet too big (type 2) with the MTU, quoting the IPv6 header and 8 bytes (all
 * the sender's TCP needs to find its connection; docs/lb.md "MTU"). */
#define LBM_PTB6_QUOTE 48
static void lbm_too_big_reply(const struct lbm_pkt *p, uint32_t mtu, struct fuzz_expect *x)
{
	const uint8_t *in = p->b + p->l3;
	uint8_t *ip = x->out + p->l3, *ic;
	uint32_t q = LBM_PTB6_QUOTE;

	memcpy(x->out, p->b + 6, 6);
	memcpy(x->out + 6, p->b, 6);
	memcpy(x->out + 12, p->b + 12, p->l3 - 12);
	if (p->family == 4) {
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
		fuzz_put16(ic + 6, (uint16_t)mtu);
		memcpy(ic + 8, in, 28);
		fuzz_put16(ic + 2, fuzz_csum(ic, 36, 0));
		x->out_len = p->l3 + 56;
		return;
	}
	ic = ip + 40;
	memset(ip, 0, 48);
	ip[0] = 0x60;
	fuzz_put16(ip + 4, (uint16_t)(8 + q));
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = LB_ENCAP_TTL;
	memcpy(ip + 8, in + 24, 16);
	memcpy(ip + 24, in + 8, 16);
	ic[0] = 2;
	fuzz_put32(ic + 4, mtu);
	memcpy(ic + 8, in, q);
	fuzz_put16(ic + 2, fuzz_csum(ic, 8 + q, lbm_pseudo(6, ip, 8 + q, IPPROTO_ICMPV6)));
	x->out_len = p->l3 + 48 + q;
}

/* An encap VIP's packet (docs/lb.md "Encapsulation"): the route to the backend decides;
 * a packet that fits goes out as Ethernet (to the gateway) + outer IPv4 or IPv6 (the
 * backend's family) [+ UDP] + the frame from its IP header on, byte for byte (VLAN tags
 * are not carried); one too big for the route's MTU gets "too big" back when the client
 * may be told (IPv4: DF set; never about ICMP itself, RFC 1122 3.2.2 / RFC 4443 2.4(e)),
 * else is dropped. `hash` is the client flow's. */
static enum fuzz_verdict lbm_encap(struct lb_model *m, const struct lbm_pkt *p,
				   const struct lbm_be *be, uint32_t hash,
				   struct fuzz_expect *x)
{
	bool gue = be->encap == LB_ENCAP_GUE, o6 = be->family == 6;
	uint32_t hl = (o6 ? 40 : 20) + (gue ? 8 : 0);
	const uint8_t *in = p->b + p->l3;
	uint32_t inner = p->family == 4 ? fuzz_get16(in + 2) : 40u + fuzz_get16(in + 4);
	uint8_t tc = p->family == 4 ? in[1] : (uint8_t)((in[0] & 15) << 4 | in[1] >> 4);
	uint8_t ipproto = gue ? IPPROTO_UDP : p->family == 4 ? 4 : 41;
	const struct lbm_rt *rt = NULL;
	uint8_t *o, *u;

	for (int i = 0; i < m->nrt && !rt; i++)
		if (m->rt[i].family == be->family && lbm_prefix(be->addr, m->rt[i].net, m->rt[i].plen))
			rt = &m->rt[i];
	/* the kernel checks the MTU before it looks for the next hop's MAC */
	if (rt && rt->kind != LBM_RT_NONE && inner + hl > rt->mtu) {
		bool icmp = p->proto == (p->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);

		if ((p->family == 4 && !(fuzz_get16(in + 6) & 0x4000)) || icmp)
			return lbm_verdict(x, FUZZ_DROP, LBC_DROP_TOO_BIG);
		lbm_too_big_reply(p, rt->mtu - hl, x);
		m->paths[p->family == 4 ? LBM_P_too_big4 : LBM_P_too_big6]++;
		return lbm_verdict(x, FUZZ_TX, LBC_ICMP_TOO_BIG);
	}
	if (!rt || rt->kind == LBM_RT_NONE)
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_ROUTE);
	if (rt->kind == LBM_RT_NO_NEIGH)
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_NEIGH);
	memcpy(x->out, m->gw_mac, 6);
	memcpy(x->out + 6, m->mac, 6);
	fuzz_put16(x->out + 12, o6 ? 0x86dd : 0x0800);
	o = x->out + 14;
	memset(o, 0, hl);
	if (o6) {
		uint32_t fl = hash & 0xfffff;

		o[0] = (uint8_t)(0x60 | tc >> 4);
		o[1] = (uint8_t)((tc & 15) << 4 | fl >> 16);
		fuzz_put16(o + 2, (uint16_t)fl);
		fuzz_put16(o + 4, (uint16_t)(inner + hl - 40));
		o[6] = ipproto;
		o[7] = LB_ENCAP_TTL;
		memcpy(o + 8, m->tunnel_src6, 16);
		memcpy(o + 24, be->addr, 16);
		u = o + 40;
	} else {
		o[0] = 0x45;
		o[1] = tc;
		fuzz_put16(o + 2, (uint16_t)(inner + hl));
		fuzz_put16(o + 6, 0x4000);
		o[8] = LB_ENCAP_TTL;
		o[9] = ipproto;
		memcpy(o + 12, m->tunnel_src4, 4);
		memcpy(o + 16, be->addr, 4);
		fuzz_put16(o + 10, fuzz_csum(o, 20, 0));
		u = o + 20;
	}
	if (gue) {
		fuzz_put16(u, (uint16_t)(LB_GUE_SPORT_MIN | (hash & 0x3fff)));
		fuzz_put16(u + 2, LB_GUE_PORT);
		fuzz_put16(u + 4, (uint16_t)(inner + 8));
	}
	memcpy(o + hl, in, inner);   /* the frame's padding after it stays behind */
	x->out_len = 14 + hl + inner;
	m->paths[p->family == 4 ? (o6 ? LBM_P_enc_4in6 : LBM_P_enc_4in4)
				: (o6 ? LBM_P_enc_6in6 : LBM_P_enc_6in4)]++;
	if (gue)
		m->paths[o6 ? LBM_P_enc_gue6 : LBM_P_enc_gue4]++;
	if (p->proto == (p->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		m->paths[LBM_P_icmp_encap]++;
	return lbm_verdict(x, FUZZ_TX, LBC_TX_ENCAP);
}

static void lbm_key_of(const struct lbm_pkt *p, struct lbm_key *k)
{
	const uint8_t *l4 = p->b + p->l4;

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p->family;
	k->proto = p->proto;
	memcpy(k->saddr, p->saddr, 16);
	memcpy(k->daddr, p->daddr, 16);
	k->sport = lbm_raw16(l4);
	k->dport = lbm_raw16(l4 + 2);
}

/* A new flow to a VIP (docs/lb.md "nat"/"dsr"): Maglev, then in nat a reverse entry. */
static enum fuzz_verdict lbm_balance(struct lb_model *m, const struct lbm_pkt *p,
				     const struct lbm_vip *vip, struct fuzz_expect *x)
{
	const struct lbm_be *be = NULL;
	struct lbm_ct_e *ct;
	struct lbm_key f;
	uint32_t bid = 0, h;
	uint16_t nat_port = 0;
	int new_flow = 0, alen = lbm_alen(p->family);

	lbm_key_of(p, &f);
	h = lbm_flow_hash(&f);
	if (!f.sport) {
		lbm_expect_ct(m, &f, vip->id, NULL, false);
		return lbm_verdict(x, FUZZ_DROP, LBC_DROP_PORT_ZERO);
	}
	ct = lbm_ct_find(m, &f, false);
	if (ct) {
		ct->ref = true;
		bid = ct->backend_id;
		nat_port = ct->nat_port;
		be = lbm_backend(m, bid, vip->id, p->family);
		if (!be)
			x->counters[LBC_CT_STALE]++;
	} else {
		x->counters[LBC_CT_MISS]++;
	}
	if (!be) {
		struct lbm_ct_e nct = { .vip_id = vip->id };

		bid = vip->table ? vip->table[h % m->table_size] : 0;
		be = lbm_backend(m, bid, vip->id, p->family);
		if (!be) {
			lbm_expect_ct(m, &f, vip->id, ct, false);
			return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NO_BACKEND);
		}
		nct.backend_id = bid;
		if (m->mode == LB_MODE_NAT && !be->encap) {
			/* The client's port if its reverse entry is free or already this flow's,
			 * else LB_NAT_TRIES - 1 ports from the flow hash. */
			struct lbm_key rk = { .family = f.family, .sport = be->port };
			struct lbm_rev_e *e = NULL;

			memcpy(rk.saddr, be->addr, alen);
			memcpy(rk.daddr, lbm_snat(m, p->family), alen);
			for (int i = 0; i < LB_NAT_TRIES && !nct.nat_port; i++) {
				uint16_t port = i ? htons(LB_NAT_PORT_MIN + lb_mix32(h + i) %
							  (65536 - LB_NAT_PORT_MIN)) : f.sport;
				rk.dport = port;
				e = lbm_rev_find(m, &rk, false);
				if (!e) {
					e = lbm_rev_find(m, &rk, true);
					if (i)
						x->counters[LBC_NAT_PORT_REMAP]++;
				} else if (!(!memcmp(e->client_addr, f.saddr, 16) &&
					     e->client_port == f.sport && e->proto == f.proto &&
					     !memcmp(e->vip_addr, f.daddr, 16) && e->vip_port == f.dport)) {
					continue;
				}
				memcpy(e->client_addr, f.saddr, 16);
				memcpy(e->vip_addr, f.daddr, 16);
				e->client_port = f.sport;
				e->vip_port = f.dport;
				e->proto = f.proto;
				memcpy(e->client_mac, p->b + 6, 6);
				nct.nat_port = port;
			}
			if (!nct.nat_port) {
				lbm_expect_ct(m, &f, vip->id, ct, false);
				return lbm_verdict(x, FUZZ_DROP, LBC_DROP_NAT_PORT);
			}
			lbm_expect_rev(m, e);
		}
		if (!ct)
			ct = lbm_ct_find(m, &f, true);
		ct->backend_id = nct.backend_id;
		ct->vip_id = nct.vip_id;
		ct->nat_port = nct.nat_port;
		ct->ref = false;
		nat_port = nct.nat_port;
		new_flow = 1;
	}
	lbm_expect_ct(m, &f, vip->id, ct, new_flow);
	lbm_stats(m, x, vip->id, bid, p->len, new_flow);
	if (be->encap)
		return lbm_encap(m, p, be, h, x);
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	if (m->mode == LB_MODE_NAT)
		lbm_rewrite(p->family, x->out + p->l3, p->l4 - p->l3, p->l4_len, p->proto,
			    lbm_snat(m, p->family), be->addr, nat_port, be->port);
	lbm_set_macs(x->out, be->mac);
	m->paths[p->family == 4 ? LBM_P_tx4 : LBM_P_tx6]++;
	if (p->family == 6 && p->l4 != p->l3 + 40)
		m->paths[LBM_P_tx6_ext]++;
	if (p->family == 6 && p->proto == IPPROTO_UDP && !fuzz_get16(p->b + p->l4 + 6))
		m->paths[LBM_P_tx6_udp0]++;
	return lbm_verdict(x, FUZZ_TX, LBC_TX_BACKEND);
}

/* nat: a backend's reply to LB:port, found in the reverse table. */
static bool lbm_reply(struct lb_model *m, const struct lbm_pkt *p, struct fuzz_expect *x)
{
	struct lbm_key rk;
	struct lbm_rev_e *e;

	lbm_key_of(p, &rk);
	rk.proto = 0;
	e = lbm_rev_find(m, &rk, false);
	if (!e || e->proto != p->proto)
		return false;
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	lbm_rewrite(p->family, x->out + p->l3, p->l4 - p->l3, p->l4_len, p->proto, e->vip_addr,
		    e->client_addr, e->vip_port, e->client_port);
	lbm_set_macs(x->out, e->client_mac);
	m->paths[p->family == 4 ? LBM_P_reply4 : LBM_P_reply6]++;
	if (p->family == 6 && p->l4 != p->l3 + 40)
		m->paths[LBM_P_reply6_ext]++;
	lbm_verdict(x, FUZZ_TX, LBC_REPLY);
	return true;
}

/* The flow an ICMP error is about, from its quote, and the quote's layout; <0: the
 * verdict counter to use (the quote does not hold, or is about nothing we track). */
struct lbm_quote {
	uint32_t off;       /* quoted IP header, from the ICMP header */
	uint32_t l4;        /* quoted L4 header, from the ICMP header */
	struct lbm_key f;   /* the client -> VIP flow the quoted reply belongs to */
};

/* IPv4 (RFC 792): the IP header and 8 bytes, all inside the ICMP message as tot_len has
 * it. IPv6 (RFC 4443 2.4, 3.x): the invoking packet from its IPv6 header on, at least the
 * fixed header and 8 bytes of what follows. */
static int lbm_quote(const struct lbm_pkt *p, struct lbm_quote *q)
{
	const uint8_t *ic = p->b + p->l4, *in = ic + 8;

	memset(q, 0, sizeof(*q));
	q->off = 8;
	if (p->family == 4) {
		if (ic[0] != 3 && ic[0] != 11)
			return LBC_PASS_OTHER_L4;
		if (p->l4_len < 8 + 20 + 8 || in[0] >> 4 != 4 || (in[0] & 15) < 5 ||
		    fuzz_get16(in + 2) < 28)
			return LBC_DROP_MALFORMED;
		if ((in[0] & 15) != 5 || (in[9] != IPPROTO_TCP && in[9] != IPPROTO_UDP) ||
		    (fuzz_get16(in + 6) & 0x1fff))
			return LBC_PASS_OTHER_L4;
		q->l4 = 28;
		q->f.family = 4;
		q->f.proto = in[9];
		memcpy(q->f.saddr, in + 16, 4);
		memcpy(q->f.daddr, in + 12, 4);
	} else {
		if (ic[0] != 1 && ic[0] != 2 && ic[0] != 3)
			return LBC_PASS_OTHER_L4;
		if (p->l4_len < 8 + 40 + 8 || in[0] >> 4 != 6 || fuzz_get16(in + 4) < 8)
			return LBC_DROP_MALFORMED;
		if (in[6] != IPPROTO_TCP && in[6] != IPPROTO_UDP)
			return LBC_PASS_OTHER_L4;
		q->l4 = 48;
		q->f.family = 6;
		q->f.proto = in[6];
		memcpy(q->f.saddr, in + 24, 16);
		memcpy(q->f.daddr, in + 8, 16);
	}
	/* quoted VIP:port -> client:port is the reply of the flow client -> VIP */
	q->f.sport = lbm_raw16(ic + q->l4 + 2);
	q->f.dport = lbm_raw16(ic + q->l4);
	return -1;
}

/* An ICMP or ICMPv6 error to a VIP address (docs/lb.md) about one of its flows. */
static enum fuzz_verdict lbm_icmp(struct lb_model *m, const struct lbm_pkt *p,
				  struct fuzz_expect *x)
{
	const struct lbm_be *be;
	struct lbm_quote q;
	struct lbm_ct_e *ct;
	int r = lbm_quote(p, &q), alen = lbm_alen(p->family);

	if (r >= 0)
		return lbm_verdict(x, r == LBC_DROP_MALFORMED ? FUZZ_DROP : FUZZ_PASS, r);
	ct = lbm_ct_find(m, &q.f, false);
	be = ct ? lbm_backend(m, ct->backend_id, ct->vip_id, p->family) : NULL;
	if (!be)
		return lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
	if (be->encap)
		return lbm_encap(m, p, be, lbm_flow_hash(&q.f), x);
	memcpy(x->out, p->b, p->len);
	x->out_len = p->len;
	if (m->mode == LB_MODE_NAT) {
		uint8_t *ip = x->out + p->l3, *oic = x->out + p->l4, *oin = oic + q.off;
		uint8_t *oinp = oic + q.l4;
		const uint8_t *snat = lbm_snat(m, p->family);
		uint16_t hc_ic = fuzz_get16(oic + 2);
		uint32_t ph_in = p->family == 6 ? lbm_pseudo(6, ip, p->l4_len, IPPROTO_ICMPV6) : 0;
		uint32_t ic_in = lbm_sum_without(oic, p->l4_len, 2, ph_in);

		/* now about what the backend sent: backend:port -> LB:nat_port */
		if (p->family == 4) {
			uint16_t hc_in = fuzz_get16(oin + 10), hc_ip = fuzz_get16(ip + 10);
			uint32_t in_in = lbm_sum_without(oin, 20, 10, 0);
			uint32_t ip_in = lbm_sum_without(ip, 20, 10, 0);

			lbm_set_addrs(4, oin, be->addr, snat);
			fuzz_put16(oin + 10, lbm_fix(hc_in, in_in, lbm_sum_without(oin, 20, 10, 0)));
			lbm_set_addrs(4, ip, snat, be->addr);
			fuzz_put16(ip + 10, lbm_fix(hc_ip, ip_in, lbm_sum_without(ip, 20, 10, 0)));
		} else {
			lbm_set_addrs(6, oin, be->addr, snat);
			lbm_set_addrs(6, ip, snat, be->addr);
		}
		memcpy(oinp, &be->port, 2);
		memcpy(oinp + 2, &ct->nat_port, 2);
		(void)alen;
		uint32_t ph_out = p->family == 6 ? lbm_pseudo(6, ip, p->l4_len, IPPROTO_ICMPV6) : 0;
		fuzz_put16(oic + 2, lbm_fix(hc_ic, ic_in, lbm_sum_without(oic, p->l4_len, 2, ph_out)));
	}
	lbm_set_macs(x->out, be->mac);
	m->paths[p->family == 4 ? LBM_P_icmp4_be : LBM_P_icmp6_be]++;
	return lbm_verdict(x, FUZZ_TX, LBC_ICMP_TO_BACKEND);
}

static bool lbm_is_vip_addr(const struct lb_model *m, int family, const uint8_t *a)
{
	for (int i = 0; i < m->nvips; i++)
		if (m->vips[i].family == family && !memcmp(m->vips[i].addr, a, lbm_alen(family)))
			return true;
	return false;
}

static bool lbm_whole(const struct lbm_pkt *p)
{
	return p->ok && !p->frag && !p->opts && !p->rh_left && !p->exthdrs;
}

static void lb_model(struct lb_model *m, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	const struct lbm_vip *vip = NULL;
	struct lbm_pkt p;
	int r, alen;

	lbm_begin(m);
	if (memcmp(in->data, m->mac, 6)) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_FOR_US);
		return;
	}
	r = lbm_parse(in->data, in->len, &p);
	if (r == 0) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_IP);
		return;
	}
	if (r == 1) {
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_VIP);
		return;
	}
	alen = lbm_alen(p.family);
	if (lbm_whole(&p) && (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)) {
		uint16_t dport = lbm_raw16(in->data + p.l4 + 2);
		for (int i = 0; i < m->nvips && !vip; i++)
			if (m->vips[i].family == p.family && !memcmp(m->vips[i].addr, p.daddr, alen) &&
			    m->vips[i].port == dport && m->vips[i].proto == p.proto)
				vip = &m->vips[i];
	}
	if (vip) {
		lbm_balance(m, &p, vip, x);
		return;
	}
	if (!lbm_is_vip_addr(m, p.family, p.daddr)) {
		if (m->mode == LB_MODE_NAT && lbm_whole(&p) &&
		    !memcmp(p.daddr, lbm_snat(m, p.family), alen) &&
		    (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP) && lbm_reply(m, &p, x))
			return;
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_NOT_VIP);
		return;
	}
	if (!p.ok && !p.exthdrs)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_MALFORMED);
	else if (p.frag)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_FRAGMENT);
	else if (p.opts || p.rh_left || p.exthdrs)
		lbm_verdict(x, FUZZ_DROP, LBC_DROP_IP_OPTIONS);
	else if (p.proto == (p.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		lbm_icmp(m, &p, x);
	else
		lbm_verdict(x, FUZZ_PASS, LBC_PASS_OTHER_L4);
}
