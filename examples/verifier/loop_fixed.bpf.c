// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: give the loop a constant bound (bpf_loop() is the other way for long loops). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int loop(struct xdp_md *ctx)
{
	/* 64 tries, then give up: the verifier walks each pass, so keep bounds small */
	for (int i = 0; i < 64; i++)
		if (bpf_get_prandom_u32() == 0)
			break;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
