// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a ring buffer record is reserved and, on one path, neither submitted nor
 * discarded: the reservation is a reference the program must give back. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 ifindex;
	__u32 queue;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ref_leak(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	e->ifindex = ctx->ingress_ifindex;
	e->queue = ctx->rx_queue_index;
	if (e->ifindex == 0)
		return XDP_PASS; /* leaks the reservation */
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
