// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter targets: filter.bpf.c loaded through filter_prog_load() and given a random rule
 * set (from a fixed seed per target) written as a rule file and put through the command's
 * own parser, compiler and installer; the model (model_filter.c) matches the same rules,
 * kept as its own structures. Packets are drawn near the rules' addresses and ports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "filter.h"
#include "filter_prog.h"
#include "filter_ctl.h"
#include "filter.skel.h"

struct filter_fuzz {
	struct filter_bpf *skel;
	struct filter_fds fds;
	struct fm_set set;
	int fillers;     /* rules that match no packet, ahead of the set's (after its allow-list) */
};

/* filter_b puts 64 of them ahead of its rules, so that these sit past bit 63 and the
 * program's path for rules 64 and up (match_rest) is the one that decides. */
#define FILTER_FUZZ_FILLERS 64

static const char *const filter_counter_names[FM_NCOUNTERS] = {
	"packets", "pass", "drop", "not_ip", "malformed", "no_match", "allowed", "denied",
	"limit_pass", "limited", "blocked", "events", "events_suppressed", "events_lost",
	"synproxy",
	"r0_pkts", "r0_drop", "r1_pkts", "r1_drop", "r2_pkts", "r2_drop", "r3_pkts", "r3_drop",
	"r4_pkts", "r4_drop", "r5_pkts", "r5_drop", "r6_pkts", "r6_drop", "r7_pkts", "r7_drop",
	"r8_pkts", "r8_drop", "r9_pkts", "r9_drop", "r10_pkts", "r10_drop", "r11_pkts", "r11_drop",
	"r12_pkts", "r12_drop", "r13_pkts", "r13_drop", "r14_pkts", "r14_drop", "r15_pkts",
	"r15_drop",
};

/* Addresses near the fuzzer's lab (fuzz_env_default) and a few elsewhere. */
static void filter_fuzz_prefix(struct fuzz_rng *r, int family, struct fm_prefix *p)
{
	static const uint8_t v4[][4] = { { 10, 77, 0, 1 }, { 10, 77, 0, 2 }, { 127, 0, 0, 1 },
					 { 192, 0, 2, 9 }, { 10, 77, 1, 0 } };
	static const int plens4[] = { 32, 24, 16, 8, 28, 31, 25, 30 };
	static const int plens6[] = { 128, 64, 48, 32, 120, 127, 65, 10 };
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77 };

	memset(p, 0, sizeof(*p));
	p->family = family;
	if (family == 4) {
		memcpy(p->a, v4[fuzz_below(r, 5)], 4);
		if (fuzz_chance(r, 1, 5))
			fuzz_bytes(r, p->a, 4);
		p->plen = plens4[fuzz_below(r, 8)];
	} else {
		a[15] = fuzz_below(r, 3);
		memcpy(p->a, a, 16);
		if (fuzz_chance(r, 1, 5))
			fuzz_bytes(r, p->a, 16);
		p->plen = plens6[fuzz_below(r, 8)];
	}
	for (int b = p->plen; b < (family == 4 ? 32 : 128); b++)
		p->a[b / 8] &= ~(0x80 >> (b % 8));
}

static void filter_fuzz_ports(struct fuzz_rng *r, int *n, struct fm_range *rg)
{
	static const int common[] = { 0, 1, 22, 53, 80, 443, 1024, 8080, 65535 };

	*n = 1 + fuzz_below(r, 3);
	for (int i = 0; i < *n; i++) {
		rg[i].lo = fuzz_chance(r, 1, 2) ? common[fuzz_below(r, 9)] : (int)fuzz_below(r, 65536);
		rg[i].hi = fuzz_chance(r, 1, 2) ? rg[i].lo : rg[i].lo + (int)fuzz_below(r, 65536 - rg[i].lo);
	}
}

