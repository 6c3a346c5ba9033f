// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: the talk's hello without its license. bpf_printk is bpf_trace_printk, a
 * GPL-only helper, and an object with no license section is not GPL-compatible. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int gpl_helper(struct xdp_md *ctx)
{
	bpf_printk("Packet received");
	return XDP_PASS;
}
/* no char LICENSE[] SEC("license") here */
