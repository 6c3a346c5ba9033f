// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: a cgroup_skb program may read the packet but never write it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/egress")
int pkt_readonly(struct __sk_buff *skb)
{
	__u8 *p = (void *)(long)skb->data;

	if ((void *)(p + 1) > (void *)(long)skb->data_end)
		return 1;
	*p = 0; /* clear the first byte */
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
