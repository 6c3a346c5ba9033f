// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the offset is aligned, not the pointer: data + (17 & ~3). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ptr_alu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *w = data + (17 & ~3);

	if ((void *)(w + 1) > data_end)
		return XDP_PASS;
	return *w ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
