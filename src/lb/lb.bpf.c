// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb: an L4 load balancer in XDP (IPv4 and IPv6, TCP and UDP). A flow to a VIP is
 * matched in the conntrack table of its family (buckets of slots, lb.h) or placed by the
 * VIP's Maglev table (built in user space), then sent back out of the same interface (XDP_TX) to its backend:
 *   dsr  only the MACs change; the backend holds the VIP and answers the client itself;
 *   nat  source becomes the LB's address of the family and a free port, destination the
 *        backend; the backend's replies come back here and are rewritten to come from the VIP;
 *   encap (per VIP, ipip or gue, any mode): DSR across routers, the packet unchanged in
 *        an outer IPv4 or IPv6 header (the backend's family, whatever the VIP's) to the
 *        backend via the FIB's next hop (encap_tx).
 * Verdicts (docs/lb.md, "Data plane"): not to the LB's MAC, not IP or not for a VIP ->
 * XDP_PASS untouched; for a VIP address but malformed, a fragment, with IPv4 options or
 * an IPv6 routing header with segments left, or source port 0 -> XDP_DROP. Every packet
 * adds 1 to exactly one verdict counter (lb.h). */
#include "parse.h"
#include "csum.h"
#include "lb.h"
#include "lb_maps.h"
#include "verdict.h"

/* `bpflab trace` names a verdict by the lb_counter it added (verdict.h). */
VERDICT_REASONS(enum lb_counter);

/* Set before load from the pinned config, so a replaced program behaves the same. */
const volatile __u32 lb_mode = LB_MODE_DSR;
const volatile __u32 table_size = LB_TABLE_DEFAULT;
const volatile __be32 snat_addr = 0;
const volatile union lb_addr snat6 = {};
/* The interface's own MAC: only frames sent to it are balanced. Aligned so that it is
 * compared as one 32- and one 16-bit word. */
const volatile __u8 lb_mac[6] __attribute__((aligned(4))) = {};
/* Benchmarks only: forget a new flow again, so every run of one packet is a new flow. */
const volatile __u8 bench_forget = 0;
/* Encap VIPs: the outer sources, and the interface whose FIB view finds the next hop
 * (the one `lb start` attached to; 0: the receiving one). Fixed, so that BPF_PROG_TEST_RUN,
 * whose packets arrive on loopback, looks routes up as the attached program does. */
const volatile __be32 tunnel_src4 = 0;
const volatile union lb_addr tunnel_src6 = {};
const volatile __u32 lb_ifindex = 0;
/* Conntrack buckets (lb.h): the seed of their hash and their number - 1 (a power of two),
 * from the pinned config. */
const volatile __u32 ct_seed = 0;
const volatile __u32 ct_mask = LB_CT_DEFAULT / LB_CT_WAYS - 1;
/* --new-flow-limit: new flows recorded per CPU and second where a flow needs no state to
 * stay put (dsr, encap); the rest go where Maglev says, unrecorded, so a flood of new
 * flows cannot evict the established ones (Katran's MAX_CONN_RATE). 0: no limit. */
const volatile __u32 new_flow_limit = 0;

/* Offsets as the verifier can bound them: it drops the range of a packet pointer whose
 * offset may reach 64k. Identity here: l3 <= 14 + 2 tags; l4 <= that + 60 (IPv4), or
 * + 40 + 8 extension headers of at most 2048 bytes each (IPv6, parse.h). */
#define L3_OFF(p) ((p)->l3_off & 0x3f)
#define L4_OFF(p) ((p)->l4_off & 0x7fff)

#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_FRAG_NEEDED 4
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_TIME_EXCEED 3
#define AF_INET 2
#define AF_INET6 10
#define IP_DF 0x4000
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
/* ICMP frag needed: IPv4 + ICMP header + the quoted IPv4 header and 8 bytes (RFC 792). */
#define TOO_BIG_QUOTE (20 + 8)
#define TOO_BIG_LEN (20 + 8 + TOO_BIG_QUOTE)
/* ICMPv6 packet too big: IPv6 + ICMPv6 header + the quoted IPv6 header and 8 bytes:
 * enough for the sender to find its socket (RFC 4443 3.2 asks for as much as fits in
 * 1280; a fixed quote keeps the checksum a fixed loop). */
#define TOO_BIG6_QUOTE (40 + 8)
#define TOO_BIG6_LEN (40 + 8 + TOO_BIG6_QUOTE)

/* A flow as the program sees it: either family, addresses in union lb_addr form. */
struct flow {
	union lb_addr saddr;
	union lb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 fam;      /* LB_FAM4 / LB_FAM6 */
	__u16 pad;
};

static __always_inline void count(struct lb_counters *c, int what)
{
	if (c)
		c->c[what]++;
	/* Every packet adds to exactly one verdict counter: it is the verdict's reason. */
	if (what < LBC__VERDICTS)
		verdict_note(what, 0);
}

/* Broadcast, multicast and other hosts' frames (a bridge floods, promiscuous mode) are
 * not ours to balance, and their destination must never become our source. */
static __always_inline int to_lb_mac(const void *data)
{
	/* Through void *, not the packed struct ethhdr: clang would split a u32 load from
	 * it into four byte loads. */
	return !((*(const __u32 *)data ^ *(const volatile __u32 *)lb_mac) |
		 (*(const __u16 *)(data + 4) ^ *(const volatile __u16 *)(lb_mac + 4)));
}

static __always_inline void stats_add(void *map, __u32 id, __u64 len, int new_flow)
{
	struct lb_stats *s = bpf_map_lookup_elem(map, &id);

	if (!s)
		return;
	s->packets++;
	s->bytes += len;
	s->new_flows += new_flow;
}

static __always_inline void set_macs(void *data, const __u8 *dst)
{
	/* The frame was addressed to us: our MAC becomes the source. In 16-bit words
	 * (dst is a map value's MAC, 2-aligned): through the packed struct ethhdr, clang
	 * would copy byte by byte. */
	__u16 *w = data;
	const __u16 *m = (const __u16 *)dst;

	w[3] = w[0];
	w[4] = w[1];
	w[5] = w[2];
	w[0] = m[0];
	w[1] = m[1];
	w[2] = m[2];
}

/* Back to where the frame came from, from the MAC it was sent to. */
static __always_inline void swap_macs(void *data)
{
	__u16 *e = data, t0 = e[0], t1 = e[1], t2 = e[2];

	e[0] = e[3];
	e[1] = e[4];
	e[2] = e[5];
	e[3] = t0;
	e[4] = t1;
	e[5] = t2;
}

static __always_inline int be_fam(const struct lb_backend *be)
{
	return be->flags & LB_BE_V6 ? LB_FAM6 : LB_FAM4;
}

/* The backend's encapsulation, copied from its VIP by lb_cfg_apply. */
static __always_inline __u32 be_encap(const struct lb_backend *be)
{
	return (be->flags >> LB_BE_ENCAP_SHIFT) & LB_VIP_ENCAP_MASK;
}

/* A backend that can carry a flow of family fam: encap carries any family; nat and plain
 * dsr rewrite in place, so only a backend of the VIP's own (lb_cfg refuses the others:
 * one that got here anyway is as absent). */
static __always_inline struct lb_backend *backend_get(__u32 id, int fam)
{
	struct lb_backend *be;

	if (!id)
		return NULL;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || !(be->flags & LB_BE_USED))
		return NULL;
	return be_encap(be) || be_fam(be) == fam ? be : NULL;
}