static void filter_fuzz_ruleset(uint64_t seed, struct fm_set *s)
{
	struct fuzz_rng r;
	int prio = 0;

	fuzz_rng_seed(&r, seed);
	memset(s, 0, sizeof(*s));
	s->default_deny = fuzz_chance(&r, 1, 3);
	if (fuzz_chance(&r, 1, 2)) {
		struct fm_rule *a = &s->r[s->n++];
		a->action = FA_ALLOW;
		a->nsrc = 1 + fuzz_below(&r, 2);
		for (int i = 0; i < a->nsrc; i++)
			filter_fuzz_prefix(&r, fuzz_chance(&r, 1, 2) ? 4 : 6, &a->src[i]);
		a->src[0].plen = a->src[0].family == 4 ? 32 : 128;
	}
	while (s->n < FM_MAX_RULES - (int)fuzz_below(&r, 6)) {
		struct fm_rule *u = &s->r[s->n++];
		int fam = fuzz_chance(&r, 1, 2) ? 4 : 6, kind = fuzz_below(&r, 4);

		prio += 1 + fuzz_below(&r, 20);
		u->prio = prio;
		u->action = fuzz_chance(&r, 1, 2) ? FA_DENY : fuzz_chance(&r, 1, 2) ? FA_ALLOW : FA_LIMIT;
		if (fuzz_chance(&r, 1, 2)) {
			u->nsrc = 1 + fuzz_below(&r, FM_MAX_LIST);
			for (int i = 0; i < u->nsrc; i++)
				filter_fuzz_prefix(&r, fam, &u->src[i]);
		}
		if (fuzz_chance(&r, 1, 3)) {
			u->ndst = 1 + fuzz_below(&r, 2);
			for (int i = 0; i < u->ndst; i++)
				filter_fuzz_prefix(&r, u->nsrc ? fam : (fuzz_chance(&r, 1, 2) ? 4 : 6), &u->dst[i]);
		}
		if (kind == 0) {            /* TCP/UDP with ports */
			if (fuzz_chance(&r, 2, 3)) {
				u->nproto = 1 + fuzz_below(&r, 2);
				u->proto[0] = fuzz_chance(&r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
				u->proto[1] = u->proto[0] == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
			}
			if (fuzz_chance(&r, 2, 3))
				filter_fuzz_ports(&r, &u->ndport, u->dport);
			if (fuzz_chance(&r, 1, 3))
				filter_fuzz_ports(&r, &u->nsport, u->sport);
		} else if (kind == 1) {     /* ICMP types */
			if (fuzz_chance(&r, 2, 3)) {
				u->nproto = 1;
				u->proto[0] = fuzz_chance(&r, 1, 2) ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			}
			u->nicmp = 1 + fuzz_below(&r, 3);
			for (int i = 0; i < u->nicmp; i++) {
				static const int types[] = { 8, 0, 3, 11, 128, 129, 135, 1 };
				u->icmp[i].type = types[fuzz_below(&r, 8)];
				u->icmp[i].code = fuzz_chance(&r, 1, 2) ? -1 : (int)fuzz_below(&r, 3);
			}
		} else if (kind == 2) {     /* TCP flags */
			if (fuzz_chance(&r, 1, 2)) {
				u->nproto = 1;
				u->proto[0] = IPPROTO_TCP;
			}
			u->has_flags = 1;
			u->fmask = (uint8_t)fuzz_next(&r) | 0x02;
			u->fval = (uint8_t)fuzz_next(&r) & u->fmask;
		} else if (fuzz_chance(&r, 1, 2)) {   /* any protocol number */
			static const int protos[] = { 6, 17, 1, 58, 47, 132, 0, 255 };
			u->nproto = 1 + fuzz_below(&r, 3);
			for (int i = 0; i < u->nproto; i++)
				u->proto[i] = protos[fuzz_below(&r, 8)];
		}
	}
}

static int filter_fuzz_text(const struct fm_set *s, int fillers, char *buf, size_t cap)
{
	size_t n = 0;
	char a[64];

#define P(...) (n += snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__))
	P("default %s\n", s->default_deny ? "deny" : "allow");
	/* 192.0.2.255 to 192.0.2.254 over protocol 253 is never generated. */
	for (int i = 0; i < fillers; i++)
		P("%d deny src 192.0.2.255 dst 192.0.2.254 proto 253\n", 1 + i);
	for (int i = 0; i < s->n; i++) {
		const struct fm_rule *u = &s->r[i];
		if (!u->prio) {
			P("allowlist");
		} else {
			P("%d %s", u->prio + fillers, u->action == FA_ALLOW ? "allow" : u->action == FA_DENY ? "deny" : "limit");
		}
		for (int d = 0; d < 2; d++) {
			const struct fm_prefix *l = d ? u->dst : u->src;
			int cnt = d ? u->ndst : u->nsrc;
			if (!cnt)
				continue;
			P(u->prio ? " %s " : " ", d ? "dst" : "src");
			for (int k = 0; k < cnt; k++) {
				inet_ntop(l[k].family == 4 ? AF_INET : AF_INET6, l[k].a, a, sizeof(a));
				P("%s%s/%d", k ? "," : "", a, l[k].plen);
			}
		}
		if (u->nproto) {
			P(" proto ");
			for (int k = 0; k < u->nproto; k++)
				P("%s%d", k ? "," : "", u->proto[k]);
		}
		for (int d = 0; d < 2; d++) {
			int cnt = d ? u->ndport : u->nsport;
			if (!cnt)
				continue;
			P(" %s ", d ? "dport" : "sport");
			for (int k = 0; k < cnt; k++) {
				int lo = d ? u->dport[k].lo : u->sport[k].lo, hi = d ? u->dport[k].hi : u->sport[k].hi;
				if (lo == hi)
					P("%s%d", k ? "," : "", lo);
				else
					P("%s%d-%d", k ? "," : "", lo, hi);
			}
		}
		if (u->nicmp) {
			P(" icmp-type ");
			for (int k = 0; k < u->nicmp; k++) {
				P("%s%d", k ? "," : "", u->icmp[k].type);
				if (u->icmp[k].code >= 0)
					P("/%d", u->icmp[k].code);
			}
		}
		if (u->has_flags) {
			static const char *names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };
			int first = 1;
			P(" flags ");
			for (int b = 0; b < 8; b++)
				if (u->fmask & (1 << b)) {
					P("%s%s%s", first ? "" : ",", u->fval & (1 << b) ? "" : "!", names[b]);
					first = 0;
				}
		}
		if (u->action == FA_LIMIT)
			P(" rate 4000mpps burst 4000m");
		P("\n");
	}
#undef P
	return n < cap ? 0 : -E2BIG;
}

