// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: moves a packet pointer by a 32-bit length read from the packet. The verifier
 * refuses a packet pointer that may move further than any packet can be long. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pkt_var_off(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *len = data;
	__u8 *p;

	if ((void *)(len + 1) > data_end)
		return XDP_PASS;
	p = data + *len;
	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
