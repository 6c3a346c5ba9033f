/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by lb.bpf.c and the lb command: the pinned maps' keys and values, and the
 * flow hash both sides must compute identically. Bump LB_LAYOUT_VERSION on any change. */
#ifndef BPFLAB_LB_H
#define BPFLAB_LB_H

#include <linux/types.h>

/* Version of everything pinned below; a pinned set with another version is refused. */
#define LB_LAYOUT_VERSION 7

#define LB_MAX_VIPS 64
#define LB_MAX_BACKENDS 4096      /* backend ids 1..LB_MAX_BACKENDS-1; 0 means "none" */
#define LB_CT_DEFAULT 131072      /* flows of each conntrack table; entries of each reverse map */
#define LB_CT_WAYS 4              /* conntrack slots per bucket: one 64-byte line for IPv4 */
#define LB_CT_MIN 64              /* smallest --ct-size (16 buckets) */
#define LB_CT_MAX (1u << 26)      /* largest --ct-size: 1 GiB of IPv4 table */
#define LB_TABLE_DEFAULT 65537    /* Maglev table size per VIP (--table-size): prime, >= 100 x backends */
#define LB_NAT_TRIES 8            /* source ports tried before a NAT port failure */
#define LB_NAT_PORT_MIN 1024

/* Address families as the IP version field says them (not AF_*: one byte, no libc). */
#define LB_FAM4 4
#define LB_FAM6 6

enum lb_mode { LB_MODE_NAT = 1, LB_MODE_DSR = 2 };

/* Per VIP (struct lb_vip.flags): how its packets reach the backends. NONE: as the mode
 * says (same L2 segment); IPIP/GUE: DSR across routers, the client's packet unchanged
 * inside an outer IP header of the backend's family (docs/lb.md, "Encapsulation", is the
 * wire format, and src/lb/decap.bpf.c the backends' side). */
enum lb_encap { LB_ENCAP_NONE = 0, LB_ENCAP_IPIP = 1, LB_ENCAP_GUE = 2 };
#define LB_VIP_ENCAP_MASK 3
/* GUE variant 1 (direct IP-in-UDP): the destination port, and the source port range
 * the flow hash is spread over so routers can ECMP per flow. */
#define LB_GUE_PORT 6080
#define LB_GUE_SPORT_MIN 49152
#define LB_ENCAP_TTL 64

/* Global counters, one per-CPU slot each. The verdict counters come first: every packet
 * adds 1 to exactly one of them, so they sum to the packets seen (docs/lb.md, "Data
 * plane", says which packets land where, for IPv4 and IPv6). The event counters after
 * LBC__VERDICTS count something that happened on the way, not a verdict. */
enum lb_counter {
	LBC_PASS_NOT_FOR_US, /* not to the LB's MAC (broadcast, multicast, another host's) */
	LBC_PASS_NOT_IP,     /* ARP, LLDP, other: neither IPv4 nor IPv6, XDP_PASS untouched */
	LBC_PASS_NOT_VIP,    /* IP not for a VIP (nor a NAT reply): XDP_PASS untouched */
	LBC_PASS_OTHER_L4,   /* VIP address, not TCP/UDP or no such port: XDP_PASS */
	LBC_DROP_MALFORMED,  /* for a VIP address, truncated or lying headers: XDP_DROP */
	LBC_DROP_FRAGMENT,   /* for a VIP address, a fragment (IPv6: any fragment header) */
	LBC_DROP_IP_OPTIONS, /* VIP address: IPv4 options; IPv6 routing header with segments
			      * left, or more extension headers than parse.h walks */
	LBC_DROP_PORT_ZERO,  /* for a VIP, TCP/UDP source port 0: XDP_DROP, no state */
	LBC_DROP_NO_BACKEND, /* VIP with no backend of weight > 0: XDP_DROP */
	LBC_DROP_NAT_PORT,   /* NAT: no free source port after LB_NAT_TRIES: XDP_DROP */
	LBC_TX_BACKEND,      /* VIP hit: XDP_TX to its backend */
	LBC_REPLY,           /* NAT: backend replies rewritten back to the client: XDP_TX */
	LBC_ICMP_TO_BACKEND, /* ICMP/ICMPv6 errors about a VIP flow sent to its backend */
	LBC_TX_ENCAP,        /* encap VIP: encapsulated to its backend via the FIB's next hop */
	LBC_ICMP_TOO_BIG,    /* encap VIP, too big for the path: ICMP frag needed / ICMPv6
			      * packet too big back to the client */
	LBC_DROP_TOO_BIG,    /* encap VIP, too big for the path, no DF (or ICMP): XDP_DROP */
	LBC_DROP_NO_ROUTE,   /* encap VIP: no route to the backend (or forwarding off): XDP_DROP */
	LBC_DROP_NO_NEIGH,   /* encap VIP: the next hop's MAC is not known yet: XDP_DROP */
	LBC_DROP_ENCAP,      /* encap VIP: no room for the outer headers: XDP_DROP */
	LBC__VERDICTS,
	LBC_CT_MISS = LBC__VERDICTS, /* forward flow not in conntrack: a Maglev lookup */
	LBC_CT_STALE,        /* conntrack named a backend that is gone: chosen again */
	LBC_NAT_PORT_REMAP,  /* NAT: the client's port was taken, another one was picked */
	LBC_CT_EVICT,        /* a new flow took the slot of a tracked one: its bucket was full */
	LBC_CT_GUARDED,      /* dsr/encap new flow over --new-flow-limit: sent where Maglev
			      * says, not recorded */
	LBC__MAX
};

