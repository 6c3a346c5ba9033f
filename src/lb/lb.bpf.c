// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb: an L4 load balancer in XDP (IPv4, TCP and UDP). A flow to a VIP is matched
 * in the LRU conntrack or placed by the VIP's Maglev table (built in user space), then
 * sent back out of the same interface (XDP_TX) to its backend:
 *   dsr  only the MACs change; the backend holds the VIP and answers the client itself;
 *   nat  source becomes the LB's address and a free port, destination the backend;
 *        the backend's replies come back here and are rewritten to come from the VIP;
 *   encap (per VIP, ipip or gue, any mode): DSR across routers, the packet unchanged in
 *        an outer IPv4 header to the backend via the FIB's next hop (encap_tx).
 * Verdicts (docs/lb.md): not to the LB's MAC, not IPv4 or not for a VIP -> XDP_PASS
 * untouched; for a VIP address but malformed, a fragment, with IPv4 options or source
 * port 0 -> XDP_DROP. Every packet adds 1 to exactly one verdict counter (lb.h). */
#include "parse.h"
#include "csum.h"
#include "lb.h"
#include "lb_maps.h"
#include "verdict.h"

/* `bpflab trace` names a verdict by the lb_counter it added (verdict.h). */
VERDICT_REASONS(enum lb_counter);

/* Set before load from the pinned config, so a replaced program behaves the same. */
const volatile __u32 lb_mode = LB_MODE_DSR;
const volatile __u32 table_size = LB_TABLE_DEFAULT;
const volatile __be32 snat_addr = 0;
/* The interface's own MAC: only frames sent to it are balanced. Aligned so that it is
 * compared as one 32- and one 16-bit word. */
const volatile __u8 lb_mac[6] __attribute__((aligned(4))) = {};
/* Benchmarks only: forget a new flow again, so every run of one packet is a new flow. */
const volatile __u8 bench_forget = 0;
/* Encap VIPs: the outer IPv4 source, and the interface whose FIB view finds the next hop
 * (the one `lb start` attached to; 0: the receiving one). Fixed, so that BPF_PROG_TEST_RUN,
 * whose packets arrive on loopback, looks routes up as the attached program does. */
const volatile __be32 tunnel_src4 = 0;
const volatile __u32 lb_ifindex = 0;

/* Offsets as the verifier can bound them: it drops the range of a packet pointer whose
 * offset may reach 64k. Identity here: l3 <= 14 + 2 tags, l4 <= that + 60. */
#define L3_OFF(p) ((p)->l3_off & 0x3f)
#define L4_OFF(p) ((p)->l4_off & 0xff)

#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_FRAG_NEEDED 4
#define AF_INET 2
#define IP_DF 0x4000
#define ENCAP_IPIP_LEN 20               /* outer IPv4 */
#define ENCAP_GUE_LEN (20 + 8)          /* outer IPv4 + UDP */
/* ICMP frag needed: IPv4 + ICMP header + the quoted IPv4 header and 8 bytes (RFC 792). */
#define TOO_BIG_QUOTE (20 + 8)
#define TOO_BIG_LEN (20 + 8 + TOO_BIG_QUOTE)

static __always_inline void count(struct lb_counters *c, int what)
{
	if (c)
		c->c[what]++;
	/* Every packet adds to exactly one verdict counter: it is the verdict's reason. */
	if (what < LBC__VERDICTS)
		verdict_note(what, 0);
}

/* Broadcast, multicast and other hosts' frames (a bridge floods, promiscuous mode) are
 * not ours to balance, and their destination must never become our source. */
static __always_inline int to_lb_mac(const void *data)
{
	/* Through void *, not the packed struct ethhdr: clang would split a u32 load from
	 * it into four byte loads. */
	return !((*(const __u32 *)data ^ *(const volatile __u32 *)lb_mac) |
		 (*(const __u16 *)(data + 4) ^ *(const volatile __u16 *)(lb_mac + 4)));
}

static __always_inline void stats_add(void *map, __u32 id, __u64 len, int new_flow)
{
	struct lb_stats *s = bpf_map_lookup_elem(map, &id);

	if (!s)
		return;
	s->packets++;
	s->bytes += len;
	s->new_flows += new_flow;
}

