// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb decap: the backend side of lb's L3 DSR. Strips IPIP (outer IPv4 or IPv6,
 * protocol 4 or 41) and GUE variant 1 (UDP to LB_GUE_PORT, inner IP right after the UDP
 * header) from packets for the VIPs this backend serves and passes the inner packet to the
 * stack as if it had arrived directly (the VIP is on lo). Verdicts (docs/lb.md, "Decap"):
 *   not to our MAC, not IP, not IPIP nor GUE        -> pass untouched
 *   encapsulated, for a VIP we serve                -> decap, pass
 *   encapsulated, anything else (another VIP, a fragment, broken outer or inner
 *   headers, an inner length that is not the outer payload's)   -> drop
 * Every packet adds 1 to exactly one counter of enum decap_counter. */
#include "parse.h"
#include "decap.h"

/* The interface's own MAC; frames to other MACs are not ours. Aligned for 32+16-bit
 * compares. */
const volatile __u8 own_mac[6] __attribute__((aligned(4))) = {};

/* VIP (address, port, protocol) -> its index. Filled before attach, read only after. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DECAP_MAX_VIPS);
	__type(key, struct decap_vip_key);
	__type(value, struct decap_vip);
} vips SEC(".maps");

/* VIP index -> inner packets and bytes delivered. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DECAP_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct decap_stats);
} vip_stats SEC(".maps");

/* The verdict counters, one entry. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct decap_counters);
} counters SEC(".maps");

#ifndef TC_ACT_OK
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#endif
/* Linux 6.3's, which the uapi headers installed here predate; the kernel has them. */
#define DECAP_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define DECAP_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#ifndef IPPROTO_IPIP
#define IPPROTO_IPIP 4
#endif

/* What classify found for a packet to decapsulate. */
struct decap_res {
	__u32 inner_off;   /* where the inner IP header starts */
	__u16 inner_proto; /* ETH_P_IP / ETH_P_IPV6, host order */
	__u16 l3_off;      /* the outer IP header's offset: Ethernet + VLAN tags */
};

static __always_inline int to_own_mac(const void *data)
{
	return !((*(const __u32 *)data ^ *(const volatile __u32 *)own_mac) |
		 (*(const __u16 *)(data + 4) ^ *(const volatile __u16 *)(own_mac + 4)));
}

/* A header parse_packet refused: is it still recognisably ours (IPIP, or UDP to the GUE
 * port, as far as the bytes that are there tell)? Then it is a broken tunnel packet. */
static __always_inline int outer_broken_is_ours(void *data, void *data_end, const struct pkt *p)
{
	void *l3 = data + (p->l3_off & 0x3f);
	__u32 l4;
	__u8 proto;

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > data_end)
			return 0;
		proto = ip->protocol;
		l4 = ip->ihl * 4;
		if (l4 < 20)
			return proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
	} else if (p->l3_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end)
			return 0;
		proto = ip6->nexthdr;
		l4 = sizeof(*ip6);
	} else {
		return 0;
	}
	if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6)
		return 1;
	if (proto == IPPROTO_UDP) {
		__be16 *dport = l3 + l4 + 2;
		if ((void *)(dport + 1) > data_end)
			return 0;
		return *dport == bpf_htons(LB_GUE_PORT);
	}
	return 0;
}

