// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's ping example, done right: recognise ICMP/ICMPv6 echo requests behind VLAN
 * tags, IPv4 options and IPv6 extension headers; report them, drop them, or answer them
 * in the kernel at XDP (XDP_TX) or TC (redirect back out of the same interface). */
#include <stdbool.h>
#include "parse.h"
#include "csum.h"
#include "ping.h"
#include "verdict.h"

/* `bpflab trace` names reasons from these enums (verdict.h). */
VERDICT_REASONS(enum ping_stat);
VERDICT_ARGS(enum ping_refuse);

#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#endif

/* Configuration, set by user space before load. */
const volatile __u32 action = PING_WATCH;
const volatile bool emit_events = true;
/* On lo both ends are loopback: 127/8 and ::1 are fine and our own source is expected. */
const volatile bool on_lo = false;

/* This namespace's addresses, read by user space before load: a reply goes only to
 * requests for one of them, never to requests from one of them. */
const volatile __u32 nlocal4 = 0, nlocal6 = 0;
const volatile __be32 local4[PING_RO_LOCAL4] = {};
const volatile __u64 local6[PING_RO_LOCAL6][2] = {};
/* Directed broadcast addresses of this namespace's IPv4 subnets (prefix <= 30): never a
 * source, never answered (RFC 1122 3.2.1.3, RFC 1812 5.3.7). */
const volatile __u32 nbcast4 = 0;
const volatile __be32 bcast4[PING_RO_LOCAL4] = {};
/* More addresses than fit above: the rest are in local_addrs (value PING_LOCAL_ADDR or
 * PING_LOCAL_BCAST). */
const volatile bool local_overflow = false;
/* Event rate limit per CPU: one event per event_gap_ns on average, bursts of
 * event_burst_ns / event_gap_ns. 0: unlimited. */
const volatile __u64 event_gap_ns = 1000000000ULL / PING_EVENT_RATE;
const volatile __u64 event_burst_ns = 1000000000ULL / PING_EVENT_RATE * PING_EVENT_BURST;

/* Per-CPU counters (enum ping_stat); one entry. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ping_stats);
} stats SEC(".maps");

/* Echo requests per source address, per CPU (no atomics); LRU so a spoofing flood cannot
 * fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, PING_MAX_SOURCES);
	__type(key, struct ping_addr);
	__type(value, __u64);
} sources SEC(".maps");

/* Local addresses beyond the .rodata ones (rare: more than 16 per family). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PING_MAX_LOCAL);
	__type(key, struct ping_addr);
	__type(value, __u8);       /* PING_LOCAL_ADDR or PING_LOCAL_BCAST */
} local_addrs SEC(".maps");

#define RB_SIZE (1 << 20)
/* One struct ping_event per echo request. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RB_SIZE);
} events SEC(".maps");

enum verdict { V_PASS, V_DROP, V_TX };

/* Why, for `bpflab trace` (verdict.h): the outcome (enum ping_stat) in the low byte, the
 * refusal (enum ping_refused) in the next; WHY_REPORTED when reported already (a reply is
 * reported before it is rewritten, so the record shows the request). */
#define WHY_REPORTED (1u << 16)
#define WHY(outcome, refusal) (*why = (outcome) | (__u32)(refusal) << 8)
#ifndef TC_ACT_REDIRECT
#define TC_ACT_REDIRECT 7
#endif

static __always_inline void inc(struct ping_stats *s, int i)
{
	if (s)
		s->c[i]++;
}

/* ::ffff:a, written as the two 64-bit words report() reads it back as: narrower stores
 * under a wider load cannot be forwarded, and stall the load. k is 8-byte aligned. */
static __always_inline void addr4(struct ping_addr *k, __be32 a)
{
	__u64 *w = (__u64 *)k->a;

	w[0] = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w[1] = (__u64)a << 32 | 0xffff0000;
#else
	w[1] = 0xffffULL << 32 | a;
#endif
}