/* An IPv4 or IPv6 address in network order. IPv4: v4, the other 12 bytes zero; which
 * one it is, is always said next to it (a family field or flag), never guessed. */
union lb_addr {
	__be32 v4;
	__be32 w[4];
	__u8 b[16];
};

/* A VIP: address, port and protocol, in network order as on the wire. The map
 * vip_addrs uses the same type with port 0 and proto 0 (the address alone). */
struct lb_vip_key {
	union lb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;  /* LB_FAM4 / LB_FAM6 */
};

struct lb_vip {
	__u32 id;     /* index into rings and vip_stats, 0..LB_MAX_VIPS-1 */
	__u32 flags;  /* enum lb_encap */
};

/* The VIP index (map vix): the hot path's way to its VIP without a hash map call. A hash
 * map lookup is a chain of kernel calls (bucket walk, memcmp): +55 ns measured on an AMD
 * VM whose returns go through a mitigation thunk, half of an established flow's cost.
 * Two halves of LB_VIX_SLOTS direct-mapped slots; user space fills the one packets do
 * not read with every VIP, under a seed it picks so that no two VIPs share a slot, then
 * turns vix_head over to it. One probe, compared inline, tells VIP or not. A half whose
 * build found no such seed is not ready, and the program asks `vips` itself. */
#define LB_VIX_SLOTS 1024
#define LB_VIX_SEED_TRIES 4096

struct lb_vix_slot {
	struct lb_vip_key key; /* family 0: empty */
	__u32 pad;
	struct lb_vip vip;
};

struct lb_vix_head {
	__u32 half;     /* the half packets read: slots half * LB_VIX_SLOTS.. */
	__u32 pad;
	__u32 seed[2];  /* each half's seed */
	__u32 ready[2]; /* 1: the half holds every VIP; 0: ask `vips` */
};

#define LB_BE_USED 1
#define LB_BE_ENCAP_SHIFT 1 /* flags bits 1-2: the VIP's enum lb_encap, for the data plane */
#define LB_BE_V6 8          /* flags bit 3: addr is IPv6 (else IPv4) */

struct lb_backend {
	union lb_addr addr;
	__be16 port;     /* network order; the VIP's port when the user gave none */
	__u8 mac[6];     /* where XDP_TX sends it (not used for encap VIPs) */
	__u32 vip_id;
	__u16 weight;    /* 0: drained, kept for existing flows, out of the Maglev table */
	__u16 flags;     /* LB_BE_USED | encap << LB_BE_ENCAP_SHIFT | LB_BE_V6 */
};

/* Conntrack: client address and port, and the VIP by id (its id names address, port
 * and protocol): 8 bytes for IPv4, compared as one word. */
struct lb_ct4_key {
	__be32 saddr;
	__be16 sport;
	__u16 vip_id;
};

struct lb_ct6_key {
	union lb_addr saddr;
	__be16 sport;
	__u16 vip_id;
};

