// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the socket is released on every path after the lookup found one. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>

SEC("tc")
int sock_leak(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	int listening;

	t.ipv4.dport = __builtin_bswap16(80);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	listening = sk->state == 10;
	bpf_sk_release(sk);
	return listening ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