static __always_inline int addr6_eq(const void *a, const volatile void *b)
{
	const __u32 *x = a;
	const volatile __u32 *y = b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

static __always_inline void addr6_copy(void *dst, const volatile void *src)
{
	__u32 *d = dst;
	const volatile __u32 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
	d[3] = s[3];
}

/* A checksum covering a 128-bit address that changes from `from` to `to` (the IPv6
 * pseudo-header): eight 16-bit words at once (RFC 1624 eqn. 3). */
/* ---- conntrack: buckets of LB_CT_WAYS slots (lb.h) ---- */

/* A slot's value as one 8-byte load or store: a reader sees all of an old value or all
 * of a new one. */
#define CT_V(slot) (*(volatile __u64 *)&(slot)->v)

static __always_inline __u64 ct_pack(__u16 backend_id, __be16 nat_port, __u32 stamp)
{
	struct lb_ct v = { .backend_id = backend_id, .nat_port = nat_port, .stamp = stamp };

	return *(__u64 *)&v;
}

static __always_inline int key6_eq(const struct lb_ct6_key *a, const struct lb_ct6_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]));
}

/* The flow's value, copied out (a concurrent insert cannot change it under us), and its
 * slot; NULL when not tracked. *bp is the flow's bucket either way (NULL if none). */
static __always_inline struct lb_ct4_slot *ct4_find(const struct lb_ct4_key *k,
						     struct lb_ct4_bucket **bp, struct lb_ct *out)
{
	__u32 idx = lb_ct4_index(k, ct_seed, ct_mask);
	struct lb_ct4_bucket *b = bpf_map_lookup_elem(&conntrack, &idx);
	__u64 want = *(const __u64 *)k;

	*bp = b;
	if (!b)
		return NULL;
#pragma unroll
	for (int i = 0; i < LB_CT_WAYS; i++) {
		struct lb_ct4_slot *sl = &b->s[i];

		if (*(volatile __u64 *)&sl->key == want) {
			*(__u64 *)out = CT_V(sl);
			if (out->backend_id)
				return sl;
		}
	}
	return NULL;
}

static __always_inline struct lb_ct6_slot *ct6_find(const struct lb_ct6_key *k,
						     struct lb_ct6_bucket **bp, struct lb_ct *out)
{
	__u32 idx = lb_ct6_index(k, ct_seed, ct_mask);
	struct lb_ct6_bucket *b = bpf_map_lookup_elem(&conntrack6, &idx);

	*bp = b;
	if (!b)
		return NULL;
#pragma unroll
	for (int i = 0; i < LB_CT_WAYS; i++) {
		struct lb_ct6_slot *sl = &b->s[i];

		if (key6_eq(&sl->key, k)) {
			*(__u64 *)out = CT_V(sl);
			if (out->backend_id)
				return sl;
		}
	}
	return NULL;
}

/* LB_CT_REF within the value as one word: stamp is its upper half (little endian). The
 * flag is set and cleared with 64-bit atomics, which BPF has on every CPU version. */
#define CT_REF64 ((__u64)LB_CT_REF << 32)
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "CT_REF64 assumes little endian");

/* A hit: the flow is in use, so its bucket's next eviction passes it over once. Written
 * once per eviction round, atomically: an insert into the slot may race with it. */
static __always_inline void ct_touch(struct lb_ct *v, __u32 stamp)
{
	if (!(stamp & LB_CT_REF))
		__sync_fetch_and_or((__u64 *)v, CT_REF64);
}

/* Where a new flow goes in its bucket: its own slot (a stale entry), else an empty one,
 * else the first one not hit since the bucket last evicted; when all were hit, the
 * first, and every slot starts a new round unreferenced (a clock per bucket). A new
 * entry starts unreferenced: a flood of one-packet flows evicts its own kind first. */
#define CT_VICTIM(b, same)                                                        \
	({                                                                         \
		int v_ = -1;                                                       \
		_Pragma("unroll") for (int i = 0; i < LB_CT_WAYS; i++)            \
			if (v_ < 0 && same(&(b)->s[i].key))                        \
				v_ = i;                                            \
		_Pragma("unroll") for (int i = 0; i < LB_CT_WAYS; i++)            \
			if (v_ < 0 && !(b)->s[i].v.backend_id)                     \
				v_ = i;                                            \
		_Pragma("unroll") for (int i = 0; i < LB_CT_WAYS; i++)            \
			if (v_ < 0 && !((b)->s[i].v.stamp & LB_CT_REF))            \
				v_ = i;                                            \
		if (v_ < 0) {                                                      \
			_Pragma("unroll") for (int i = 0; i < LB_CT_WAYS; i++)    \
				__sync_fetch_and_and((__u64 *)&(b)->s[i].v, ~CT_REF64);  \
			v_ = 0;                                                    \
		}                                                                  \
		v_ & (LB_CT_WAYS - 1);                                             \
	})

/* Records the flow in its bucket b: the value first, then the key, so that a reader
 * matching the new key finds the new value (docs/lb.md, "Flow state"). */
static __always_inline void ct4_put(struct lb_ct4_bucket *b, const struct lb_ct4_key *k,
				    __u64 val, struct lb_counters *cnt)
{
	__u64 want = *(const __u64 *)k;
	struct lb_ct4_slot *sl;
	int i;

#define SAME4(key) (*(__u64 *)(key) == want)
	i = CT_VICTIM(b, SAME4);
#undef SAME4
	sl = &b->s[i];
	if (sl->v.backend_id && *(__u64 *)&sl->key != want)
		count(cnt, LBC_CT_EVICT);
	CT_V(sl) = val;
	*(volatile __u64 *)&sl->key = want;
}

static __always_inline void ct6_put(struct lb_ct6_bucket *b, const struct lb_ct6_key *k,
				    __u64 val, struct lb_counters *cnt)
{
	struct lb_ct6_slot *sl;
	int i;

#define SAME6(key) key6_eq(key, k)
	i = CT_VICTIM(b, SAME6);
	sl = &b->s[i];
	if (sl->v.backend_id && !SAME6(&sl->key))
		count(cnt, LBC_CT_EVICT);
#undef SAME6
	CT_V(sl) = val;
	__builtin_memcpy(&sl->key, k, sizeof(*k));
}

/* Whether this CPU may record one more new flow now (new_flow_limit). */
static __always_inline int ct_admit(struct lb_counters *c, __u64 now)
{
	if (!new_flow_limit || !c)
		return 1;
	if (now - c->guard_start >= 1000000000ull) {
		c->guard_start = now;
		c->guard_n = 0;
	}
	return ++c->guard_n <= new_flow_limit;
}

/* Benchmarks only (bench_forget): the flow's slot emptied again. */
static __always_inline void ct4_forget(struct lb_ct4_bucket *b, const struct lb_ct4_key *k)
{
	__u64 want = *(const __u64 *)k;

#pragma unroll
	for (int i = 0; i < LB_CT_WAYS; i++) {
		if (*(__u64 *)&b->s[i].key == want) {
			*(__u64 *)&b->s[i].key = 0;
			CT_V(&b->s[i]) = 0;
		}
	}
}

static __always_inline void ct6_forget(struct lb_ct6_bucket *b, const struct lb_ct6_key *k)
{
#pragma unroll
	for (int i = 0; i < LB_CT_WAYS; i++) {
		if (key6_eq(&b->s[i].key, k)) {
			__builtin_memset(&b->s[i].key, 0, sizeof(b->s[i].key));
			CT_V(&b->s[i]) = 0;
		}
	}
}

