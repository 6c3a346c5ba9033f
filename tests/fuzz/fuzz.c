// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The fuzzer's generator, checksum helpers and runner (see fuzz.h). Included into
 * test_fuzz.c (unity build): the Makefile builds each tests/fuzz/test_*.c from one file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "fuzz.h"

/* ---- PRNG ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t fuzz_next(struct fuzz_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint32_t fuzz_below(struct fuzz_rng *r, uint32_t n)
{
	return (uint32_t)(((fuzz_next(r) >> 32) * n) >> 32);
}

bool fuzz_chance(struct fuzz_rng *r, uint32_t num, uint32_t den)
{
	return fuzz_below(r, den) < num;
}

void fuzz_bytes(struct fuzz_rng *r, void *buf, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)fuzz_next(r);
}

void fuzz_rng_for(struct fuzz_rng *r, uint64_t seed, uint64_t index)
{
	uint64_t x = seed ^ 0x5eedf00dULL;

	fuzz_rng_seed(r, splitmix(&x) ^ (index * 0xd1342543de82ef95ULL + 1));
}

/* ---- byte order and sums ---- */

uint16_t fuzz_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t fuzz_get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
void fuzz_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
void fuzz_put32(uint8_t *p, uint32_t v) { fuzz_put16(p, v >> 16); fuzz_put16(p + 2, (uint16_t)v); }

/* RFC 1071: 16-bit big-endian words, an odd last byte padded with zero on the right. */
uint32_t fuzz_sum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += fuzz_get16(b + i);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t fuzz_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t fuzz_csum(const void *buf, size_t len, uint32_t sum)
{
	return (uint16_t)~fuzz_fold(fuzz_sum(buf, len, sum));
}

/* ---- environment ---- */

void fuzz_env_default(struct fuzz_env *e)
{
	static const uint8_t own6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 1 };
	static const uint8_t ll6[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 2 };

	memset(e, 0, sizeof(*e));
	memcpy(e->own_mac, "\x02\x00\x0a\x4d\x00\x01", 6);
	memcpy(e->peer_mac, "\x02\x00\x0a\x4d\x00\x02", 6);
	memcpy(e->local4[0], "\x0a\x4d\x00\x01", 4);
	e->plen4[0] = 24;
	memcpy(e->local4[1], "\x7f\x00\x00\x01", 4);
	e->plen4[1] = 8;
	e->nlocal4 = 2;
	memcpy(e->local6[0], own6, 16);
	e->plen6[0] = 64;
	memcpy(e->local6[1], ll6, 16);
	e->plen6[1] = 64;
	memcpy(e->local6[2], lo6, 16);
	e->plen6[2] = 128;
	e->nlocal6 = 3;
	memcpy(e->peer4, "\x0a\x4d\x00\x02", 4);
	memcpy(e->peer6, peer6, 16);
}

/* ---- building ---- */

static uint32_t build_l4(const struct fuzz_tmpl *t, uint8_t *l4, size_t cap)
{
	uint32_t n = 0;

	switch (t->proto) {
	case IPPROTO_TCP:
		n = 20 + t->tcp_opts_len;
		if (n + t->payload_len > cap)
			return 0;
		memset(l4, 0, n);
		fuzz_put16(l4, t->sport);
		fuzz_put16(l4 + 2, t->dport);
		fuzz_put32(l4 + 4, t->tcp_seq);
		fuzz_put32(l4 + 8, t->tcp_ack);
		l4[12] = (uint8_t)((n / 4) << 4);
		l4[13] = t->tcp_flags;
		fuzz_put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		n = 8;
		if (n + t->payload_len > cap)
			return 0;
		fuzz_put16(l4, t->sport);
		fuzz_put16(l4 + 2, t->dport);
		fuzz_put16(l4 + 4, (uint16_t)(8 + t->payload_len));
		fuzz_put16(l4 + 6, 0);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		n = 8;
		if (n + t->payload_len > cap)
			return 0;
		l4[0] = t->icmp_type;
		l4[1] = t->icmp_code;
		fuzz_put16(l4 + 2, 0);
		fuzz_put16(l4 + 4, t->icmp_id);
		fuzz_put16(l4 + 6, t->icmp_seq);
		break;
	default:
		if ((size_t)t->payload_len > cap)
			return 0;
	}
	memcpy(l4 + n, t->payload, t->payload_len);
	return n + t->payload_len;
}

