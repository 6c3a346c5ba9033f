// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's hello.bpf.c, for the hard way: XDP, a global counter, bpf_printk. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// This global variable is turned into a map (hello.bss) by libbpf
int counter = 0;

// SEC() says which kind of eBPF program this is, and so where it can attach
SEC("xdp")
int hello(struct xdp_md *ctx)
{
	// bpf_printk is libbpf's wrapper of the bpf_trace_printk helper: one line in trace_pipe
	bpf_printk("Packet received %d", counter);
	// The talk had counter++: a load, an add and a store. Two CPUs can run this program at
	// once, both load the same value, and one increment is lost. An atomic add is exact.
	__sync_fetch_and_add(&counter, 1);
	// XDP functions return the action for the packet
	return XDP_PASS;
}

// The verifier inspects the license: bpf_printk is GPL-only
char LICENSE[] SEC("license") = "Dual BSD/GPL";
