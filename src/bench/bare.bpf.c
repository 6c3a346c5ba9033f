// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The bare programs `bpflab bench` measures against: the floor of each hook, the counting
 * droppers of the live rows, the live-frames traffic generator, and a minimal XDP router
 * (bpf_fib_lookup + bpf_redirect, the talk's "access to the FIB table"). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "bare.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Packets seen by the counting droppers; read by user space to get a row's rate. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rx_count SEC(".maps");

/* The generator's frame, written into every frame it sends: a recycled live-frames page
 * comes back as the receiver left it (rewritten by a router's TTL and MAC changes, or a
 * balancer's NAT), so the whole template is restored on each transmit. */
const volatile __u64 gen_tmpl[BARE_GEN_MAX / 8] = {};
const volatile __u32 gen_len = 0;

/* Frames the generator sent (its rate is read during one long live-frames run). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_count SEC(".maps");

/* Pacing, written by user space during the run (bench_traffic.c): 0 sends every frame;
 * otherwise GEN_GROUP frames per GEN_GROUP * gen_gap_ns, the generator spinning here
 * before each group until its time comes. Not by dropping the frames in between: a
 * frame dropped in live-frames mode goes back through the page pool's shared ring, under
 * the lock the receiver takes to return its frames (measured: the generator then reached
 * half the rate asked). In groups, because reading the clock for every frame halved the
 * generator's top rate; they leave in groups anyway (the redirect queue flushes every 16
 * frames). */
__u64 gen_gap_ns;
__u64 gen_next_ns;
__u32 gen_seq;
#define GEN_GROUP 16
/* Time the generator may make up at once for what it spent outside this program
 * (flushing, preempted on a shared CPU), in groups: with less it falls short of the
 * asked rate; more would overrun the receiver's 256-frame ring in one burst. */
#define GEN_BURST 4
/* bpf_loop's bound: ~2 ms of spinning, a group's time at 8 kpps; below that a group
 * leaves early, and the next one waits for its own time again. */
#define GEN_SPIN_MAX (1 << 16)

static long gen_wait(__u64 index, void *ctx)
{
	return bpf_ktime_get_ns() >= gen_next_ns;
}

/* Forwarder statistics: what bpf_fib_lookup said, indexed by its return code (0..7),
 * slot 8 for packets that were not IPv4 with TTL > 1. */
#define FWD_SLOTS 9
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fwd_stats SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* XDP_TX after reading and rewriting the Ethernet header, as any L2 forwarder must (the
 * balancer writes the backend's MAC there): the ceiling for lb's live rows. */
SEC("xdp")
int xdp_tx_swap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *m = data;
	__u16 t0, t1, t2;

	if (data + 12 > data_end)
		return XDP_PASS;
	t0 = m[0], t1 = m[1], t2 = m[2];
	m[0] = m[3], m[1] = m[4], m[2] = m[5];
	m[3] = t0, m[4] = t1, m[5] = t2;
	return XDP_TX;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

static __always_inline void count_one(void)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&rx_count, &key);

	if (c)
		(*c)++;
}

SEC("xdp")
int xdp_drop_count(struct xdp_md *ctx)
{
	count_one();
	return XDP_DROP;
}

/* The same, after reading the frame's first byte: the floor for a program that looks at
 * its packet. The frame was just written by the generator on the other CPU, so the first
 * touch pays for bringing its cache line over, as a NIC's DMA write would make it. */
SEC("xdp")
int xdp_drop_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u8 first;

	if (data + 1 > data_end)
		return XDP_PASS;
	first = *(__u8 *)data;
	(void)first;
	count_one();
	return XDP_DROP;
}