/* What a tracked flow keeps: its backend, and in nat its source port. */
#define LB_CT_REF 0x80000000u     /* stamp: hit since its bucket last evicted */
struct lb_ct {
	__u16 backend_id; /* 0: the slot is empty (backend ids start at 1) */
	__be16 nat_port;  /* nat (not encap): the source port used towards the backend; else 0 */
	__u32 stamp;      /* bits 0-30: bpf_ktime_get_coarse_ns() / 10^9 when written
			   * (CLOCK_MONOTONIC s); bit 31: LB_CT_REF */
};

/* The conntrack tables are arrays of buckets, not BPF hash maps: a hash map element costs
 * 48 bytes of kernel header and an LRU insert takes a lock, where a slot here is 16 bytes
 * (IPv4) and an insert is two stores. A flow lives in bucket lb_ct4_index() (or
 * lb_ct6_index()) in any of its LB_CT_WAYS slots; a full bucket evicts the first slot not
 * hit since its last eviction (a clock per bucket). Writers store the value, then the
 * key; see docs/lb.md "Flow state" for what a race between two CPUs can do. */
struct lb_ct4_slot {
	struct lb_ct4_key key;
	struct lb_ct v;
};

struct lb_ct6_slot {
	struct lb_ct6_key key;
	__u32 pad;        /* v 8-aligned (one store), 32 bytes: a bucket is two cache lines */
	struct lb_ct v;
};

struct lb_ct4_bucket {
	struct lb_ct4_slot s[LB_CT_WAYS];
};

struct lb_ct6_bucket {
	struct lb_ct6_slot s[LB_CT_WAYS];
};

/* NAT reverse key: the backend's reply as it arrives (backend address:port -> the LB's
 * NAT address of that family : nat_port). No protocol: a port claimed by a TCP flow is
 * taken for UDP too, which halves nothing that matters and keeps the key at 8 bytes. */
struct lb_rev4_key {
	__be32 baddr;
	__be16 bport;
	__be16 nat_port;
};

struct lb_rev6_key {
	union lb_addr baddr;
	__be16 bport;
	__be16 nat_port;
};

/* NAT reverse entry: what the reply is rewritten to (from the VIP to the client). */
struct lb_rev4 {
	__be32 client_addr;
	__be32 vip_addr;
	__be16 client_port;
	__be16 vip_port;
	__u8 client_mac[6];  /* the request came from here; the reply goes back there */
	__u8 proto;          /* the flow's; a reply of the other protocol is not ours */
	__u8 pad;
};

struct lb_rev6 {
	union lb_addr client_addr;
	union lb_addr vip_addr;
	__be16 client_port;
	__be16 vip_port;
	__u8 client_mac[6];
	__u8 proto;
	__u8 pad;
};

/* Encap: what the FIB said about a backend, per CPU, for LB_NH_TTL_NS. The MTU is known
 * only from a "fragmentation needed" answer; until then ok_len is the largest outer length
 * the FIB accepted, and a bigger packet asks again. So a cached answer is the FIB's own,
 * at most LB_NH_TTL_NS old. */
#define LB_NH_TTL_NS 1000000000ull
struct lb_nh {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex;       /* egress; 0: no route recorded */
	union lb_addr daddr; /* the backend address this is about (ids are reused) */
	__u16 ok_len;        /* largest outer length (IPv4 tot_len / IPv6 40 + payload) accepted */
	__u16 mtu;           /* path MTU from a FRAG_NEEDED answer, 0 while unknown */
	__u32 family;        /* of daddr: LB_FAM4 / LB_FAM6 */
	__u64 stamp;         /* bpf_ktime_get_coarse_ns() of the first lookup */
};

struct lb_counters {
	__u64 c[LBC__MAX];
	/* Not counters: the new-flow guard's window on this CPU (lb.bpf.c ct_admit), here
	 * because every packet has this per-CPU value at hand already. */
	__u64 guard_start;   /* bpf_ktime_get_coarse_ns() when the window began */
	__u64 guard_n;       /* new flows recorded in it */
};

struct lb_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* The balancer's metadata, one entry of the pinned map "config": how the maps were made
 * and the program set up (the configuration the user wants is struct lb_cfg, lb_ctl.h). */
