// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the trailer is read through bpf_xdp_load_bytes() at an offset computed from the
 * packet's length: no arithmetic on data_end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pkt_end_arith(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 trailer = 0;

	if (len < 4 || len > 0xffff)
		return XDP_PASS;
	if (bpf_xdp_load_bytes(ctx, len - 4, &trailer, sizeof(trailer)))
		return XDP_PASS;
	return trailer ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
