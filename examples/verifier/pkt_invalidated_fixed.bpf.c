// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: after bpf_xdp_adjust_head(), data and data_end are read again from ctx and the
 * header is checked against the new end before it is read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>

SEC("xdp")
int pkt_invalidated(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	return eth->h_proto == __builtin_bswap16(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
