// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: each program type has its own list of helpers. bpf_get_stackid() walks a kernel
 * or user stack: it belongs to tracing programs, not XDP. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

SEC("xdp")
int helper(struct xdp_md *ctx)
{
	return bpf_get_stackid(ctx, &stacks, 0) < 0 ? XDP_PASS : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
