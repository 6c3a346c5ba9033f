// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lb health` in dsr mode: steers a health probe to one backend through the VIP (see
 * lb_steer.h). Only packets the checker marked, and the answers to them, are touched;
 * everything else passes unchanged (TCX_NEXT). */
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

/* Offsets of an untagged IPv4 TCP/UDP packet without options; -1 otherwise. */
static __always_inline int l4_of(struct __sk_buff *skb, struct iphdr **ipp, void **l4p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return -1;
	if (ip->protocol == IPPROTO_TCP) {
		if ((void *)ip + 20 + sizeof(struct tcphdr) > end)
			return -1;
	} else if (ip->protocol == IPPROTO_UDP) {
		if ((void *)ip + 20 + sizeof(struct udphdr) > end)
			return -1;
	} else {
		return -1;
	}
	*ipp = ip;
	*l4p = (void *)ip + 20;
	return 0;
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

	if ((skb->mark & 0xffff0000u) != LB_STEER_MAGIC)
		return TCX_NEXT;
	id = skb->mark & 0xffff;
	be = bpf_map_lookup_elem(&steer_be, &id);
	if (!be || !be->used || l4_of(skb, &ip, &l4) || ip->protocol != be->proto)
		return TCX_NEXT;
	/* tcp and udp headers start with the two ports */
	sport = ((__be16 *)l4)[0];
	dport = ((__be16 *)l4)[1];
	if (ip->daddr != be->be_addr || dport != be->be_port)
		return TCX_NEXT;
	f.vip_addr = be->vip_addr;
	f.vip_port = be->vip_port;
	f.lb_addr = ip->saddr;
	f.lb_port = sport;
	f.proto = ip->protocol;
	bpf_map_update_elem(&steer_flows, &f, be, BPF_ANY);
	rewrite(skb, f.proto, offsetof(struct iphdr, daddr), be->be_addr, be->vip_addr, 2,
		be->be_port, be->vip_port);
	return TCX_NEXT;
}

SEC("tc")
int lb_steer_ingress(struct __sk_buff *skb)
{
	struct lb_steer_flow f = {};
	struct lb_steer_be *be;
	struct iphdr *ip;
	void *l4;

	if (l4_of(skb, &ip, &l4))
		return TCX_NEXT;
	f.vip_addr = ip->saddr;
	f.vip_port = ((__be16 *)l4)[0];
	f.lb_addr = ip->daddr;
	f.lb_port = ((__be16 *)l4)[1];
	f.proto = ip->protocol;
	be = bpf_map_lookup_elem(&steer_flows, &f);
	if (!be)
		return TCX_NEXT;
	rewrite(skb, f.proto, offsetof(struct iphdr, saddr), be->vip_addr, be->be_addr, 0,
		be->vip_port, be->be_port);
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
