// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a bpf_loop() callback must return 0 (go on) or 1 (stop); this returns 2. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long step(__u32 i, void *ctx)
{
	return i == 3 ? 2 : 0;
}

SEC("xdp")
int callback_return(struct xdp_md *ctx)
{
	bpf_loop(8, step, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