static __always_inline bool is_local(struct ping_addr *k, bool v4)
{
	if (v4) {
		__be32 a = *(__be32 *)&k->a[12];
		for (int i = 0; i < PING_RO_LOCAL4; i++) {
			if (i >= nlocal4)
				break;
			if (local4[i] == a)
				return true;
		}
	} else {
		__u64 a0 = *(__u64 *)&k->a[0], a1 = *(__u64 *)&k->a[8];
		for (int i = 0; i < PING_RO_LOCAL6; i++) {
			if (i >= nlocal6)
				break;
			if (local6[i][0] == a0 && local6[i][1] == a1)
				return true;
		}
	}
	if (local_overflow) {
		__u8 *v = bpf_map_lookup_elem(&local_addrs, k);
		return v && *v == PING_LOCAL_ADDR;
	}
	return false;
}

static __always_inline bool is_bcast4(struct ping_addr *k)
{
	__be32 a = *(__be32 *)&k->a[12];

	if (a == 0xffffffff)
		return true;
	for (int i = 0; i < PING_RO_LOCAL4; i++) {
		if (i >= nbcast4)
			break;
		if (bcast4[i] == a)
			return true;
	}
	if (local_overflow) {
		__u8 *v = bpf_map_lookup_elem(&local_addrs, k);
		return v && *v == PING_LOCAL_BCAST;
	}
	return false;
}

/* RFC 1122 3.2.1.2: a datagram whose header checksum is wrong is discarded. The sum of
 * 32-bit words folded is the 16-bit one's-complement sum (in either byte order);
 * opt_sum is the options' part, from opts4(). */
static __always_inline bool ip4_csum_ok(struct iphdr *ip, void *data_end, __u64 opt_sum)
{
	__u32 *w = (void *)ip;
	__u64 sum;

	if ((void *)(w + 5) > data_end)
		return false;
	sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4] + opt_sum;
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

enum { OPTS_NONE, OPTS_SOME, OPTS_BAD };

struct opts_walk {
	union {
		__u8 buf[40];
		__u32 w[10];
	};
	__u32 len, off;
	int res;
};

/* One option per call (bpf_loop): the offset depends on the data, which a plain loop
 * would make the verifier explore once per possible path. */
static long opts4_step(__u64 i, void *ctx)
{
	struct opts_walk *w = ctx;
	__u32 off = w->off, olen;
	__u8 type;

	if (off >= w->len || off >= sizeof(w->buf))
		return 1;
	type = w->buf[off];
	if (type == 0)
		return 1;
	if (type == 1) {
		w->off = off + 1;
		return 0;
	}
	if (off + 2 > w->len || off + 1 >= sizeof(w->buf)) {
		w->res = OPTS_BAD;
		return 1;
	}
	olen = w->buf[off + 1];
	if (olen < 2 || off + olen > w->len) {
		w->res = OPTS_BAD;
		return 1;
	}
	if (type == 0x83 || type == 0x89 || type == 7 || type == 68) {
		__u32 min_len = type == 68 ? 4 : 3;
		if (olen < min_len || off + 2 >= sizeof(w->buf) || w->buf[off + 2] < min_len + 1) {
			w->res = OPTS_BAD;
			return 1;
		}
	}
	w->res = OPTS_SOME;
	w->off = off + olen;
	return 0;
}

/* IPv4 options (RFC 791): EOL ends the list, NOP is one byte, every other option is
 * type, length >= 2, inside the header; source/record route need a length >= 3 and a
 * pointer >= 4, timestamp a length >= 4 and a pointer >= 5 (as Linux checks them).
 * OPTS_SOME: an option other than NOP/EOL is present. */
