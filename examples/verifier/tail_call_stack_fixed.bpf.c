// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the big buffer is the map entry itself, written in place, not stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[300]);
} last SEC(".maps");

static __attribute__((noinline)) int next_stage(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump, 0);
	return XDP_PASS;
}

SEC("xdp")
int tail_call_stack(struct xdp_md *ctx)
{
	__u32 key = 0;
	char *scratch = bpf_map_lookup_elem(&last, &key);

	if (scratch)
		scratch[0] = (char)ctx->ingress_ifindex;
	return next_stage(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