static int filter_fuzz_setup(struct fuzz_ctx *c, uint64_t seed, int fillers)
{
	struct filter_fuzz *ff = calloc(1, sizeof(*ff));
	struct fr_tables *t = calloc(1, sizeof(*t));
	char *text = malloc(65536), err[512];
	struct fr_set s;
	__u32 gen;
	int e;

	if (!ff || !t || !text) {
		e = -ENOMEM;
		goto out;
	}
	filter_fuzz_ruleset(seed, &ff->set);
	ff->fillers = fillers;
	if ((e = filter_fuzz_text(&ff->set, fillers, text, 65536)))
		goto out;
	if (getenv("FUZZ_FILTER_RULES"))
		printf("%s", text);
	if ((e = fr_parse("fuzz.rules", text, &s, err, sizeof(err)))) {
		printf("# rule set refused: %s\n%s", err, text);
		goto out;
	}
	e = fr_compile(&s, t, err, sizeof(err));
	fr_set_free(&s);
	if (e) {
		printf("# rule set not compiled: %s\n", err);
		goto out;
	}
	ff->skel = filter_prog_load(&(struct filter_prog_cfg){ 0 });
	if (!ff->skel) {
		e = -errno;
		goto out;
	}
	filter_fds_from_skel(ff->skel, &ff->fds);
	if ((e = filter_install(&ff->fds, t, &gen)))
		goto out;
	c->prog_fd = filter_prog_fd(ff->skel);
	c->priv = ff;
	ff = NULL;
out:
	if (ff) {
		if (ff->skel)
			filter_prog_destroy(ff->skel);
		free(ff);
	}
	if (t)
		fr_tables_free(t);
	free(t);
	free(text);
	return e;
}

static int filter_fuzz_a(struct fuzz_ctx *c) { return filter_fuzz_setup(c, 0xf11e7a, 0); }
static int filter_fuzz_b(struct fuzz_ctx *c)
{
	return filter_fuzz_setup(c, 0xf11e7b, FILTER_FUZZ_FILLERS);
}

static void filter_fuzz_teardown(struct fuzz_ctx *c)
{
	struct filter_fuzz *ff = c->priv;

	filter_prog_destroy(ff->skel);
	free(ff);
}