static __always_inline void csum_replace16(__sum16 *csum, const void *from, const volatile void *to)
{
	const __u32 *f = from;
	const volatile __u32 *t = to;
	__u32 sum = (__u16)~*csum;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 a = f[i], b = t[i];

		sum += (__u16)~(a & 0xffff);
		sum += (__u16)~(a >> 16);
		sum += (__u16)(b & 0xffff);
		sum += (__u16)(b >> 16);
	}
	*csum = (__sum16)~csum_fold32(sum);
}

/* UDP: a zero checksum stays zero (IPv4: none; IPv6: invalid, the receiver drops it as
 * it would have without us), a computed zero is sent as 0xffff (RFC 768). */
static __always_inline void csum_replace16_udp(__sum16 *csum, const void *from,
					       const volatile void *to)
{
	if (!*csum)
		return;
	csum_replace16(csum, from, to);
	if (!*csum)
		*csum = (__sum16)0xffff;
}

/* A header's checksum from scratch over n 16-bit words (the header is new). */
static __always_inline __u32 csum_words(const void *h, int n)
{
	const __u16 *w = h;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

/* Rewrites addresses and ports of an IPv4 TCP/UDP packet, checksums incrementally. */
static __always_inline int nat_rewrite4(struct iphdr *ip, void *l4, void *data_end, __u8 proto,
					__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	/* Callers have checked the whole L4 header; each branch checks it again where the
	 * verifier can see it (clang merges a check before the branch into one of variable size). */
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		csum_replace4(&th->check, ip->saddr, saddr);
		csum_replace4(&th->check, ip->daddr, daddr);
		csum_replace2(&th->check, th->source, sport);
		csum_replace2(&th->check, th->dest, dport);
		th->source = sport;
		th->dest = dport;
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		csum_replace4_udp(&uh->check, ip->saddr, saddr);
		csum_replace4_udp(&uh->check, ip->daddr, daddr);
		csum_replace2_udp(&uh->check, uh->source, sport);
		csum_replace2_udp(&uh->check, uh->dest, dport);
		uh->source = sport;
		uh->dest = dport;
	}
	csum_replace4(&ip->check, ip->saddr, saddr);
	csum_replace4(&ip->check, ip->daddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
	return 0;
}

/* The same for IPv6: no header checksum, the pseudo-header's addresses are 128 bits.
 * The hop limit is left as it came, as IPv4's TTL is: the LB is not a router hop. */
static __always_inline int nat_rewrite6(struct ipv6hdr *ip6, void *l4, void *data_end,
					__u8 proto, const volatile void *saddr,
					const volatile void *daddr, __be16 sport, __be16 dport)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		csum_replace16(&th->check, &ip6->saddr, saddr);
		csum_replace16(&th->check, &ip6->daddr, daddr);
		csum_replace2(&th->check, th->source, sport);
		csum_replace2(&th->check, th->dest, dport);
		th->source = sport;
		th->dest = dport;
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		csum_replace16_udp(&uh->check, &ip6->saddr, saddr);
		csum_replace16_udp(&uh->check, &ip6->daddr, daddr);
		csum_replace2_udp(&uh->check, uh->source, sport);
		csum_replace2_udp(&uh->check, uh->dest, dport);
		uh->source = sport;
		uh->dest = dport;
	}
	addr6_copy(&ip6->saddr, saddr);
	addr6_copy(&ip6->daddr, daddr);
	return 0;
}

/* NAT: claims a reverse entry for this flow: the client's own port if free, else ports
 * derived from the flow hash. Returns the port, or 0 when all tries were taken: the
 * caller has refused source port 0 and derived ports are >= LB_NAT_PORT_MIN, so 0 is
 * never a claimed port, and a failure has inserted nothing. One function per family:
 * the keys differ in size. */
static __always_inline __be16 nat_claim4(const struct flow *f, const struct lb_backend *be,
					 const __u8 *client_mac, __u32 hash,
					 struct lb_counters *cnt)
{
	struct lb_rev4_key rk = { .baddr = be->addr.v4, .bport = be->port };
	struct lb_rev4 rv = {
		.client_addr = f->saddr.v4, .vip_addr = f->daddr.v4, .client_port = f->sport,
		.vip_port = f->dport, .proto = f->proto,
	};

	__builtin_memcpy(rv.client_mac, client_mac, ETH_ALEN);
	for (int i = 0; i < LB_NAT_TRIES; i++) {
		struct lb_rev4 *cur;
		__be16 port = f->sport;

		if (i)
			port = bpf_htons(LB_NAT_PORT_MIN +
					 lb_mix32(hash + i) % (65536 - LB_NAT_PORT_MIN));
		rk.nat_port = port;
		if (!bpf_map_update_elem(&reverse, &rk, &rv, BPF_NOEXIST)) {
			if (i)
				count(cnt, LBC_NAT_PORT_REMAP);
			return port;
		}
		/* Ours already (the forward entry was evicted, or another CPU won the race). */
		cur = bpf_map_lookup_elem(&reverse, &rk);
		if (cur && cur->client_addr == rv.client_addr && cur->client_port == f->sport &&
		    cur->vip_addr == rv.vip_addr && cur->vip_port == f->dport &&
		    cur->proto == f->proto) {
			bpf_map_update_elem(&reverse, &rk, &rv, BPF_EXIST);
			return port;
		}
	}
	return 0;
}

static __always_inline __be16 nat_claim6(const struct flow *f, const struct lb_backend *be,
					 const __u8 *client_mac, __u32 hash,
					 struct lb_counters *cnt)
{
	struct lb_rev6_key rk = { .bport = be->port };
	struct lb_rev6 rv = { .client_port = f->sport, .vip_port = f->dport, .proto = f->proto };

	rk.baddr = be->addr;
	rv.client_addr = f->saddr;
	rv.vip_addr = f->daddr;
	__builtin_memcpy(rv.client_mac, client_mac, ETH_ALEN);
	for (int i = 0; i < LB_NAT_TRIES; i++) {
		struct lb_rev6 *cur;
		__be16 port = f->sport;

		if (i)
			port = bpf_htons(LB_NAT_PORT_MIN +
					 lb_mix32(hash + i) % (65536 - LB_NAT_PORT_MIN));
		rk.nat_port = port;
		if (!bpf_map_update_elem(&reverse6, &rk, &rv, BPF_NOEXIST)) {
			if (i)
				count(cnt, LBC_NAT_PORT_REMAP);
			return port;
		}
		cur = bpf_map_lookup_elem(&reverse6, &rk);
		if (cur && addr6_eq(&cur->client_addr, &rv.client_addr) &&
		    cur->client_port == f->sport && addr6_eq(&cur->vip_addr, &rv.vip_addr) &&
		    cur->vip_port == f->dport && cur->proto == f->proto) {
			bpf_map_update_elem(&reverse6, &rk, &rv, BPF_EXIST);
			return port;
		}
	}
	return 0;
}

static __always_inline void rev_delete(const struct flow *f, const struct lb_backend *be,
				       __be16 nat_port)
{
	if (f->fam == LB_FAM4) {
		struct lb_rev4_key rk = { .baddr = be->addr.v4, .bport = be->port,
					  .nat_port = nat_port };
		bpf_map_delete_elem(&reverse, &rk);
	} else {
		struct lb_rev6_key rk = { .bport = be->port, .nat_port = nat_port };

		rk.baddr = be->addr;
		bpf_map_delete_elem(&reverse6, &rk);
	}
}

