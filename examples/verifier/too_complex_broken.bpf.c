// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a bounded loop of 100000 turns. The verifier walks every turn, and each turn
 * is a dozen instructions: far past its budget of a million. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int too_complex(struct xdp_md *ctx)
{
	__u32 sum = 0;

	for (int i = 0; i < 100000; i++) {
		sum += bpf_get_prandom_u32() & 1;
		if (sum > 1000000)
			break;
	}
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
