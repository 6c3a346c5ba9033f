// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: every path returns an XDP action. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 counter;

SEC("xdp")
int no_return(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&counter, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
