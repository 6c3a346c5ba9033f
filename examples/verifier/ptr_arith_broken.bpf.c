// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a signed offset read from the packet moves a packet pointer: it may be
 * negative, so the pointer may land before the packet. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ptr_arith(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__s64 *off = data;
	__u8 *p;

	if ((void *)(off + 1) > data_end)
		return XDP_PASS;
	p = data + *off;
	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
