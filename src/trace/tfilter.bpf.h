/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Evaluates a compiled trace filter (tfilter.h) on one packet's headers.
 *
 * The evaluator is plain C and is compiled twice: into the BPF programs, and into user
 * space (tfilter.c's tfilter_eval), so the differential test checks the very code the
 * kernel runs. One bounded loop: jumps only go forward, so at most TF_MAX_TESTS steps
 * reach TF_ACCEPT or TF_REJECT; a malformed program (a backward jump, an index past n)
 * rejects rather than loops. An empty filter (n == 0) costs one compare.
 *
 * tf_pkt_from_skb() (programs built on vmlinux.h only) reads the headers of a struct
 * sk_buff seen in tracepoint context with bpf_probe_read_kernel into a struct tf_pkt. */
#ifndef BPFLAB_TFILTER_BPF_H
#define BPFLAB_TFILTER_BPF_H

#include "tfilter.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline int tf_addr_in(const struct tf_test *t, const __u32 *a)
{
	return ((a[0] & t->mask[0]) == t->net[0]) & ((a[1] & t->mask[1]) == t->net[1]) &
	       ((a[2] & t->mask[2]) == t->net[2]) & ((a[3] & t->mask[3]) == t->net[3]);
}

static __always_inline int tf_test_one(const struct tf_test *t, const struct tf_pkt *p)
{
	int r = 0;

	switch (t->op) {
	case TF_OP_FAMILY:
		return p->family == t->family;
	case TF_OP_PROTO:
		return p->family && p->proto == t->lo && (!t->family || p->family == t->family);
	case TF_OP_ADDR:
		if (p->family != t->family)
			return 0;
		if ((t->dir & TF_DIR_SRC) && tf_addr_in(t, p->saddr))
			r = 1;
		if ((t->dir & TF_DIR_DST) && tf_addr_in(t, p->daddr))
			r = 1;
		return r;
	case TF_OP_PORT:
		if (!p->has_ports)
			return 0;
		if ((t->dir & TF_DIR_SRC) && p->sport >= t->lo && p->sport <= t->hi)
			r = 1;
		if ((t->dir & TF_DIR_DST) && p->dport >= t->lo && p->dport <= t->hi)
			r = 1;
		return r;
	case TF_OP_DEV:
		return p->ifname_w[0] == t->name_w[0] && p->ifname_w[1] == t->name_w[1];
	case TF_OP_NETNS:
		return p->netns && p->netns == t->val;
	}
	return 0;
}

/* 1: the packet matches. */
static __always_inline int tf_match(const struct tf_prog *f, const struct tf_pkt *p)
{
	__u32 n = f->n, pc = 0;

	if (n == 0)
		return 1;
#ifdef __clang__
#pragma clang loop unroll(disable)
#endif
	for (int i = 0; i < TF_MAX_TESTS; i++) {
		const struct tf_test *t;
		__u32 next;

		if (pc >= n)
			return 0;
		/* The mask, not a compare, bounds the index: clang may check one copy of pc
		 * and index with another, which the verifier cannot follow. n <= TF_MAX_TESTS
		 * in any program the parser made, so the mask changes nothing there. */
		t = &f->t[pc & (TF_MAX_TESTS - 1)];
		next = tf_test_one(t, p) ? t->jt : t->jf;
		if (next == TF_ACCEPT)
			return 1;
		if (next == TF_REJECT || next <= pc)
			return 0;
		pc = next;
	}
	return 0;
}

#if defined(__VMLINUX_H__) && defined(__bpf__)
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#ifndef TF_ETH_P_IP
#define TF_ETH_P_IP 0x0800
#define TF_ETH_P_IPV6 0x86DD
#endif

/* IPv6 extension headers walked to find the L4 protocol (hop-by-hop, routing, fragment,
 * destination options, AH): as many as parse.h walks. */
#define TF_MAX_EXT 8

/* Fills p from skb in any tracepoint context. The network header offset is trusted only
 * when set (0xffff: unset, e.g. before the stack has parsed the packet: then family
 * stays 0 and only dev/netns tests can match). Returns 0, or <0 when skb is unreadable. */
static __always_inline int tf_pkt_from_skb(struct sk_buff *skb, struct tf_pkt *p)
{
	struct net_device *dev;
	unsigned char *head;
	__u16 nh, th, proto;
	__u8 b[40];

	__builtin_memset(p, 0, sizeof(*p));
	if (!skb)
		return -1;
	dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		bpf_probe_read_kernel(p->ifname, sizeof(p->ifname), dev->name);
		p->ifindex = BPF_CORE_READ(dev, ifindex);
		p->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	}
	head = BPF_CORE_READ(skb, head);
	nh = BPF_CORE_READ(skb, network_header);
	th = BPF_CORE_READ(skb, transport_header);
	proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	if (!head || nh == (__u16)~0U)
		return 0;
	if (proto == TF_ETH_P_IP) {
		__u8 ihl;
		__u16 frag;

		if (bpf_probe_read_kernel(b, 20, head + nh))
			return 0;
		if ((b[0] >> 4) != 4)
			return 0;
		p->family = 4;
		p->proto = b[9];
		__builtin_memcpy(&p->saddr[0], &b[12], 4);
		__builtin_memcpy(&p->daddr[0], &b[16], 4);
		ihl = (b[0] & 0xf) * 4;
		frag = ((__u16)b[6] << 8 | b[7]) & 0x1fff;
		/* The transport header may not be set yet on receive: the IP header says
		 * where it is. A later fragment has no ports. */
		th = nh + ihl;
		if (frag || ihl < 20)
			return 0;
	} else if (proto == TF_ETH_P_IPV6) {
		__u8 nxt;
		__u16 off;

		if (bpf_probe_read_kernel(b, 40, head + nh))
			return 0;
		if ((b[0] >> 4) != 6)
			return 0;
		p->family = 6;
		__builtin_memcpy(p->saddr, &b[8], 16);
		__builtin_memcpy(p->daddr, &b[24], 16);
		nxt = b[6];
		off = nh + 40;
		for (int i = 0; i < TF_MAX_EXT; i++) {
			__u8 e[8];

			if (nxt != 0 && nxt != 43 && nxt != 44 && nxt != 60 && nxt != 51)
				break;
			if (bpf_probe_read_kernel(e, sizeof(e), head + off))
				return 0;
			if (nxt == 44) {
				/* A fragment: ports only in the first one. */
				if (((e[2] << 8 | e[3]) & 0xfff8) != 0) {
					p->proto = e[0];
					return 0;
				}
				off += 8;
			} else if (nxt == 51) {
				off += (e[1] + 2) * 4;
			} else {
				off += (e[1] + 1) * 8;
			}
			nxt = e[0];
		}
		p->proto = nxt;
		th = off;
	} else {
		return 0;
	}
	if (p->proto == 6 || p->proto == 17 || p->proto == 132) {
		__be16 ports[2];

		if (bpf_probe_read_kernel(ports, sizeof(ports), head + th))
			return 0;
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->has_ports = 1;
	}
	return 0;
}
#endif

#endif
