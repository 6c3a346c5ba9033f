/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* SYN cookies answered in XDP, in front of the kernel's SYNPROXY (issue 15).
 *
 * For TCP to a --synproxy port: packets of a flow conntrack has confirmed pass; a SYN gets a
 * SYN-ACK whose sequence number is a cookie from bpf_tcp_raw_gen_syncookie_ipv4/6 (the
 * kernel's own cookie, so the kernel's SYNPROXY can check it again), sent back with XDP_TX;
 * an ACK passes only if bpf_tcp_raw_check_syncookie_ipv4/6 says its cookie is ours, and the
 * kernel's SYNPROXY (nftables, set up by synproxy.c) then opens the real connection. A SYN
 * flood therefore never reaches the stack: no socket, no conntrack entry, no SYN queue.
 *
 * The design follows the kernel's xdp_synproxy selftest, with these differences: the headers
 * come from the shared parser (VLAN tags are kept, IPv4 options and IPv6 extension headers
 * are dropped from the reply instead of being holes), the SYN's headers are copied to the
 * stack before anything is computed (so the helpers get bounded buffers and the reply is
 * built without moving packet bytes), and every outcome is counted (enum syn_stat).
 *
 * Options, as the kernel's SYNPROXY expects them: without timestamps the cookie only keeps
 * the MSS, so the SYN-ACK offers only MSS; with timestamps, our TSval carries the client's
 * window scale (0xf: none), SACK-permitted (bit 4) and ECN (bit 5) in its low 6 bits
 * (the kernel's cookie_init_timestamp format), and the SYN-ACK offers SACK and window
 * scale only if the SYN did (RFC 7323 1.3, RFC 2018). The window is 0, as the kernel's
 * SYNPROXY sends it: no data before the real connection exists.
 */
#ifndef BPFLAB_SYNCOOKIE_BPF_H
#define BPFLAB_SYNCOOKIE_BPF_H

#include "parse.h"
#include "syncookie.h"

const volatile __u8 syn_enabled = 0;
const volatile __u64 syn_ports[SYN_PORT_WORDS] = {};
const volatile __u16 syn_mss4 = 0, syn_mss6 = 0;
const volatile __u8 syn_wscale = 0, syn_ttl = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYN_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} syn_stats SEC(".maps");

/* The conntrack kfuncs (net/netfilter/nf_conntrack_bpf.c). Only `status` is read, through
 * CO-RE, so the struct needs no more than that field; the options are the 12-byte layout
 * every kernel since 6.0 accepts. */
struct nf_conn {
	unsigned long status;
} __attribute__((preserve_access_index));

struct bpf_ct_opts___syn {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts___syn *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

#define SYN_IPS_CONFIRMED (1UL << 3) /* IPS_CONFIRMED_BIT, uapi nf_conntrack_common.h */
#define SYN_ENOENT 2
#define SYN_TH_MAX 60                /* doff 15 */

#define SYN_F_FIN 0x01
#define SYN_F_SYN 0x02
#define SYN_F_RST 0x04
#define SYN_F_ACK 0x10
#define SYN_F_ECE 0x40
#define SYN_F_CWR 0x80

static __always_inline void syn_count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&syn_stats, &k);

	if (v)
		*v += 1;
}

static __always_inline int syn_port_on(__u16 port)
{
	return (syn_ports[port >> 6] >> (port & 63)) & 1;
}

/* Folds a 64-bit sum of 32-bit words to the 16-bit ones' complement of its sum: 0 when
 * the data already holds a right checksum. */
static __always_inline __u16 syn_fold(__u64 s)
{
	__u32 c;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	c = (__u32)s;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)~c;
}

/* The 32-bit words of a header, summed for its ones' complement checksum (RFC 1071: the
 * order of the words does not matter). Summed here, not with bpf_csum_diff: a helper call
 * costs more than these few adds (docs/filter.md, "SYN floods"). All `max` words (a
 * constant) are read, so buf must hold that many; only the first `words` count. */
static __always_inline __u64 syn_sum(const void *buf, __u32 words, const int max)
{
	const __u32 *w = buf;
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < max; i++)
		s += i < words ? w[i] : 0;
	return s;
}

struct syn_reply4 {
	struct iphdr ip;
	struct tcphdr th;
	__be32 opt[5];
};

struct syn_reply6 {
	struct ipv6hdr ip;
	struct tcphdr th;
	__be32 opt[5];
};

