// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the offset is unsigned and bounded before it touches the pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ptr_arith(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *off = data;
	__u64 o;
	__u8 *p;

	if ((void *)(off + 1) > data_end)
		return XDP_PASS;
	o = *off;
	if (o > 1500)
		return XDP_PASS;
	p = data + o;
	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