static __always_inline void set_macs(void *data, const __u8 *dst)
{
	/* The frame was addressed to us: our MAC becomes the source. In 16-bit words
	 * (dst is a map value's MAC, 2-aligned): through the packed struct ethhdr, clang
	 * would copy byte by byte. */
	__u16 *w = data;
	const __u16 *m = (const __u16 *)dst;

	w[3] = w[0];
	w[4] = w[1];
	w[5] = w[2];
	w[0] = m[0];
	w[1] = m[1];
	w[2] = m[2];
}

static __always_inline struct lb_backend *backend_get(__u32 id)
{
	struct lb_backend *be;

	if (!id)
		return NULL;
	be = bpf_map_lookup_elem(&backends, &id);
	return be && (be->flags & LB_BE_USED) ? be : NULL;
}

/* Rewrites addresses and ports of an IPv4 TCP/UDP packet, checksums incrementally. */
static __always_inline void nat_rewrite(struct iphdr *ip, void *l4, __u8 proto,
					__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		csum_replace4(&th->check, ip->saddr, saddr);
		csum_replace4(&th->check, ip->daddr, daddr);
		csum_replace2(&th->check, th->source, sport);
		csum_replace2(&th->check, th->dest, dport);
		th->source = sport;
		th->dest = dport;
	} else {
		struct udphdr *uh = l4;
		csum_replace4_udp(&uh->check, ip->saddr, saddr);
		csum_replace4_udp(&uh->check, ip->daddr, daddr);
		csum_replace2_udp(&uh->check, uh->source, sport);
		csum_replace2_udp(&uh->check, uh->dest, dport);
		uh->source = sport;
		uh->dest = dport;
	}
	csum_replace4(&ip->check, ip->saddr, saddr);
	csum_replace4(&ip->check, ip->daddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
}

/* NAT: claims a reverse entry for this flow: the client's own port if free, else ports
 * derived from the flow hash. Returns the port, or 0 when all tries were taken: the
 * caller has refused source port 0 and derived ports are >= LB_NAT_PORT_MIN, so 0 is
 * never a claimed port, and a failure has inserted nothing. */
static __always_inline __be16 nat_claim(const struct lb_flow *f, const struct lb_backend *be,
					__u32 bid, __u32 vip_id, const __u8 *client_mac,
					__u32 hash, struct lb_counters *cnt)
{
	struct lb_flow rk = {
		.saddr = be->addr, .daddr = snat_addr, .sport = be->port, .proto = f->proto,
	};
	struct lb_rev rv = {
		.client_addr = f->saddr, .vip_addr = f->daddr, .client_port = f->sport,
		.vip_port = f->dport, .backend_id = bid, .vip_id = vip_id,
	};

	__builtin_memcpy(rv.client_mac, client_mac, ETH_ALEN);
	for (int i = 0; i < LB_NAT_TRIES; i++) {
		struct lb_rev *cur;
		__be16 port = f->sport;

		if (i)
			port = bpf_htons(LB_NAT_PORT_MIN +
					 lb_mix32(hash + i) % (65536 - LB_NAT_PORT_MIN));
		rk.dport = port;
		if (!bpf_map_update_elem(&reverse, &rk, &rv, BPF_NOEXIST)) {
			if (i)
				count(cnt, LBC_NAT_PORT_REMAP);
			return port;
		}
		/* Ours already (the forward entry was evicted, or another CPU won the race). */
		cur = bpf_map_lookup_elem(&reverse, &rk);
		if (cur && cur->client_addr == f->saddr && cur->client_port == f->sport &&
		    cur->vip_addr == f->daddr && cur->vip_port == f->dport) {
			bpf_map_update_elem(&reverse, &rk, &rv, BPF_EXIST);
			return port;
		}
	}
	return 0;
}