/* Copies of the packet's headers and the reply being built: a per-CPU map value, not the
 * stack, because the firewall that includes this header has its own stack to keep (the
 * verifier allows 512 bytes for the program and bpf_loop's callback together). XDP runs
 * one packet at a time per CPU, so one entry per CPU is enough. */
struct syn_scratch {
	__u8 th[64];   /* the TCP header (doff * 4 <= 60) */
	__u8 ip[64];   /* the IPv4 header with options, or the fixed IPv6 header */
	union {
		struct syn_reply4 r4;
		struct syn_reply6 r6;
	} r;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syn_scratch);
} syn_scratch SEC(".maps");

/* What the SYN's options say (the header itself is in syn_scratch.th). */
struct syn_optctx {
	__u32 off;
	__u32 end;
	__u32 tsval;   /* the client's TSval, network order */
	__u8 wscale;   /* 0xf: no window scale option */
	__u8 sack;
	__u8 ts;
	__u8 pad;
};

static __always_inline struct syn_scratch *syn_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&syn_scratch, &zero);
}

/* One TCP option per call (bpf_loop: verified once, whatever the option list holds). RFC
 * 9293 3.2: kind 0 ends the list, kind 1 is one byte, every other kind has a length >= 2
 * that must stay inside the header. */
static int syn_opt_step(__u32 i, void *arg)
{
	struct syn_optctx *c = arg;
	struct syn_scratch *s = syn_scratch_get();
	__u32 off = c->off, end = c->end, len;
	__u8 kind;

	if (!s || off >= end || end > SYN_TH_MAX)
		return 1;
	kind = s->th[off & 63];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		c->off = off + 1;
		return 0;
	}
	if (off + 1 >= end)
		return 1;
	len = s->th[(off + 1) & 63];
	if (len < 2 || off + len > end)
		return 1;
	if (kind == 3 && len == 3) {
		__u8 ws = s->th[(off + 2) & 63];
		c->wscale = ws < 14 ? ws : 14; /* RFC 7323 2.3: larger values mean 14 */
	} else if (kind == 4 && len == 2) {
		c->sack = 1;
	} else if (kind == 8 && len == 10) {
		c->ts = 1;
		c->tsval = (__u32)s->th[(off + 2) & 63] | (__u32)s->th[(off + 3) & 63] << 8 |
			   (__u32)s->th[(off + 4) & 63] << 16 | (__u32)s->th[(off + 5) & 63] << 24;
	}
	c->off = off + len;
	return 0;
}

/* A word of the header in host order; whether it starts MSS, or NOP + window scale. */
#define SYN_W(b, off) bpf_ntohl(*(const __u32 *)((b) + (off)))
#define SYN_MSS_KIND(h) (((h) >> 16) == 0x0204)
#define SYN_WS_KIND(h) (((h) >> 8) == 0x010303)

/* The option lists real clients send, recognised whole in a few compares instead of one
 * bpf_loop step per option (the walk costs ~20 ns a step here): Linux with timestamps (MSS,
 * SACK-permitted or two NOPs, TS, NOP, WS) and without (MSS, NOP, NOP, SACK-permitted,
 * NOP, WS), BSD and macOS (MSS, NOP, WS, NOP, NOP, TS, SACK-permitted, EOL, EOL), Windows
 * (MSS, NOP, WS, NOP, NOP, SACK-permitted). What it finds is what the walk finds in the
 * same bytes; 0 for every other list, which the walk then reads. */
static __always_inline int syn_opts_known(const __u8 *th, __u32 thlen, struct syn_optctx *c)
{
	__u32 w6, ws;

	if (!SYN_MSS_KIND(SYN_W(th, 20)))
		return 0;
	w6 = SYN_W(th, 24);
	if (thlen == 40 && (w6 == 0x0402080a || w6 == 0x0101080a) && SYN_WS_KIND(SYN_W(th, 36))) {
		c->ts = 1;
		c->sack = w6 == 0x0402080a;
		c->tsval = *(const __u32 *)(th + 28); /* as it came: it is echoed */
		ws = SYN_W(th, 36) & 0xff;
	} else if (thlen == 44 && SYN_WS_KIND(w6) && SYN_W(th, 28) == 0x0101080a &&
		   SYN_W(th, 40) == 0x04020000) {
		c->ts = 1;
		c->sack = 1;
		c->tsval = *(const __u32 *)(th + 32);
		ws = w6 & 0xff;
	} else if (thlen == 32 && w6 == 0x01010402 && SYN_WS_KIND(SYN_W(th, 28))) {
		c->sack = 1;
		ws = SYN_W(th, 28) & 0xff;
	} else if (thlen == 32 && SYN_WS_KIND(w6) && SYN_W(th, 28) == 0x01010402) {
		c->sack = 1;
		ws = w6 & 0xff;
	} else {
		return 0;
	}
	c->wscale = ws < 14 ? ws : 14; /* RFC 7323 2.3 */
	return 1;
}

