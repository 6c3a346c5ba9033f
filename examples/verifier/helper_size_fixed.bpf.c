// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the length is clamped to 1..sizeof(buf) before the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>

SEC("tc")
int helper_size(struct __sk_buff *skb)
{
	__u8 buf[64];
	__u32 len = skb->len;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (len < 1)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, 0, buf, len))
		return TC_ACT_OK;
	return buf[0] == 0xff ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
