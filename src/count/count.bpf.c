// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's hello.bpf.c, grown up: its global `counter` is still there (libbpf puts it
 * in the .bss map that user space reads through the skeleton), but made atomic, and
 * per-CPU counters per protocol and per verdict sit beside it. */
#include "parse.h"
#include "count.h"
#include "verdict.h"

/* `bpflab trace` names reasons from these enums (verdict.h). */
VERDICT_REASONS(enum count_proto);

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
	int r, cls;

	__sync_fetch_and_add(&counter, 1);
	s = bpf_map_lookup_elem(&stats, &key);
	if (!s)
		return act;

	r = parse_packet(data, data_end, &p);
	if (r == PARSE_TRUNCATED || r == PARSE_MALFORMED) {
		cls = CP_MALFORMED;
		add(s, cls, len);
		goto out;
	}
	if (r == PARSE_NOT_IP) {
		cls = p.l3_proto == ETH_P_ARP ? CP_ARP : CP_OTHER;
		add(s, cls, len);
		goto out;
	}
	add(s, p.ip4 ? CP_IPV4 : CP_IPV6, len);
	switch (p.l4_proto) {
	case IPPROTO_ICMP: cls = CP_ICMP; break;
	case IPPROTO_ICMPV6: cls = CP_ICMPV6; break;
	case IPPROTO_TCP: cls = CP_TCP; break;
	case IPPROTO_UDP: cls = CP_UDP; break;
	default: cls = CP_OTHER; break;
	}
	add(s, cls, len);
out:
	if (act < COUNT_ACTIONS)
		s->actions[act]++;
	/* For `bpflab trace`: the verdict is the configured one, the reason the class. */
	verdict_report(ctx, 1, VK_COUNT, act, cls, 0);
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