/* NAT: a backend's reply to the LB's address. Returns XDP_TX, or -1 when not ours. */
static __always_inline int nat_reply(struct ethhdr *eth, struct iphdr *ip, void *l4,
				     __u8 proto, struct lb_counters *cnt)
{
	struct udphdr *ports = l4; /* TCP and UDP start with the same two ports */
	struct lb_flow rk = {
		.saddr = ip->saddr, .daddr = ip->daddr, .sport = ports->source,
		.dport = ports->dest, .proto = proto,
	};
	struct lb_rev *rv = bpf_map_lookup_elem(&reverse, &rk);

	if (!rv)
		return -1;
	nat_rewrite(ip, l4, proto, rv->vip_addr, rv->client_addr, rv->vip_port, rv->client_port);
	set_macs(eth, rv->client_mac);
	count(cnt, LBC_REPLY);
	return XDP_TX;
}

/* The backend's encapsulation, copied from its VIP by lb_cfg_apply. */
static __always_inline __u32 be_encap(const struct lb_backend *be)
{
	return (be->flags >> LB_BE_ENCAP_SHIFT) & LB_VIP_ENCAP_MASK;
}

/* A 20-byte IPv4 header's checksum, from scratch (the header is new). */
static __always_inline __sum16 ip4_csum(const void *h)
{
	const __u16 *w = h;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	return (__sum16)~csum_fold32(sum);
}

/* The client's packet does not fit the path once encapsulated: with DF, it is answered
 * with ICMP "fragmentation needed" from the VIP, quoting its IP header and 8 bytes, with
 * the MTU left for the inner packet (RFC 1191), out of the port it came in (VLAN tags
 * kept); without DF, or when it is itself an ICMP message (RFC 1122 3.2.2), dropped: XDP
 * cannot fragment. The frame is rewritten in place: 28 bytes grown at the front. */
static __always_inline int too_big(struct xdp_md *ctx, __u32 l3, __u16 mtu, int df,
				   struct lb_counters *cnt)
{
	void *data, *data_end;
	struct iphdr *ip, *q;
	struct icmphdr *ic;
	__u32 sum = 0;
	__u16 *w;

	if (!df) {
		count(cnt, LBC_DROP_TOO_BIG);
		return XDP_DROP;
	}
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(*ip) + sizeof(*ic))))
		goto fail;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	l3 &= 0x3f;
	/* Ethernet and VLAN tags move to the front: always 22 bytes (2 tags), the tail of
	 * which the new IPv4 header then overwrites when there were fewer. */
	if (data + 28 + 22 > data_end)
		goto fail;
	__builtin_memcpy(data, data + 28, 22);
	ip = data + l3;
	ic = (void *)(ip + 1);
	q = (void *)(ic + 1);
	if ((void *)q + TOO_BIG_QUOTE > data_end)
		goto fail;
	/* A new source MAC: ours (the frame was sent to it); the client's becomes the destination. */
	{
		__u16 *e = data, t0 = e[0], t1 = e[1], t2 = e[2];

		e[0] = e[3];
		e[1] = e[4];
		e[2] = e[5];
		e[3] = t0;
		e[4] = t1;
		e[5] = t2;
	}
	*(__u8 *)ip = 0x45;
	ip->tos = 0;
	ip->tot_len = bpf_htons(TOO_BIG_LEN);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = LB_ENCAP_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = q->daddr;
	ip->daddr = q->saddr;
	ip->check = 0;
	ip->check = ip4_csum(ip);
	ic->type = ICMP_DEST_UNREACH;
	ic->code = ICMP_FRAG_NEEDED;
	ic->checksum = 0;
	ic->id = 0;
	ic->sequence = bpf_htons(mtu);
	w = (void *)ic;
#pragma unroll
	for (int i = 0; i < (8 + TOO_BIG_QUOTE) / 2; i++)
		sum += w[i];
	ic->checksum = (__sum16)~csum_fold32(sum);
	/* The rest of the client's packet goes. */
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + TOO_BIG_LEN) - (int)(data_end - data)))
		goto fail;
	count(cnt, LBC_ICMP_TOO_BIG);
	return XDP_TX;
fail:
	count(cnt, LBC_DROP_ENCAP);
	return XDP_DROP;
}

