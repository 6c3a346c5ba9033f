// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: a value the program changes is a plain global (.bss), not const. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

volatile __u32 threshold = 100;

SEC("xdp")
int rdonly_map(struct xdp_md *ctx)
{
	if (ctx->ingress_ifindex == 1)
		threshold = 50;
	return ctx->data_end - ctx->data > threshold ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
