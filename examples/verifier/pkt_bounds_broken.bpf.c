// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: reads the Ethernet type without proving the frame is long enough. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>

SEC("xdp")
int pkt_bounds(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if (eth->h_proto == __builtin_bswap16(ETH_P_ARP))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