/* The L4 checksum over [l4, l4 + len), with the pseudo-header where there is one. */
static void l4_checksum(const struct fuzz_tmpl *t, uint8_t *l4, uint32_t len)
{
	uint32_t ph = 0;
	int off;

	switch (t->proto) {
	case IPPROTO_TCP: off = 16; break;
	case IPPROTO_UDP: off = 6; break;
	case IPPROTO_ICMP: off = 2; break;
	case IPPROTO_ICMPV6: off = 2; break;
	default: return;
	}
	if (off + 2 > (int)len)
		return;
	if (t->proto != IPPROTO_ICMP) {
		uint8_t tail[8] = { 0 };
		int alen = t->family == 4 ? 4 : 16;
		ph = fuzz_sum(t->src, alen, 0);
		ph = fuzz_sum(t->dst, alen, ph);
		fuzz_put32(tail, len);
		tail[7] = t->proto;
		ph = fuzz_sum(tail, 8, ph);
	}
	fuzz_put16(l4 + off, 0);
	uint16_t c = fuzz_csum(l4, len, ph);
	if (t->proto == IPPROTO_UDP && c == 0)
		c = 0xffff; /* RFC 768: zero means "no checksum" */
	fuzz_put16(l4 + off, c);
}

static uint32_t build_ip(const struct fuzz_tmpl *t, uint8_t *ip, size_t cap, uint16_t *l4_off)
{
	uint32_t hl, n;

	if (t->family == 4) {
		int ol = (t->ip_opts_len + 3) & ~3;
		hl = 20 + ol;
		if (hl > cap)
			return 0;
		memset(ip, 0, hl);
		ip[0] = (uint8_t)(0x40 | (hl / 4));
		ip[1] = t->tos;
		fuzz_put16(ip + 4, t->ip_id);
		fuzz_put16(ip + 6, t->frag_off);
		ip[8] = t->ttl;
		ip[9] = t->proto;
		memcpy(ip + 12, t->src, 4);
		memcpy(ip + 16, t->dst, 4);
		memcpy(ip + 20, t->ip_opts, t->ip_opts_len);
		n = build_l4(t, ip + hl, cap - hl);
		if (!n && t->payload_len + 8 > 0 && t->proto != 0 && cap - hl < 8)
			return 0;
		fuzz_put16(ip + 2, (uint16_t)(hl + n));
		fuzz_put16(ip + 10, fuzz_csum(ip, hl, 0));
		l4_checksum(t, ip + hl, n);
		*l4_off = (uint16_t)hl;
		return hl + n;
	}
	hl = 40;
	for (int i = 0; i < t->next; i++)
		hl += t->ext_len[i];
	if (hl > cap)
		return 0;
	memset(ip, 0, 40);
	ip[0] = 0x60 | (t->tos >> 4);
	ip[1] = (uint8_t)(t->tos << 4);
	ip[6] = t->next ? t->ext_type[0] : t->proto;
	ip[7] = t->ttl;
	memcpy(ip + 8, t->src, 16);
	memcpy(ip + 24, t->dst, 16);
	uint32_t off = 40;
	for (int i = 0; i < t->next; i++) {
		uint8_t *h = ip + off, len = t->ext_len[i];
		memcpy(h, t->ext[i], len);
		h[0] = i + 1 < t->next ? t->ext_type[i + 1] : t->proto;
		if (t->ext_type[i] == 51)
			h[1] = (uint8_t)(len / 4 - 2);
		else if (t->ext_type[i] != 44)
			h[1] = (uint8_t)(len / 8 - 1);
		off += len;
	}
	n = build_l4(t, ip + hl, cap - hl);
	fuzz_put16(ip + 4, (uint16_t)(hl - 40 + n));
	l4_checksum(t, ip + hl, n);
	*l4_off = (uint16_t)hl;
	return hl + n;
}

uint32_t fuzz_build_ip(const struct fuzz_tmpl *t, uint8_t *buf, size_t cap)
{
	uint16_t l4;

	return build_ip(t, buf, cap, &l4);
}

uint32_t fuzz_build(const struct fuzz_tmpl *t, struct fuzz_pkt *p)
{
	uint8_t *b = p->data;
	uint32_t off = 12, n;
	uint16_t l4;

	memset(p, 0, sizeof(*p));
	memcpy(b, t->dst_mac, 6);
	memcpy(b + 6, t->src_mac, 6);
	for (int i = 0; i < t->nvlan && i < 2; i++) {
		fuzz_put16(b + off, t->vlan_tpid[i]);
		fuzz_put16(b + off + 2, t->vlan_tci[i]);
		off += 4;
	}
	fuzz_put16(b + off, t->family == 4 ? 0x0800 : t->family == 6 ? 0x86dd : t->ethertype);
	off += 2;
	p->family = t->family;
	p->l3_off = (uint16_t)off;
	p->proto = t->proto;
	if (!t->family) {
		n = t->payload_len;
		if (off + n > FUZZ_PKT_MAX)
			return 0;
		memcpy(b + off, t->payload, n);
		p->l4_off = p->ip_end = (uint16_t)off;
	} else {
		n = build_ip(t, b + off, FUZZ_PKT_MAX - off, &l4);
		if (!n)
			return 0;
		p->l4_off = (uint16_t)(off + l4);
		p->ip_end = (uint16_t)(off + n);
	}
	p->len = off + n;
	/* Ethernet pads to 60 bytes; the padding is not part of the IP packet. */
	while (p->len < 60)
		b[p->len++] = 0;
	return p->len;
}

