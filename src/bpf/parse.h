/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one packet parser of bpflab's XDP and TC programs.
 *
 * Contract: parse_packet() never reads past data_end, never trusts a length it has not
 * checked against the IP header's own length fields, and returns
 *   PARSE_OK        Ethernet (+ up to 2 VLAN tags) and, for IPv4/IPv6, a sane L3 header;
 *                   for TCP, UDP, ICMP, ICMPv6 also a whole L4 header inside the IP packet,
 *                   except in a non-first fragment (p->frag == FRAG_LATER, p->l4 == NULL:
 *                   ports are never read from those).
 *   PARSE_NOT_IP    a whole Ethernet header whose payload is not IP (ARP, LLDP, ...).
 *   PARSE_TRUNCATED the frame ends inside the Ethernet/VLAN headers or the fixed IPv4 / IPv6
 *                   header, before the IP length fields could be checked.
 *   PARSE_MALFORMED a header is all there but lies: IPv4 ihl < 5, version != 4/6,
 *                   tot_len < ihl*4, ihl*4 or tot_len past the frame; payload_len past the
 *                   frame; an IPv6 extension header past the IP payload, or hop-by-hop not
 *                   first (RFC 8200 4.1); an L4 header longer than the IP payload leaves for
 *                   it (TCP < 20 or doff*4, UDP < 8, ICMP/ICMPv6 < 8), TCP doff < 5, UDP len
 *                   < 8 or past the IP payload.
 *   PARSE_EXTHDRS   more than PARSE_MAX_EXTHDRS IPv6 extension headers: not walked further.
 * Lengths come from the IP header, never from the frame: short frames are padded to 60.
 * IPv6: any fragment header makes the packet a fragment (two of them: FRAG_LATER); any
 * routing header with segments left sets p->ip6_rh_left, whatever follows it.
 * Fields not reached are left zero/NULL.
 */
#ifndef BPFLAB_PARSE_H
#define BPFLAB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define PARSE_MAX_VLANS 2
/* IPv6 extension headers walked before giving up (PARSE_EXTHDRS). RFC 8200 4.1 lists six
 * kinds, each at most once except destination options (twice); 8 leaves room for that
 * plus AH, and real traffic rarely has more than 2. */
#define PARSE_MAX_EXTHDRS 8

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_IP,
	PARSE_TRUNCATED,
	PARSE_MALFORMED,
	PARSE_EXTHDRS,
};

enum frag_kind {
	FRAG_NONE = 0,
	FRAG_FIRST,  /* offset 0 with more fragments: L4 header is present */
	FRAG_LATER,  /* offset > 0: no L4 header here */
};

/* linux/icmp.h pulls in libc's socket headers, which do not build for -target bpf. */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmp6hdr {
	__u8 icmp6_type;
	__u8 icmp6_code;
	__sum16 icmp6_cksum;
	__be16 icmp6_identifier;
	__be16 icmp6_sequence;
};
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

struct pkt {
	struct ethhdr *eth;
	__u16 l3_proto;      /* host order ETH_P_* after VLAN tags */
	__u8 vlans;          /* number of VLAN tags */
	__u8 frag;           /* enum frag_kind */
	__u8 l4_proto;       /* IPPROTO_* (after IPv6 extension headers) */
	__u8 ip_opts;        /* IPv4 header longer than 20 bytes */
	__u16 vlan_tci[PARSE_MAX_VLANS];
	__u16 l3_off;        /* offset of the IP header from data */
	__u16 l4_off;        /* offset of the L4 header from data */
	__u16 l4_len;        /* L4 length (header + payload) from the IP header */
	__u8 ip6_rh_left;    /* segments left of an IPv6 routing header (0: none, or done):
			      * non-zero means we are not the final destination */
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	void *l4;            /* struct tcphdr / udphdr / icmphdr / icmp6hdr, or NULL */
};

/* Walks the extension headers from offset *offp up to `end` (the end of the IPv6 payload
 * as payload_len says; never past data_end). Offsets, not pointers: masking them keeps
 * every path's state the same shape, so the verifier's work stays linear in the bound. */
static __always_inline int parse_ipv6_exthdrs(void *data, void *data_end, __u32 end,
					      struct pkt *p, __u8 *nexthdr, __u32 *offp)
{
	__u32 off = *offp & 0x7fff; /* 62 at most: Ethernet, 2 VLAN tags, IPv6 */
	__u8 nh = *nexthdr;