/* Writes our options after the TCP header: MSS always; with timestamps also SACK-permitted
 * (or two NOPs), the timestamps and window scale (NOP first). Returns the option words. */
static __always_inline __u32 syn_mkopts(__be32 *o, const struct syn_optctx *c, __u16 mss,
					__u32 tsval)
{
	__u8 ws = syn_wscale ? syn_wscale : SYN_DEFAULT_WSCALE;

	o[0] = bpf_htonl(2 << 24 | 4 << 16 | mss);
	if (!c->ts)
		return 1;
	o[1] = bpf_htonl((c->sack ? (4 << 24 | 2 << 16) : (1 << 24 | 1 << 16)) | 8 << 8 | 10);
	o[2] = bpf_htonl(tsval);
	o[3] = c->tsval; /* their TSval is our TSecr, bytes as they came */
	if (c->wscale == 0xf)
		return 4;
	o[4] = bpf_htonl(1 << 24 | 3 << 16 | 3 << 8 | ws);
	return 5;
}

/* Our TSval: milliseconds with the low 6 bits holding the options the cookie cannot. */
static __always_inline __u32 syn_tsval(const struct syn_optctx *c, int ecn)
{
	/* The coarse clock: a tick behind at worst, and 6 bits of the value are options
	 * anyway; the precise one costs a clock read through the hypervisor here. */
	__u32 ms = bpf_ktime_get_coarse_ns() / 1000000;

	return (ms & ~0x3fU) | (c->wscale & 0xf) | (c->sack ? 0x10 : 0) | (ecn ? 0x20 : 0);
}

/* Fills the reply's TCP header from the SYN's (in syn_scratch.th). Returns the TCP length. */
static __always_inline __u32 syn_mkth(struct tcphdr *th, __be32 *opt, const struct syn_optctx *c,
				      const __u8 *sthb, __u32 cookie, __u16 mss)
{
	const struct tcphdr *sth = (const void *)sthb;
	__u8 sflags = sthb[13];
	int ecn = (sflags & (SYN_F_ECE | SYN_F_CWR)) == (SYN_F_ECE | SYN_F_CWR);
	__u32 words = syn_mkopts(opt, c, mss, c->ts ? syn_tsval(c, ecn) : 0);

	th->source = sth->dest;
	th->dest = sth->source;
	th->seq = bpf_htonl(cookie);
	th->ack_seq = bpf_htonl(bpf_ntohl(sth->seq) + 1);
	((__u8 *)th)[12] = (5 + words) << 4;
	/* RFC 3168 6.1.1: ECE on the SYN-ACK only when the SYN asked with ECE and CWR. */
	((__u8 *)th)[13] = SYN_F_SYN | SYN_F_ACK | (ecn && c->ts ? SYN_F_ECE : 0);
	return 20 + words * 4;
}

/* Resizes the frame to `len` bytes after the IP header's start and writes the reply there,
 * then swaps the MAC addresses (VLAN tags stay as they came). */
static __always_inline int syn_emit(struct xdp_md *ctx, __u32 l3_off, void *reply, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int delta = (int)(l3_off + len) - (int)(data_end - data);
	__u8 mac[6];
	__u8 *eth;

	/* Linux's SYN and our answer to it have the same size: no resize then. */
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	if (bpf_xdp_store_bytes(ctx, l3_off, reply, len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 12) > data_end)
		return -1;
	__builtin_memcpy(mac, eth, 6);
	__builtin_memcpy(eth, eth + 6, 6);
	__builtin_memcpy(eth + 6, mac, 6);
	return 0;
}

