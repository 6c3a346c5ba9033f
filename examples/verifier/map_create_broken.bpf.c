// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: an array map with an 8-byte key. An array is indexed by a __u32: the kernel
 * refuses to create the map, before any verification. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int map_create(struct xdp_md *ctx)
{
	__u64 key = ctx->rx_queue_index & 15;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