/* DSR across routers: the client's IPv4 packet, unchanged, inside an outer IPv4 header
 * from tunnel_src4 to the backend (IPIP: protocol 4), or that and a UDP header to
 * LB_GUE_PORT from a flow-hash port (GUE variant 1), to the next hop the kernel's FIB
 * names. Wire format: docs/lb.md "Encapsulation". VLAN tags are not carried: the outer
 * packet is routed, not bridged. Never sends more than the path MTU (too_big). The FIB's
 * answer is kept per backend and CPU for LB_NH_TTL_NS (struct lb_nh): a lookup costs
 * more than the rest of the packet's work. */
static __always_inline int encap_tx(struct xdp_md *ctx, __u32 l3, const struct lb_backend *be,
				    __u32 bid, __u32 encap, __u32 hash, struct lb_counters *cnt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hlen = encap == LB_ENCAP_GUE ? ENCAP_GUE_LEN : ENCAP_IPIP_LEN;
	__u32 in_if = lb_ifindex ? lb_ifindex : ctx->ingress_ifindex;
	struct bpf_fib_lookup fib;
	struct iphdr *in, *o;
	struct lb_nh *nh;
	__u16 inner_len, olen;
	__u64 now;
	__u8 tos;
	int df, icmp, rc;

	l3 &= 0x3f;
	in = data + l3;
	if ((void *)(in + 1) > data_end) {
		count(cnt, LBC_DROP_MALFORMED); /* parse_packet checked it: for the verifier */
		return XDP_DROP;
	}
	inner_len = bpf_ntohs(in->tot_len);
	olen = inner_len + hlen;
	tos = in->tos;
	df = !!(in->frag_off & bpf_htons(IP_DF));
	icmp = in->protocol == IPPROTO_ICMP;
	nh = bpf_map_lookup_elem(&nexthops, &bid);
	if (!nh) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	now = bpf_ktime_get_coarse_ns();
	if (nh->daddr == be->addr && now - nh->stamp < LB_NH_TTL_NS) {
		if (nh->ifindex && olen <= nh->ok_len)
			goto send;
		if (nh->mtu && olen > nh->mtu)
			return too_big(ctx, l3, nh->mtu > hlen ? nh->mtu - hlen : 0, df && !icmp, cnt);
	} else {
		nh->daddr = be->addr;
		nh->stamp = now;
		nh->ifindex = 0;
		nh->ok_len = 0;
		nh->mtu = 0;
	}
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.family = AF_INET;
	fib.tos = tos;
	fib.l4_protocol = encap == LB_ENCAP_GUE ? IPPROTO_UDP : IPPROTO_IPIP;
	fib.tot_len = olen;
	fib.ifindex = in_if;
	fib.ipv4_src = tunnel_src4;
	fib.ipv4_dst = be->addr;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		nh->mtu = fib.mtu_result;
		return too_big(ctx, l3, fib.mtu_result > hlen ? fib.mtu_result - hlen : 0,
			       df && !icmp, cnt);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		count(cnt, LBC_DROP_NO_NEIGH);
		return XDP_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		count(cnt, LBC_DROP_NO_ROUTE);
		return XDP_DROP;
	}
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	nh->ifindex = fib.ifindex;
	if (olen > nh->ok_len)
		nh->ok_len = olen;
send:
	/* Room for Ethernet + outer headers where Ethernet and VLAN tags were. */
	if (bpf_xdp_adjust_head(ctx, (int)l3 - (int)(sizeof(struct ethhdr) + hlen))) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	o = data + sizeof(struct ethhdr);
	if ((void *)(o + 1) + sizeof(struct udphdr) > data_end) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	__builtin_memcpy(data, nh->dmac, 2 * ETH_ALEN); /* dmac, then smac: as in Ethernet */
	((struct ethhdr *)data)->h_proto = bpf_htons(ETH_P_IP);
	*(__u8 *)o = 0x45;
	o->tos = tos;
	o->tot_len = bpf_htons(olen);
	o->id = 0;
	/* Always DF: a fragment would reach a decapsulator that cannot reassemble. */
	o->frag_off = bpf_htons(IP_DF);
	o->ttl = LB_ENCAP_TTL;
	o->protocol = encap == LB_ENCAP_GUE ? IPPROTO_UDP : IPPROTO_IPIP;
	o->saddr = tunnel_src4;
	o->daddr = be->addr;
	o->check = 0;
	o->check = ip4_csum(o);
	if (encap == LB_ENCAP_GUE) {
		struct udphdr *u = (void *)(o + 1);

		u->source = bpf_htons(LB_GUE_SPORT_MIN | (hash & 0x3fff));
		u->dest = bpf_htons(LB_GUE_PORT);
		u->len = bpf_htons(inner_len + sizeof(*u));
		u->check = 0; /* IPv4: none (RFC 768); the inner packet has its own */
	}
	count(cnt, LBC_TX_ENCAP);
	if (nh->ifindex == in_if)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

