// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: pointer arithmetic on the context. The kernel rewrites every ctx field access
 * to the real in-kernel structure, so it only accepts ctx + a constant field offset. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) __u32 read_u32(__u32 *p)
{
	return *p;
}

SEC("xdp")
int ctx_modified(struct xdp_md *ctx)
{
	__u32 *fields = (__u32 *)ctx;
	/* field 3 is ingress_ifindex; reached through a pointer the verifier sees as ctx+12 */
	return read_u32(fields + 3) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
