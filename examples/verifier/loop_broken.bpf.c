// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a loop whose end the verifier cannot see: it waits for a random number to be 0,
 * which may never happen. Each pass leaves the verifier's state as it was, so it knows the
 * loop can run forever. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int loop(struct xdp_md *ctx)
{
	while (bpf_get_prandom_u32() != 0)
		; /* wait for luck */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