static __always_inline int opts4(struct iphdr *ip, void *data_end, __u64 *opt_sum)
{
	struct opts_walk w = { .len = ip->ihl * 4 - 20, .res = OPTS_NONE };
	__u8 *o = (void *)(ip + 1);

	for (int i = 0; i < 40; i++) {
		if (i >= w.len)
			break;
		if ((void *)(o + i + 1) > data_end)
			return OPTS_BAD;
		w.buf[i] = o[i];
	}
	/* ihl counts 4-byte words: the options are whole words, summed for ip4_csum_ok. */
	for (int i = 0; i < 10; i++)
		if (i * 4 < w.len)
			*opt_sum += w.w[i];
	/* Each step consumes a byte at least: 40 steps always reach the end. */
	bpf_loop(40, opts4_step, &w, 0);
	return w.res;
}

static __always_inline int refuse4(struct ethhdr *eth, struct iphdr *ip, void *data_end,
				   bool opts, __u64 opt_sum, struct ping_addr *src,
				   struct ping_addr *dst)
{
	__u8 s0 = ((__u8 *)&ip->saddr)[0], d0 = ((__u8 *)&ip->daddr)[0];

	/* RFC 1122 3.2.2.6 / 3.3.6: no reply to a link-layer broadcast or multicast, and a
	 * reply to a multicast source MAC would go to a group. */
	if ((eth->h_dest[0] | eth->h_source[0]) & 1)
		return PR_L2_MCAST;
	if (!ip4_csum_ok(ip, data_end, opt_sum))
		return PR_IP_CSUM;
	if ((d0 & 0xf0) == 0xe0 || is_bcast4(dst))
		return PR_DST_MCAST;
	/* RFC 1122 3.2.1.3: 0/8 (this network), 240/4, multicast, broadcast. */
	if (s0 == 0 || s0 >= 224 || is_bcast4(src))
		return PR_SRC_BAD;
	if (!on_lo && (s0 == 127 || d0 == 127))
		return PR_LOOPBACK;
	if (opts)
		return PR_IP_OPTIONS;
	if (!(on_lo && d0 == 127) && !is_local(dst, true))
		return PR_DST_NOT_OURS;
	if (!on_lo && is_local(src, true))
		return PR_SRC_OURS;
	return PR_NONE;
}

static __always_inline bool v6_loopback(const struct in6_addr *a)
{
	return !a->in6_u.u6_addr32[0] && !a->in6_u.u6_addr32[1] && !a->in6_u.u6_addr32[2] &&
	       a->in6_u.u6_addr32[3] == bpf_htonl(1);
}

static __always_inline int refuse6(struct ethhdr *eth, struct ipv6hdr *ip6, __u8 rh_left,
				   struct ping_addr *src, struct ping_addr *dst)
{
	const __u32 *s = ip6->saddr.in6_u.u6_addr32;
	bool d_lo = v6_loopback(&ip6->daddr);

	if ((eth->h_dest[0] | eth->h_source[0]) & 1)
		return PR_L2_MCAST;
	if (ip6->daddr.in6_u.u6_addr8[0] == 0xff)
		return PR_DST_MCAST;
	/* Unspecified, multicast or IPv4-mapped sources are never answered (RFC 4443 2.2). */
	if ((!s[0] && !s[1] && !s[2] && !s[3]) || ip6->saddr.in6_u.u6_addr8[0] == 0xff ||
	    (!s[0] && !s[1] && s[2] == bpf_htonl(0xffff)))
		return PR_SRC_BAD;
	if (!on_lo && (v6_loopback(&ip6->saddr) || d_lo))
		return PR_LOOPBACK;
	if (rh_left)
		return PR_ROUTED;
	if (!(on_lo && d_lo) && !is_local(dst, false))
		return PR_DST_NOT_OURS;
	if (!on_lo && is_local(src, false))
		return PR_SRC_OURS;
	return PR_NONE;
}

static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Turns the request into its reply in place. Swapping source and destination changes
 * neither the IPv4 header checksum nor the ICMPv6 pseudo-header sum (a one's-complement
 * sum does not depend on the order of its terms); TTL and type do, incrementally. The
 * ICMP checksum is computed by the caller (icmp_csum). */