/* NAT: a backend's reply to the LB's IPv4 address. Returns XDP_TX, or -1 when not ours. */
static __always_inline int nat_reply4(struct ethhdr *eth, struct iphdr *ip, void *l4,
				      void *data_end, __u8 proto, struct lb_counters *cnt)
{
	struct udphdr *ports = l4; /* TCP and UDP start with the same two ports */
	struct lb_rev4_key rk = { .baddr = ip->saddr, .bport = ports->source,
				  .nat_port = ports->dest };
	struct lb_rev4 *rv = bpf_map_lookup_elem(&reverse, &rk);

	if (!rv || rv->proto != proto)
		return -1;
	if (nat_rewrite4(ip, l4, data_end, proto, rv->vip_addr, rv->client_addr, rv->vip_port,
			 rv->client_port))
		return -1;
	set_macs(eth, rv->client_mac);
	count(cnt, LBC_REPLY);
	return XDP_TX;
}

static __always_inline int nat_reply6(struct ethhdr *eth, struct ipv6hdr *ip6, void *l4,
				      void *data_end, __u8 proto, struct lb_counters *cnt)
{
	struct udphdr *ports = l4;
	struct lb_rev6_key rk = { .bport = ports->source, .nat_port = ports->dest };
	struct lb_rev6 *rv;

	addr6_copy(&rk.baddr, &ip6->saddr);
	rv = bpf_map_lookup_elem(&reverse6, &rk);
	if (!rv || rv->proto != proto)
		return -1;
	if (nat_rewrite6(ip6, l4, data_end, proto, &rv->vip_addr, &rv->client_addr,
			 rv->vip_port, rv->client_port))
		return -1;
	set_macs(eth, rv->client_mac);
	count(cnt, LBC_REPLY);
	return XDP_TX;
}

/* The client's IPv4 packet does not fit the path once encapsulated: with DF, it is
 * answered with ICMP "fragmentation needed" from the VIP, quoting its IP header and 8
 * bytes, with the MTU left for the inner packet (RFC 1191), out of the port it came in
 * (VLAN tags kept); without DF, or when it is itself an ICMP message (RFC 1122 3.2.2),
 * dropped: XDP cannot fragment. The frame is rewritten in place: 28 bytes grown at the
 * front. */
static __always_inline int too_big4(struct xdp_md *ctx, __u32 l3, __u32 mtu, int answer,
				    struct lb_counters *cnt)
{
	void *data, *data_end;
	struct iphdr *ip, *q;
	struct icmphdr *ic;

	if (!answer) {
		count(cnt, LBC_DROP_TOO_BIG);
		return XDP_DROP;
	}
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(*ip) + sizeof(*ic))))
		goto fail;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	l3 &= 0x3f;
	/* Ethernet and VLAN tags move to the front: always 22 bytes (2 tags), the tail of
	 * which the new IPv4 header then overwrites when there were fewer. */
	if (data + 28 + 22 > data_end)
		goto fail;
	__builtin_memcpy(data, data + 28, 22);
	ip = data + l3;
	/* Opaque from here: clang would otherwise rebuild the pointers from data + l3,
	 * which the verifier sees as new pointers with no checked range. */
	barrier_var(ip);
	if ((void *)ip + TOO_BIG_LEN > data_end)
		goto fail;
	ic = (void *)(ip + 1);
	q = (void *)(ic + 1);
	swap_macs(data);
	*(__u8 *)ip = 0x45;
	ip->tos = 0;
	ip->tot_len = bpf_htons(TOO_BIG_LEN);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = LB_ENCAP_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = q->daddr;
	ip->daddr = q->saddr;
	ip->check = 0;
	ip->check = (__sum16)~csum_fold32(csum_words(ip, 10));
	ic->type = ICMP_DEST_UNREACH;
	ic->code = ICMP_FRAG_NEEDED;
	ic->checksum = 0;
	ic->id = 0;
	ic->sequence = bpf_htons(mtu);
	ic->checksum = (__sum16)~csum_fold32(csum_words(ic, (8 + TOO_BIG_QUOTE) / 2));
	/* The rest of the client's packet goes. */
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + TOO_BIG_LEN) - (int)(data_end - data)))
		goto fail;
	count(cnt, LBC_ICMP_TOO_BIG);
	return XDP_TX;
fail:
	count(cnt, LBC_DROP_ENCAP);
	return XDP_DROP;
}

/* The same for an IPv6 client (IPv6 has no DF: routers never fragment): ICMPv6 "packet
 * too big" (type 2, code 0) from the VIP with the MTU left for the inner packet (RFC 4443
 * 3.2, RFC 8201), quoting the IPv6 header and 8 bytes; an ICMPv6 packet itself is
 * dropped (RFC 4443 2.4 e). 48 bytes grown at the front. */
static __always_inline int too_big6(struct xdp_md *ctx, __u32 l3, __u32 mtu, int answer,
				    struct lb_counters *cnt)
{
	void *data, *data_end;
	struct ipv6hdr *ip6, *q;
	struct icmp6hdr *ic;
	__u32 sum;

	if (!answer) {
		count(cnt, LBC_DROP_TOO_BIG);
		return XDP_DROP;
	}
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(*ip6) + sizeof(*ic))))
		goto fail;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	l3 &= 0x3f;
	if (data + 48 + 22 > data_end)
		goto fail;
	__builtin_memcpy(data, data + 48, 22);
	ip6 = data + l3;
	barrier_var(ip6); /* as in too_big4 */
	if ((void *)ip6 + TOO_BIG6_LEN > data_end)
		goto fail;
	ic = (void *)(ip6 + 1);
	q = (void *)(ic + 1);
	swap_macs(data);
	*(__be32 *)ip6 = bpf_htonl(6u << 28);
	ip6->payload_len = bpf_htons(8 + TOO_BIG6_QUOTE);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = LB_ENCAP_TTL;
	addr6_copy(&ip6->saddr, &q->daddr);
	addr6_copy(&ip6->daddr, &q->saddr);
	ic->icmp6_type = ICMPV6_PKT_TOOBIG;
	ic->icmp6_code = 0;
	ic->icmp6_cksum = 0;
	*(__be32 *)&ic->icmp6_identifier = bpf_htonl(mtu);
	/* Pseudo-header (addresses, upper-layer length, next header) + the message. */
	sum = csum_words(&ip6->saddr, 16) + bpf_htons(8 + TOO_BIG6_QUOTE) +
	      bpf_htons(IPPROTO_ICMPV6) + csum_words(ic, (8 + TOO_BIG6_QUOTE) / 2);
	ic->icmp6_cksum = (__sum16)~csum_fold32(sum);
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + TOO_BIG6_LEN) - (int)(data_end - data)))
		goto fail;
	count(cnt, LBC_ICMP_TOO_BIG);
	return XDP_TX;
fail:
	count(cnt, LBC_DROP_ENCAP);
	return XDP_DROP;
}

static __always_inline int too_big(struct xdp_md *ctx, __u32 l3, int ifam, __u32 mtu,
				   __u32 hlen, int answer, struct lb_counters *cnt)
{
	mtu = mtu > hlen ? mtu - hlen : 0;
	if (ifam == LB_FAM4)
		return too_big4(ctx, l3, mtu, answer, cnt);
	return too_big6(ctx, l3, mtu, answer, cnt);
}

