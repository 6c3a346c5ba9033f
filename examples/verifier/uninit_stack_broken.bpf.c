// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: the key struct has two bytes of padding after 'queue' that nothing writes, and
 * the whole 8 bytes go to the kernel as the key. Since Linux 6.5 a loader with CAP_PERFMON
 * or CAP_SYS_ADMIN may read uninitialised stack, so only a CAP_BPF-only loader (a
 * container, a service with minimal capabilities) rejects it: `bpflab verify --unpriv`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rxq {
	__u32 ifindex;
	__u16 queue;
	/* 2 bytes of padding */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct rxq);
	__type(value, __u64);
} hits SEC(".maps");

SEC("xdp")
int uninit_stack(struct xdp_md *ctx)
{
	struct rxq key;
	__u64 *v;

	key.ifindex = ctx->ingress_ifindex;
	key.queue = ctx->rx_queue_index;
	v = bpf_map_lookup_elem(&hits, &key);
	return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
