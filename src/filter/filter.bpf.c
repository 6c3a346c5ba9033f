// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab filter: an XDP firewall whose rules are data, not code (docs/filter.md).
 * Each field of a packet (source, destination, protocol, ports, TCP flags or ICMP
 * type/code) is looked up once in its table and gives a bitmap of the rules that field
 * allows; the AND of the bitmaps, lowest bit first, is the rule that matches. The
 * program's size and the verifier's work do not depend on the rule count.
 * Verdicts: not IP -> pass untouched; IP whose headers lie or are cut -> drop
 * (FS_MALFORMED); else the first matching rule's action, or the generation's default.
 * Every packet adds 1 to FS_PACKETS and to exactly one of FS_PASS, FS_DROP, FS_SYNPROXY.
 * A pass continues, through a tail call, into the program in next_prog (lb), if any. */
#include "parse.h"
#include <stdbool.h>
#include "filter.h"
#include "verdict.h"
#if __has_include("syncookie.bpf.h") && !defined(FILTER_NO_SYNCOOKIE)
#include "syncookie.bpf.h"

/* `bpflab trace` names a verdict by its filter_stat, arg the rule's prio + 1 (verdict.h). */
VERDICT_REASONS(enum filter_stat);
#define FILTER_SYNCOOKIE 1
#endif

/* Drop events per CPU: one per event_gap_ns on average, bursts of event_burst_ns worth. */
const volatile __u64 event_gap_ns = 1000000000ULL / FILTER_EVENT_RATE;
const volatile __u64 event_burst_ns = 1000000000ULL / FILTER_EVENT_RATE * FILTER_EVENT_BURST;
/* Top sources record one drop in 2^top_shift (weighted): a hash update per dropped
 * packet would cost more than the whole rule lookup. */
const volatile __u8 top_shift = FILTER_TOP_SAMPLE_SHIFT;

/* The generations and which one runs, read by every packet (filter.h). */
struct filter_fast fast SEC(".data.fast");
/* The program's only zero-initialised global: user space maps .bss as exactly this. */
struct filter_tabs tabs SEC(".bss");

/* [0]: the active generation (0 or 1), a copy of fast.active for readers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FILTER_GENS);
	__type(key, __u32);
	__type(value, struct filter_gen);
} gens SEC(".maps");

/* gen * FILTER_MAX_RULES + bit -> the rule. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FILTER_GENS * FILTER_MAX_RULES);
	__type(key, __u32);
	__type(value, struct filter_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FILTER_GENS * FILTER_MAX_RULES);
	__type(key, __u32);
	__type(value, struct filter_rule_stats);
} rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct filter_stats);
} stats SEC(".maps");

#define BOUNDS_MAP(name) \
	struct { \
		__uint(type, BPF_MAP_TYPE_ARRAY); \
		__uint(max_entries, FILTER_GENS * FILTER_MAX_BOUNDS); \
		__type(key, __u32); \
		__type(value, struct filter_bound); \
	} name SEC(".maps")
#define V6_MAP(name) \
	struct { \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE); \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__uint(max_entries, FILTER_GENS * FILTER_MAX_V6); \
		__type(key, struct filter_v6key); \
		__type(value, __u32); \
	} name SEC(".maps")
#define BITS_MAP(name, n) \
	struct { \
		__uint(type, BPF_MAP_TYPE_ARRAY); \
		__uint(max_entries, FILTER_GENS * (n)); \
		__type(key, __u32); \
		__type(value, struct filter_bits); \
	} name SEC(".maps")
#define CLASS_MAP(name, n) \
	struct { \
		__uint(type, BPF_MAP_TYPE_ARRAY); \
		__uint(max_entries, FILTER_GENS * (n)); \
		__type(key, __u32); \
		__type(value, __u16); \
	} name SEC(".maps")

BOUNDS_MAP(src4_b);
/* ((gen * 2 + direction) * FILTER_MAX_L2 + block) * 256 + /24 -> entry (filter.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FILTER_GENS * 2 * FILTER_MAX_L2 * 256);
	__type(key, __u32);
	__type(value, __u32);
} l2 SEC(".maps");
BOUNDS_MAP(dst4_b);
V6_MAP(src6);
V6_MAP(dst6);
BITS_MAP(src_cls, FILTER_MAX_ADDR_CLASSES);
BITS_MAP(dst_cls, FILTER_MAX_ADDR_CLASSES);
BITS_MAP(proto_bits, 256);
CLASS_MAP(sport_map, FILTER_PORTS);
CLASS_MAP(dport_map, FILTER_PORTS);
BITS_MAP(sport_cls, FILTER_MAX_PORT_CLASSES);
BITS_MAP(dport_cls, FILTER_MAX_PORT_CLASSES);
CLASS_MAP(extra_map, FILTER_EXTRA);
BITS_MAP(extra_cls, FILTER_MAX_EXTRA_CLASSES);

/* Token buckets of limit rules, by rule priority and source prefix: LRU, so a spoofing
 * flood recycles them instead of filling the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FILTER_MAX_BUCKETS);
	__type(key, struct filter_bucket_key);
	__type(value, struct filter_bucket);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FILTER_MAX_SOURCES);
	__type(key, struct filter_src_key);
	__type(value, struct filter_src_val);
} top_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FILTER_RB_SIZE);
} events SEC(".maps");

/* Slot 0: the program a pass continues into (`filter start --then lb`). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next_prog SEC(".maps");

struct fields {
	__u8 family, proto;
	__u32 sport, dport;   /* host order; FILTER_NOPORT: none */
	__u32 extra;
	__u8 src[16], dst[16];
};