/* DSR across routers: the client's packet (either family), unchanged, inside an outer
 * header of the backend's family from tunnel_src4 / tunnel_src6 to the backend: IPIP
 * (protocol / next header 4 for an IPv4 inner packet, 41 for IPv6), or that and a UDP
 * header to LB_GUE_PORT from a flow-hash port (GUE variant 1), to the next hop the
 * kernel's FIB names. Wire format: docs/lb.md "Encapsulation". VLAN tags are not carried:
 * the outer packet is routed, not bridged. Never sends more than the path MTU (too_big).
 * The FIB's answer is kept per backend and CPU for LB_NH_TTL_NS (struct lb_nh): a lookup
 * costs more than the rest of the packet's work. icmp: the packet is an ICMP/ICMPv6
 * message, which is never answered with another. */
static __always_inline int encap_tx(struct xdp_md *ctx, __u32 l3, int ifam, int icmp,
				    const struct lb_backend *be, __u32 bid, __u32 encap,
				    __u32 hash, struct lb_counters *cnt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int ofam = be_fam(be), gue = encap == LB_ENCAP_GUE;
	__u32 hlen = (ofam == LB_FAM6 ? IP6_LEN : IP4_LEN) + (gue ? UDP_LEN : 0);
	__u32 in_if = lb_ifindex ? lb_ifindex : ctx->ingress_ifindex;
	__u8 l4p = gue ? IPPROTO_UDP : ifam == LB_FAM4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	struct bpf_fib_lookup fib;
	struct udphdr *u;
	struct lb_nh *nh;
	__u32 inner_len, olen;
	__u64 now;
	__u8 tos;
	int df, rc;

	l3 &= 0x3f;
	if (ifam == LB_FAM4) {
		struct iphdr *in = data + l3;

		if ((void *)(in + 1) > data_end)
			goto malformed; /* parse_packet checked it: for the verifier */
		inner_len = bpf_ntohs(in->tot_len);
		tos = in->tos;
		df = !!(in->frag_off & bpf_htons(IP_DF));
	} else {
		struct ipv6hdr *in6 = data + l3;

		if ((void *)(in6 + 1) > data_end)
			goto malformed;
		inner_len = IP6_LEN + bpf_ntohs(in6->payload_len);
		tos = (__u8)(bpf_ntohl(*(__be32 *)in6) >> 20);
		df = 1;
	}
	olen = inner_len + hlen;
	nh = bpf_map_lookup_elem(&nexthops, &bid);
	if (!nh) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	now = bpf_ktime_get_coarse_ns();
	if (nh->family == (__u32)ofam && addr6_eq(&nh->daddr, &be->addr) &&
	    now - nh->stamp < LB_NH_TTL_NS) {
		if (nh->ifindex && olen <= nh->ok_len)
			goto send;
		if (nh->mtu && olen > nh->mtu)
			return too_big(ctx, l3, ifam, nh->mtu, hlen, df && !icmp, cnt);
	} else {
		nh->daddr = be->addr;
		nh->family = ofam;
		nh->stamp = now;
		nh->ifindex = 0;
		nh->ok_len = 0;
		nh->mtu = 0;
	}
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.l4_protocol = l4p;
	fib.tot_len = olen;
	fib.ifindex = in_if;
	if (ofam == LB_FAM4) {
		fib.family = AF_INET;
		fib.tos = tos;
		fib.ipv4_src = tunnel_src4;
		fib.ipv4_dst = be->addr.v4;
	} else {
		fib.family = AF_INET6;
		fib.flowinfo = bpf_htonl((__u32)tos << 20 | (hash & 0xfffff));
		addr6_copy(fib.ipv6_src, &tunnel_src6);
		addr6_copy(fib.ipv6_dst, &be->addr);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		nh->mtu = fib.mtu_result;
		return too_big(ctx, l3, ifam, fib.mtu_result, hlen, df && !icmp, cnt);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		count(cnt, LBC_DROP_NO_NEIGH);
		return XDP_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		count(cnt, LBC_DROP_NO_ROUTE);
		return XDP_DROP;
	}
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	nh->ifindex = fib.ifindex;
	if (olen > nh->ok_len)
		nh->ok_len = olen;
send:
	/* Room for Ethernet + outer headers where Ethernet and VLAN tags were. */
	if (bpf_xdp_adjust_head(ctx, (int)l3 - (int)(sizeof(struct ethhdr) + hlen))) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	/* Bytes after the inner packet (Ethernet padding of a short frame) are not part of
	 * it: the outer packet ends where its lengths say. Only short frames pay for this. */
	if (data_end - data > (long)(sizeof(struct ethhdr) + olen)) {
		if (bpf_xdp_adjust_tail(ctx, (int)(sizeof(struct ethhdr) + olen) -
					     (int)(data_end - data))) {
			count(cnt, LBC_DROP_ENCAP);
			return XDP_DROP;
		}
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
	}
	/* The largest outer headers: the frame is at least that plus a 28-byte inner packet. */
	if (data + sizeof(struct ethhdr) + IP6_LEN + UDP_LEN > data_end) {
		count(cnt, LBC_DROP_ENCAP);
		return XDP_DROP;
	}
	__builtin_memcpy(data, nh->dmac, 2 * ETH_ALEN); /* dmac, then smac: as in Ethernet */
	if (ofam == LB_FAM4) {
		struct iphdr *o = data + sizeof(struct ethhdr);

		((struct ethhdr *)data)->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)o = 0x45;
		o->tos = tos;
		o->tot_len = bpf_htons(olen);
		o->id = 0;
		/* Always DF: a fragment would reach a decapsulator that cannot reassemble. */
		o->frag_off = bpf_htons(IP_DF);
		o->ttl = LB_ENCAP_TTL;
		o->protocol = l4p;
		o->saddr = tunnel_src4;
		o->daddr = be->addr.v4;
		o->check = 0;
		o->check = (__sum16)~csum_fold32(csum_words(o, 10));
		u = (void *)(o + 1);
	} else {
		struct ipv6hdr *o6 = data + sizeof(struct ethhdr);

		((struct ethhdr *)data)->h_proto = bpf_htons(ETH_P_IPV6);
		/* Traffic class kept from the inner packet; the flow label spreads flows. */
		*(__be32 *)o6 = bpf_htonl(6u << 28 | (__u32)tos << 20 | (hash & 0xfffff));
		o6->payload_len = bpf_htons(olen - IP6_LEN);
		o6->nexthdr = l4p;
		o6->hop_limit = LB_ENCAP_TTL;
		addr6_copy(&o6->saddr, &tunnel_src6);
		addr6_copy(&o6->daddr, &be->addr);
		u = (void *)(o6 + 1);
	}
	if (gue) {
		u->source = bpf_htons(LB_GUE_SPORT_MIN | (hash & 0x3fff));
		u->dest = bpf_htons(LB_GUE_PORT);
		u->len = bpf_htons(inner_len + sizeof(*u));
		/* None: IPv4 has no UDP checksum to give (RFC 768), and IPv6 tunnels may send
		 * zero (RFC 6935/6936); the inner packet carries its own. */
		u->check = 0;
	}
	count(cnt, LBC_TX_ENCAP);
	if (nh->ifindex == in_if)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
malformed:
	count(cnt, LBC_DROP_MALFORMED);
	return XDP_DROP;
}

