// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: a GPL-compatible license string lets the program call GPL-only helpers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int gpl_helper(struct xdp_md *ctx)
{
	bpf_printk("Packet received");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
