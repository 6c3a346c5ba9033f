// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's ping example, done right: recognise ICMP/ICMPv6 echo requests behind VLAN
 * tags, IPv4 options and IPv6 extension headers; report them, drop them, or answer them
 * in the kernel at XDP (XDP_TX) or TC (redirect back out of the same interface). */
#include <stdbool.h>
#include "parse.h"
#include "csum.h"
#include "ping.h"

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
/* More addresses than fit above: the rest are in local_addrs. */
const volatile bool local_overflow = false;

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
	__type(value, __u8);
} local_addrs SEC(".maps");

#define RB_SIZE (1 << 20)
/* One struct ping_event per echo request. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RB_SIZE);
} events SEC(".maps");

enum verdict { V_PASS, V_DROP, V_TX };

static __always_inline void inc(struct ping_stats *s, int i)
{
	if (s)
		s->c[i]++;
}

static __always_inline void addr4(struct ping_addr *k, __be32 a)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->a[10] = 0xff;
	k->a[11] = 0xff;
	__builtin_memcpy(&k->a[12], &a, 4);
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
	return local_overflow && bpf_map_lookup_elem(&local_addrs, k) != NULL;
}

static __always_inline int refuse4(struct ethhdr *eth, struct iphdr *ip,
				   struct ping_addr *src, struct ping_addr *dst)
{
	__u8 s0 = ((__u8 *)&ip->saddr)[0], d0 = ((__u8 *)&ip->daddr)[0];

	if (eth->h_dest[0] & 1)
		return PR_L2_MCAST;
	if (ip->daddr == 0xffffffff || (d0 & 0xf0) == 0xe0)
		return PR_DST_MCAST;
	if (ip->saddr == 0 || s0 >= 224)
		return PR_SRC_BAD;
	if (!on_lo && (s0 == 127 || d0 == 127))
		return PR_LOOPBACK;
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

	if (eth->h_dest[0] & 1)
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
 * sum does not depend on the order of its terms); TTL and type do, incrementally. */
static __always_inline void reply4(struct ethhdr *eth, struct iphdr *ip, struct icmphdr *ic)
{
	__be32 a = ip->saddr;
	__be16 old;

	swap_mac(eth);
	ip->saddr = ip->daddr;
	ip->daddr = a;
	old = *(__be16 *)&ip->ttl;
	ip->ttl = PING_REPLY_TTL;
	csum_replace2(&ip->check, old, *(__be16 *)&ip->ttl);
	old = *(__be16 *)ic;
	ic->type = ICMP_ECHOREPLY;
	csum_replace2(&ic->checksum, old, *(__be16 *)ic);
}

static __always_inline void reply6(struct ethhdr *eth, struct ipv6hdr *ip6, struct icmp6hdr *ic)
{
	struct in6_addr a = ip6->saddr;
	__be16 old;

	swap_mac(eth);
	ip6->saddr = ip6->daddr;
	ip6->daddr = a;
	ip6->hop_limit = PING_REPLY_TTL;
	old = *(__be16 *)ic;
	ic->icmp6_type = ICMPV6_ECHO_REPLY;
	csum_replace2(&ic->icmp6_cksum, old, *(__be16 *)ic);
}

/* What an event needs to know about the request, taken before any rewrite. */
struct req_info {
	__u8 family, ttl;
	__u16 id, seq, size, vlan;
};

