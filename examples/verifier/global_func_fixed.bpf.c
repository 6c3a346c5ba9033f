// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the global function tests its pointer argument before using it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int classify(__u32 *len)
{
	if (!len)
		return XDP_PASS;
	return *len > 1000 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int global_func(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	return classify(&len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
