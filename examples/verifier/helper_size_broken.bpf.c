// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: copies skb->len bytes into a 64-byte buffer: the length is not bounded. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>

SEC("tc")
int helper_size(struct __sk_buff *skb)
{
	__u8 buf[64];
	__u32 len = skb->len;

	if (bpf_skb_load_bytes(skb, 0, buf, len))
		return TC_ACT_OK;
	return buf[0] == 0xff ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