static __always_inline void reply4(struct ethhdr *eth, struct iphdr *ip, struct icmphdr *ic,
				   __sum16 csum)
{
	__be32 a = ip->saddr;
	__be16 old;

	swap_mac(eth);
	ip->saddr = ip->daddr;
	ip->daddr = a;
	old = *(__be16 *)&ip->ttl;
	ip->ttl = PING_REPLY_TTL;
	csum_replace2(&ip->check, old, *(__be16 *)&ip->ttl);
	ic->type = ICMP_ECHOREPLY;
	ic->checksum = csum;
}

static __always_inline void reply6(struct ethhdr *eth, struct ipv6hdr *ip6, struct icmp6hdr *ic,
				   __sum16 csum)
{
	struct in6_addr a = ip6->saddr;

	swap_mac(eth);
	ip6->saddr = ip6->daddr;
	ip6->daddr = a;
	ip6->hop_limit = PING_REPLY_TTL;
	ic->icmp6_type = ICMPV6_ECHO_REPLY;
	ic->icmp6_cksum = csum;
}

/* A token bucket on this CPU's slot: true when an event may be sent. Reading a clock costs
 * ~35 ns here, jiffies ~1: the credit is refilled from the clock only when the jiffy has
 * changed (at most HZ times a second), and spent event by event. */
static __always_inline bool event_allowed(struct ping_stats *s)
{
	__u64 j, now, credit;

	if (!event_gap_ns)
		return true;
	j = bpf_jiffies64();
	if (j != s->ev_jiffies) {
		now = bpf_ktime_get_ns();
		credit = s->ev_credit + (now - s->ev_ns);
		s->ev_credit = credit > event_burst_ns ? event_burst_ns : credit;
		s->ev_ns = now;
		s->ev_jiffies = j;
	}
	if (s->ev_credit < event_gap_ns)
		return false;
	s->ev_credit -= event_gap_ns;
	return true;
}

/* Adds n requests to src's entry in the sources map (this CPU's slot of it). */
static __always_inline void source_add(struct ping_addr *src, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&sources, src);

	if (v) {
		*v += n;
		return;
	}
	/* Another CPU may have just created it: then add to our slot of its entry. */
	if (bpf_map_update_elem(&sources, src, &n, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&sources, src);
		if (v)
			*v += n;
	}
}

/* Called before any rewrite: the event shows the request as it arrived. Its fields are
 * read from the packet only when an event is sent, which under a flood is rarely. */