static __always_inline void report(const struct req_info *ri, __u32 ifindex,
				   struct ping_addr *src, struct ping_addr *dst, __u8 verdict,
				   __u8 refused, struct ping_stats *s)
{
	struct ping_event *e;
	__u64 *n;

	n = bpf_map_lookup_elem(&sources, src);
	if (n) {
		(*n)++;
	} else {
		__u64 one = 1;
		/* Another CPU may have just created it: then add to our slot of its entry. */
		if (bpf_map_update_elem(&sources, src, &one, BPF_NOEXIST)) {
			n = bpf_map_lookup_elem(&sources, src);
			if (n)
				(*n)++;
		}
	}
	if (!emit_events)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		inc(s, PS_EVENTS_LOST);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	if (ri->family == 4) {
		__builtin_memset(e->src, 0, sizeof(e->src));
		__builtin_memset(e->dst, 0, sizeof(e->dst));
		__builtin_memcpy(e->src, &src->a[12], 4);
		__builtin_memcpy(e->dst, &dst->a[12], 4);
	} else {
		__builtin_memcpy(e->src, src->a, 16);
		__builtin_memcpy(e->dst, dst->a, 16);
	}
	e->family = ri->family;
	e->ttl = ri->ttl;
	e->id = ri->id;
	e->seq = ri->seq;
	e->size = ri->size;
	e->vlan = ri->vlan;
	e->ifindex = ifindex;
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
static __always_inline enum verdict handle(void *data, void *data_end, __u32 ifindex,
					   struct pkt *p, struct ping_stats *s, __u8 *old_hl)
{
	struct ping_addr src, dst;
	struct req_info ri = {};
	struct ethhdr *eth;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	struct icmphdr *ic;
	__u8 refused = PR_NONE;
	int r;

	inc(s, PS_PACKETS);
	r = parse_packet(data, data_end, p);
	if (r == PARSE_NOT_IP)
		return V_PASS;
	if (r != PARSE_OK) {
		inc(s, PS_MALFORMED);
		return V_PASS;
	}
	if (p->frag) {
		inc(s, PS_FRAGMENTS);
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
		addr4(&src, ip4->saddr);
		addr4(&dst, ip4->daddr);
		ri.family = 4;
		ri.ttl = ip4->ttl;
	} else if (ip6) {
		if (p->l4_proto != IPPROTO_ICMPV6 || ic->type != ICMPV6_ECHO_REQUEST)
			return V_PASS;
		__builtin_memcpy(src.a, &ip6->saddr, 16);
		__builtin_memcpy(dst.a, &ip6->daddr, 16);
		ri.family = 6;
		ri.ttl = ip6->hop_limit;
	} else {
		return V_PASS;
	}
	if (ic->code != 0) {
		inc(s, PS_MALFORMED);
		return V_PASS;
	}
	ri.id = bpf_ntohs(ic->id);
	ri.seq = bpf_ntohs(ic->sequence);
	ri.size = p->l4_len - sizeof(struct icmphdr);
	ri.vlan = p->vlans ? (p->vlan_tci[0] & 0xfff) : 0;
	inc(s, ip4 ? PS_ECHO4 : PS_ECHO6);

	if (action == PING_DROP) {
		report(&ri, ifindex, &src, &dst, PING_DROP, PR_NONE, s);
		inc(s, PS_DROPPED);
		return V_DROP;
	}
	if (action == PING_REPLY) {
		if (ip4)
			refused = refuse4(eth, ip4, &src, &dst);
		else if (ip6)
			refused = refuse6(eth, ip6, p->ip6_rh_left, &src, &dst);
		if (refused == PR_NONE) {
			/* Report first: the event shows the request as it arrived. */
			report(&ri, ifindex, &src, &dst, PING_REPLY, PR_NONE, s);
			if (ip4) {
				reply4(eth, ip4, ic);
			} else if (ip6) {
				*old_hl = ri.ttl;
				reply6(eth, ip6, (struct icmp6hdr *)ic);
			}
			inc(s, PS_REPLIED);
			return V_TX;
		}
		inc(s, PS_REFUSED);
	}
	report(&ri, ifindex, &src, &dst, PING_WATCH, refused, s);
	inc(s, PS_PASSED);
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

	switch (handle(data, data_end, ctx->ingress_ifindex, &p, stats_slot(), &old_hl)) {
	case V_DROP: return XDP_DROP;
	case V_TX: return XDP_TX;
	default: return XDP_PASS;
	}
}

/* TC ingress: the reply leaves through the same interface's egress (bpf_redirect
 * without BPF_F_INGRESS), which on a veth needs nothing from the peer. */
SEC("tc")
int ping_tc(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct pkt p = {};
	__u8 old_hl = PING_REPLY_TTL; /* stays so for IPv4 */
	enum verdict v;

	/* The parser wants the whole IP packet in the linear part, as XDP has it. */
	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	v = handle(data, data_end, skb->ifindex, &p, stats_slot(), &old_hl);
	if (v == V_DROP)
		return TC_ACT_SHOT;
	if (v != V_TX)
		return TC_ACT_OK;
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