	for (int i = 0; i <= PARSE_MAX_EXTHDRS; i++) {
		__u8 *h;
		__u32 len;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH) {
			*nexthdr = nh;
			*offp = off;
			return PARSE_OK;
		}
		if (i == PARSE_MAX_EXTHDRS)
			return PARSE_EXTHDRS;
		if (nh == IPPROTO_HOPOPTS && i > 0)
			return PARSE_MALFORMED;
		/* 8 bytes: the smallest extension header; it holds every field read here. */
		if (off + 8 > end)
			return PARSE_MALFORMED;
		h = data + off;
		if ((void *)(h + 8) > data_end)
			return PARSE_MALFORMED;
		if (nh == IPPROTO_FRAGMENT) {
			__u16 fo = bpf_ntohs(*(__be16 *)(h + 2));
			/* a second fragment header: no L4 header to trust */
			if ((fo & 0xfff8) || p->frag)
				p->frag = FRAG_LATER;
			else
				p->frag = FRAG_FIRST;
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = (h[1] + 2) * 4;
		} else {
			if (nh == IPPROTO_ROUTING && h[3])
				p->ip6_rh_left = h[3];
			len = (h[1] + 1) * 8;
		}
		nh = h[0];
		/* At most 8 headers of at most 2048 bytes after 62 of Ethernet, VLANs and
		 * IPv6: off stays below 16510, so the mask changes nothing but the verifier's
		 * view of off (and keeps it under its 64 KiB packet-offset limit). */
		off = (off + len) & 0x7fff;
		if (off > end)
			return PARSE_MALFORMED;
	}
	return PARSE_EXTHDRS;
}

static __always_inline int parse_packet(void *data, void *data_end, struct pkt *p)
{
	struct ethhdr *eth = data;
	void *cur;
	__u16 proto;
	__u32 l3_end; /* end of the IP packet per its header, as offset */

	if ((void *)(eth + 1) > data_end)
		return PARSE_TRUNCATED;
	p->eth = eth;
	proto = bpf_ntohs(eth->h_proto);
	cur = eth + 1;
#pragma unroll
	for (int i = 0; i < PARSE_MAX_VLANS; i++) {
		struct vlan_hdr_ *vh = cur;
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_TRUNCATED;
		p->vlan_tci[i] = bpf_ntohs(vh->tci);
		p->vlans++;
		proto = bpf_ntohs(vh->proto);
		cur = vh + 1;
	}
	p->l3_proto = proto;
	p->l3_off = cur - data;

	if (proto == ETH_P_IP) {
		struct iphdr *ip = cur;
		__u32 hlen, tot;

		if ((void *)(ip + 1) > data_end)
			return PARSE_TRUNCATED;
		if (ip->version != 4 || ip->ihl < 5)
			return PARSE_MALFORMED;
		hlen = ip->ihl * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (tot < hlen)
			return PARSE_MALFORMED;
		if (cur + hlen > data_end)
			return PARSE_TRUNCATED;
		if (cur + tot > data_end)
			return PARSE_MALFORMED;
		p->ip4 = ip;
		p->ip_opts = hlen > 20;
		p->l4_proto = ip->protocol;
		if (ip->frag_off & bpf_htons(0x1fff))
			p->frag = FRAG_LATER;
		else if (ip->frag_off & bpf_htons(0x2000))
			p->frag = FRAG_FIRST;
		cur += hlen;
		l3_end = p->l3_off + tot;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = cur;
		__u32 off;
		__u8 nh;
		int r;

		if ((void *)(ip6 + 1) > data_end)
			return PARSE_TRUNCATED;
		if (ip6->version != 6)
			return PARSE_MALFORMED;
		l3_end = p->l3_off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		if (data + l3_end > data_end)
			return PARSE_MALFORMED;
		p->ip6 = ip6;
		nh = ip6->nexthdr;
		cur = ip6 + 1;
		off = p->l3_off + sizeof(*ip6);
		r = parse_ipv6_exthdrs(data, data_end, l3_end, p, &nh, &off);
		if (r != PARSE_OK)
			return r;
		cur = data + off;
		p->l4_proto = nh;
	} else {
		return PARSE_NOT_IP;
	}

	p->l4_off = cur - data;
	p->l4_len = l3_end - p->l4_off;
	if (p->frag == FRAG_LATER)
		return PARSE_OK;

	switch (p->l4_proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = cur;
		if (p->l4_len < sizeof(*th))
			return PARSE_MALFORMED;
		if ((void *)(th + 1) > data_end)
			return PARSE_MALFORMED; /* cannot be: l3_end <= data_end; for the verifier */
		if (th->doff < 5 || th->doff * 4 > p->l4_len)
			return PARSE_MALFORMED;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = cur;
		__u16 ulen;
		if (p->l4_len < sizeof(*uh))
			return PARSE_MALFORMED;
		if ((void *)(uh + 1) > data_end)
			return PARSE_MALFORMED;
		ulen = bpf_ntohs(uh->len);
		/* A first fragment carries only part of the datagram that len describes. */
		if (ulen < 8 || (p->frag == FRAG_NONE && ulen > p->l4_len))
			return PARSE_MALFORMED;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Each family has its own ICMP: protocol 58 inside IPv4 (or 1 inside IPv6) is just
		 * another upper layer, with no header we may insist on. */
		if (p->l4_proto != (p->l3_proto == ETH_P_IP ? IPPROTO_ICMP : IPPROTO_ICMPV6))
			return PARSE_OK;
		if (p->l4_len < sizeof(struct icmphdr))
			return PARSE_MALFORMED;
		if (cur + sizeof(struct icmphdr) > data_end)
			return PARSE_MALFORMED;
		break;
	default:
		return PARSE_OK;
	}
	p->l4 = cur;
	return PARSE_OK;
}

#endif