/* Random packets, half of them moved onto the rules' addresses, protocols and ports. */
static void filter_fuzz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	const struct fm_set *s = &((struct filter_fuzz *)c->priv)->set;
	struct fuzz_tmpl t;

	fuzz_tmpl_random(r, &c->env, &t);
	if (t.family && s->n && fuzz_chance(r, 2, 3)) {
		const struct fm_rule *u = &s->r[fuzz_below(r, s->n)];
		int len = t.family == 4 ? 4 : 16;
		for (int d = 0; d < 2; d++) {
			const struct fm_prefix *l = d ? u->dst : u->src;
			int cnt = d ? u->ndst : u->nsrc;
			uint8_t *a = d ? t.dst : t.src;
			if (!cnt || l[0].family != t.family || fuzz_chance(r, 1, 5))
				continue;
			const struct fm_prefix *pf = &l[fuzz_below(r, cnt)];
			uint8_t rnd[16];
			fuzz_bytes(r, rnd, 16);
			for (int b = 0; b < len * 8; b++) {
				int bit = b < pf->plen ? (pf->a[b / 8] >> (7 - b % 8)) & 1
						       : (rnd[b / 8] >> (7 - b % 8)) & 1;
				if (b == pf->plen && fuzz_chance(r, 1, 4))
					bit ^= 1; /* just outside, sometimes */
				a[b / 8] = (a[b / 8] & ~(0x80 >> (b % 8))) | (bit << (7 - b % 8));
			}
		}
		if (u->nproto)
			t.proto = u->proto[fuzz_below(r, u->nproto)];
		else if (u->ndport || u->nsport || fuzz_chance(r, 1, 2))
			t.proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		if (u->nicmp) {
			int k = fuzz_below(r, u->nicmp);
			if (t.proto != IPPROTO_ICMP && t.proto != IPPROTO_ICMPV6)
				t.proto = t.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			t.icmp_type = u->icmp[k].type;
			t.icmp_code = u->icmp[k].code >= 0 ? (uint32_t)u->icmp[k].code : fuzz_below(r, 4);
		}
		if (u->ndport) {
			int k = fuzz_below(r, u->ndport);
			t.dport = fuzz_chance(r, 1, 2) ? u->dport[k].lo : u->dport[k].hi + (int)fuzz_below(r, 2);
		}
		if (u->nsport) {
			int k = fuzz_below(r, u->nsport);
			t.sport = fuzz_chance(r, 1, 2) ? u->sport[k].hi : u->sport[k].lo - (int)fuzz_below(r, 2);
		}
		if (t.proto == IPPROTO_TCP)
			t.tcp_flags = u->has_flags && fuzz_chance(r, 1, 2) ? u->fval : (uint8_t)fuzz_next(r);
	}
	if (!fuzz_build(&t, p))
		fuzz_gen_default(r, &c->env, p);
	else if (fuzz_chance(r, 1, 3))
		fuzz_mutate(r, &c->env, p);
}

static void filter_fuzz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	filter_model(&((struct filter_fuzz *)c->priv)->set, in, x);
}

static int filter_fuzz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct filter_fuzz *ff = c->priv;
	struct filter_running *r = calloc(1, sizeof(*r));
	int err = r ? filter_read_running(&ff->fds, r) : -ENOMEM;

	if (!err) {
		memset(v, 0, sizeof(uint64_t) * FM_NCOUNTERS);
		memcpy(v, r->c, sizeof(r->c));
		for (int i = 0; i < ff->set.n && i < FM_MAX_RULES; i++) {
			/* The allow-list keeps bit 0; the fillers come before the other rules. */
			int k = i + (i == 0 && ff->set.r[0].prio == 0 ? 0 : ff->fillers);
			v[FM_RULE_PKTS(i)] = r->stats[k].packets;
			v[FM_RULE_DROP(i)] = r->stats[k].dropped;
		}
	}
	free(r);
	return err;
}

#define FILTER_FUZZ_TARGET(var, nm, setup_fn) \
	static const struct fuzz_target var = { \
		.name = nm, .setup = setup_fn, .teardown = filter_fuzz_teardown, \
		.gen = filter_fuzz_gen, .model = filter_fuzz_model, \
		.read_counters = filter_fuzz_counters, .ncounters = FM_NCOUNTERS, \
		.counter_names = filter_counter_names, \
		.event_counters = (1ULL << FS_EVENTS) | (1ULL << FS_SUPPRESSED) | (1ULL << FS_EVENTS_LOST), \
	}

FILTER_FUZZ_TARGET(fuzz_filter_a, "filter_a", filter_fuzz_a);
FILTER_FUZZ_TARGET(fuzz_filter_b, "filter_b", filter_fuzz_b);