/* ---- random templates ---- */

static void what(struct fuzz_pkt *p, const char *s)
{
	size_t n = strlen(p->what);

	snprintf(p->what + n, sizeof(p->what) - n, "%s%s", n ? "," : "", s);
}

static void rand_mac(struct fuzz_rng *r, const struct fuzz_env *e, uint8_t *mac, bool dst)
{
	switch (fuzz_below(r, 20)) {
	case 0: memset(mac, 0xff, 6); break;                            /* broadcast */
	case 1: memcpy(mac, "\x01\x00\x5e\x00\x00\x01", 6); break;       /* IPv4 multicast */
	case 2: memcpy(mac, "\x33\x33\x00\x00\x00\x01", 6); break;       /* IPv6 multicast */
	case 3: fuzz_bytes(r, mac, 6); break;
	case 4: memcpy(mac, dst ? e->peer_mac : e->own_mac, 6); break;   /* the other one */
	default: memcpy(mac, dst ? e->own_mac : e->peer_mac, 6);
	}
}

static void rand_addr4(struct fuzz_rng *r, const struct fuzz_env *e, uint8_t *a, bool dst)
{
	const uint8_t *own = e->local4[0];

	switch (fuzz_below(r, 24)) {
	case 0: memset(a, 0, 4); break;
	case 1: memcpy(a, "\x00\x01\x02\x03", 4); break;                  /* 0/8 */
	case 2: memset(a, 0xff, 4); break;
	case 3: memcpy(a, own, 3); a[3] = 0xff; break;                    /* subnet broadcast */
	case 4: memcpy(a, own, 3); a[3] = 0; break;                       /* subnet network */
	case 5: memcpy(a, "\xe0\x00\x00\x01", 4); break;                  /* multicast */
	case 6: memcpy(a, "\xf0\x00\x00\x01", 4); break;                  /* class E */
	case 7: memcpy(a, "\x7f\x00\x00\x01", 4); break;
	case 8: memcpy(a, "\x7f\x01\x02\x03", 4); break;
	case 9: fuzz_bytes(r, a, 4); break;
	case 10: memcpy(a, "\x0a\x4d\x00\x07", 4); break;                 /* a neighbour */
	case 11: memcpy(a, e->local4[fuzz_below(r, e->nlocal4)], 4); break;
	case 12: memcpy(a, dst ? e->peer4 : own, 4); break;               /* the other one */
	default: memcpy(a, dst ? own : e->peer4, 4);
	}
}

static void rand_addr6(struct fuzz_rng *r, const struct fuzz_env *e, uint8_t *a, bool dst)
{
	memset(a, 0, 16);
	switch (fuzz_below(r, 22)) {
	case 0: break;                                                    /* :: */
	case 1: a[15] = 1; break;                                         /* ::1 */
	case 2: a[0] = 0xff; a[1] = 0x02; a[15] = 1; break;               /* ff02::1 */
	case 3: a[0] = 0xff; a[1] = 0x0e; fuzz_bytes(r, a + 2, 14); break;
	case 4: a[10] = a[11] = 0xff; memcpy(a + 12, e->peer4, 4); break; /* v4-mapped */
	case 5: a[0] = 0xfe; a[1] = 0x80; fuzz_bytes(r, a + 8, 8); break;
	case 6: fuzz_bytes(r, a, 16); break;
	case 7: memcpy(a, e->local6[fuzz_below(r, e->nlocal6)], 16); break;
	case 8: memcpy(a, dst ? e->peer6 : e->local6[0], 16); break;
	case 9: memcpy(a, e->local6[0], 16); a[15] = 0; break;            /* subnet-router anycast */
	default: memcpy(a, dst ? e->local6[0] : e->peer6, 16);
	}
}

/* IPv4 options: what real senders use, and broken ones. */
static void rand_opts4(struct fuzz_rng *r, struct fuzz_tmpl *t)
{
	uint8_t *o = t->ip_opts;
	int n = 0, k = fuzz_below(r, 10);

	switch (k) {
	case 0: /* Router Alert (RFC 2113) */
		memcpy(o, "\x94\x04\x00\x00", 4);
		n = 4;
		break;
	case 1: case 2: { /* LSRR / SSRR, finished or not */
		int naddr = 1 + fuzz_below(r, 4);
		o[0] = 1;
		o[1] = k == 1 ? 0x83 : 0x89;
		o[2] = (uint8_t)(3 + 4 * naddr);
		o[3] = (uint8_t)(4 + 4 * fuzz_below(r, naddr + 1)); /* ptr > len: finished */
		fuzz_bytes(r, o + 4, 4 * naddr);
		n = 4 + 4 * naddr;
		break;
	}
	case 3: /* Record Route */
		o[0] = 7;
		o[1] = 11;
		o[2] = 4;
		memset(o + 3, 0, 8);
		o[11] = 0;
		n = 12;
		break;
	case 4: /* Timestamp */
		o[0] = 68;
		o[1] = 12;
		o[2] = 5;
		o[3] = 0;
		memset(o + 4, 0, 8);
		n = 12;
		break;
	case 5: /* NOPs then EOL */
		memcpy(o, "\x01\x01\x01\x00", 4);
		n = 4;
		break;
	case 6: /* length 0 or 1: malformed */
		o[0] = 0x94;
		o[1] = (uint8_t)fuzz_below(r, 2);
		o[2] = o[3] = 0;
		n = 4;
		break;
	case 7: /* length past the header */
		o[0] = 0x94;
		o[1] = (uint8_t)(5 + fuzz_below(r, 40));
		o[2] = o[3] = 0;
		n = 4;
		break;
	case 8: /* source route with a too-small pointer or length */
		o[0] = 0x83;
		o[1] = (uint8_t)fuzz_below(r, 4) + 1;
		o[2] = (uint8_t)fuzz_below(r, 5);
		o[3] = 0;
		n = 4;
		break;
	default:
		n = 4 * (1 + fuzz_below(r, 10));
		fuzz_bytes(r, o, n);
	}
	t->ip_opts_len = n;
}

