// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: keeps using a header pointer after bpf_xdp_adjust_head(), which may have moved
 * the packet: every packet pointer derived before the call is dead. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>

SEC("xdp")
int pkt_invalidated(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_DROP;
	return eth->h_proto == __builtin_bswap16(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
