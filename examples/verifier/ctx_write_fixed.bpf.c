// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: bpf_xdp_adjust_head() moves the start of the packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ctx_write(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