static void add_ext(struct fuzz_tmpl *t, uint8_t type, int len)
{
	int i = t->next++;

	t->ext_type[i] = type;
	t->ext_len[i] = (uint8_t)len;
	memset(t->ext[i], 0, sizeof(t->ext[i]));
	if (type == 0 || type == 60) {
		/* PadN filling the rest */
		if (len > 2) {
			t->ext[i][2] = 1;
			t->ext[i][3] = (uint8_t)(len - 4);
		}
	}
}

static void rand_ext6(struct fuzz_rng *r, struct fuzz_tmpl *t)
{
	int k = fuzz_below(r, 12), n;

	switch (k) {
	case 0: /* two fragment headers */
		add_ext(t, 44, 8);
		add_ext(t, 44, 8);
		if (fuzz_chance(r, 1, 2))
			fuzz_put16(t->ext[1] + 2, 8 * fuzz_below(r, 4));
		break;
	case 1: /* two routing headers, the first with segments left */
		add_ext(t, 43, 24);
		t->ext[0][2] = 4;
		t->ext[0][3] = (uint8_t)fuzz_below(r, 2);
		add_ext(t, 43, 24);
		t->ext[1][2] = 4;
		t->ext[1][3] = (uint8_t)fuzz_below(r, 2);
		break;
	case 2: /* hop-by-hop not first */
		add_ext(t, 60, 8);
		add_ext(t, 0, 8);
		break;
	default: /* a random chain around the bound */
		n = 1 + fuzz_below(r, k == 3 ? 11 : 4);
		for (int i = 0; i < n; i++) {
			static const uint8_t types[] = { 0, 60, 43, 44, 51 };
			uint8_t ty = types[fuzz_below(r, 5)];
			if (ty == 0 && i > 0 && fuzz_chance(r, 3, 4))
				ty = 60;
			if (ty == 44) {
				add_ext(t, 44, 8);
				uint16_t fo = 0;
				if (fuzz_chance(r, 1, 2))
					fo |= 1;
				if (fuzz_chance(r, 1, 3))
					fo |= (uint16_t)(8 * (1 + fuzz_below(r, 100)));
				fuzz_put16(t->ext[i] + 2, fo);
			} else if (ty == 43) {
				add_ext(t, 43, 8 + 16 * fuzz_below(r, 2));
				t->ext[i][2] = (uint8_t)fuzz_below(r, 5);
				t->ext[i][3] = fuzz_chance(r, 1, 2) ? 0 : (uint8_t)fuzz_below(r, 3);
			} else if (ty == 51) {
				add_ext(t, 51, 12 + 4 * fuzz_below(r, 3));
			} else {
				add_ext(t, ty, 8 * (1 + fuzz_below(r, 3)));
			}
		}
	}
}