/* The VIP a quoted packet came from (VIP:port -> client), or NULL. */
static __always_inline struct lb_vip *quoted_vip(const void *saddr, int fam, __be16 sport,
						 __u8 proto)
{
	struct lb_vip_key vk = { .port = sport, .proto = proto, .family = fam };

	if (fam == LB_FAM4)
		vk.addr.v4 = *(const __be32 *)saddr;
	else
		addr6_copy(&vk.addr, saddr);
	return bpf_map_lookup_elem(&vips, &vk);
}

/* An ICMP error (e.g. fragmentation needed) about a packet the LB or a backend sent
 * from the VIP: the quoted header is VIP:port -> client:port, and the flow it belongs to
 * is in conntrack under client:port and that VIP. dsr: the frame goes unchanged to that
 * backend. nat: it is made to look like an error about what the backend itself sent
 * (from backend:port to the LB's address and NAT port): quoted addresses, ports and IP
 * checksum rewritten, the ICMP checksum updated for each, outer addresses LB -> backend.
 * Everything read or rewritten lies inside the ICMP message as the outer tot_len says
 * (p->l4_len), never in the frame's padding. Returns XDP_TX, XDP_DROP (counted: lengths
 * that do not hold), or -1 when it is not about one of our flows. */
static __always_inline int icmp_to_backend4(struct xdp_md *ctx, void *data, void *data_end,
					    struct pkt *p, struct iphdr *ip, struct lb_counters *cnt)
{
	struct icmphdr *ic = data + L4_OFF(p);
	struct lb_ct4_key k = {};
	struct lb_ct4_bucket *b;
	struct lb_ct v, *ct = &v;
	struct lb_backend *be;
	struct lb_vip *vip;
	struct udphdr *inp;
	struct iphdr *in;
	__u32 encap;

	/* The frame checks are for the verifier: l4_len lies inside the frame (parse.h). */
	if ((void *)(ic + 1) > data_end || p->l4_len < sizeof(*ic))
		goto malformed;
	if (ic->type != ICMP_DEST_UNREACH && ic->type != ICMP_TIME_EXCEEDED)
		return -1;
	/* An error quotes the IP header and at least 8 bytes of the datagram (RFC 792). */
	if (p->l4_len < sizeof(*ic) + sizeof(*in) + sizeof(*inp))
		goto malformed;
	in = (void *)(ic + 1);
	inp = (void *)(in + 1);
	if ((void *)(inp + 1) > data_end)
		goto malformed;
	/* The quoted header's own lengths: a datagram too short for ports has none. */
	if (in->version != 4 || in->ihl < 5 ||
	    bpf_ntohs(in->tot_len) < sizeof(*in) + sizeof(*inp))
		goto malformed;
	/* Quoted options (we send none), other protocols, later fragments: no flow of ours. */
	if (in->ihl != 5 || (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP) ||
	    (in->frag_off & bpf_htons(0x1fff)))
		return -1;
	vip = quoted_vip(&in->saddr, LB_FAM4, inp->source, in->protocol);
	if (!vip)
		return -1;
	k.saddr = in->daddr;
	k.sport = inp->dest;
	k.vip_id = vip->id;
	if (!ct4_find(&k, &b, ct))
		return -1;
	be = backend_get(ct->backend_id, LB_FAM4);
	if (!be || be->vip_id != vip->id)
		return -1;
	/* Encap: the error goes through the flow's tunnel (and GUE source port) unchanged. */
	encap = be_encap(be);
	if (encap)
		return encap_tx(ctx, p->l3_off, LB_FAM4, 1, be, ct->backend_id, encap,
				lb_flow_hash(in->daddr, in->saddr, inp->dest, inp->source,
					     in->protocol), cnt);
	if (lb_mode == LB_MODE_NAT) {
		__sum16 old_check = in->check;

		csum_replace4(&in->check, in->saddr, be->addr.v4);
		csum_replace4(&in->check, in->daddr, snat_addr);
		csum_replace4(&ic->checksum, in->saddr, be->addr.v4);
		csum_replace4(&ic->checksum, in->daddr, snat_addr);
		csum_replace2(&ic->checksum, old_check, in->check);
		csum_replace2(&ic->checksum, inp->source, be->port);
		csum_replace2(&ic->checksum, inp->dest, ct->nat_port);
		in->saddr = be->addr.v4;
		in->daddr = snat_addr;
		inp->source = be->port;
		inp->dest = ct->nat_port;
		csum_replace4(&ip->check, ip->saddr, snat_addr);
		csum_replace4(&ip->check, ip->daddr, be->addr.v4);
		ip->saddr = snat_addr;
		ip->daddr = be->addr.v4;
	}
	set_macs(p->eth, be->mac);
	count(cnt, LBC_ICMP_TO_BACKEND);
	return XDP_TX;
malformed:
	count(cnt, LBC_DROP_MALFORMED);
	return XDP_DROP;
}

/* The same for ICMPv6 destination unreachable, packet too big and time exceeded (RFC
 * 4443 3.1-3.3) about a VIP flow. The quote must hold the IPv6 header and 8 bytes, name
 * IPv6 and a payload of at least 8 bytes; extension headers in it (we send none) or
 * another protocol: no flow of ours. nat: the ICMPv6 checksum covers the pseudo-header,
 * so the outer address change goes into it too; IPv6 headers have no checksum. */
static __always_inline int icmp_to_backend6(struct xdp_md *ctx, void *data, void *data_end,
					    struct pkt *p, struct ipv6hdr *ip6,
					    struct lb_counters *cnt)
{
	struct icmp6hdr *ic = data + L4_OFF(p);
	struct lb_ct6_key k = {};
	struct lb_ct6_bucket *b;
	struct lb_ct v, *ct = &v;
	struct lb_backend *be;
	struct ipv6hdr *in;
	struct lb_vip *vip;
	struct udphdr *inp;
	__u32 encap;

	if ((void *)(ic + 1) > data_end || p->l4_len < sizeof(*ic))
		goto malformed;
	if (ic->icmp6_type != ICMPV6_DEST_UNREACH && ic->icmp6_type != ICMPV6_PKT_TOOBIG &&
	    ic->icmp6_type != ICMPV6_TIME_EXCEED)
		return -1;
	if (p->l4_len < sizeof(*ic) + sizeof(*in) + sizeof(*inp))
		goto malformed;
	in = (void *)(ic + 1);
	inp = (void *)(in + 1);
	if ((void *)(inp + 1) > data_end)
		goto malformed;
	if (in->version != 6 || bpf_ntohs(in->payload_len) < sizeof(*inp))
		goto malformed;
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return -1;
	vip = quoted_vip(&in->saddr, LB_FAM6, inp->source, in->nexthdr);
	if (!vip)
		return -1;
	addr6_copy(&k.saddr, &in->daddr);
	k.sport = inp->dest;
	k.vip_id = vip->id;
	if (!ct6_find(&k, &b, ct))
		return -1;
	be = backend_get(ct->backend_id, LB_FAM6);
	if (!be || be->vip_id != vip->id)
		return -1;
	encap = be_encap(be);
	if (encap)
		return encap_tx(ctx, p->l3_off, LB_FAM6, 1, be, ct->backend_id, encap,
				lb_flow_hash_addr((union lb_addr *)&in->daddr,
						  (union lb_addr *)&in->saddr, inp->dest,
						  inp->source, in->nexthdr), cnt);
	if (lb_mode == LB_MODE_NAT) {
		csum_replace16(&ic->icmp6_cksum, &in->saddr, &be->addr);
		csum_replace16(&ic->icmp6_cksum, &in->daddr, &snat6);
		csum_replace2(&ic->icmp6_cksum, inp->source, be->port);
		csum_replace2(&ic->icmp6_cksum, inp->dest, ct->nat_port);
		csum_replace16(&ic->icmp6_cksum, &ip6->saddr, &snat6);
		csum_replace16(&ic->icmp6_cksum, &ip6->daddr, &be->addr);
		addr6_copy(&in->saddr, &be->addr);
		addr6_copy(&in->daddr, &snat6);
		inp->source = be->port;
		inp->dest = ct->nat_port;
		addr6_copy(&ip6->saddr, &snat6);
		addr6_copy(&ip6->daddr, &be->addr);
	}
	set_macs(p->eth, be->mac);
	count(cnt, LBC_ICMP_TO_BACKEND);
	return XDP_TX;
malformed:
	count(cnt, LBC_DROP_MALFORMED);
	return XDP_DROP;
}

