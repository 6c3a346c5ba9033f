// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: an index taken from the packet (0..255) picks one of 8 counters. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 by_first_byte[8];

SEC("xdp")
int array_oob(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 i;

	if ((void *)(data + 1) > data_end)
		return XDP_PASS;
	i = data[0];
	__sync_fetch_and_add(&by_first_byte[i], 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