/* An ICMP error (e.g. fragmentation needed) about a packet the LB or a backend sent
 * from the VIP: the quoted header is VIP:port -> client:port, and the flow it belongs to
 * is in conntrack the other way round. dsr: the frame goes unchanged to that backend.
 * nat: it is made to look like an error about what the backend itself sent (from
 * backend:port to the LB's address and NAT port): quoted addresses, ports and IP
 * checksum rewritten, the ICMP checksum updated for each, outer addresses LB -> backend.
 * Everything read or rewritten lies inside the ICMP message as the outer tot_len says
 * (p->l4_len), never in the frame's padding. Returns XDP_TX, XDP_DROP (counted: lengths
 * that do not hold), or -1 when it is not about one of our flows. */
static __always_inline int icmp_to_backend(struct xdp_md *ctx, void *data, void *data_end,
					   struct pkt *p, struct iphdr *ip, struct lb_counters *cnt)
{
	struct icmphdr *ic = data + L4_OFF(p);
	struct iphdr *in;
	struct udphdr *inp;
	struct lb_backend *be;
	struct lb_flow f = {};
	struct lb_ct *ct;

	/* The frame checks are for the verifier: l4_len lies inside the frame (parse.h). */
	if ((void *)(ic + 1) > data_end || p->l4_len < sizeof(*ic))
		goto malformed;
	if (ic->type != ICMP_DEST_UNREACH && ic->type != ICMP_TIME_EXCEEDED)
		return -1;
	/* An error quotes the IP header and at least 8 bytes of the datagram (RFC 792). */
	if (p->l4_len < sizeof(*ic) + sizeof(*in) + sizeof(*inp))
		goto malformed;
	in = (void *)(ic + 1);
	inp = (void *)(in + 1);
	if ((void *)(inp + 1) > data_end)
		goto malformed;
	/* The quoted header's own lengths: a datagram too short for ports has none. */
	if (in->version != 4 || in->ihl < 5 ||
	    bpf_ntohs(in->tot_len) < sizeof(*in) + sizeof(*inp))
		goto malformed;
	/* Quoted options (we send none), other protocols, later fragments: no flow of ours. */
	if (in->ihl != 5 || (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP) ||
	    (in->frag_off & bpf_htons(0x1fff)))
		return -1;
	f.saddr = in->daddr;
	f.daddr = in->saddr;
	f.sport = inp->dest;
	f.dport = inp->source;
	f.proto = in->protocol;
	ct = bpf_map_lookup_elem(&conntrack, &f);
	if (!ct)
		return -1;
	be = backend_get(ct->backend_id);
	if (!be)
		return -1;
	/* Encap: the error goes through the flow's tunnel (and GUE source port) unchanged. */
	if (be_encap(be))
		return encap_tx(ctx, p->l3_off, be, ct->backend_id, be_encap(be),
				lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport, f.proto), cnt);
	if (lb_mode == LB_MODE_NAT) {
		__sum16 old_check = in->check;

		csum_replace4(&in->check, in->saddr, be->addr);
		csum_replace4(&in->check, in->daddr, snat_addr);
		csum_replace4(&ic->checksum, in->saddr, be->addr);
		csum_replace4(&ic->checksum, in->daddr, snat_addr);
		csum_replace2(&ic->checksum, old_check, in->check);
		csum_replace2(&ic->checksum, inp->source, be->port);
		csum_replace2(&ic->checksum, inp->dest, ct->nat_port);
		in->saddr = be->addr;
		in->daddr = snat_addr;
		inp->source = be->port;
		inp->dest = ct->nat_port;
		csum_replace4(&ip->check, ip->saddr, snat_addr);
		csum_replace4(&ip->check, ip->daddr, be->addr);
		ip->saddr = snat_addr;
		ip->daddr = be->addr;
	}
	set_macs(p->eth, be->mac);
	count(cnt, LBC_ICMP_TO_BACKEND);
	return XDP_TX;