void fuzz_tmpl_random(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_tmpl *t)
{
	int kind = fuzz_below(r, 100);

	memset(t, 0, sizeof(*t));
	rand_mac(r, e, t->dst_mac, true);
	rand_mac(r, e, t->src_mac, false);
	if (fuzz_chance(r, 1, 4)) {
		t->nvlan = fuzz_chance(r, 1, 3) ? 2 : 1;
		for (int i = 0; i < t->nvlan; i++) {
			t->vlan_tpid[i] = (t->nvlan == 2 && i == 0) || fuzz_chance(r, 1, 8) ? 0x88a8 : 0x8100;
			t->vlan_tci[i] = (uint16_t)fuzz_next(r);
		}
	}
	if (kind < 5) {
		static const uint16_t types[] = { 0x0806, 0x88cc, 0x8100, 0x1234, 0x86dd, 0x0800 };
		t->family = 0;
		t->ethertype = types[fuzz_below(r, 6)];
		t->payload_len = (int)fuzz_below(r, 100);
		fuzz_bytes(r, t->payload, t->payload_len);
		return;
	}
	t->family = fuzz_chance(r, 1, 2) ? 4 : 6;
	if (t->family == 4) {
		rand_addr4(r, e, t->src, false);
		rand_addr4(r, e, t->dst, true);
	} else {
		rand_addr6(r, e, t->src, false);
		rand_addr6(r, e, t->dst, true);
	}
	switch (fuzz_below(r, 8)) {
	case 0: t->ttl = 0; break;
	case 1: t->ttl = 1; break;
	case 2: t->ttl = 255; break;
	case 3: t->ttl = (uint8_t)fuzz_next(r); break;
	default: t->ttl = 64;
	}
	t->tos = fuzz_chance(r, 1, 8) ? (uint8_t)fuzz_next(r) : 0;
	t->ip_id = (uint16_t)fuzz_next(r);
	if (t->family == 4) {
		if (fuzz_chance(r, 1, 6))
			rand_opts4(r, t);
		switch (fuzz_below(r, 14)) {
		case 0: t->frag_off = 0x2000; break;                               /* first */
		case 1: t->frag_off = 0x2000 | (1 + fuzz_below(r, 200)); break;    /* middle */
		case 2: t->frag_off = 1 + fuzz_below(r, 200); break;               /* last */
		case 3: t->frag_off = 0x4000; break;                               /* DF */
		case 4: t->frag_off = 0x8000; break;                               /* reserved bit */
		default: t->frag_off = 0;
		}
	} else if (fuzz_chance(r, 1, 4)) {
		rand_ext6(r, t);
	}

	if (kind < 60) {
		/* echo request */
		t->proto = t->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		t->icmp_type = t->family == 4 ? 8 : 128;
		t->icmp_code = fuzz_chance(r, 1, 30) ? (uint8_t)(1 + fuzz_below(r, 255)) : 0;
		switch (fuzz_below(r, 10)) {
		case 0: t->icmp_id = 0; t->icmp_seq = 0; break;
		case 1: t->icmp_id = 0xffff; t->icmp_seq = (uint16_t)fuzz_below(r, 2) * 0xffff; break;
		case 2: t->icmp_id = 0; t->icmp_seq = (uint16_t)fuzz_next(r); break;
		default: t->icmp_id = (uint16_t)fuzz_next(r); t->icmp_seq = (uint16_t)fuzz_next(r);
		}
		switch (fuzz_below(r, 8)) {
		case 0: t->payload_len = 0; break;
		case 1: t->payload_len = 56; break;
		case 2: t->payload_len = 1 + 2 * (int)fuzz_below(r, 40); break;      /* odd */
		case 3: t->payload_len = (int)fuzz_below(r, FUZZ_PAYLOAD_MAX); break;
		default: t->payload_len = (int)fuzz_below(r, 120);
		}
		if (fuzz_chance(r, 1, 4))
			memset(t->payload, fuzz_chance(r, 1, 2) ? 0 : 0xff, t->payload_len);
		else
			fuzz_bytes(r, t->payload, t->payload_len);
	} else if (kind < 72) {
		/* other ICMP: replies, errors (with a quoted packet), random types */
		static const uint8_t types4[] = { 0, 3, 11, 5, 13, 8 }, types6[] = { 129, 1, 2, 3, 135, 128 };
		int i = fuzz_below(r, 6);
		t->proto = t->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		t->icmp_type = t->family == 4 ? types4[i] : types6[i];
		if (i == 5)
			t->icmp_type = (uint8_t)fuzz_next(r);
		t->icmp_code = (uint8_t)fuzz_below(r, 5);
		t->payload_len = (int)fuzz_below(r, 80);
		fuzz_bytes(r, t->payload, t->payload_len);
	} else if (kind < 95) {
		t->proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		t->sport = fuzz_chance(r, 1, 20) ? 0 : (uint16_t)fuzz_next(r);
		t->dport = fuzz_chance(r, 1, 2) ? 80 : (uint16_t)fuzz_next(r);
		t->tcp_seq = (uint32_t)fuzz_next(r);
		t->tcp_ack = (uint32_t)fuzz_next(r);
		t->tcp_flags = fuzz_chance(r, 1, 2) ? 0x02 : (uint8_t)fuzz_next(r);
		t->tcp_opts_len = (uint8_t)(4 * fuzz_below(r, 4));
		t->payload_len = (int)fuzz_below(r, 200);
		fuzz_bytes(r, t->payload, t->payload_len);
	} else {
		static const uint8_t protos[] = { 47, 50, 132, 59, 4, 41, 0, 43 };
		t->proto = protos[fuzz_below(r, 8)];
		t->payload_len = (int)fuzz_below(r, 64);
		fuzz_bytes(r, t->payload, t->payload_len);
	}
}

/* ---- mutations ---- */