struct lb_meta {
	__u32 layout_version;
	__u32 mode;          /* enum lb_mode */
	__u32 table_size;    /* Maglev table size per VIP, --table-size */
	__u32 ct_size;       /* flows (slots) of conntrack and of conntrack6, a power of two;
			      * entries of reverse and of reverse6 */
	__be32 snat_addr;    /* NAT: IPv4 source towards IPv4 backends */
	__u32 next_backend;  /* allocation cursor, so a freed id is not reused at once */
	__u32 generation;    /* bumped by every change */
	__u32 ifindex;       /* the interface it was started on: tells a deleted one apart */
	__u32 xdp_tx_counted; /* xdp_tx_err0 holds the driver's count at start (a veth) */
	__u64 xdp_tx_err0;   /* the veth's XDP_TX errors at start: lb show counts from it */
	__be32 tunnel_src4;  /* encap: outer IPv4 source (--tunnel-src, IPv4) */
	__u32 ct_seed;       /* conntrack bucket hash seed, random at lb start (lb_ct4_index) */
	union lb_addr snat6;       /* NAT: IPv6 source towards IPv6 backends */
	union lb_addr tunnel_src6; /* encap: outer IPv6 source (--tunnel-src, IPv6) */
	__u32 new_flow_limit; /* --new-flow-limit: dsr/encap flows recorded per CPU and s; 0: all */
	__u32 pad;
};

/* Flow hash for Maglev: user space computes the same to predict placement. Values are
 * taken as they lie in memory (network order), so both sides agree on one host. */
static inline __u32 lb_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352d;
	h ^= h >> 15;
	h *= 0x846ca68b;
	h ^= h >> 16;
	return h;
}

static inline __u32 lb_flow_hash(__u32 saddr, __u32 daddr, __u16 sport, __u16 dport, __u8 proto)
{
	__u32 h = 0x9e3779b9u ^ proto;

	h = lb_mix32(h ^ saddr);
	h = lb_mix32(h ^ daddr);
	h = lb_mix32(h ^ ((__u32)sport << 16 | dport));
	return h;
}

/* An address as one word for the hash: IPv4 is its own word (the rest is zero), so IPv4
 * flows hash exactly as in layout 4; IPv6 folds its four words. */
static inline __u32 lb_addr_fold(const union lb_addr *a)
{
	return a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

/* The Maglev hash of client saddr:sport -> VIP daddr:dport/proto, either family. */
static inline __u32 lb_flow_hash_addr(const union lb_addr *saddr, const union lb_addr *daddr,
				      __u16 sport, __u16 dport, __u8 proto)
{
	return lb_flow_hash(lb_addr_fold(saddr), lb_addr_fold(daddr), sport, dport, proto);
}

/* A VIP key's slot in a half of the index (mask LB_VIX_SLOTS - 1): IPv4 in two rounds,
 * IPv6 in five, so that a v6 address's words are never folded into one. */
static inline __u32 lb_vix_index(const struct lb_vip_key *k, __u32 seed)
{
	__u32 w4 = (__u32)k->port << 16 | (__u32)k->proto << 8 | k->family;
	__u32 h = lb_mix32(k->addr.w[0] ^ seed);

	if (k->family == LB_FAM6) {
		h = lb_mix32(h ^ k->addr.w[1]);
		h = lb_mix32(h ^ k->addr.w[2]);
		h = lb_mix32(h ^ k->addr.w[3]);
	}
	return lb_mix32(h ^ w4) & (LB_VIX_SLOTS - 1);
}

/* The conntrack bucket of a flow: both sides compute it (lb conns, the tests read a flow
 * back). The seed keeps placement unknown outside this LB, so a sender cannot aim a
 * burst of flows at one bucket without trying; mask is buckets - 1. */
static inline __u32 lb_ct4_index(const struct lb_ct4_key *k, __u32 seed, __u32 mask)
{
	__u32 h = lb_mix32(k->saddr ^ seed);

	return lb_mix32(h ^ ((__u32)k->sport << 16 | k->vip_id)) & mask;
}

static inline __u32 lb_ct6_index(const struct lb_ct6_key *k, __u32 seed, __u32 mask)
{
	__u32 h = lb_mix32(k->saddr.w[0] ^ seed);

	h = lb_mix32(h ^ k->saddr.w[1]);
	h = lb_mix32(h ^ k->saddr.w[2]);
	h = lb_mix32(h ^ k->saddr.w[3]);
	return lb_mix32(h ^ ((__u32)k->sport << 16 | k->vip_id)) & mask;
}

#endif