malformed:
	count(cnt, LBC_DROP_MALFORMED);
	return XDP_DROP;
}

static __always_inline int lb_xdp_(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct lb_counters *cnt;
	struct lb_backend *be = NULL;
	struct lb_vip_key vk = {};
	struct lb_flow f = {};
	struct lb_vip *vip;
	struct lb_ct *ct;
	struct pkt p = {};
	struct iphdr *ip;
	struct udphdr *ports;
	__u32 key = 0, bid = 0, h = 0, encap;
	__be16 nat_port = 0;
	int r, new_flow = 0, hashed = 0;

	cnt = bpf_map_lookup_elem(&counters, &key);
	if (data + sizeof(struct ethhdr) > data_end || !to_lb_mac(data)) {
		count(cnt, LBC_PASS_NOT_FOR_US);
		return XDP_PASS;
	}
	r = parse_packet(data, data_end, &p);
	if (r == PARSE_NOT_IP || p.l3_proto != ETH_P_IP) {
		count(cnt, LBC_PASS_NOT_IPV4);
		return XDP_PASS;
	}
	ip = data + L3_OFF(&p);
	if ((void *)(ip + 1) > data_end) {
		count(cnt, LBC_PASS_NOT_VIP); /* not even an address to tell */
		return XDP_PASS;
	}
	/* The hot path first: a whole TCP/UDP packet is one lookup away from its VIP. */
	vip = NULL;
	ports = data + L4_OFF(&p);
	if (r == PARSE_OK && !p.frag && !p.ip_opts &&
	    (p.l4_proto == IPPROTO_TCP || p.l4_proto == IPPROTO_UDP)) {
		if ((void *)(ports + 1) > data_end) {
			/* parse_packet checked it; the verifier needs to see it */
			count(cnt, LBC_DROP_MALFORMED);
			return XDP_DROP;
		}
		vk.addr = ip->daddr;
		vk.port = ports->dest;
		vk.proto = p.l4_proto;
		vip = bpf_map_lookup_elem(&vips, &vk);
	}
	if (!vip) {
		if (!bpf_map_lookup_elem(&vip_addrs, &ip->daddr)) {
			if (r == PARSE_OK && lb_mode == LB_MODE_NAT && ip->daddr == snat_addr &&
			    p.l4 && !p.frag && !p.ip_opts &&
			    (p.l4_proto == IPPROTO_TCP || p.l4_proto == IPPROTO_UDP)) {
				void *l4 = data + L4_OFF(&p);
				__u32 need = p.l4_proto == IPPROTO_TCP ? sizeof(struct tcphdr) :
									 sizeof(struct udphdr);
				if (l4 + need <= data_end) {
					r = nat_reply(p.eth, ip, l4, p.l4_proto, cnt);
					if (r >= 0)
						return r;
				}
			}
			count(cnt, LBC_PASS_NOT_VIP);
			return XDP_PASS;
		}
		/* For one of our VIP addresses, but not a packet we can balance. */
		if (r != PARSE_OK) {
			count(cnt, LBC_DROP_MALFORMED);
			return XDP_DROP;
		}
		if (p.frag) {
			count(cnt, LBC_DROP_FRAGMENT);
			return XDP_DROP;
		}
		if (p.ip_opts) {
			count(cnt, LBC_DROP_IP_OPTIONS);
			return XDP_DROP;
		}
		if (p.l4_proto == IPPROTO_ICMP) {
			r = icmp_to_backend(ctx, data, data_end, &p, ip, cnt);
			if (r >= 0)
				return r;
		}
		count(cnt, LBC_PASS_OTHER_L4);
		return XDP_PASS;
	}

	/* Port 0 is no port (RFC 768, 9293): a flow with it is refused before any state. */
	if (!ports->source) {
		count(cnt, LBC_DROP_PORT_ZERO);
		return XDP_DROP;
	}
	f.saddr = ip->saddr;
	f.daddr = ip->daddr;
	f.sport = ports->source;
	f.dport = ports->dest;
	f.proto = p.l4_proto;
	ct = bpf_map_lookup_elem(&conntrack, &f);
	if (ct) {
		bid = ct->backend_id;
		nat_port = ct->nat_port;
		be = backend_get(bid);
		if (!be || be->vip_id != vip->id) {
			count(cnt, LBC_CT_STALE);
			be = NULL;
		}
	} else {
		count(cnt, LBC_CT_MISS);
	}
	if (!be) {
		struct lb_ct nct = { .vip_id = vip->id };
		__u32 slot, *pb;
		void *ring = bpf_map_lookup_elem(&rings, &vip->id);

		h = lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport, f.proto);
		hashed = 1;
		slot = h % table_size;
		pb = ring ? bpf_map_lookup_elem(ring, &slot) : NULL;
		bid = pb ? *pb : 0;
		be = backend_get(bid);
		if (!be) {
			count(cnt, LBC_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		nct.backend_id = bid;
		/* An encap VIP is DSR whatever the mode: no NAT port, no reverse entry. */
		if (lb_mode == LB_MODE_NAT && !be_encap(be)) {
			nct.nat_port = nat_claim(&f, be, bid, vip->id, p.eth->h_source, h, cnt);
			if (!nct.nat_port) {
				count(cnt, LBC_DROP_NAT_PORT);
				return XDP_DROP;
			}
		}
		if (bpf_map_update_elem(&conntrack, &f, &nct, BPF_ANY) && nct.nat_port) {
			/* Unrecorded, the reply's entry would outlive a dropped flow: undo it. */
			struct lb_flow rk = { .saddr = be->addr, .daddr = snat_addr,
					      .sport = be->port, .dport = nct.nat_port,
					      .proto = f.proto };
			bpf_map_delete_elem(&reverse, &rk);
			count(cnt, LBC_DROP_NAT_PORT);
			return XDP_DROP;
		}
		nat_port = nct.nat_port;
		new_flow = 1;
		if (bench_forget) {
			struct lb_flow rk = { .saddr = be->addr, .daddr = snat_addr, .sport = be->port,
					      .dport = nat_port, .proto = f.proto };
			bpf_map_delete_elem(&conntrack, &f);
			if (nat_port)
				bpf_map_delete_elem(&reverse, &rk);
		}
	}
	stats_add(&vip_stats, vip->id, len, new_flow);
	stats_add(&backend_stats, bid, len, new_flow);

	encap = be_encap(be);
	if (encap) {
		if (!hashed)
			h = lb_flow_hash(f.saddr, f.daddr, f.sport, f.dport, f.proto);
		return encap_tx(ctx, p.l3_off, be, bid, encap, h, cnt);
	}
	if (lb_mode == LB_MODE_NAT) {
		void *l4 = data + L4_OFF(&p);
		/* parse_packet checked the whole header; the verifier needs to see it. */
		if (p.l4_proto == IPPROTO_TCP ? l4 + sizeof(struct tcphdr) > data_end :
						l4 + sizeof(struct udphdr) > data_end) {
			count(cnt, LBC_DROP_MALFORMED);
			return XDP_DROP;
		}
		nat_rewrite(ip, l4, p.l4_proto, snat_addr, be->addr, nat_port, be->port);
	}
	set_macs(p.eth, be->mac);
	count(cnt, LBC_TX_BACKEND);
	return XDP_TX;
}

/* The verdict with its reason for `bpflab trace` (verdict.h): one exit for every path. */
SEC("xdp")
int lb_xdp(struct xdp_md *ctx)
{
	int act = lb_xdp_(ctx);

	verdict_report_noted(ctx, 1, VK_LB, act, 0xffff);
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
