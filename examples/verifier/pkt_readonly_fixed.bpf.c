// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: rewriting packets is a job for TC (or XDP), which may write them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>

SEC("tc")
int pkt_readonly(struct __sk_buff *skb)
{
	__u8 *p = (void *)(long)skb->data;

	if ((void *)(p + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	*p = 0; /* clear the first byte */
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