SEC("tc")
int tc_drop_count(struct __sk_buff *skb)
{
	count_one();
	return TC_ACT_SHOT;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const __u8 *tb = (const __u8 *)gen_tmpl;
	__u32 key = 0, len = gen_len, i, k;
	__u64 *c, gap;

	if (len > BARE_GEN_MAX || len < 14 || data + len > data_end)
		return XDP_DROP;
	gap = gen_gap_ns * GEN_GROUP;
	if (gap && !(gen_seq++ % GEN_GROUP)) {
		__u64 now = bpf_ktime_get_ns(), next = gen_next_ns;

		if (now < next)
			bpf_loop(GEN_SPIN_MAX, gen_wait, NULL, 0);
		else if (now > next + GEN_BURST * gap)
			next = now - GEN_BURST * gap;
		gen_next_ns = next + gap;
	}
	c = bpf_map_lookup_elem(&gen_count, &key);
	if (c)
		(*c)++;
	for (i = 0; i < BARE_GEN_MAX / 8; i++) {
		if (i * 8 + 8 > len)
			break;
		if (data + i * 8 + 8 > data_end)
			return XDP_DROP;
		*(__u64 *)(data + i * 8) = gen_tmpl[i];
	}
	for (k = i * 8; k < BARE_GEN_MAX; k++) {
		if (k >= len)
			break;
		if (data + k + 1 > data_end)
			return XDP_DROP;
		*(__u8 *)(data + k) = tb[k];
	}
	return XDP_TX;
}

static __always_inline void fwd_stat(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&fwd_stats, &slot);

	if (c)
		(*c)++;
}

/* IPv4 only, no VLANs, no options to act on: a router's fast path. Anything it does
 * not handle goes to the stack (XDP_PASS), so it can only add, never lose, reachability. */
SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__be16 old_ttl;
	long rc;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl < 5 || ip->ttl <= 1) {
		fwd_stat(FWD_SLOTS - 1);
		return XDP_PASS;
	}
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	fwd_stat(rc >= 0 && rc < FWD_SLOTS - 1 ? rc : FWD_SLOTS - 1);
	/* No route, no neighbour yet, local delivery, ...: the stack knows what to do. */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	old_ttl = *(__be16 *)&ip->ttl;
	ip->ttl--;
	csum_replace2(&ip->check, old_ttl, *(__be16 *)&ip->ttl);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return bpf_redirect(fib.ifindex, 0);
}

/* Restoring wrapper for programs that rewrite their packet. BPF_PROG_TEST_RUN's repeat
 * runs every repetition on the packet the previous one left behind, so a rewriting
 * program would be timed on the wrong path from the second run on. This program puts
 * the original frame back (length at the head, then every byte) and tail-calls the
 * measured program from slot 0 of restore_jmp. The bare baseline is timed through the
 * same wrapper, so the restore and the tail call cancel out of the difference. */
__u64 restore_tmpl[BARE_RESTORE_MAX / 8] = {};
__u32 restore_len = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} restore_jmp SEC(".maps");

SEC("xdp")
int xdp_restore(struct xdp_md *ctx)
{
	__u32 len = restore_len, i, k;
	void *data, *data_end;
	const __u8 *tb = (const __u8 *)restore_tmpl;

	if (len > BARE_RESTORE_MAX || len < 14)
		return XDP_ABORTED;
	/* Always adjusted, by 0 when nothing grew, so both sides pay the same. */
	if (bpf_xdp_adjust_head(ctx, (int)(ctx->data_end - ctx->data) - (int)len))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	for (i = 0; i < BARE_RESTORE_MAX / 8; i++) {
		if (i * 8 + 8 > len)
			break;
		if (data + i * 8 + 8 > data_end)
			return XDP_ABORTED;
		*(__u64 *)(data + i * 8) = restore_tmpl[i];
	}
	for (k = i * 8; k < BARE_RESTORE_MAX; k++) {
		if (k >= len)
			break;
		if (data + k + 1 > data_end)
			return XDP_ABORTED;
		*(__u8 *)(data + k) = tb[k];
	}
	bpf_tail_call(ctx, &restore_jmp, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
