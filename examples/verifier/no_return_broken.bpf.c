// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: no return statement, so R0 (the XDP verdict) is never set. clang only warns
 * (-Wreturn-type); the Makefile lets this one file through with -Wno-return-type. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 counter;

SEC("xdp")
int no_return(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&counter, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
