// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's hello.bpf.c, grown up: its global `counter` is still there (libbpf puts it
 * in the .bss map that user space reads through the skeleton), but made atomic, and
 * per-CPU counters per protocol and per verdict sit beside it. */
#include "parse.h"
#include "count.h"

/* The talk's `counter++` is a read-modify-write: two CPUs can read the same value and one
 * increment is lost. An atomic add is exact; the per-CPU map below is exact and cheaper. */
__u64 counter = 0;

/* What to return for every packet: XDP_PASS, or XDP_DROP for the talk's experiment. */
const volatile __u32 verdict = XDP_PASS;

/* Per-CPU protocol / verdict counters; one entry. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct count_stats);
} stats SEC(".maps");

static __always_inline void add(struct count_stats *s, int proto, __u64 len)
{
	s->packets[proto]++;
	s->bytes[proto] += len;
}

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct count_stats *s;
	struct pkt p = {};
	__u32 key = 0, act = verdict;
	int r;

	__sync_fetch_and_add(&counter, 1);
	s = bpf_map_lookup_elem(&stats, &key);
	if (!s)
		return act;

	r = parse_packet(data, data_end, &p);
	if (r == PARSE_TRUNCATED || r == PARSE_MALFORMED) {
		add(s, CP_MALFORMED, len);
		goto out;
	}
	if (r == PARSE_NOT_IP) {
		add(s, p.l3_proto == ETH_P_ARP ? CP_ARP : CP_OTHER, len);
		goto out;
	}
	add(s, p.ip4 ? CP_IPV4 : CP_IPV6, len);
	switch (p.l4_proto) {
	case IPPROTO_ICMP: add(s, CP_ICMP, len); break;
	case IPPROTO_ICMPV6: add(s, CP_ICMPV6, len); break;
	case IPPROTO_TCP: add(s, CP_TCP, len); break;
	case IPPROTO_UDP: add(s, CP_UDP, len); break;
	default: add(s, CP_OTHER, len); break;
	}
out:
	if (act < COUNT_ACTIONS)
		s->actions[act]++;
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
