// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: only the verdicts the hook knows: 0 drop, 1 allow. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int return_range(struct __sk_buff *skb)
{
	return skb->len > 1000 ? 0 : 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