static __always_inline void report(const struct pkt *p, struct iphdr *ip4, struct ipv6hdr *ip6,
				   struct icmphdr *ic, void *ctx, bool xdp, struct ping_addr *src,
				   __u8 verdict, __u8 refused, struct ping_stats *s)
{
	struct ping_event *e;

	if (!s)
		return;
	if (s->last_n && *(__u64 *)&s->last_src.a[0] == *(__u64 *)&src->a[0] &&
	    *(__u64 *)&s->last_src.a[8] == *(__u64 *)&src->a[8]) {
		s->last_n++;
	} else {
		if (s->last_n)
			source_add(&s->last_src, s->last_n);
		s->last_src = *src;
		s->last_n = 1;
	}
	if (!emit_events)
		return;
	if (!event_allowed(s)) {
		s->c[PS_SUPPRESSED]++;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		s->c[PS_EVENTS_LOST]++;
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	if (ip4) {
		__builtin_memset(e->src, 0, sizeof(e->src));
		__builtin_memset(e->dst, 0, sizeof(e->dst));
		__builtin_memcpy(e->src, &ip4->saddr, 4);
		__builtin_memcpy(e->dst, &ip4->daddr, 4);
		e->family = 4;
		e->ttl = ip4->ttl;
	} else if (ip6) {
		__builtin_memcpy(e->src, &ip6->saddr, 16);
		__builtin_memcpy(e->dst, &ip6->daddr, 16);
		e->family = 6;
		e->ttl = ip6->hop_limit;
	}
	e->id = bpf_ntohs(ic->id);
	e->seq = bpf_ntohs(ic->sequence);
	e->size = p->l4_len - sizeof(struct icmphdr);
	e->vlan = p->vlans ? (p->vlan_tci[0] & 0xfff) : 0;
	/* Read here, not per packet: at XDP it is three dependent loads. */
	e->ifindex = xdp ? ((struct xdp_md *)ctx)->ingress_ifindex :
			   ((struct __sk_buff *)ctx)->ifindex;
	e->verdict = verdict;
	e->refused = refused;
	/* No wakeup per event (~2 us each here): the reader polls, and is woken only when
	 * the ring is half full. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > RB_SIZE / 2 ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Shared by both hooks: what to do with one frame. Only a whole, well-formed echo
 * request with code 0 is ever dropped or answered; everything else passes untouched.
 * Pointers are taken out of struct pkt once and branched on directly, so the verifier
 * sees each null check on the register it guards. */
static __always_inline enum verdict handle(void *data, void *data_end, void *ctx, bool xdp,
					   struct pkt *p, struct ping_stats *s, __u8 *old_hl,
					   __u32 *why)
{
	struct ping_addr src __attribute__((aligned(8))), dst __attribute__((aligned(8)));
	struct ethhdr *eth;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	struct icmphdr *ic;
	__u8 refused = PR_NONE;
	bool opts = false;
	__u64 opt_sum = 0;
	__sum16 csum;
	int r;

	inc(s, PS_PACKETS);
	r = parse_packet(data, data_end, p);
	if (r == PARSE_NOT_IP)
		return V_PASS; /* *why is PS_PACKETS: not an echo request */
	if (r == PARSE_EXTHDRS) {
		inc(s, PS_EXTHDRS);
		WHY(PS_EXTHDRS, 0);
		return V_PASS;
	}
	if (r != PARSE_OK) {
		inc(s, PS_MALFORMED);
		WHY(PS_MALFORMED, 0);
		return V_PASS;
	}
	if (p->frag) {
		inc(s, PS_FRAGMENTS);
		WHY(PS_FRAGMENTS, 0);
		return V_PASS;
	}
	eth = p->eth;
	ic = p->l4; /* icmphdr and icmp6hdr share their layout */
	ip4 = p->ip4;
	ip6 = p->ip6;
	if (!ic || !eth)
		return V_PASS;
	if (ip4) {
		if (p->l4_proto != IPPROTO_ICMP || ic->type != ICMP_ECHO)
			return V_PASS;
		if (ic->code == 0 && p->ip_opts) {
			r = opts4(ip4, data_end, &opt_sum);
			if (r == OPTS_BAD) {
				inc(s, PS_MALFORMED);
				WHY(PS_MALFORMED, 0);
				return V_PASS;
			}
			opts = r == OPTS_SOME;
		}
		addr4(&src, ip4->saddr);
	} else if (ip6) {
		if (p->l4_proto != IPPROTO_ICMPV6 || ic->type != ICMPV6_ECHO_REQUEST)
			return V_PASS;
		__builtin_memcpy(src.a, &ip6->saddr, 16);
	} else {
		return V_PASS;
	}
	if (ic->code != 0) {
		inc(s, PS_MALFORMED);
		WHY(PS_MALFORMED, 0);
		return V_PASS;
	}
	inc(s, ip4 ? PS_ECHO4 : PS_ECHO6);

	if (action == PING_DROP) {
		report(p, ip4, ip6, ic, ctx, xdp, &src, PING_DROP, PR_NONE, s);
		inc(s, PS_DROPPED);
		WHY(PS_DROPPED, 0);
		return V_DROP;
	}
	if (action == PING_REPLY) {
		/* The destination's key is needed only here (events read the packet). */
		if (ip4) {
			addr4(&dst, ip4->daddr);
			refused = refuse4(eth, ip4, data_end, opts, opt_sum, &src, &dst);
		} else if (ip6) {
			__builtin_memcpy(dst.a, &ip6->daddr, 16);
			refused = refuse6(eth, ip6, p->ip6_rh_left, &src, &dst);
		}
		/* Type 8 -> 0 (128 -> 129), code 0: one word of the checksummed data changes. */
		csum = csum_update2(ic->checksum, *(__be16 *)ic,
				    ip4 ? bpf_htons(ICMP_ECHOREPLY << 8) :
					  bpf_htons(ICMPV6_ECHO_REPLY << 8));
		/* Only an all-zero ICMPv4 reply (ICMPv6 has its pseudo-header) has 0xffff as its
		 * checksum, which eqn. 3 never yields. Without payload, id and seq tell; with
		 * one, it would take reading all of it: the kernel answers that one instead. */
		if (ip4 && refused == PR_NONE && !csum && !ic->id && !ic->sequence) {
			if (p->l4_len == sizeof(struct icmphdr))
				csum = (__sum16)0xffff;
			else
				refused = PR_CSUM_ZERO;
		}
		if (refused == PR_NONE) {
			/* Report first: the event shows the request as it arrived. */
			report(p, ip4, ip6, ic, ctx, xdp, &src, PING_REPLY, PR_NONE, s);
			verdict_report(ctx, xdp, VK_PING, xdp ? XDP_TX : TC_ACT_REDIRECT,
				       PS_REPLIED, 0);
			*why = PS_REPLIED | WHY_REPORTED;
			if (ip4) {
				reply4(eth, ip4, ic, csum);
			} else if (ip6) {
				*old_hl = ip6->hop_limit;
				reply6(eth, ip6, (struct icmp6hdr *)ic, csum);
			}
			inc(s, PS_REPLIED);
			return V_TX;
		}
		inc(s, PS_REFUSED);
	}
	report(p, ip4, ip6, ic, ctx, xdp, &src, PING_WATCH, refused, s);
	inc(s, PS_PASSED);
	WHY(refused ? PS_REFUSED : PS_PASSED, refused);
	return V_PASS;
}

static __always_inline struct ping_stats *stats_slot(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&stats, &key);
}

SEC("xdp")
int ping_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt p = {};
	__u8 old_hl = PING_REPLY_TTL;
	__u32 why = PS_PACKETS, act;

	switch (handle(data, data_end, ctx, true, &p, stats_slot(), &old_hl, &why)) {
	case V_DROP: act = XDP_DROP; break;
	case V_TX: act = XDP_TX; break;
	default: act = XDP_PASS; break;
	}
	if (!(why & WHY_REPORTED))
		verdict_report(ctx, 1, VK_PING, act, why & 0xff, (why >> 8) & 0xff);
	return act;
}