/* A TCP/UDP packet to a VIP: its backend from conntrack, or from the Maglev table (and
 * recorded), then sent there. f is the flow, l4 its TCP/UDP header (checked whole). */
static __always_inline int balance(struct xdp_md *ctx, struct pkt *p, void *l3, void *l4,
				   void *data_end, const struct flow *f, const struct lb_vip *vip, __u64 len,
				   struct lb_counters *cnt)
{
	struct lb_backend *be = NULL;
	struct lb_ct4_key k4 = {};
	struct lb_ct6_key k6 = {};
	struct lb_ct4_bucket *b4 = NULL;
	struct lb_ct6_bucket *b6 = NULL;
	struct lb_ct4_slot *s4 = NULL;
	struct lb_ct6_slot *s6 = NULL;
	struct lb_ct ct = {};
	__u32 bid = 0, h = 0, encap;
	__be16 nat_port = 0;
	int new_flow = 0, hashed = 0, r;

	/* Port 0 is no port (RFC 768, 9293): a flow with it is refused before any state. */
	if (!f->sport) {
		count(cnt, LBC_DROP_PORT_ZERO);
		return XDP_DROP;
	}
	if (f->fam == LB_FAM4) {
		k4.saddr = f->saddr.v4;
		k4.sport = f->sport;
		k4.vip_id = vip->id;
		s4 = ct4_find(&k4, &b4, &ct);
		if (s4)
			ct_touch(&s4->v, ct.stamp);
	} else {
		k6.saddr = f->saddr;
		k6.sport = f->sport;
		k6.vip_id = vip->id;
		s6 = ct6_find(&k6, &b6, &ct);
		if (s6)
			ct_touch(&s6->v, ct.stamp);
	}
	if (s4 || s6) {
		bid = ct.backend_id;
		nat_port = ct.nat_port;
		be = backend_get(bid, f->fam);
		if (!be || be->vip_id != vip->id) {
			count(cnt, LBC_CT_STALE);
			be = NULL;
		}
	} else {
		count(cnt, LBC_CT_MISS);
	}
	if (!be) {
		__u32 slot, *pb, vid = vip->id;
		void *ring = bpf_map_lookup_elem(&rings, &vid);
		__u64 val, now;

		h = lb_flow_hash_addr(&f->saddr, &f->daddr, f->sport, f->dport, f->proto);
		hashed = 1;
		slot = h % table_size;
		pb = ring ? bpf_map_lookup_elem(ring, &slot) : NULL;
		bid = pb ? *pb : 0;
		be = backend_get(bid, f->fam);
		if (!be) {
			count(cnt, LBC_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		nat_port = 0;
		/* An encap VIP is DSR whatever the mode: no NAT port, no reverse entry. */
		if (lb_mode == LB_MODE_NAT && !be_encap(be)) {
			if (f->fam == LB_FAM4)
				nat_port = nat_claim4(f, be, p->eth->h_source, h, cnt);
			else
				nat_port = nat_claim6(f, be, p->eth->h_source, h, cnt);
			if (!nat_port) {
				count(cnt, LBC_DROP_NAT_PORT);
				return XDP_DROP;
			}
		}
		now = bpf_ktime_get_coarse_ns();
		val = ct_pack(bid, nat_port, (now / 1000000000ull) & ~LB_CT_REF);
		/* No bucket cannot be (the index is masked to the table); if it were, a dsr
		 * flow would go unrecorded where Maglev puts it (as one over the guard's
		 * limit), and a nat one is refused: its reply entry is undone, not left to
		 * outlive it. */
		if (!nat_port && !ct_admit(cnt, now))
			count(cnt, LBC_CT_GUARDED);
		else if (f->fam == LB_FAM4 && b4)
			ct4_put(b4, &k4, val, cnt);
		else if (f->fam == LB_FAM6 && b6)
			ct6_put(b6, &k6, val, cnt);
		else if (nat_port) {
			rev_delete(f, be, nat_port);
			count(cnt, LBC_DROP_NAT_PORT);
			return XDP_DROP;
		}
		new_flow = 1;
		if (bench_forget && (b4 || b6)) {
			/* Empties the slot again as a delete would: a key of zeros never matches
			 * a flow (source port 0 is refused above). */
			if (f->fam == LB_FAM4)
				ct4_forget(b4, &k4);
			else
				ct6_forget(b6, &k6);
			if (nat_port)
				rev_delete(f, be, nat_port);
		}
	}
	stats_add(&vip_stats, vip->id, len, new_flow);
	stats_add(&backend_stats, bid, len, new_flow);

	encap = be_encap(be);
	if (encap) {
		if (!hashed)
			h = lb_flow_hash_addr(&f->saddr, &f->daddr, f->sport, f->dport, f->proto);
		return encap_tx(ctx, p->l3_off, f->fam, 0, be, bid, encap, h, cnt);
	}
	if (lb_mode == LB_MODE_NAT) {
		if (f->fam == LB_FAM4)
			r = nat_rewrite4(l3, l4, data_end, f->proto, snat_addr, be->addr.v4,
					 nat_port, be->port);
		else
			r = nat_rewrite6(l3, l4, data_end, f->proto, &snat6, &be->addr, nat_port,
					 be->port);
		if (r) {
			count(cnt, LBC_DROP_MALFORMED); /* cannot be: the caller checked */
			return XDP_DROP;
		}
	}
	set_macs(p->eth, be->mac);
	count(cnt, LBC_TX_BACKEND);
	return XDP_TX;
}

/* The VIP of a packet's destination address:port/proto, or NULL (lb.h, "The VIP index").
 * The half is read once: the slot and its seed are of the half it names, which user space
 * rewrites only after a grace period has passed since packets last read it. */
static __always_inline struct lb_vip *vip_find(const struct lb_vip_key *k)
{
	__u32 zero = 0, half, idx;
	struct lb_vix_head *hd = bpf_map_lookup_elem(&vix_head, &zero);
	struct lb_vix_slot *s;
	const __u32 *a, *b;

	if (!hd)
		return NULL; /* cannot be: an array's only entry */
	half = *(volatile __u32 *)&hd->half & 1;
	if (!hd->ready[half])
		return bpf_map_lookup_elem(&vips, k);
	idx = half * LB_VIX_SLOTS + lb_vix_index(k, hd->seed[half]);
	s = bpf_map_lookup_elem(&vix, &idx);
	if (!s)
		return NULL;
	/* In words: the key is 5 aligned words, on the stack and in the slot. */
	a = (const __u32 *)&s->key;
	b = (const __u32 *)k;
	if ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]))
		return NULL;
	return &s->vip;
}

