// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: aligns a packet pointer down to 4 bytes with a mask. Only adding and
 * subtracting offsets is allowed on pointers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ptr_alu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *w;

	/* keeps clang from folding the mask into a constant it computes itself */
	asm volatile("" : "+r"(data));
	w = (void *)((long)(data + 17) & ~3L);
	if ((void *)(w + 1) > data_end)
		return XDP_PASS;
	return *w ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
