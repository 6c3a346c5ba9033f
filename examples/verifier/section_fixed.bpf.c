// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: SEC("xdp"), a section name libbpf knows. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int section(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