static __always_inline int syn_bad_ip4(__be32 src, __be32 dst)
{
	__u8 s = ((__u8 *)&src)[0], d = ((__u8 *)&dst)[0];

	/* 0/8, 127/8, 224/4 multicast, 240/4 and the broadcast: never a TCP peer (RFC 1122
	 * 4.2.3.10, RFC 1812 5.3.7). */
	return s == 0 || s == 127 || s >= 224 || d == 0 || d == 127 || d >= 224;
}

static __always_inline int syn_bad_ip6(const struct in6_addr *src, const struct in6_addr *dst)
{
	__u32 z = src->in6_u.u6_addr32[0] | src->in6_u.u6_addr32[1] | src->in6_u.u6_addr32[2];
	__u32 last = bpf_ntohl(src->in6_u.u6_addr32[3]);

	/* multicast (RFC 4291 2.7) from or to, the unspecified and the loopback address from */
	return src->in6_u.u6_addr8[0] == 0xff || dst->in6_u.u6_addr8[0] == 0xff ||
	       (z == 0 && (last == 0 || last == 1));
}

static __always_inline int syn_handle_syn4(struct xdp_md *ctx, struct pkt *p,
					   struct syn_scratch *s, struct syn_optctx *c, __u32 thlen)
{
	struct syn_reply4 *r = &s->r.r4;
	__u32 hlen = (p->ip4->ihl * 4) & 0x3c, tlen, l3_off = p->l3_off & 0x1f;
	const struct iphdr *sip = (const void *)s->ip;
	__u32 *ipw = (__u32 *)s->ip;
	__u64 sum;
	__s64 v;
	__u16 mss = syn_mss4 ? syn_mss4 : SYN_DEFAULT_MSS4;

	thlen &= 0x3c; /* bpf_loop's callback had c: the verifier forgot the bounds */
	if (thlen < 20 || hlen < 20)
		return SYN_ERROR;
	if (bpf_xdp_load_bytes(ctx, l3_off, ipw, hlen))
		return SYN_ERROR;
	if (syn_bad_ip4(sip->saddr, sip->daddr))
		return SYN_BAD_ADDR;
	if (syn_fold(syn_sum(ipw, hlen / 4, 15)))
		return SYN_BAD_CSUM;
	sum = syn_sum(s->th, thlen / 4, 15);
	sum += sip->saddr;
	sum += sip->daddr;
	sum += bpf_htons(thlen) + bpf_htons(IPPROTO_TCP);
	if (syn_fold(sum))
		return SYN_BAD_CSUM;
	v = bpf_tcp_raw_gen_syncookie_ipv4((struct iphdr *)ipw, (struct tcphdr *)s->th, thlen);
	if (v < 0)
		return SYN_ERROR;

	__builtin_memset(r, 0, sizeof(*r));
	tlen = syn_mkth(&r->th, r->opt, c, s->th, (__u32)v, mss);
	if (tlen > 40)
		tlen = 40;
	((__u8 *)&r->ip)[0] = 0x45;
	r->ip.tot_len = bpf_htons(20 + tlen);
	r->ip.frag_off = bpf_htons(0x4000); /* DF: a SYN-ACK is never fragmented */
	r->ip.ttl = syn_ttl ? syn_ttl : SYN_DEFAULT_TTL;
	r->ip.protocol = IPPROTO_TCP;
	r->ip.saddr = sip->daddr;
	r->ip.daddr = sip->saddr;
	r->ip.check = syn_fold(syn_sum(&r->ip, 5, 5));
	sum = syn_sum(&r->th, tlen / 4, 10);
	sum += r->ip.saddr;
	sum += r->ip.daddr;
	sum += bpf_htons(tlen) + bpf_htons(IPPROTO_TCP);
	r->th.check = syn_fold(sum);
	if (syn_emit(ctx, l3_off, r, 20 + tlen))
		return SYN_ERROR;
	return SYN_SYNACK;
}

static __always_inline int syn_handle_syn6(struct xdp_md *ctx, struct pkt *p,
					   struct syn_scratch *s, struct syn_optctx *c, __u32 thlen)
{
	struct syn_reply6 *r = &s->r.r6;
	struct ipv6hdr *sip = (struct ipv6hdr *)s->ip;
	__u32 tlen, l3_off = p->l3_off & 0x1f;
	__u64 sum;
	__s64 v;
	__u16 mss = syn_mss6 ? syn_mss6 : SYN_DEFAULT_MSS6;

