// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lb health`: steers a health probe to one backend through the VIP, on L2 (dsr) or in
 * the VIP's tunnel (encap), see lb_steer.h. Only packets the checker marked, and the
 * answers to them, are touched; everything else passes unchanged (TCX_NEXT), and so do
 * ours when their lengths lie. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stddef.h>
#include <stdbool.h>
#include "lb.h"
#include "lb_steer.h"

#ifndef TCX_NEXT
#define TCX_NEXT -1
#endif
#ifndef TCX_DROP
#define TCX_DROP 2
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_steer_be);
} steer_be SEC(".maps");

/* probe flow as answered -> the backend address:port the socket connected to */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_STEER_FLOWS);
	__type(key, struct lb_steer_flow);
	__type(value, struct lb_steer_be);
} steer_flows SEC(".maps");

/* steer_stats: what was steered, restored, or left alone as malformed (lb_steer.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_STEER__MAX);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&steer_stats, &c);

	if (v)
		*v += 1;
}

enum { L4_NOT, L4_BAD, L4_OK };

#define L3 ((int)sizeof(struct ethhdr))

/* What l4_of found: the L4 header (NULL if even the ports are not in the frame), the IP
 * header's length, the IP packet's own length, family, protocol, tos / traffic class. */
struct pk {
	void *l4;
	__u32 l3len, tot;
	__u8 fam, proto, tos;
};

/* An untagged IPv4 TCP/UDP packet without options and not a fragment, or an IPv6 one
 * whose next header is TCP/UDP, is L4_OK when its lengths hold, L4_BAD when they lie;
 * anything else is L4_NOT: never ours to touch. A lying packet is left as it is: rewriting
 * it would hand the socket (or the backend) a packet whose checksums cover garbage. */
static __always_inline int l4_of(struct __sk_buff *skb, struct pk *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 l4len, hl;
	bool bad;
	void *l4;

	p->l4 = NULL;
	if ((void *)(eth + 1) > end)
		return L4_NOT;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return L4_BAD;
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) ||
		    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
			return L4_NOT;
		p->fam = LB_FAM4;
		p->proto = ip->protocol;
		p->l3len = sizeof(*ip);
		p->tot = bpf_ntohs(ip->tot_len);
		p->tos = ip->tos;
		bad = ip->version != 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return L4_BAD;
		if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
			return L4_NOT;
		p->fam = LB_FAM6;
		p->proto = ip6->nexthdr;
		p->l3len = sizeof(*ip6);
		p->tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		p->tos = ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
		bad = ip6->version != 6;
	} else {
		return L4_NOT;
	}
	l4 = data + L3 + p->l3len;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return L4_BAD;
		hl = sizeof(*th);
		l4len = th->doff * 4;   /* the TCP header's own length */
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return L4_BAD;
		hl = sizeof(*uh);
		l4len = bpf_ntohs(uh->len);
	}
	p->l4 = l4;
	/* skb->len, not data_end: a socket's data segment keeps its payload in pages,
	 * beyond the linear part the program can read directly */
	if (bad || p->tot < p->l3len + hl || p->tot > skb->len - L3)
		return L4_BAD;
	/* TCP: its header within the IP payload; UDP: its length within it */
	if (l4len < hl || l4len > p->tot - p->l3len)
		return L4_BAD;
	return L4_OK;
}

/* The packet's source (off 0) or destination (off 1) address, as lb.h holds one. */
static __always_inline void addr_of(struct __sk_buff *skb, const struct pk *p, int dst,
				    union lb_addr *a)
{
	void *ip = (void *)(long)skb->data + L3;

	__builtin_memset(a, 0, sizeof(*a));
	if (p->fam == LB_FAM4) {
		struct iphdr *h = ip;
		if ((void *)(h + 1) <= (void *)(long)skb->data_end)
			a->v4 = dst ? h->daddr : h->saddr;
	} else {
		struct ipv6hdr *h = ip;
		if ((void *)(h + 1) <= (void *)(long)skb->data_end)
			__builtin_memcpy(a->b, dst ? &h->daddr : &h->saddr, 16);
	}
}

