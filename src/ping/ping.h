/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by ping.bpf.c and cmd_ping.c: what the program does, its counters, its events. */
#ifndef BPFLAB_PING_H
#define BPFLAB_PING_H

enum ping_action {
	PING_WATCH = 0, /* report and pass */
	PING_DROP,      /* report and drop echo requests */
	PING_REPLY,     /* answer echo requests from the kernel, unless refused */
};

/* Per-CPU counters, one slot each; user space sums. */
enum ping_stat {
	PS_PACKETS,      /* every packet the program saw */
	PS_ECHO4,        /* ICMP echo requests (whole, unfragmented) */
	PS_ECHO6,        /* ICMPv6 echo requests */
	PS_PASSED,       /* echo requests passed to the stack (watch, or refused) */
	PS_DROPPED,      /* echo requests dropped (--drop) */
	PS_REPLIED,      /* echo requests answered (--reply) */
	PS_REFUSED,      /* echo requests not answered by the address rules (passed) */
	PS_FRAGMENTS,    /* IPv4/IPv6 fragments: passed untouched */
	PS_MALFORMED,    /* truncated or lying headers, or echo with code != 0: passed untouched */
	PS_EVENTS_LOST,  /* ring buffer full: the event is lost, the verdict is not */
	PS_EXTHDRS,      /* more IPv6 extension headers than the parser walks (8): passed */
	PS_SUPPRESSED,   /* events over the rate limit: counted here instead of sent */
	PS__MAX
};

/* Key of the per-source counters and of the local-address set: IPv4 as ::ffff:a.b.c.d. */
struct ping_addr {
	__u8 a[16];
};

struct ping_stats {
	__u64 c[PS__MAX];
	/* Not counters: this CPU's event rate limit (a token bucket of ns of credit,
	 * refilled from the clock only when the jiffy changes). Here to cost no lookup. */
	__u64 ev_jiffies, ev_ns, ev_credit;
	/* Not counters: requests from last_src not yet added to the sources map (a flood is
	 * one source: counting it here saves a hash lookup per packet). Readers add it in
	 * (ping_prog_sources). */
	struct ping_addr last_src;
	__u64 last_n;
};

/* Events per second per CPU before they are suppressed (counted, not sent), and the burst
 * allowed above that rate. At flood rates the ring buffer costs more than the packet. */
#define PING_EVENT_RATE 2000
#define PING_EVENT_BURST 200

/* Why a reply was refused (event field `refused`). */
enum ping_refuse {
	PR_NONE = 0,
	PR_L2_MCAST,     /* destination or source MAC broadcast or multicast */
	PR_DST_MCAST,    /* destination IP broadcast (also a local subnet's) or multicast */
	PR_DST_NOT_OURS, /* destination IP not one of this namespace's addresses */
	PR_SRC_BAD,      /* source 0/8, ::, multicast, 240/4, broadcast (also a local subnet's),
			  * IPv4-mapped */
	PR_LOOPBACK,     /* source or destination 127/8 or ::1 on an interface other than lo */
	PR_SRC_OURS,     /* source is one of our own addresses (not on lo) */
	PR_ROUTED,       /* IPv6 routing header with segments left: not for us yet */
	PR_IP_CSUM,      /* IPv4 header checksum wrong (RFC 1122 3.2.1.2: silently discard) */
	PR_IP_OPTIONS,   /* IPv4 options the reply must process (source route, record route,
			  * timestamp, ...: RFC 1122 3.2.2.6): left to the kernel */
	PR_CSUM_ZERO,    /* reply checksum 0x0000 or 0xffff depends on the whole payload being
			  * zero (id 0, seq 0, RFC 1624 3): left to the kernel */
	PR__MAX
};

/* One echo request. Addresses are 16 bytes; IPv4 sits in the first 4. */
struct ping_event {
	__u64 ts_ns;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 src[16];
	__u8 dst[16];
	__u32 ifindex;
	__u16 id;         /* host order */
	__u16 seq;        /* host order */
	__u16 size;       /* ICMP payload bytes (what `ping -s` sets) */
	__u16 vlan;       /* outer VLAN id, 0 for none */
	__u8 family;      /* 4 or 6 */
	__u8 ttl;         /* TTL / hop limit as received */
	__u8 verdict;     /* enum ping_action actually taken: watch = passed */
	__u8 refused;     /* enum ping_refuse, with verdict PING_WATCH under --reply */
};


#define PING_MAX_SOURCES 1024
/* Local addresses searched in .rodata (a few compares beat a hash lookup); more than this
 * go to the local_addrs hash map, looked up only when there are more. */
#define PING_RO_LOCAL4 16
#define PING_RO_LOCAL6 16
#define PING_MAX_LOCAL 1024
/* Values in the local_addrs map. */
#define PING_LOCAL_ADDR 1
#define PING_LOCAL_BCAST 2
#define PING_REPLY_TTL 64

#endif