	thlen &= 0x3c;
	if (thlen < 20)
		return SYN_ERROR;
	if (bpf_xdp_load_bytes(ctx, l3_off, sip, sizeof(*sip)))
		return SYN_ERROR;
	if (syn_bad_ip6(&sip->saddr, &sip->daddr))
		return SYN_BAD_ADDR;
	sum = syn_sum(s->th, thlen / 4, 15);
	sum += syn_sum(&sip->saddr, 8, 8);
	sum += bpf_htonl(thlen) + bpf_htonl(IPPROTO_TCP);
	if (syn_fold(sum))
		return SYN_BAD_CSUM;
	v = bpf_tcp_raw_gen_syncookie_ipv6(sip, (struct tcphdr *)s->th, thlen);
	if (v < 0)
		return SYN_ERROR;

	__builtin_memset(r, 0, sizeof(*r));
	tlen = syn_mkth(&r->th, r->opt, c, s->th, (__u32)v, mss);
	if (tlen > 40)
		tlen = 40;
	*(__be32 *)&r->ip = bpf_htonl(0x60000000);
	r->ip.payload_len = bpf_htons(tlen);
	r->ip.nexthdr = IPPROTO_TCP;
	r->ip.hop_limit = syn_ttl ? syn_ttl : SYN_DEFAULT_TTL;
	r->ip.saddr = sip->daddr;
	r->ip.daddr = sip->saddr;
	sum = syn_sum(&r->th, tlen / 4, 10);
	sum += syn_sum(&r->ip.saddr, 8, 8);
	sum += bpf_htonl(tlen) + bpf_htonl(IPPROTO_TCP);
	r->th.check = syn_fold(sum);
	if (syn_emit(ctx, l3_off, r, 40 + tlen))
		return SYN_ERROR;
	return SYN_SYNACK;
}

/* An ACK without a confirmed flow: its cookie must be one we gave. */
static __always_inline int syn_handle_ack(struct xdp_md *ctx, struct pkt *p)
{
	struct syn_scratch *s = syn_scratch_get();
	__u32 l3_off = p->l3_off & 0x1f;
	struct tcphdr *th;
	long err;

	if (!s || bpf_xdp_load_bytes(ctx, p->l4_off, s->th, sizeof(*th)))
		return SYN_ERROR;
	th = (struct tcphdr *)s->th;
	if (p->ip4) {
		if (bpf_xdp_load_bytes(ctx, l3_off, s->ip, sizeof(struct iphdr)))
			return SYN_ERROR;
		err = bpf_tcp_raw_check_syncookie_ipv4((struct iphdr *)s->ip, th);
	} else {
		if (bpf_xdp_load_bytes(ctx, l3_off, s->ip, sizeof(struct ipv6hdr)))
			return SYN_ERROR;
		err = bpf_tcp_raw_check_syncookie_ipv6((struct ipv6hdr *)s->ip, th);
	}
	return err ? SYN_ACK_BAD : SYN_ACK_OK;
}

/* 1: conntrack has confirmed this flow, 0: it has not, -1: the lookup failed. The tuple is
 * copied with bpf_xdp_load_bytes, not read through p: the caller's parser need not have
 * proven more of the headers than the ports. `th`: the TCP header's first 20 bytes. */
static __always_inline int syn_ct_confirmed(struct xdp_md *ctx, struct pkt *p, const __u8 *th)
{
	struct bpf_ct_opts___syn opts = { .netns_id = -1, .l4proto = IPPROTO_TCP };
	struct bpf_sock_tuple tup = {};
	__u32 l3_off = p->l3_off & 0x1f;
	struct nf_conn *ct;
	__u32 size;

	if (p->ip4) {
		if (bpf_xdp_load_bytes(ctx, l3_off + 12, &tup.ipv4.saddr, 8))
			return -1;
		__builtin_memcpy(&tup.ipv4.sport, th, 4);
		size = sizeof(tup.ipv4);
	} else {
		if (bpf_xdp_load_bytes(ctx, l3_off + 8, tup.ipv6.saddr, 32))
			return -1;
		__builtin_memcpy(&tup.ipv6.sport, th, 4);
		size = sizeof(tup.ipv6);
	}
	ct = bpf_xdp_ct_lookup(ctx, &tup, size, &opts, sizeof(opts));
	if (ct) {
		unsigned long status = ct->status;

		bpf_ct_release(ct);
		return (status & SYN_IPS_CONFIRMED) ? 1 : 0;
	}
	return opts.error == -SYN_ENOENT ? 0 : -1;
}

