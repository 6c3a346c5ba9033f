// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: bpf_loop() runs the body 100000 times; the verifier checks the body once. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long count_one(__u32 i, void *ctx)
{
	__u32 *sum = ctx;

	*sum += bpf_get_prandom_u32() & 1;
	return 0;
}

SEC("xdp")
int too_complex(struct xdp_md *ctx)
{
	__u32 sum = 0;

	bpf_loop(100000, count_one, &sum, 0);
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
