// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a pointer to an ordinary variable is passed where a map is expected. The cast
 * silences clang; the verifier knows what the register really holds. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("xdp")
int not_a_map(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem((void *)&key, &key);

	return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
