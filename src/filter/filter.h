/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpflab filter: the types both sides share. Rules are compiled in user space into
 * per-field tables (docs/filter.md "How rules are matched"): every field of a packet maps
 * to a class, every class to a bitmap of the rules that field allows; the bitmaps are
 * ANDed and the lowest set bit is the rule that matches. Every table holds two
 * generations side by side; `apply` fills the one not running and flips `ctl` with one
 * update. */
#ifndef BPFLAB_FILTER_H
#define BPFLAB_FILTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FILTER_MAX_RULES 1024                   /* bits of a rule bitmap */
#define FILTER_WORDS (FILTER_MAX_RULES / 64)
#define FILTER_GENS 2
/* IPv4: the top 16 bits index an array; inside a /16 a sorted run of boundaries. */
#define FILTER_L1 65536
#define FILTER_MAX_BOUNDS (1 << 19)             /* per generation and direction */
#define FILTER_MAX_V6 65536                     /* IPv6 prefixes per generation, direction */
#define FILTER_MAX_ADDR_CLASSES 16384
#define FILTER_MAX_PORT_CLASSES 4096
#define FILTER_MAX_EXTRA_CLASSES 4096
#define FILTER_PORTS 65537                      /* 0..65535 and FILTER_NOPORT */
#define FILTER_NOPORT 65536                     /* not TCP/UDP, or a later fragment */
/* The "extra" field: TCP flags (0..255), ICMP/ICMPv6 type<<8|code (+256), other. */
#define FILTER_EXTRA_ICMP 256
#define FILTER_EXTRA_OTHER (256 + 65536)
#define FILTER_EXTRA (FILTER_EXTRA_OTHER + 1)
#define FILTER_BSEARCH_STEPS 17                 /* log2(65536) + 1 */
/* The second IPv4 level: a /16 that holds several classes gets a block of 256 entries,
 * one per /24 (up to FILTER_MAX_L2 blocks per generation and direction, the /16s with
 * the most boundaries first; the others keep the binary search over the whole /16). */
#define FILTER_MAX_L2 2048
#define FILTER_NO_L2 0xffff                     /* filter_l1.cls of a split /16 without */
#define FILTER_L2_SPLIT 0x80000000u             /* entry: a split /24, else its class */
#define FILTER_L2_NSHIFT 19                     /* split: n << 19 | first boundary */

struct filter_bits {
	__u64 w[FILTER_WORDS];
};

/* One /16 of the IPv4 table: n == 0: the whole /16 is class cls; else the boundaries
 * bounds[base .. base + n) (sorted by start; the first starts at 0), and cls is its
 * second-level block (or FILTER_NO_L2). A block's entry for a /24 is its class, or, for
 * a /24 that holds several, FILTER_L2_SPLIT | n << FILTER_L2_NSHIFT | i: the n
 * boundaries from bounds[i] (the generation's index) to search. */
struct filter_l1 {
	__u32 base;
	__u16 n;
	__u16 cls;
};

struct filter_bound {
	__u16 start;   /* low 16 bits of the address where the interval starts */
	__u16 cls;
};

struct filter_v6key {
	__u32 prefixlen;  /* 8 + the prefix's length: the generation byte comes first */
	__u8 gen;
	__u8 addr[16];
} __attribute__((packed));

enum filter_action { FA_ALLOW = 0, FA_DENY, FA_LIMIT };

/* Fields a generation's rules constrain: the others are not looked up. */
enum {
	FF_SRC = 1, FF_DST = 2, FF_PROTO = 4, FF_SPORT = 8, FF_DPORT = 16, FF_EXTRA = 32,
};

/* A limit rule's bucket: per source address masked to per4/per6 bits. */
#define FL_BPS 1    /* rate and burst count bytes, else packets */

struct filter_rule {
	__u8 action;        /* enum filter_action */
	__u8 lflags;        /* FL_* */
	__u8 per4, per6;    /* limit: source prefix length of one bucket */
	__u16 prio;         /* 0: the allow-list */
	__u16 pad;
	__u64 rate;         /* limit: packets or bytes per second */
	__u64 burst;        /* limit: bucket size, packets or bytes */
	__u64 block_ns;     /* limit: once exceeded, drop everything for this long */
	__u64 burst_u;      /* burst in bucket units (1e-9 of a packet or byte) */
	__u64 cap_ns;       /* time that refills a whole bucket: longer gaps are cut here */
	__u64 digest;       /* user space: what the rule says, to tell a change (dry-run) */
	char text[88];      /* user space: the rule as written, shortened */
};

