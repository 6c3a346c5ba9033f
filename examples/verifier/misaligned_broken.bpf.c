// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a 4-byte store at an odd stack address (a cast into a byte buffer). Stack
 * accesses must be aligned to their size, on every architecture. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} last SEC(".maps");

/* Not inlined: clang then cannot see that p is odd and stores 4 bytes at once. */
static __attribute__((noinline)) void put32(char *p, __u32 v)
{
	*(__u32 *)p = v;
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