static __always_inline int syn_verdict(__u32 stat)
{
	syn_count(stat);
	switch (stat) {
	case SYN_SYNACK:
		return XDP_TX;
	case SYN_ACK_OK:
	case SYN_ESTABLISHED:
		return XDP_PASS;
	default:
		return XDP_DROP;
	}
}

/* The entry point (see docs/filter.md "SYN floods"):
 * -1 when the packet is not TCP to a protected port, or not ours to judge (a group
 * destination MAC, an IPv6 routing header with segments left, a non-first fragment whose
 * port is unknown): untouched, the caller goes on. Otherwise an XDP verdict to return at
 * once: the frame may have been resized and rewritten, `p`'s pointers are stale. */
static __always_inline int fw_syncookie(struct xdp_md *ctx, struct pkt *p)
{
	struct syn_optctx c;
	struct syn_scratch *s;
	struct tcphdr *th = p->l4;
	__u64 n; /* 64 bits: no zero-extended copy for the bound check to land on */
	__u32 thlen;
	__u8 flags;
	int ct;

	if (!syn_enabled)
		return -1;
	/* IPv6 by its ethertype, not by p->ip6 (never read here): clang folds two pointer
	 * tests into one OR of the pointers, which the verifier refuses. */
	if ((!p->ip4 && p->l3_proto != ETH_P_IPV6) || p->l4_proto != IPPROTO_TCP || !th)
		return -1;
	if (!syn_port_on(bpf_ntohs(th->dest)))
		return -1;
	if ((p->eth->h_dest[0] & 1) || p->ip6_rh_left)
		return -1;
	if (p->frag != FRAG_NONE)
		return syn_verdict(SYN_FRAGMENT);
	/* One copy of the TCP header, as much of it as the segment holds up to 60 bytes: a
	 * SYN's whole header (a SYN with more is data, refused below), and the fixed part of
	 * anything else. Copied, not read through p: the caller's parser need not have proven
	 * more than the ports to the verifier. */
	n = p->l4_len;
	if (n > SYN_TH_MAX)
		n = SYN_TH_MAX;
	s = syn_scratch_get();
	if (!s || n < 20 || bpf_xdp_load_bytes(ctx, p->l4_off, s->th, n))
		return syn_verdict(SYN_ERROR);

	/* A plain SYN is never a packet of a flow: the kernel's SYNPROXY does not track SYNs
	 * either (its raw-table notrack). Skipping conntrack for them is what keeps a flood
	 * of them cheap; every other packet asks conntrack first. */
	flags = s->th[13];
	if ((flags & (SYN_F_SYN | SYN_F_ACK | SYN_F_FIN | SYN_F_RST)) != SYN_F_SYN) {
		ct = syn_ct_confirmed(ctx, p, s->th);
		if (ct < 0)
			return syn_verdict(SYN_ERROR);
		if (ct > 0)
			return syn_verdict(SYN_ESTABLISHED);
	}

	if (!(flags & SYN_F_SYN) == !(flags & SYN_F_ACK))
		return syn_verdict(SYN_BAD_FLAGS);
	if (flags & SYN_F_ACK)
		return syn_verdict((flags & SYN_F_RST) ? SYN_BAD_FLAGS : syn_handle_ack(ctx, p));
	if (flags & (SYN_F_FIN | SYN_F_RST))
		return syn_verdict(SYN_BAD_FLAGS);
	if (p->eth->h_source[0] & 1)
		return syn_verdict(SYN_BAD_ADDR);

	__builtin_memset(&c, 0, sizeof(c));
	thlen = (s->th[12] >> 2) & 0x3c;
	if (thlen < 20)
		return syn_verdict(SYN_ERROR);
	if (p->l4_len != thlen)
		return syn_verdict(SYN_DATA);
	c.end = thlen;
	c.off = 20;
	c.wscale = 0xf;
	if (thlen > 20 && !syn_opts_known(s->th, thlen, &c))
		bpf_loop(SYN_TH_MAX - 20, syn_opt_step, &c, 0);

	return syn_verdict(p->ip4 ? syn_handle_syn4(ctx, p, s, &c, thlen) :
				    syn_handle_syn6(ctx, p, s, &c, thlen));
}

#endif
