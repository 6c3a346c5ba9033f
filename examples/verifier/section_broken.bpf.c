// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a typo in the section name: libbpf takes the program type from it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xpd")
int section(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
