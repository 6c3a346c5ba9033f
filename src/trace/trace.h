/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by trace.bpf.c and the user side: one ring buffer record per event a
 * tracked packet meets. */
#ifndef BPFLAB_TRACE_H
#define BPFLAB_TRACE_H

/* Bytes of each packet copied for --pcap, from its Ethernet header when it has one. */
#define TRACE_SNAP 128
#define TRACE_IFNAMSIZ 16

/* One per tracepoint (the order of trace_hooks[] in trace_prog.c). */
enum trace_hook {
	TRH_NONE = 0,
	TRH_NETIF_RECEIVE_SKB,
	TRH_NETIF_RX,
	TRH_NET_DEV_QUEUE,
	TRH_NET_DEV_XMIT,
	TRH_QDISC_ENQUEUE,
	TRH_FIB_LOOKUP,
	TRH_FIB6_LOOKUP,
	TRH_NEIGH_UPDATE,
	TRH_NEIGH_DEAD,
	TRH_ICMP_SEND,
	TRH_TCP_SEND_RESET,
	TRH_TCP_RECEIVE_RESET,
	TRH_TCP_RETRANSMIT,
	TRH_TCP_BAD_CSUM,
	TRH_UDP_FAIL_RCV,
	TRH_XDP_EXCEPTION,
	TRH_XDP_REDIRECT,
	TRH_XDP_REDIRECT_ERR,
	TRH_KFREE_SKB,
	TRH_CONSUME_SKB,
	TRH_VERDICT,       /* from a bpflab program's verdict hook (src/bpf/verdict.h), not here */
	TRH__MAX,
};

enum trace_flags {
	TRF_HAVE_PKT = 1 << 0,   /* family/addresses/ports below were read from the packet */
	TRF_HAVE_FLOW = 1 << 1,  /* ... or from a route lookup's flow / a socket, not a packet */
	TRF_NEW = 1 << 2,        /* first event of this packet id */
	TRF_LAST = 1 << 3,       /* the packet's life ended here (freed or consumed) */
	TRF_ATTRIBUTED = 1 << 4, /* no skb at this hook: tied to the packet last seen on this CPU */
	TRF_MAC = 1 << 5,        /* data[] starts at an Ethernet header (else at the IP header) */
};

/* Fixed size: the ring gets offsetof(struct trace_rec, data) + cap_len bytes. */
struct trace_rec {
	__u64 ts_ns;       /* CLOCK_MONOTONIC */
	__u64 skb;         /* the sk_buff's address: 0 for hooks that have none */
	__u64 location;    /* kfree_skb/consume_skb: the caller's address */
	/* Per-CPU sequence << 16 | CPU (0: an event tied to no packet, e.g. a failed output
	 * route lookup): unique without an atomic. The user side numbers them 1, 2, ... */
	__u64 pkt_id;
	__u16 hook;        /* enum trace_hook */
	__u16 flags;       /* enum trace_flags */
	__u32 netns;       /* inode of the network namespace (0: unknown) */
	__u32 ifindex;
	char ifname[TRACE_IFNAMSIZ];
	__u32 reason;      /* kfree_skb: enum skb_drop_reason; xdp: action; icmp: type<<8|code;
			    * tcp_send_reset: enum sk_rst_reason; neigh: new NUD state */
	__s32 err;         /* net_dev_xmit rc, fib err, xdp redirect err, udp rc, neigh err */
	__u32 len;         /* skb->len */
	__u32 aux;         /* xdp: program id; redirect: target ifindex; fib: table id */
	__u32 oif;         /* fib: output interface of the result; redirect: map id */
	__u32 iif;         /* fib: the lookup's input interface */
	__u8 family;       /* 4, 6, 0 (not IP) */
	__u8 proto;        /* IPPROTO_* */
	__u8 ttl;
	__u8 tcp_flags;
	__u16 sport, dport;/* host byte order */
	__u8 saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	__u8 gw[16];       /* fib: the gateway (0: none, directly connected); neigh: its key */
	__u8 icmp_type, icmp_code;
	__u8 gw_family;
	__u8 pad;
	__u16 ip_id;
	__u16 cap_len;     /* bytes in data[] */
	__u8 data[TRACE_SNAP];
};

/* Per-CPU counters the user side sums up; index TC_*. */
enum trace_counter_idx {
	TRC_SEEN,      /* hook runs that looked at a packet (before the filter) */
	TRC_MATCHED,   /* packets the filter took (new ids) */
	TRC_EVENTS,    /* events sent to the ring */
	TRC_LOST,      /* events the ring had no room for */
	TRC_SEQ,       /* this CPU's packet id sequence */
	TRC__MAX,
};

#endif