static void fix_ip4_csum(struct fuzz_pkt *p)
{
	uint8_t *ip = p->data + p->l3_off;
	uint32_t hl;

	if (p->family != 4 || p->l3_off + 20u > p->len)
		return;
	hl = (ip[0] & 15) * 4u;
	if (hl < 20 || p->l3_off + hl > p->len)
		return;
	fuzz_put16(ip + 10, 0);
	fuzz_put16(ip + 10, fuzz_csum(ip, hl, 0));
}

static int l4_csum_off(const struct fuzz_pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP: return 16;
	case IPPROTO_UDP: return 6;
	case IPPROTO_ICMP: case IPPROTO_ICMPV6: return 2;
	default: return -1;
	}
}

/* Sets the L4 checksum to v by adjusting a word the checksum covers (the ICMP id, a port...),
 * so the packet stays valid: the reply side then meets the edge value too. */
static void force_l4_csum(struct fuzz_pkt *p, uint16_t v)
{
	int co = l4_csum_off(p), wo = p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6 ? 4 : 0;
	uint8_t *l4 = p->data + p->l4_off;
	uint16_t c, w;

	if (co < 0 || p->l4_off + 8 > p->ip_end || p->l4_off + 8u > p->len)
		return;
	/* c' = c - (w' - w) in one's complement: choose w' = w + (c - v). */
	c = fuzz_get16(l4 + co);
	w = fuzz_get16(l4 + wo);
	uint32_t d = fuzz_fold((uint32_t)c + (uint16_t)~v);
	uint16_t nw = fuzz_fold((uint32_t)w + d);
	fuzz_put16(l4 + wo, nw);
	/* Two encodings of zero: the sum may have landed on the other one. */
	if (fuzz_get16(l4 + co) != v)
		fuzz_put16(l4 + co, v);
}

static void set16(struct fuzz_pkt *p, int off, uint16_t v)
{
	if (off >= 0 && (uint32_t)off + 2 <= p->len)
		fuzz_put16(p->data + off, v);
}

void fuzz_mutate(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_pkt *p)
{
	int n = fuzz_below(r, 3) + 1;
	int l3 = p->l3_off, l4 = p->l4_off;

	for (int i = 0; i < n && p->len; i++) {
		switch (fuzz_below(r, 20)) {
		case 0: case 1: /* truncation at any length (the runner needs 14) */
			p->len = 14 + fuzz_below(r, p->len > 14 ? p->len - 14 : 1);
			what(p, "truncated");
			break;
		case 2: { /* trailing bytes past the IP packet */
			uint32_t k = 1 + fuzz_below(r, 40);
			if (p->len + k <= FUZZ_PKT_MAX) {
				fuzz_bytes(r, p->data + p->len, k);
				p->len += k;
			}
			what(p, "padded");
			break;
		}
		case 3: case 4: { /* lying IP length */
			int off = p->family == 4 ? l3 + 2 : p->family == 6 ? l3 + 4 : -1;
			uint16_t old = off >= 0 && (uint32_t)off + 2 <= p->len ? fuzz_get16(p->data + off) : 0;
			uint16_t v;
			switch (fuzz_below(r, 4)) {
			case 0: v = (uint16_t)fuzz_next(r); break;
			case 1: v = old - 1 - fuzz_below(r, 12); break;
			case 2: v = old + 1 + fuzz_below(r, 12); break;
			default: v = (uint16_t)(p->family == 4 ? fuzz_below(r, 40) : fuzz_below(r, 16)); break;
			}
			set16(p, off, v);
			if (fuzz_chance(r, 3, 4))
				fix_ip4_csum(p);
			what(p, "lying-iplen");
			break;
		}
		case 5: /* lying ihl / version */
			if (p->family && (uint32_t)l3 < p->len) {
				if (fuzz_chance(r, 2, 3) && p->family == 4)
					p->data[l3] = (uint8_t)(0x40 | fuzz_below(r, 16));
				else
					p->data[l3] = (uint8_t)((fuzz_below(r, 16) << 4) | (p->data[l3] & 15));
				if (fuzz_chance(r, 1, 2))
					fix_ip4_csum(p);
			}
			what(p, "lying-ihl");
			break;
		case 6: /* lying TCP doff / UDP len */
			if (p->proto == IPPROTO_TCP && (uint32_t)l4 + 13 <= p->len)
				p->data[l4 + 12] = (uint8_t)(fuzz_below(r, 16) << 4);
			else if (p->proto == IPPROTO_UDP)
				set16(p, l4 + 4, fuzz_chance(r, 1, 2) ? (uint16_t)fuzz_below(r, 12) :
						 (uint16_t)(p->ip_end - l4 + (int)fuzz_below(r, 9) - 4));
			what(p, "lying-l4len");
			break;
		case 7: case 8: { /* checksum edge values, kept valid or not */
			static const uint16_t edges[] = { 0x0000, 0xffff, 0xf800, 0x07ff, 0x0001, 0xfffe };
			uint16_t v = edges[fuzz_below(r, 6)];
			if (fuzz_chance(r, 2, 3)) {
				force_l4_csum(p, v);
				what(p, "l4csum-edge");
			} else {
				set16(p, l4_csum_off(p) >= 0 ? l4 + l4_csum_off(p) : -1, v);
				what(p, "l4csum-wrong");
			}
			break;
		}
		case 9: /* IPv4 header checksum edge or wrong */
			if (p->family == 4) {
				set16(p, l3 + 10, fuzz_chance(r, 1, 2) ? 0xffff : (uint16_t)fuzz_next(r));
				what(p, "ipcsum-wrong");
			}
			break;
		case 10: case 11: { /* a random byte in the headers */
			uint32_t end = p->l4_off + 8u < p->len ? p->l4_off + 8u : p->len;
			if (end) {
				p->data[fuzz_below(r, end)] ^= (uint8_t)(1 + fuzz_below(r, 255));
				if (fuzz_chance(r, 1, 2))
					fix_ip4_csum(p);
			}
			what(p, "flip");
			break;
		}
		case 12: /* TTL / hop limit edges */
			if (p->family == 4 && (uint32_t)l3 + 9 <= p->len) {
				p->data[l3 + 8] = fuzz_chance(r, 1, 2) ? 0 : 1;
				fix_ip4_csum(p);
			} else if (p->family == 6 && (uint32_t)l3 + 8 <= p->len) {
				p->data[l3 + 7] = fuzz_chance(r, 1, 2) ? 0 : 255;
			}
			what(p, "ttl");
			break;
		case 13: /* source MAC multicast/broadcast */
			if (fuzz_chance(r, 1, 2))
				memset(p->data + 6, 0xff, 6);
			else
				p->data[6] |= 1;
			what(p, "src-mac-mcast");
			break;
		case 14: /* the frame is ours after all: undo odd MACs */
			memcpy(p->data, e->own_mac, 6);
			memcpy(p->data + 6, e->peer_mac, 6);
			what(p, "macs-ok");
			break;
		default: /* leave it valid: most packets should reach deep into the programs */
			break;
		}
	}
}

