// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: XDP's context is read-only; data and data_end move only through helpers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ctx_write(struct xdp_md *ctx)
{
	ctx->data += 14; /* skip the Ethernet header? not like this */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
