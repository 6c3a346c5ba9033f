// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: reserves what it writes: two __u64, 16 bytes. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int mem_bounds(struct xdp_md *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&events, 2 * sizeof(__u64), 0);

	if (!e)
		return XDP_PASS;
	e[0] = ctx->ingress_ifindex;
	e[1] = ctx->rx_queue_index;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