void fuzz_gen_default(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_pkt *p)
{
	static struct fuzz_tmpl t;
	char kind[40];

	do {
		fuzz_tmpl_random(r, e, &t);
	} while (!fuzz_build(&t, p));
	snprintf(kind, sizeof(kind), "%s/%u%s", t.family == 4 ? "ip4" : t.family == 6 ? "ip6" : "l2",
		 t.proto, t.nvlan ? "/vlan" : "");
	what(p, kind);
	/* Most packets stay valid, so the deep paths (replies) are reached often. */
	if (fuzz_chance(r, 1, 2))
		fuzz_mutate(r, e, p);
}

/* ---- runner ---- */

void fuzz_hex(const char *prefix, const uint8_t *buf, size_t len)
{
	printf("%s", prefix);
	for (size_t i = 0; i < len; i++)
		printf("%02x", buf[i]);
	printf("\n");
}

static uint32_t retval_of(const struct fuzz_ctx *c, enum fuzz_verdict v)
{
	bool tc = c->tc;

	if (tc)
		return v == FUZZ_PASS ? c->tc_pass : v == FUZZ_DROP ? TC_ACT_SHOT : TC_ACT_REDIRECT;
	return v == FUZZ_PASS ? XDP_PASS : v == FUZZ_DROP ? XDP_DROP : XDP_TX;
}

static const char *verdict_name(enum fuzz_verdict v)
{
	return v == FUZZ_PASS ? "pass" : v == FUZZ_DROP ? "drop" : "tx";
}

static int test_run(struct fuzz_ctx *c, const struct fuzz_pkt *in, uint8_t *out, uint32_t *out_len,
		    uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in->data, .data_size_in = in->len,
		.data_out = out, .data_size_out = FUZZ_PKT_MAX + 256,
		.repeat = 1);
	struct __sk_buff skb = { .mark = in->mark };
	int err;

	/* tc: the skb comes from the data, on loopback, as test_ping.c runs it; a ctx only
	 * when the packet carries a mark (skb->mark is one of the fields ctx_in may set). */
	if (c->tc && in->mark) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(c->prog_fd, &o);
	if (err)
		return -errno;
	*out_len = o.data_size_out;
	*retval = o.retval;
	return 0;
}

static void report(const struct fuzz_ctx *c, const struct fuzz_run *run, uint64_t idx,
		   const struct fuzz_pkt *in, const char *why)
{
	printf("# FAIL %s seed=%llu index=%llu (%s): %s\n", c->t->name,
	       (unsigned long long)run->seed, (unsigned long long)idx, in->what, why);
	fuzz_hex("#   in:  ", in->data, in->len);
	printf("#   reproduce: test_fuzz --target %s --seed %llu --index %llu -v\n", c->t->name,
	       (unsigned long long)run->seed, (unsigned long long)idx);
}