/* The whole TCP/UDP header of a parsed packet is inside the frame (parse_packet checked
 * it; the verifier needs to see it). */
static __always_inline int l4_whole(void *l4, void *data_end, __u8 proto)
{
	/* Two comparisons, not one of a variable size: the verifier learns a range from
	 * a constant one only. */
	return proto == IPPROTO_TCP ? l4 + sizeof(struct tcphdr) <= data_end :
				      l4 + sizeof(struct udphdr) <= data_end;
}

static __always_inline int lb4(struct xdp_md *ctx, void *data, void *data_end, struct pkt *p,
			       int r, __u64 len, struct lb_counters *cnt)
{
	struct iphdr *ip = data + L3_OFF(p);
	void *l4 = data + L4_OFF(p);
	struct lb_vip_key vk = { .family = LB_FAM4 };
	struct lb_vip *vip = NULL;
	int tcpudp = p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP;

	if ((void *)(ip + 1) > data_end) {
		count(cnt, LBC_PASS_NOT_VIP); /* not even an address to tell */
		return XDP_PASS;
	}
	/* The hot path first: a whole TCP/UDP packet is one lookup away from its VIP. */
	if (r == PARSE_OK && !p->frag && !p->ip_opts && tcpudp) {
		if (!l4_whole(l4, data_end, p->l4_proto)) {
			count(cnt, LBC_DROP_MALFORMED);
			return XDP_DROP;
		}
		vk.addr.v4 = ip->daddr;
		vk.port = ((struct udphdr *)l4)->dest;
		vk.proto = p->l4_proto;
		vip = vip_find(&vk);
		if (vip) {
			struct flow f = { .sport = ((struct udphdr *)l4)->source, .dport = vk.port,
					  .proto = vk.proto, .fam = LB_FAM4 };

			f.saddr.v4 = ip->saddr;
			f.daddr.v4 = ip->daddr;
			return balance(ctx, p, ip, l4, data_end, &f, vip, len, cnt);
		}
	}
	vk.port = 0;
	vk.proto = 0;
	vk.addr.v4 = ip->daddr;
	if (!bpf_map_lookup_elem(&vip_addrs, &vk)) {
		if (r == PARSE_OK && lb_mode == LB_MODE_NAT && ip->daddr == snat_addr &&
		    !p->frag && !p->ip_opts && tcpudp && l4_whole(l4, data_end, p->l4_proto)) {
			r = nat_reply4(p->eth, ip, l4, data_end, p->l4_proto, cnt);
			if (r >= 0)
				return r;
		}
		count(cnt, LBC_PASS_NOT_VIP);
		return XDP_PASS;
	}
	/* For one of our VIP addresses, but not a packet we can balance. */
	if (r != PARSE_OK) {
		count(cnt, LBC_DROP_MALFORMED);
		return XDP_DROP;
	}
	if (p->frag) {
		count(cnt, LBC_DROP_FRAGMENT);
		return XDP_DROP;
	}
	if (p->ip_opts) {
		count(cnt, LBC_DROP_IP_OPTIONS);
		return XDP_DROP;
	}
	if (p->l4_proto == IPPROTO_ICMP) {
		r = icmp_to_backend4(ctx, data, data_end, p, ip, cnt);
		if (r >= 0)
			return r;
	}
	count(cnt, LBC_PASS_OTHER_L4);
	return XDP_PASS;
}

static __always_inline int lb6(struct xdp_md *ctx, void *data, void *data_end, struct pkt *p,
			       int r, __u64 len, struct lb_counters *cnt)
{
	struct ipv6hdr *ip6 = data + L3_OFF(p);
	void *l4 = data + L4_OFF(p);
	struct lb_vip_key vk = { .family = LB_FAM6 };
	struct lb_vip *vip = NULL;
	int tcpudp = p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP;

	if ((void *)(ip6 + 1) > data_end) {
		count(cnt, LBC_PASS_NOT_VIP);
		return XDP_PASS;
	}
	addr6_copy(&vk.addr, &ip6->daddr);
	if (r == PARSE_OK && !p->frag && !p->ip6_rh_left && tcpudp) {
		if (!l4_whole(l4, data_end, p->l4_proto)) {
			count(cnt, LBC_DROP_MALFORMED);
			return XDP_DROP;
		}
		vk.port = ((struct udphdr *)l4)->dest;
		vk.proto = p->l4_proto;
		vip = vip_find(&vk);
		if (vip) {
			struct flow f = { .sport = ((struct udphdr *)l4)->source, .dport = vk.port,
					  .proto = vk.proto, .fam = LB_FAM6 };

			f.saddr = *(union lb_addr *)&ip6->saddr;
			f.daddr = vk.addr;
			return balance(ctx, p, ip6, l4, data_end, &f, vip, len, cnt);
		}
		vk.port = 0;
		vk.proto = 0;
	}
	if (!bpf_map_lookup_elem(&vip_addrs, &vk)) {
		if (r == PARSE_OK && lb_mode == LB_MODE_NAT && addr6_eq(&ip6->daddr, &snat6) &&
		    !p->frag && !p->ip6_rh_left && tcpudp && l4_whole(l4, data_end, p->l4_proto)) {
			r = nat_reply6(p->eth, ip6, l4, data_end, p->l4_proto, cnt);
			if (r >= 0)
				return r;
		}
		count(cnt, LBC_PASS_NOT_VIP);
		return XDP_PASS;
	}
	if (r == PARSE_TRUNCATED || r == PARSE_MALFORMED) {
		count(cnt, LBC_DROP_MALFORMED);
		return XDP_DROP;
	}
	if (p->frag) {
		count(cnt, LBC_DROP_FRAGMENT);
		return XDP_DROP;
	}
	/* Not the final destination (segments left), or a chain we did not walk to its end. */
	if (r == PARSE_EXTHDRS || p->ip6_rh_left) {
		count(cnt, LBC_DROP_IP_OPTIONS);
		return XDP_DROP;
	}
	if (p->l4_proto == IPPROTO_ICMPV6) {
		r = icmp_to_backend6(ctx, data, data_end, p, ip6, cnt);
		if (r >= 0)
			return r;
	}
	count(cnt, LBC_PASS_OTHER_L4);
	return XDP_PASS;
}

static __always_inline int lb_xdp_(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct lb_counters *cnt;
	struct pkt p = {};
	__u32 key = 0;
	int r;

	cnt = bpf_map_lookup_elem(&counters, &key);
	if (data + sizeof(struct ethhdr) > data_end || !to_lb_mac(data)) {
		count(cnt, LBC_PASS_NOT_FOR_US);
		return XDP_PASS;
	}
	r = parse_packet(data, data_end, &p);
	if (r == PARSE_NOT_IP || (p.l3_proto != ETH_P_IP && p.l3_proto != ETH_P_IPV6)) {
		count(cnt, LBC_PASS_NOT_IP);
		return XDP_PASS;
	}
	if (p.l3_proto == ETH_P_IP)
		return lb4(ctx, data, data_end, &p, r, len, cnt);
	return lb6(ctx, data, data_end, &p, r, len, cnt);
}

/* The verdict with its reason for `bpflab trace` (verdict.h): one exit for every path. */
SEC("xdp")
int lb_xdp(struct xdp_md *ctx)
{
	int act = lb_xdp_(ctx);

	verdict_report_noted(ctx, 1, VK_LB, act, 0xffff);
	return act;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
