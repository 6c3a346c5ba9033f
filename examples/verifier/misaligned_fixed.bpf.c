// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: __builtin_memcpy tells clang the address may be unaligned: it stores bytes. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} last SEC(".maps");

static __attribute__((noinline)) void put32(char *p, __u32 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

SEC("xdp")
int misaligned(struct xdp_md *ctx)
{
	char buf[16] = {};
	__u32 key = 0;

	put32(&buf[1], ctx->ingress_ifindex);
	bpf_map_update_elem(&last, &key, buf, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