/* RFC 791: the header's one's-complement sum, checksum included, is all ones. */
static __always_inline int ip4_csum_ok(struct iphdr *ip, void *data_end)
{
	__u16 *w = (__u16 *)ip;
	__u32 n = ip->ihl * 2, sum = 0;

	for (int i = 0; i < 30; i++) {
		if (i >= n)
			break;
		__u16 *x = w + i;

		/* Keeps clang from turning the bound into arithmetic on data_end. */
		asm volatile("" : "+r"(x));
		if ((void *)(x + 1) > data_end)
			return 0;
		sum += *x;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static __always_inline int classify(void *data, void *data_end, int allow_vlan,
				    struct decap_res *res, __u32 *vip_id, __u32 *inner_len)
{
	struct decap_vip_key k = {};
	struct decap_vip *v;
	struct pkt p = {}, q = {};
	__u32 inner_off, payload;
	__u16 *etype, saved;
	__u8 *inner;
	int r, outer_proto;

	if (data + ETH_HLEN > data_end)
		return DC_PASS_NOT_ENCAP;
	if (!to_own_mac(data))
		return DC_PASS_NOT_FOR_US;
	r = parse_packet(data, data_end, &p);
	if (r == PARSE_NOT_IP)
		return DC_PASS_NOT_ENCAP;
	if (r != PARSE_OK)
		return outer_broken_is_ours(data, data_end, &p) ? DC_DROP_OUTER_MALFORMED
								: DC_PASS_NOT_ENCAP;
	if (!allow_vlan && p.vlans)
		return DC_PASS_NOT_ENCAP; /* tc: see lb_decap.c, the hook choice */
	outer_proto = p.l4_proto;
	inner_off = p.l4_off & 0x7fff;
	payload = p.l4_len;
	if (outer_proto == IPPROTO_UDP) {
		struct udphdr *uh = p.l4;
		/* A later fragment has no port to tell: not recognisably ours. */
		if (!uh || uh->dest != bpf_htons(LB_GUE_PORT))
			return DC_PASS_NOT_ENCAP;
		inner_off = (inner_off + sizeof(*uh)) & 0x7fff;
		/* parse_packet checked 8 <= UDP length <= the IP payload. */
		payload = bpf_ntohs(uh->len) - sizeof(*uh);
	} else if (outer_proto != IPPROTO_IPIP && outer_proto != IPPROTO_IPV6) {
		return DC_PASS_NOT_ENCAP;
	}
	if (p.frag)
		return DC_DROP_OUTER_FRAGMENT;
	if (p.ip4 && !ip4_csum_ok(p.ip4, data_end))
		return DC_DROP_OUTER_MALFORMED;
	/* lb sends no extension headers; refusing them keeps the inner header within 90
	 * bytes of the frame's start (22 of L2, 60 of IPv4, 8 of UDP), which is what lets the
	 * verifier follow the inner parse. */
	if (p.ip6 && p.l4_off != p.l3_off + sizeof(struct ipv6hdr))
		return DC_DROP_OUTER_MALFORMED;
	inner_off &= 0x7f;

	inner = data + inner_off;
	if ((void *)(inner + 1) > data_end || payload < 1)
		return DC_DROP_INNER_MALFORMED;
	if (outer_proto == IPPROTO_IPIP ? (*inner >> 4) != 4 :
	    outer_proto == IPPROTO_IPV6 ? (*inner >> 4) != 6 :
	    (*inner >> 4) != 4 && (*inner >> 4) != 6)
		return DC_DROP_INNER_MALFORMED;
	res->inner_proto = (*inner >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6;

	/* The inner packet goes through the same parser: the two bytes before it (the tail
	 * of the outer header, about to be stripped) stand in for its EtherType, and are
	 * put back when the packet is dropped. */
	/* Offsets from data, not inner - n: the verifier refuses negative offsets from a
	 * variable packet pointer. inner_off >= 34 (Ethernet + 20), so both stay in front. */
	etype = data + ((inner_off - 2) & 0x7f);
	if ((void *)(etype + 1) > data_end)
		return DC_DROP_INNER_MALFORMED;
	saved = *etype;
	*etype = bpf_htons(res->inner_proto);
	r = parse_packet(data + ((inner_off - ETH_HLEN) & 0x7f), data_end, &q);
	*etype = saved;
	if (r != PARSE_OK)
		return DC_DROP_INNER_MALFORMED;
	*inner_len = q.ip4 ? bpf_ntohs(q.ip4->tot_len) :
		     q.ip6 ? sizeof(struct ipv6hdr) + bpf_ntohs(q.ip6->payload_len) : 0;
	if (*inner_len != payload)
		return DC_DROP_INNER_MALFORMED;
	if (q.frag)
		return DC_DROP_INNER_FRAGMENT;

	if (q.ip4) {
		__builtin_memcpy(k.addr, &q.ip4->daddr, 4);
		k.family = 4;
	} else if (q.ip6) {
		__builtin_memcpy(k.addr, &q.ip6->daddr, 16);
		k.family = 6;
	} else {
		return DC_DROP_INNER_MALFORMED;
	}
	v = NULL;
	if (q.l4 && (q.l4_proto == IPPROTO_TCP || q.l4_proto == IPPROTO_UDP)) {
		/* source and dest are at the same offsets in TCP and UDP */
		k.port = ((struct udphdr *)q.l4)->dest;
		k.proto = q.l4_proto;
		v = bpf_map_lookup_elem(&vips, &k);
		k.port = 0;
		k.proto = 0;
	}
	if (!v)
		v = bpf_map_lookup_elem(&vips, &k);
	if (!v)
		return DC_DROP_NO_VIP;
	*vip_id = v->id;
	res->inner_off = inner_off;
	res->l3_off = p.l3_off & 0x3f;
	return DC_DECAP;
}

static __always_inline void account(int what, __u32 vip_id, __u32 inner_len)
{
	__u32 zero = 0;
	struct decap_counters *c = bpf_map_lookup_elem(&counters, &zero);
	struct decap_stats *s;

	if (c)
		c->c[what]++;
	if (what != DC_DECAP)
		return;
	s = bpf_map_lookup_elem(&vip_stats, &vip_id);
	if (s) {
		s->packets++;
		s->bytes += inner_len;
	}
}

SEC("xdp")
int decap_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct decap_res res = {};
	__u32 vip_id = 0, inner_len = 0, strip;
	__u8 *dst;
	int what;

	what = classify(data, data_end, 1, &res, &vip_id, &inner_len);
	account(what, vip_id, inner_len);
	if (what != DC_DECAP)
		return what < DC_DROP_NO_VIP ? XDP_PASS : XDP_DROP;
	/* The new frame: the same MACs and VLAN tags, then the inner EtherType, right before
	 * the inner header. strip >= 20 (the smallest outer header) and the L2 header without
	 * its EtherType is at most 20 bytes, so source and destination never overlap. */
	strip = (res.inner_off - res.l3_off) & 0x7f;
	dst = data + strip;
	/* Constant lengths per case: the verifier bounds dst by each one. */
	if (res.l3_off == ETH_HLEN) {
		if ((void *)(dst + ETH_HLEN) > data_end)
			return XDP_DROP; /* cannot be: the inner header follows; for the verifier */
		__builtin_memcpy(dst, data, 12);
		*(__u16 *)(dst + 12) = bpf_htons(res.inner_proto);
	} else if (res.l3_off == ETH_HLEN + 4) {
		if ((void *)(dst + ETH_HLEN + 4) > data_end || data + ETH_HLEN + 4 > data_end)
			return XDP_DROP;
		__builtin_memcpy(dst, data, 16);
		*(__u16 *)(dst + 16) = bpf_htons(res.inner_proto);
	} else {
		if ((void *)(dst + ETH_HLEN + 8) > data_end || data + ETH_HLEN + 8 > data_end)
			return XDP_DROP;
		__builtin_memcpy(dst, data, 20);
		*(__u16 *)(dst + 20) = bpf_htons(res.inner_proto);
	}
	if (bpf_xdp_adjust_head(ctx, strip))
		return XDP_DROP;
	return XDP_PASS;
}

/* tc where XDP cannot run: the same decisions on an skb. The in-band VLAN case is left to
 * XDP (at tc ingress the kernel has usually moved the tag out of the frame already). */
SEC("tc")
int decap_tc(struct __sk_buff *skb)
{
	struct decap_res res = {};
	__u32 vip_id = 0, inner_len = 0;
	__u64 flags;
	__be16 proto;
	void *data, *data_end;
	int what;

	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	what = classify(data, data_end, 0, &res, &vip_id, &inner_len);
	account(what, vip_id, inner_len);
	if (what != DC_DECAP)
		return what < DC_DROP_NO_VIP ? TC_ACT_OK : TC_ACT_SHOT;
	flags = res.inner_proto == ETH_P_IP ? DECAP_ADJ_ROOM_DECAP_L3_IPV4
					     : DECAP_ADJ_ROOM_DECAP_L3_IPV6;
	proto = bpf_htons(res.inner_proto);
	if (bpf_skb_adjust_room(skb, -(__s32)(res.inner_off - ETH_HLEN), BPF_ADJ_ROOM_MAC, flags) ||
	    bpf_skb_store_bytes(skb, 12, &proto, sizeof(proto), 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
