// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a byte of the packet (0..255) indexes a 64-byte buffer on the stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int stack_var_off(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u8 seen[64] = {};
	__u8 *b = data;

	if ((void *)(b + 1) > data_end)
		return XDP_PASS;
	seen[*b] = 1;
	return seen[3] ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
