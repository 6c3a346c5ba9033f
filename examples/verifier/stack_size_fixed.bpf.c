// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: smaller frames (or a per-CPU array map as scratch space for big buffers). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int inner(struct xdp_md *ctx)
{
	char buf[200];

	/* the packet's first bytes, copied to the stack */
	if (bpf_xdp_load_bytes(ctx, 0, buf, sizeof(buf)))
		return 0;
	return buf[0];
}

static __attribute__((noinline)) int outer(struct xdp_md *ctx)
{
	char buf[200];

	if (bpf_xdp_load_bytes(ctx, 0, buf, sizeof(buf)))
		return 0;
	return buf[200 - 1] + inner(ctx);
}

SEC("xdp")
int stack_size(struct xdp_md *ctx)
{
	return outer(ctx) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
