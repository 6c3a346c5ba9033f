// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: computes "4 bytes before the end" from data_end. data_end may only be compared
 * with, never moved. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pkt_end_arith(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u64 end = (__u64)data_end;
	__u32 *trailer;

	trailer = (__u32 *)(end - 4);
	if ((void *)trailer < data)
		return XDP_PASS;
	return *trailer ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
