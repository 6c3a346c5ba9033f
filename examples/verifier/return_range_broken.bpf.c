// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a cgroup_skb program must return 0 (drop) or 1 (allow); this returns 2. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int return_range(struct __sk_buff *skb)
{
	return skb->len > 1000 ? 2 : 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
