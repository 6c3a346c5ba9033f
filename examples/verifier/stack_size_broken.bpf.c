// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: each function stays under clang's 512-byte stack check, but a call chain's
 * frames add up: 400 + 400 bytes exceed the kernel's 512 bytes for the whole chain. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int inner(struct xdp_md *ctx)
{
	char buf[400];

	/* the packet's first bytes, copied to the stack */
	if (bpf_xdp_load_bytes(ctx, 0, buf, sizeof(buf)))
		return 0;
	return buf[0];
}

static __attribute__((noinline)) int outer(struct xdp_md *ctx)
{
	char buf[400];

	if (bpf_xdp_load_bytes(ctx, 0, buf, sizeof(buf)))
		return 0;
	return buf[400 - 1] + inner(ctx);
}

SEC("xdp")
int stack_size(struct xdp_md *ctx)
{
	return outer(ctx) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