static __always_inline bool addr_eq(const union lb_addr *a, const union lb_addr *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1] && a->w[2] == b->w[2] &&
	       a->w[3] == b->w[3];
}

/* Rewrites the source (dst 0) or destination address, from -> to, and the port at L4
 * offset poff, pfrom -> pto, checksums too (IPv6 has no header checksum: only the L4
 * one, through its pseudo-header). */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pk *p, int dst,
				   const union lb_addr *from, const union lb_addr *to, int poff,
				   __be16 pfrom, __be16 pto)
{
	int l4 = L3 + p->l3len;
	int coff = l4 + (p->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
					        : offsetof(struct udphdr, check));
	__u64 mangled = p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	union lb_addr f = *from, t = *to;

	if (!addr_eq(&f, &t)) {
		if (p->fam == LB_FAM4) {
			int aoff = L3 + (dst ? offsetof(struct iphdr, daddr)
					     : offsetof(struct iphdr, saddr));

			if (bpf_l4_csum_replace(skb, coff, f.v4, t.v4, BPF_F_PSEUDO_HDR | mangled | 4) ||
			    bpf_l3_csum_replace(skb, L3 + offsetof(struct iphdr, check), f.v4, t.v4, 4) ||
			    bpf_skb_store_bytes(skb, aoff, &t.v4, 4, 0))
				return -1;
		} else {
			int aoff = L3 + (dst ? offsetof(struct ipv6hdr, daddr)
					     : offsetof(struct ipv6hdr, saddr));
			__s64 diff = bpf_csum_diff(f.w, 16, t.w, 16, 0);

			if (diff < 0 ||
			    bpf_l4_csum_replace(skb, coff, 0, diff, BPF_F_PSEUDO_HDR | mangled) ||
			    bpf_skb_store_bytes(skb, aoff, t.b, 16, 0))
				return -1;
		}
	}
	if (pfrom != pto) {
		if (bpf_l4_csum_replace(skb, coff, pfrom, pto, mangled | 2) ||
		    bpf_skb_store_bytes(skb, l4 + poff, &pto, 2, 0))
			return -1;
	}
	return 0;
}

/* Puts the (already rewritten) probe into be's tunnel, lb_steer.h's format. 0 or -1. */
static __always_inline int encap(struct __sk_buff *skb, const struct pk *p,
				 const struct lb_steer_be *be, __be16 probe_sport)
{
	int gue = be->encap == LB_ENCAP_GUE;
	__u32 ol3 = be->family == LB_FAM4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u32 olen = ol3 + (gue ? sizeof(struct udphdr) : 0);
	__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO |
		      (be->family == LB_FAM4 ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV4
					     : BPF_F_ADJ_ROOM_ENCAP_L3_IPV6);
	struct udphdr u = {};

	if (gue) {
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
		u.source = bpf_htons(lb_steer_gue_sport(bpf_ntohs(probe_sport)));
		u.dest = bpf_htons(LB_GUE_PORT);
		u.len = bpf_htons(sizeof(u) + p->tot);
	}
	if (bpf_skb_adjust_room(skb, olen, BPF_ADJ_ROOM_MAC, flags))
		return -1;
	if (be->family == LB_FAM4) {
		struct iphdr o = {};
		__s64 sum;

		o.version = 4;
		o.ihl = 5;
		o.tos = p->tos;
		o.tot_len = bpf_htons(olen + p->tot);
		o.frag_off = bpf_htons(0x4000);   /* DF: lb's tunnels never fragment */
		o.ttl = LB_ENCAP_TTL;
		o.protocol = gue ? IPPROTO_UDP : IPPROTO_IPIP;
		o.saddr = be->tunnel_src.v4;
		o.daddr = be->be.v4;
		sum = bpf_csum_diff(0, 0, (__be32 *)&o, sizeof(o), 0);
		if (sum < 0)
			return -1;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		o.check = ~sum & 0xffff;
		if (bpf_skb_store_bytes(skb, L3, &o, sizeof(o), 0))
			return -1;
	} else {
		struct ipv6hdr o = {};
		__u16 fl = bpf_ntohs(probe_sport);

		o.version = 6;
		o.priority = p->tos >> 4;
		o.flow_lbl[0] = (p->tos & 0xf) << 4;
		o.flow_lbl[1] = fl >> 8;
		o.flow_lbl[2] = fl & 0xff;
		o.payload_len = bpf_htons(olen - sizeof(o) + p->tot);
		o.nexthdr = gue ? IPPROTO_UDP : IPPROTO_IPV6;
		o.hop_limit = LB_ENCAP_TTL;
		__builtin_memcpy(&o.saddr, be->tunnel_src.b, 16);
		__builtin_memcpy(&o.daddr, be->be.b, 16);
		if (bpf_skb_store_bytes(skb, L3, &o, sizeof(o), 0))
			return -1;
	}
	if (gue && bpf_skb_store_bytes(skb, L3 + ol3, &u, sizeof(u), 0))
		return -1;
	return 0;
}