/* One generation: ctl flips between two of these. */
struct filter_gen {
	__u32 nwords;       /* bitmap words in use */
	__u32 nrules;
	__u32 used;         /* FF_* */
	__u8 default_action;/* FA_ALLOW or FA_DENY when no rule matches */
	__u8 pad[3];
	__u64 applied_ns;   /* CLOCK_MONOTONIC when it was made active */
	__u64 seq;          /* apply counter */
	struct filter_bits valid;
};

/* What every packet reads, as one global (section .data.fast, pinned as `data_fast`): the
 * program loads it directly, without the key on the stack, the lookup and the NULL test
 * a map entry costs. `apply` writes the generation not running, then flips `active`;
 * `ctl` and `gens` keep a copy for readers. */
#define FR_ACTION(i) ((i) & 0xff)
#define FR_PRIO(i) ((i) >> 8 & 0xffff)
struct filter_fast {
	__u32 active;                                   /* the running generation */
	__u32 pad;
	struct filter_gen gen[FILTER_GENS];
	__u32 rule[FILTER_GENS][FILTER_MAX_RULES];      /* action | prio << 8, by bit */
};

/* The tables every packet reads first, as one global (the whole of .bss, pinned as
 * `bss`, written through mmap into the generation not running): the IPv4 /16
 * index of each direction, and word 0 (rules 0-63) of every class bitmap. A rule set of
 * up to 64 rules, or a packet one of the first 64 matches, needs no bitmap map lookup. */
struct filter_tabs {
	struct filter_l1 l1[FILTER_GENS][2][FILTER_L1];             /* [gen][src/dst][/16] */
	__u64 addr0[FILTER_GENS][2][FILTER_MAX_ADDR_CLASSES];
	__u64 proto0[FILTER_GENS][256];
	__u64 port0[FILTER_GENS][2][FILTER_MAX_PORT_CLASSES];
	__u64 extra0[FILTER_GENS][FILTER_MAX_EXTRA_CLASSES];
};

struct filter_rule_stats {
	__u64 packets, bytes, dropped;
};

struct filter_bucket {
	__u64 tokens;       /* in 1e-9 units of a packet or byte */
	__u64 last_ns;
	__u64 blocked_until;
};

struct filter_bucket_key {
	__u16 prio;
	__u8 family;
	__u8 plen;
	__u8 addr[16];
};

struct filter_src_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct filter_src_val {
	__u64 drops, bytes;
};

enum filter_stat {
	FS_PACKETS = 0,
	FS_PASS,
	FS_DROP,
	FS_NOT_IP,        /* passed untouched: not IPv4/IPv6 */
	FS_MALFORMED,     /* dropped: IP headers that lie, are cut or too long a chain */
	FS_NOMATCH,       /* no rule matched: the default action */
	FS_ALLOWED,       /* an allow rule (or the allow-list) matched */
	FS_DENIED,        /* a deny rule matched */
	FS_LIMIT_PASS,    /* a limit rule matched, within its rate */
	FS_LIMITED,       /* a limit rule matched, over its rate: dropped */
	FS_BLOCKED,       /* a limit rule's block time: dropped */
	FS_EVENTS,        /* drop events sent */
	FS_SUPPRESSED,    /* drop events not sent: over the event rate */
	FS_EVENTS_LOST,   /* drop events that did not fit in the ring */
	FS_SYNPROXY,      /* allowed TCP to a --synproxy port: the SYN-cookie code decided */
	FS__N,
};

struct filter_stats {
	__u64 c[FS__N];
	__u64 ev_tokens;  /* event rate limit: ns of credit */
	__u64 ev_last;
	__u64 sample;     /* drops seen, for the 1-in-N top-sources sample */
	__u64 top_win;    /* start of the current top-sources window (ns) */
	__u64 top_n;      /* drops recorded exactly in it */
};

/* A sampled drop (ring buffer "events"). */
struct filter_event {
	__u64 ts_ns;
	__u8 family, proto, action, reason; /* reason: FS_DENIED, FS_LIMITED, FS_BLOCKED, FS_NOMATCH */
	__u16 prio, sport, dport;
	__u16 len;
	__u8 src[16], dst[16];
};

#define FILTER_EVENT_RATE 100    /* per second per CPU */
#define FILTER_EVENT_BURST 100
#define FILTER_RB_SIZE (256 * 1024)
#define FILTER_MAX_BUCKETS 65536
#define FILTER_MAX_SOURCES 16384
#define FILTER_TOP_SAMPLE_SHIFT 4  /* top sources: past the exact ones, one drop in 16 (x16) */
#define FILTER_TOP_EXACT 64         /* drops per CPU per FILTER_TOP_WINDOW_NS recorded one by one */
#define FILTER_TOP_WINDOW_NS 100000000ULL

#endif