/* TC ingress: the reply leaves through the same interface's egress (bpf_redirect
 * without BPF_F_INGRESS), which on a veth needs nothing from the peer. */
SEC("tc")
int ping_tc(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct pkt p = {};
	__u8 old_hl = PING_REPLY_TTL; /* stays so for IPv4 */
	__u32 why = PS_PACKETS;
	enum verdict v;

	/* The parser wants the whole IP packet in the linear part, as XDP has it. */
	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	v = handle(data, data_end, skb, false, &p, stats_slot(), &old_hl, &why);
	if (v == V_DROP) {
		verdict_report(skb, 0, VK_PING, TC_ACT_SHOT, why & 0xff, 0);
		return TC_ACT_SHOT;
	}
	if (v != V_TX) {
		verdict_report(skb, 0, VK_PING, TC_ACT_OK, why & 0xff, (why >> 8) & 0xff);
		return TC_ACT_OK;
	}
	if (old_hl != PING_REPLY_TTL) {
		/* Every change but the IPv6 hop limit is balanced by a checksum change; the hop
		 * limit is under none, so it moves a CHECKSUM_COMPLETE skb->csum. Byte 3 of the
		 * word has the hop limit's parity (offset 7 from the IP header). No-op for other
		 * skbs. */
		__be32 from = 0, to = 0;
		((__u8 *)&from)[3] = old_hl;
		((__u8 *)&to)[3] = PING_REPLY_TTL;
		bpf_csum_update(skb, bpf_csum_diff(&from, 4, &to, 4, 0));
	}
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
