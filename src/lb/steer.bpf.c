// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lb health` in dsr mode: steers a health probe to one backend through the VIP (see
 * lb_steer.h). Only packets the checker marked, and the answers to them, are touched;
 * everything else passes unchanged (TCX_NEXT), and so do ours when their lengths lie. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stddef.h>
#include "lb.h"
#include "lb_steer.h"

#ifndef TCX_NEXT
#define TCX_NEXT -1
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

/* An untagged IPv4 TCP/UDP packet without options and not a fragment is L4_OK when its
 * lengths hold, L4_BAD when they lie (*l4p NULL if even the ports are not in the frame);
 * anything else is L4_NOT: never ours to touch. A lying packet is left as it is: rewriting
 * it would hand the socket (or the backend) a packet whose checksums cover garbage. */
static __always_inline int l4_of(struct __sk_buff *skb, struct iphdr **ipp, void **l4p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 tot, l4len, hl;
	void *l4;

	*l4p = NULL;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return L4_NOT;
	if ((void *)(ip + 1) > end)
		return L4_BAD;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) ||
	    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return L4_NOT;
	*ipp = ip;
	l4 = (void *)ip + 20;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->protocol == IPPROTO_TCP) {
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
	*l4p = l4;
	if (ip->version != 4 || tot < 20 + hl || (void *)ip + tot > end)
		return L4_BAD;
	/* TCP: its header within the IP payload; UDP: its length within it */
	if (l4len < hl || l4len > tot - 20)
		return L4_BAD;
	return L4_OK;
}

#define L3 ((int)sizeof(struct ethhdr))
#define L4 (L3 + 20)

/* Rewrites the address at IP offset aoff and the port at L4 offset poff, checksums too. */
static __always_inline int rewrite(struct __sk_buff *skb, int proto, int aoff, __be32 from,
				   __be32 to, int poff, __be16 pfrom, __be16 pto)
{
	int coff = L4 + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
					      : offsetof(struct udphdr, check));
	__u64 mangled = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (from != to) {
		if (bpf_l4_csum_replace(skb, coff, from, to, BPF_F_PSEUDO_HDR | mangled | 4) ||
		    bpf_l3_csum_replace(skb, L3 + offsetof(struct iphdr, check), from, to, 4) ||
		    bpf_skb_store_bytes(skb, L3 + aoff, &to, 4, 0))
			return -1;
	}
	if (pfrom != pto) {
		if (bpf_l4_csum_replace(skb, coff, pfrom, pto, mangled | 2) ||
		    bpf_skb_store_bytes(skb, L4 + poff, &pto, 2, 0))
			return -1;
	}
	return 0;
}

SEC("tc")
int lb_steer_egress(struct __sk_buff *skb)
{
	struct lb_steer_flow f = {};
	struct lb_steer_be *be;
	struct iphdr *ip;
	void *l4;
	__u32 id;
	__be16 dport, sport;
	int r;

	if ((skb->mark & 0xffff0000u) != LB_STEER_MAGIC)
		return TCX_NEXT;
	id = skb->mark & 0xffff;
	be = bpf_map_lookup_elem(&steer_be, &id);
	if (!be || !be->used)
		return TCX_NEXT;
	r = l4_of(skb, &ip, &l4);
	if (r == L4_NOT)
		return TCX_NEXT;
	if (!l4) {
		/* marked by the checker, yet not even its ports are there */
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	/* tcp and udp headers start with the two ports */
	sport = ((__be16 *)l4)[0];
	dport = ((__be16 *)l4)[1];
	if (ip->protocol != be->proto || ip->daddr != be->be_addr || dport != be->be_port)
		return TCX_NEXT;
	if (r == L4_BAD) {
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	f.vip_addr = be->vip_addr;
	f.vip_port = be->vip_port;
	f.lb_addr = ip->saddr;
	f.lb_port = sport;
	f.proto = ip->protocol;
	bpf_map_update_elem(&steer_flows, &f, be, BPF_ANY);
	if (!rewrite(skb, f.proto, offsetof(struct iphdr, daddr), be->be_addr, be->vip_addr, 2,
		     be->be_port, be->vip_port))
		count(LB_STEER_STEERED);
	return TCX_NEXT;
}

SEC("tc")
int lb_steer_ingress(struct __sk_buff *skb)
{
	struct lb_steer_flow f = {};
	struct lb_steer_be *be;
	struct iphdr *ip;
	void *l4;
	int r;

	r = l4_of(skb, &ip, &l4);
	if (r == L4_NOT || !l4)
		return TCX_NEXT;
	f.vip_addr = ip->saddr;
	f.vip_port = ((__be16 *)l4)[0];
	f.lb_addr = ip->daddr;
	f.lb_port = ((__be16 *)l4)[1];
	f.proto = ip->protocol;
	be = bpf_map_lookup_elem(&steer_flows, &f);
	if (!be)
		return TCX_NEXT;
	if (r == L4_BAD) {
		count(LB_STEER_MALFORMED);
		return TCX_NEXT;
	}
	if (!rewrite(skb, f.proto, offsetof(struct iphdr, saddr), be->vip_addr, be->be_addr, 0,
		     be->vip_port, be->be_port))
		count(LB_STEER_RESTORED);
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
