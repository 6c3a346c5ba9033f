// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The reference matcher of filter.bpf.c, written from docs/filter.md, not from the
 * compiler: a rule set is a list of rules in priority order (the allow-list first), each
 * checked field by field on the packet as model_net.c decodes it; the first that matches
 * decides. Uses filter.h only for the counter layout and actions. */
#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "filter.h"

#define FM_MAX_RULES 16
#define FM_MAX_LIST 4

struct fm_prefix {
	int family, plen;
	uint8_t a[16];
};

struct fm_rule {
	int prio;                  /* 0: the allow-list */
	int action;                /* FA_ALLOW, FA_DENY, FA_LIMIT (a rate nothing reaches) */
	int nsrc, ndst, nproto, nsport, ndport, nicmp;
	struct fm_prefix src[FM_MAX_LIST], dst[FM_MAX_LIST];
	int proto[3];
	struct fm_range { int lo, hi; } sport[3], dport[3];
	struct { int type, code; } icmp[3];   /* code -1: any */
	int has_flags;
	uint8_t fmask, fval;
};

struct fm_set {
	int n;                     /* sorted: allow-list, then by priority */
	struct fm_rule r[FM_MAX_RULES];
	int default_deny;
};

/* Counter vector: FS__N global counters, then per rule slot: packets, dropped. */
#define FM_RULE_PKTS(i) (FS__N + 2 * (i))
#define FM_RULE_DROP(i) (FS__N + 2 * (i) + 1)
#define FM_NCOUNTERS (FS__N + 2 * FM_MAX_RULES)

static int fm_in_prefix(const struct fm_prefix *p, int family, const uint8_t *a)
{
	if (p->family != family)
		return 0;
	for (int b = 0; b < p->plen; b++)
		if (((p->a[b / 8] ^ a[b / 8]) >> (7 - b % 8)) & 1)
			return 0;
	return 1;
}

static int fm_list(const struct fm_prefix *l, int n, int family, const uint8_t *a)
{
	if (!n)
		return 1;
	for (int i = 0; i < n; i++)
		if (fm_in_prefix(&l[i], family, a))
			return 1;
	return 0;
}

struct fm_pkt {
	int family, proto;
	uint8_t src[16], dst[16];
	int has_ports, sport, dport;
	int is_tcp_hdr, flags;
	int is_icmp_hdr, type, code;
};

static int fm_rule_matches(const struct fm_rule *r, const struct fm_pkt *p)
{
	int ok;

	if (!fm_list(r->src, r->nsrc, p->family, p->src) || !fm_list(r->dst, r->ndst, p->family, p->dst))
		return 0;
	if (r->nproto) {
		ok = 0;
		for (int i = 0; i < r->nproto; i++)
			ok |= r->proto[i] == p->proto;
		if (!ok)
			return 0;
	} else if (r->nicmp && p->proto != IPPROTO_ICMP && p->proto != IPPROTO_ICMPV6) {
		return 0;  /* icmp-type alone means icmp or icmpv6 */
	} else if (r->has_flags && p->proto != IPPROTO_TCP) {
		return 0;
	}
	if (r->nsport) {
		ok = 0;
		for (int i = 0; i < r->nsport; i++)
			ok |= p->has_ports && p->sport >= r->sport[i].lo && p->sport <= r->sport[i].hi;
		if (!ok)
			return 0;
	}
	if (r->ndport) {
		ok = 0;
		for (int i = 0; i < r->ndport; i++)
			ok |= p->has_ports && p->dport >= r->dport[i].lo && p->dport <= r->dport[i].hi;
		if (!ok)
			return 0;
	}
	if (r->nicmp) {
		ok = 0;
		for (int i = 0; i < r->nicmp; i++)
			ok |= p->is_icmp_hdr && p->type == r->icmp[i].type &&
			      (r->icmp[i].code < 0 || p->code == r->icmp[i].code);
		if (!ok)
			return 0;
	}
	if (r->has_flags && !(p->is_tcp_hdr && (p->flags & r->fmask) == r->fval))
		return 0;
	return 1;
}

static void filter_model(const struct fm_set *s, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct ref_pkt r;
	struct fm_pkt p = { 0 };
	uint64_t *c = x->counters;
	const uint8_t *b = in->data;

	c[FS_PACKETS] = 1;
	switch (ref_parse(in->data, in->len, &r)) {
	case REF_NOT_IP:
		c[FS_NOT_IP] = 1;
		c[FS_PASS] = 1;
		x->verdict = FUZZ_PASS;
		return;
	case REF_MALFORMED:
	case REF_EXTHDRS:
		c[FS_MALFORMED] = 1;
		c[FS_DROP] = 1;
		x->verdict = FUZZ_DROP;
		return;
	case REF_OK:
		break;
	}
	p.family = r.family;
	p.proto = r.proto;
	if (r.family == 4) {
		memcpy(p.src, b + r.l3 + 12, 4);
		memcpy(p.dst, b + r.l3 + 16, 4);
	} else {
		memcpy(p.src, b + r.l3 + 8, 16);
		memcpy(p.dst, b + r.l3 + 24, 16);
	}
	if (r.frag != REF_FRAG_LATER) {
		if (r.proto == IPPROTO_TCP || r.proto == IPPROTO_UDP) {
			p.has_ports = 1;
			p.sport = fuzz_get16(b + r.l4);
			p.dport = fuzz_get16(b + r.l4 + 2);
			if (r.proto == IPPROTO_TCP) {
				p.is_tcp_hdr = 1;
				p.flags = b[r.l4 + 13];
			}
		} else if (r.proto == (r.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
			p.is_icmp_hdr = 1;
			p.type = b[r.l4];
			p.code = b[r.l4 + 1];
		}
	}
	for (int i = 0; i < s->n; i++) {
		const struct fm_rule *ru = &s->r[i];
		if (!fm_rule_matches(ru, &p))
			continue;
		c[FM_RULE_PKTS(i)] = 1;
		if (ru->action == FA_DENY) {
			c[FS_DENIED] = 1;
			c[FM_RULE_DROP(i)] = 1;
			c[FS_DROP] = 1;
			x->events = 1;
			x->verdict = FUZZ_DROP;
		} else {
			c[ru->action == FA_ALLOW ? FS_ALLOWED : FS_LIMIT_PASS] = 1;
			c[FS_PASS] = 1;
			x->verdict = FUZZ_PASS;
		}
		return;
	}
	c[FS_NOMATCH] = 1;
	if (s->default_deny) {
		c[FS_DROP] = 1;
		x->events = 1;
		x->verdict = FUZZ_DROP;
	} else {
		c[FS_PASS] = 1;
		x->verdict = FUZZ_PASS;
	}
}