/* Lowest set bit of x (not 0): the de Bruijn multiply, one load instead of six
 * dependent tests. */
static const __u8 ctz_tab[64] = {
	0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
};

static __always_inline __u32 ctz64(__u64 x)
{
	return ctz_tab[((x & -x) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/* IPv4 address (host order) -> class: one read of the /16 index; in a /16 that holds
 * several classes one lookup of its /24 in the second level, and only in a /24 that
 * holds several a binary search of its boundaries (at most 8 steps; over the whole /16,
 * at most 16, for a /16 left without a block). d: 0 source, 1 destination. */
static __always_inline __u32 v4_class(void *bmap, __u32 gen, int d, __u32 a)
{
	const struct filter_l1 *e = &tabs.l1[gen & 1][d][a >> 16];
	__u32 lo = 0, hi, base, k;
	struct filter_bound *b;
	__u16 x = a & 0xffff;

	if (!e->n)
		return e->cls;
	if (e->cls != FILTER_NO_L2) {
		__u32 *v;

		k = (((gen & 1) * 2 + d) * FILTER_MAX_L2 + e->cls) * 256 + (a >> 8 & 255);
		v = bpf_map_lookup_elem(&l2, &k);
		if (!v)
			return 0;
		if (!(*v & FILTER_L2_SPLIT))
			return *v & 0xffff;
		hi = *v >> FILTER_L2_NSHIFT & 0x1ff;
		base = (gen & 1) * FILTER_MAX_BOUNDS + (*v & (FILTER_MAX_BOUNDS - 1));
	} else {
		hi = e->n;
		base = (gen & 1) * FILTER_MAX_BOUNDS + e->base;
	}
	/* Invariant: bounds[lo].start <= x < bounds[hi].start. */
	for (int i = 0; i < FILTER_BSEARCH_STEPS; i++) {
		__u32 mid, kk;

		if (hi - lo <= 1)
			break;
		mid = (lo + hi) >> 1;
		kk = base + mid;
		b = bpf_map_lookup_elem(bmap, &kk);
		if (!b)
			return 0;
		if (b->start <= x)
			lo = mid;
		else
			hi = mid;
	}
	k = base + lo;
	b = bpf_map_lookup_elem(bmap, &k);
	return b ? b->cls : 0;
}

/* IPv6: the longest prefix's class (user space folded the shorter ones into it). */
static __always_inline __u32 v6_class(void *map, __u32 gen, const __u8 *a)
{
	struct filter_v6key k = { .prefixlen = 8 + 128, .gen = gen };
	__u32 *c;

	__builtin_memcpy(k.addr, a, 16);
	c = bpf_map_lookup_elem(map, &k);
	return c ? *c : 0;
}

static __always_inline const struct filter_bits *bits_at(void *map, __u32 gen, __u32 n,
							  __u32 cls)
{
	__u32 k = gen * n + cls;

	return bpf_map_lookup_elem(map, &k);
}

static __always_inline __u32 class_at(void *map, __u32 gen, __u32 n, __u32 v)
{
	__u32 k = gen * n + v;
	__u16 *c = bpf_map_lookup_elem(map, &k);

	return c ? *c : 0;
}

static __always_inline bool event_allowed(struct filter_stats *st, __u64 now)
{
	__u64 credit;

	if (!event_gap_ns)
		return true;
	credit = st->ev_tokens + (now - st->ev_last);
	if (credit > event_burst_ns)
		credit = event_burst_ns;
	st->ev_last = now;
	if (credit < event_gap_ns) {
		st->ev_tokens = credit;
		return false;
	}
	st->ev_tokens = credit - event_gap_ns;
	return true;
}

/* The sampled drop: the clock, the top-sources hash, the event limiter and the ring.
 * weight: how many drops this one stands for in the top sources (0: none). what: prio |
 * action << 16 | reason << 24 (a BPF call takes five arguments). */
static __noinline void drop_sample_slow(struct filter_stats *st, const struct fields *f,
					__u32 len, __u32 what, __u32 weight)
{
	struct filter_event *e;
	/* Coarse (a tick) is enough for windows of 10 ms and up, and costs a load instead of a
	 * clock read. */
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - st->top_win >= FILTER_TOP_WINDOW_NS) {
		st->top_win = now;
		st->top_n = 0;
	}
	if (weight == 1)
		st->top_n++;
	if (weight) {
		struct filter_src_key k = { .family = f->family };
		struct filter_src_val *v, nv = { .drops = weight, .bytes = (__u64)weight * len };

		__builtin_memcpy(k.addr, f->src, 16);
		v = bpf_map_lookup_elem(&top_src, &k);
		if (v) {
			v->drops += weight;
			v->bytes += (__u64)weight * len;
		} else {
			bpf_map_update_elem(&top_src, &k, &nv, BPF_ANY);
		}
	}
	if (!event_allowed(st, now)) {
		st->c[FS_SUPPRESSED]++;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		st->c[FS_EVENTS_LOST]++;
		return;
	}
	st->c[FS_EVENTS]++;
	e->ts_ns = now;
	e->family = f->family;
	e->proto = f->proto;
	e->action = what >> 16;
	e->reason = what >> 24;
	e->prio = what;
	e->sport = f->sport == FILTER_NOPORT ? 0 : f->sport;
	e->dport = f->dport == FILTER_NOPORT ? 0 : f->dport;
	e->len = len;
	__builtin_memcpy(e->src, f->src, 16);
	__builtin_memcpy(e->dst, f->dst, 16);
	/* No wakeup per event: the reader polls, woken only when the ring fills up. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > FILTER_RB_SIZE / 2 ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Every drop a rule or the default decides. Top sources count exactly while drops are
 * few (FILTER_TOP_EXACT per window), then one drop in 2^top_shift with that weight. At
 * flood rates only that one reads the clock and checks the event limit, so the window
 * ends at most 2^top_shift drops late; the others are suppressed events at the cost of
 * a counter (a clock read and a hash update per packet would cost more than the rules). */
static __always_inline void drop_sample(struct filter_stats *st, const struct fields *f,
					__u32 len, __u32 what)
{
	__u64 mask = (1ULL << top_shift) - 1;
	__u32 weight = 1;

	if (st->top_n >= FILTER_TOP_EXACT) {
		weight = (st->sample++ & mask) ? 0 : mask + 1;
		/* With no event limit (tests) every drop goes on to be an event. */
		if (!weight && event_gap_ns) {
			st->c[FS_SUPPRESSED]++;
			return;
		}
	}
	drop_sample_slow(st, f, len, what, weight);
}

/* verdict_note() on the trace_ctl entry looked up once per packet: NULL while no trace
 * runs, so an untraced packet pays one lookup for all its verdict notes, not one each. */
static __always_inline void filter_note(struct verdict_ctl *vc, __u32 reason, __u32 arg)
{
	if (vc) {
		vc->note_reason = reason;
		vc->note_arg = arg;
		vc->note_flags = VERDICT_NOTED;
	}
}

/* Verdict point: every drop ends here. */
static __always_inline int filter_drop(struct filter_stats *st)
{
	st->c[FS_DROP]++;
	return XDP_DROP;
}

/* Verdict point: every pass ends here, continuing into next_prog when it holds one. */
static __always_inline int filter_pass(struct xdp_md *ctx, struct filter_stats *st,
				       struct verdict_ctl *vc)
{
	st->c[FS_PASS]++;
	/* Before the tail call: the next program reports its own verdict. */
	if (vc)
		verdict_report_noted_early(ctx, 1, VK_FILTER, XDP_PASS, FS_PASS);
	bpf_tail_call(ctx, &next_prog, 0);
	return XDP_PASS;
}

/* A limit rule: true when the packet is within the rate of its source's bucket. */
static __noinline int limit_check(const struct filter_rule *r, const struct fields *f,
				       __u32 len)
{
	struct filter_bucket_key k = { .prio = r->prio, .family = f->family };
	struct filter_bucket *b;
	__u64 now = bpf_ktime_get_ns();
	__u64 cost = (r->lflags & FL_BPS) ? (__u64)len * 1000000000ULL : 1000000000ULL;
	__u32 plen = f->family == 4 ? r->per4 : r->per6;

	k.plen = plen;
	#pragma unroll
	for (int i = 0; i < 16; i++) {
		__u32 bits = plen > i * 8 ? plen - i * 8 : 0;
		__u8 m = bits >= 8 ? 0xff : (__u8)(0xff00 >> bits);

		k.addr[i] = f->src[i] & m;
	}
	b = bpf_map_lookup_elem(&buckets, &k);
	if (!b) {
		struct filter_bucket nb = { .last_ns = now };

		if (cost > r->burst_u) {
			if (r->block_ns)
				nb.blocked_until = now + r->block_ns;
			bpf_map_update_elem(&buckets, &k, &nb, BPF_ANY);
			return FS_LIMITED;
		}
		nb.tokens = r->burst_u - cost;
		bpf_map_update_elem(&buckets, &k, &nb, BPF_ANY);
		return FS_LIMIT_PASS;
	}
	if (b->blocked_until > now)
		return FS_BLOCKED;
	{
		__u64 dt = now - b->last_ns, add, t;

		add = dt >= r->cap_ns ? r->burst_u : dt * r->rate;
		t = b->tokens + add;
		if (t > r->burst_u || t < b->tokens)
			t = r->burst_u;
		b->last_ns = now;
		if (t < cost) {
			b->tokens = t;
			if (r->block_ns)
				b->blocked_until = now + r->block_ns;
			return FS_LIMITED;
		}
		b->tokens = t - cost;
	}
	return FS_LIMIT_PASS;
}

/* Rules 64 and up, for a packet none of the first 64 matched: every field's bitmap, class
 * 0 for a field no rule constrains. ca: the source, destination and protocol classes,
 * 16 bits each; cb: the source port, destination port and extra classes. The matching
 * rule's bit, or -1. A global function, verified once on its own: its arguments carry no
 * range back to the caller, whose paths (each field looked up or not) then merge. */
__noinline int match_rest(__u32 gen, __u64 ca, __u64 cb)
{
	const struct filter_bits *bs, *bd, *bp, *bsp, *bdp, *bx;
	struct filter_gen *g;
	__u32 nwords;

	g = bpf_map_lookup_elem(&gens, &gen);
	if (!g)
		return -1;
	nwords = g->nwords;
	bs = bits_at(&src_cls, gen, FILTER_MAX_ADDR_CLASSES, ca & 0xffff);
	bd = bits_at(&dst_cls, gen, FILTER_MAX_ADDR_CLASSES, ca >> 16 & 0xffff);
	bp = bits_at(&proto_bits, gen, 256, ca >> 32 & 0xff);
	bsp = bits_at(&sport_cls, gen, FILTER_MAX_PORT_CLASSES, cb & 0xffff);
	bdp = bits_at(&dport_cls, gen, FILTER_MAX_PORT_CLASSES, cb >> 16 & 0xffff);
	bx = bits_at(&extra_cls, gen, FILTER_MAX_EXTRA_CLASSES, cb >> 32 & 0xffff);
	if (!bs || !bd || !bp || !bsp || !bdp || !bx)
		return -1;
	for (int w = 1; w < FILTER_WORDS; w++) {
		__u64 m;

		if (w >= nwords)
			break;
		m = g->valid.w[w] & bs->w[w] & bd->w[w] & bp->w[w] & bsp->w[w] & bdp->w[w] &
		    bx->w[w];
		if (m)
			return w * 64 + ctz64(m);
	}
	return -1;
}

#ifdef FILTER_SYNCOOKIE
/* A global function, verified once on its own: as a static one it was verified again in
 * every state the rule matching reaches it with, and the two together passed the
 * verifier's million instructions. The price is parsing the packet a second time, paid
 * only by TCP packets when --synproxy is on. Its own frame also keeps every frame under
 * the 256 bytes of stack a program with a tail call may use. */
__noinline int filter_syncookie(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	/* Zeroed: parse_packet sets only the fields a packet has (no fragment, no VLAN, no
	 * IPv6 leave theirs alone). Left uninitialised, clang may read the unset ones as
	 * anything, and did: it folded fw_syncookie to "return -1" after the port check. */
	struct pkt p = {};

	if (parse_packet((void *)(long)ctx->data, data_end, &p) != PARSE_OK)
		return -1; /* cannot be: the caller parsed the same bytes */
	/* parse_packet checked the TCP header, but the proof does not survive the trip through
	 * struct pkt; the ports are read through p.l4, so say it again for the verifier. */
	if (!p.l4 || p.l4 + 4 > data_end)
		return -1;
	return fw_syncookie(ctx, &p);
}
#endif

static __always_inline int filter_xdp_(struct xdp_md *ctx, struct verdict_ctl *vc)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct filter_stats *st;
	struct filter_gen *g;
	struct filter_rule *rule;
	struct filter_rule_stats *rs;
	struct fields f = { .sport = FILTER_NOPORT, .dport = FILTER_NOPORT,
			    .extra = FILTER_EXTRA_OTHER };
	struct pkt p = {};
	__u32 z = 0, gen, slot = 0, len = data_end - data, ri, prio;
	int r, act;

	st = bpf_map_lookup_elem(&stats, &z);
	if (!st)
		return XDP_PASS;
	st->c[FS_PACKETS]++;
	r = parse_packet(data, data_end, &p);
	if (r == PARSE_NOT_IP) {
		st->c[FS_NOT_IP]++;
		filter_note(vc, FS_NOT_IP, 0);
		return filter_pass(ctx, st, vc);
	}
	if (r != PARSE_OK) {
		st->c[FS_MALFORMED]++;
		filter_note(vc, FS_MALFORMED, 0);
		return filter_drop(st);
	}
	gen = fast.active & 1;
	g = &fast.gen[gen];

	f.proto = p.l4_proto;
	if (p.ip4) {
		f.family = 4;
		__builtin_memcpy(f.src, &p.ip4->saddr, 4);
		__builtin_memcpy(f.dst, &p.ip4->daddr, 4);
	} else if (p.ip6) {
		f.family = 6;
		__builtin_memcpy(f.src, &p.ip6->saddr, 16);
		__builtin_memcpy(f.dst, &p.ip6->daddr, 16);
	}
	if (p.l4) {
		__u8 *l4 = p.l4;

		if (f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP) {
			/* Cannot fail: parse_packet checked the whole header. For the verifier. */
			if ((void *)(l4 + 4) > data_end)
				return filter_drop(st);
			f.sport = bpf_ntohs(*(__be16 *)l4);
			f.dport = bpf_ntohs(*(__be16 *)(l4 + 2));
			if (f.proto == IPPROTO_TCP) {
				if ((void *)(l4 + 14) > data_end)
					return filter_drop(st);
				f.extra = l4[13];
			}
		} else if (f.proto == IPPROTO_ICMP || f.proto == IPPROTO_ICMPV6) {
			/* either number: parse_packet set p.l4 only for the family's own ICMP */
			if ((void *)(l4 + 2) > data_end)
				return filter_drop(st);
			f.extra = FILTER_EXTRA_ICMP + ((__u32)l4[0] << 8 | l4[1]);
		}
	}

	/* A field no rule of this generation constrains has one class, 0, holding every rule:
	 * it is not looked up at all (a block list of sources reads only the source table).
	 * The first 64 rules are matched here, from word 0 of each class's bitmap in `tabs`
	 * (direct loads, no map lookup); a packet that matches none of them goes on to
	 * match_rest. (Pointers to the bitmaps of different maps kept for a loop, one path
	 * per field looked up or not, multiplied the verifier's states past its limit.) */
	{
		__u32 used = g->used, cs = 0, cd = 0, cpr = 0, csp = 0, cdp = 0, cx = 0;
		__u64 m = g->valid.w[0];

		if (used & FF_SRC) {
			cs = f.family == 4 ? v4_class(&src4_b, gen, 0,
						      bpf_ntohl(p.ip4 ? p.ip4->saddr : 0))
					   : v6_class(&src6, gen, f.src);
			m &= tabs.addr0[gen][0][cs & (FILTER_MAX_ADDR_CLASSES - 1)];
		}
		if (used & FF_DST) {
			cd = f.family == 4 ? v4_class(&dst4_b, gen, 1,
						      bpf_ntohl(p.ip4 ? p.ip4->daddr : 0))
					   : v6_class(&dst6, gen, f.dst);
			m &= tabs.addr0[gen][1][cd & (FILTER_MAX_ADDR_CLASSES - 1)];
		}
		if (used & FF_PROTO) {
			cpr = f.proto;
			m &= tabs.proto0[gen][cpr & 255];
		}
		if (used & FF_SPORT) {
			csp = class_at(&sport_map, gen, FILTER_PORTS, f.sport);
			m &= tabs.port0[gen][0][csp & (FILTER_MAX_PORT_CLASSES - 1)];
		}
		if (used & FF_DPORT) {
			cdp = class_at(&dport_map, gen, FILTER_PORTS, f.dport);
			m &= tabs.port0[gen][1][cdp & (FILTER_MAX_PORT_CLASSES - 1)];
		}
		if (used & FF_EXTRA) {
			cx = class_at(&extra_map, gen, FILTER_EXTRA, f.extra);
			m &= tabs.extra0[gen][cx & (FILTER_MAX_EXTRA_CLASSES - 1)];
		}
		if (m) {
			slot = ctz64(m);
		} else {
			if (g->nwords <= 1)
				goto nomatch;
			r = match_rest(gen, cs | cd << 16 | (__u64)cpr << 32,
				       csp | cdp << 16 | (__u64)cx << 32);
			if (r < 0)
				goto nomatch;
			slot = r;
		}
	}
	/* The action and priority come with the generation; the rule itself is read only for
	 * a limit's rate. */
	slot &= FILTER_MAX_RULES - 1;
	ri = fast.rule[gen][slot];
	prio = FR_PRIO(ri);
	slot += gen * FILTER_MAX_RULES;
	rs = bpf_map_lookup_elem(&rule_stats, &slot);
	if (!rs)
		goto nomatch;
	act = FS_DENIED;
	if (FR_ACTION(ri) == FA_LIMIT) {
		rule = bpf_map_lookup_elem(&rules, &slot);
		if (!rule)
			goto nomatch;
		act = limit_check(rule, &f, len);
	}
	rs->packets++;
	rs->bytes += len;
	if (FR_ACTION(ri) == FA_ALLOW) {
		st->c[FS_ALLOWED]++;
		filter_note(vc, FS_ALLOWED, prio + 1);
		goto accept;
	}
	if (act == FS_LIMIT_PASS) {
		st->c[FS_LIMIT_PASS]++;
		filter_note(vc, FS_LIMIT_PASS, prio + 1);
		goto accept;
	}
	if (act == FS_LIMITED)
		st->c[FS_LIMITED]++;
	else if (act == FS_BLOCKED)
		st->c[FS_BLOCKED]++;
	else
		st->c[FS_DENIED]++;
	rs->dropped++;
	filter_note(vc, act, prio + 1);
	drop_sample(st, &f, len, prio | FR_ACTION(ri) << 16 | (__u32)act << 24);
	return filter_drop(st);

nomatch:
	st->c[FS_NOMATCH]++;
	filter_note(vc, FS_NOMATCH, 0);
	if (g->default_action != FA_ALLOW) {
		drop_sample(st, &f, len, 0xffff | FA_DENY << 16 | FS_NOMATCH << 24);
		return filter_drop(st);
	}
accept:
#ifdef FILTER_SYNCOOKIE
	r = syn_enabled && p.l4_proto == IPPROTO_TCP ? filter_syncookie(ctx) : -1;
	if (r >= 0) {
		/* Verdict point: the SYN-cookie code answered, dropped or passed it. */
		st->c[FS_SYNPROXY]++;
		filter_note(vc, FS_SYNPROXY, 0);
		return r;
	}
#endif
	return filter_pass(ctx, st, vc);
}

/* The verdict with its reason for `bpflab trace` (verdict.h); a pass is reported in
 * filter_pass, before its tail call. */
SEC("xdp")
int filter_xdp(struct xdp_md *ctx)
{
	struct verdict_ctl *vc = verdict_ctl_();
	int act;

	/* verdict_begin(), with the entry kept for the notes and the report. */
	if (vc && !vc->on)
		vc = NULL;
	if (vc)
		vc->note_flags = 0;
	act = filter_xdp_(ctx, vc);
	if (vc)
		verdict_report_noted(ctx, 1, VK_FILTER, act, act == XDP_DROP ? FS_DROP : FS_PASS);
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