SEC("tc")
int lb_steer_egress(struct __sk_buff *skb)
{
	struct lb_steer_flow f = {};
	struct lb_steer_be *be;
	union lb_addr daddr;
	struct pk p;
	__u32 id;
	__be16 dport, sport;
	int r;

	if ((skb->mark & 0xffff0000u) != LB_STEER_MAGIC)
		return TCX_NEXT;
	id = skb->mark & 0xffff;
	be = bpf_map_lookup_elem(&steer_be, &id);
	if (!be || !be->used)
		return TCX_NEXT;
	r = l4_of(skb, &p);
	if (r == L4_NOT)
		return TCX_NEXT;
	if (!p.l4) {
		/* marked by the checker, yet not even its ports are there */
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	/* tcp and udp headers start with the two ports */
	sport = ((__be16 *)p.l4)[0];
	dport = ((__be16 *)p.l4)[1];
	addr_of(skb, &p, 1, &daddr);
	if (p.proto != be->proto || p.fam != be->family || !addr_eq(&daddr, &be->be) ||
	    dport != be->be_port)
		return TCX_NEXT;
	if (r == L4_BAD) {
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	f.vip = be->vip;
	addr_of(skb, &p, 0, &f.lb);
	f.vip_port = be->vip_port;
	f.lb_port = sport;
	f.proto = p.proto;
	f.family = p.fam;
	bpf_map_update_elem(&steer_flows, &f, be, BPF_ANY);
	if (rewrite(skb, &p, 1, &be->be, &be->vip, 2, be->be_port, be->vip_port)) {
		if (!be->encap)
			return TCX_NEXT;
		count(LB_STEER_DROP_ENCAP);
		return TCX_DROP;
	}
	count(LB_STEER_STEERED);
	if (!be->encap)
		return TCX_NEXT;
	/* now to VIP:port: it leaves in the tunnel or not at all */
	if (encap(skb, &p, be, sport)) {
		count(LB_STEER_DROP_ENCAP);
		return TCX_DROP;
	}
	count(LB_STEER_ENCAP);
	return TCX_NEXT;
}

SEC("tc")
int lb_steer_ingress(struct __sk_buff *skb)
{
	struct lb_steer_flow f = {};
	struct lb_steer_be *be;
	struct pk p;
	int r;

	r = l4_of(skb, &p);
	if (r == L4_NOT || !p.l4)
		return TCX_NEXT;
	addr_of(skb, &p, 0, &f.vip);
	addr_of(skb, &p, 1, &f.lb);
	f.vip_port = ((__be16 *)p.l4)[0];
	f.lb_port = ((__be16 *)p.l4)[1];
	f.proto = p.proto;
	f.family = p.fam;
	be = bpf_map_lookup_elem(&steer_flows, &f);
	if (!be)
		return TCX_NEXT;
	if (r == L4_BAD) {
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	if (!rewrite(skb, &p, 0, &be->vip, &be->be, 0, be->vip_port, be->be_port))
		count(LB_STEER_RESTORED);
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