long fuzz_run_target(const struct fuzz_target *t, const struct fuzz_run *run, struct fuzz_stats *st)
{
	static uint8_t out[FUZZ_PKT_MAX + 256];
	static struct fuzz_expect x;
	static struct fuzz_pkt p;
	struct fuzz_ctx c = { .t = t, .prog_fd = -1 };
	uint64_t before[FUZZ_MAX_COUNTERS], after[FUZZ_MAX_COUNTERS];
	long fails = 0;
	int err;

	memset(st, 0, sizeof(*st));
	fuzz_env_default(&c.env);
	err = t->setup(&c);
	if (err)
		return err < 0 ? err : -EINVAL;
	if (t->read_counters(&c, before)) {
		fails = -EIO;
		goto out;
	}
	if (t->drain_events)
		t->drain_events(&c);
	for (uint64_t i = run->first; i < run->first + run->count; i++) {
		struct fuzz_rng r;
		uint32_t out_len = 0, ret = 0, want;
		char why[512];
		int bad = 0;

		fuzz_rng_for(&r, run->seed, i);
		p.mark = 0;
		if (t->gen)
			t->gen(&r, &c, &p);
		else
			fuzz_gen_default(&r, &c.env, &p);
		if (p.len < 14)
			continue;
		memset(&x, 0, sizeof(x));
		t->model(&c, &p, &x);
		err = test_run(&c, &p, out, &out_len, &ret);
		/* The skb test run refuses a frame shorter than the L3 header its EtherType
		 * names (XDP takes it): such frames are run through the xdp targets only. */
		if (err == -EINVAL && c.tc && p.len < 14 + 8 + 40) {
			st->untestable++;
			continue;
		}
		if (err) {
			snprintf(why, sizeof(why), "BPF_PROG_TEST_RUN failed: %s", strerror(-err));
			report(&c, run, i, &p, why);
			fails++;
			goto next;
		}
		st->packets++;
		st->verdicts[x.verdict]++;
		st->events += x.events;
		want = retval_of(&c, x.verdict);
		if (run->verbose) {
			printf("# %s index %llu (%s): model %s, program %u\n", t->name,
			       (unsigned long long)i, p.what, verdict_name(x.verdict), ret);
			fuzz_hex("#   in:  ", p.data, p.len);
		}
		if (ret != want) {
			snprintf(why, sizeof(why), "verdict %u, model says %s (%u)%s", ret,
				 verdict_name(x.verdict), want,
				 !c.tc && ret == XDP_ABORTED ? " — XDP_ABORTED" : "");
			report(&c, run, i, &p, why);
			bad = 1;
		} else if (x.verdict == FUZZ_TX && t->settle_tx &&
			   !t->settle_tx(&c, &p, out, out_len, &x, why, sizeof(why))) {
			report(&c, run, i, &p, why);
			fuzz_hex("#   out: ", out, out_len);
			bad = 1;
		} else {
			bool rw = x.verdict == FUZZ_TX || (x.verdict == FUZZ_PASS && x.pass_rewritten);
			const uint8_t *w = rw ? x.out : p.data;
			uint32_t wl = rw ? x.out_len : p.len;
			if (out_len != wl || memcmp(out, w, wl)) {
				int nd = 0;
				char *s = why;
				s += snprintf(why, sizeof(why), "%s output differs (len %u, model %u):",
					      verdict_name(x.verdict), out_len, wl);
				for (uint32_t k = 0; k < wl && k < out_len && nd < 12; k++)
					if (out[k] != w[k]) {
						s += snprintf(s, why + sizeof(why) - s, " [%u] %02x!=%02x", k,
							      out[k], w[k]);
						nd++;
					}
				report(&c, run, i, &p, why);
				fuzz_hex("#   out: ", out, out_len);
				fuzz_hex("#   want:", w, wl);
				bad = 1;
			}
		}
		if (t->read_counters(&c, after)) {
			report(&c, run, i, &p, "cannot read counters");
			bad = 1;
		} else {
			uint64_t evsum = 0;
			for (int k = 0; k < t->ncounters; k++) {
				uint64_t d = after[k] - before[k];
				if (t->event_counters & (1ULL << k)) {
					evsum += d;
					continue;
				}
				st->counters[k] += d;
				if (d != x.counters[k]) {
					snprintf(why, sizeof(why), "counter %s +%llu, model +%llu",
						 t->counter_names[k], (unsigned long long)d,
						 (unsigned long long)x.counters[k]);
					report(&c, run, i, &p, why);
					bad = 1;
				}
			}
			if (t->drain_events)
				evsum += (uint64_t)t->drain_events(&c);
			if (t->event_counters && evsum != x.events) {
				snprintf(why, sizeof(why), "events+suppressed+lost %llu, model %llu",
					 (unsigned long long)evsum, (unsigned long long)x.events);
				report(&c, run, i, &p, why);
				bad = 1;
			}
			memcpy(before, after, sizeof(before));
		}
		fails += bad;
next:
		if (fails >= run->max_failures && run->max_failures > 0)
			break;
	}
out:
	st->failures = fails > 0 ? (uint64_t)fails : 0;
	if (t->teardown)
		t->teardown(&c);
	return fails;
}
