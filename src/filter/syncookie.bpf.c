// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The SYN-cookie responder alone: parse, then fw_syncookie(), everything else passes.
 * bpflab filter runs the same header inside its program; this one is what
 * tests/prog/test_syncookie.c, the `syncookie` fuzz target and the bench's helper-only case
 * load (syncookie_prog.c). The filter program with --synproxy has its own tests
 * (tests/prog/test_filter.c, the `filter_syn` fuzz target).
 * "Dual BSD/GPL": bpf_tcp_raw_gen_syncookie_ipv4/6 and the conntrack kfuncs need a
 * GPL-compatible licence. */
#include "syncookie.bpf.h"

SEC("xdp")
int syncookie_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt p = {};
	int r;

	if (parse_packet(data, data_end, &p) != PARSE_OK)
		return XDP_PASS;
	r = fw_syncookie(ctx, &p);
	return r < 0 ? XDP_PASS : r;
}

/* The kernel's cookie helper and nothing else: the part of the responder's cost that is
 * not ours, measured beside it by the bench (syncookie_bench.c). It expects that case's
 * frame, Linux's SYN: Ethernet, a 20-byte IPv4 header, a 40-byte TCP header. */
SEC("xdp")
int syncookie_helper_only(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)th + 40 > data_end)
		return XDP_PASS;
	return bpf_tcp_raw_gen_syncookie_ipv4(ip, th, 40) < 0 ? XDP_DROP : XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
