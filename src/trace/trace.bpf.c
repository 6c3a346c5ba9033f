// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab trace: where a packet went, from tracepoints only (no kprobe, no fentry).
 *
 * Every program is a tp_btf program on one of the stack's tracepoints: the typed
 * arguments give the sk_buff itself, so the headers are read from the packet (not from
 * the tracepoint's format, which has only the address), and its namespace from the
 * device. A packet is followed by its sk_buff address: the first event the filter takes
 * gives it an id (the `tracked` table), later events of the same address carry that id
 * whatever the filter says (headers change: NAT, a route to another namespace), and the
 * free/consume events end it. Hooks with no sk_buff (route lookups) are tied to the
 * packet this CPU saw last when their flow is that packet's, else reported on their own.
 *
 * Records go out with BPF_RB_NO_WAKEUP and one forced wakeup past wake_bytes, as exec
 * does: the reader polls every few ms anyway. A record the ring cannot take is counted
 * (TRC_LOST), never dropped silently. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "trace.h"
#include "tfilter.bpf.h"

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define ETH_HLEN_ 14
#define NO_OFFSET ((__u16)~0U)
/* An sk_buff address seen again after this long is a new packet: some frees have no
 * tracepoint (e.g. __kfree_skb in TCP), so an address can come back for another one. */
#define TRACK_STALE_NS (2ULL * 1000000000ULL)

/* The compiled filter (tfilter.h; n 0: all). In .bss, not .rodata: tf_match() takes a plain
 * pointer, and through one clang may fold a const object to its zero initialiser. */
struct tf_prog tfprog = {};
/* At least the number of entries in `tracked` (added to before an entry is made, taken
 * from after one is deleted; LRU evictions and overwrites only make it larger). While it
 * is 0 no packet is followed, and the hooks every packet runs skip the table lookup. */
__s64 live = 0;
const volatile __u32 wake_bytes = 0;   /* force a wakeup past this much unread data */
const volatile __u32 snap_len = TRACE_SNAP;

struct trk {
	__u64 last_ns;
	__u64 id;
	__u32 saddr, daddr;   /* the first 4 address bytes when first seen */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct trk);
} tracked SEC(".maps");

/* The packet this CPU saw last, for the hooks that have no sk_buff. */
struct trcur {
	__u64 skb;
	__u64 ts_ns;
	__u64 id;
	__u32 netns;
	__u32 ifindex;
	__u8 family;
	__u8 saddr[16], daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trcur);
} cur SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_rec);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[TRC__MAX]);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* --ringbuf-size sets it before load */
} events SEC(".maps");

static __always_inline void count(int which)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&counters, &zero);

	if (c && which >= 0 && which < TRC__MAX)
		c[which]++; /* per-CPU: no atomic needed */
}

/* A new packet id. Per-CPU sequences: clang's BPF target before v3 has no fetch-and-add
 * with a result, and this needs none. */
static __always_inline __u64 new_id(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&counters, &zero);

	if (!c)
		return 0;
	c[TRC_SEQ]++;
	return c[TRC_SEQ] << 16 | (bpf_get_smp_processor_id() & 0xffff);
}

static __always_inline struct trace_rec *new_event(__u16 hook)
{
	__u32 zero = 0;
	struct trace_rec *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e)
		return NULL;
	__builtin_memset(e, 0, offsetof(struct trace_rec, data));
	e->ts_ns = bpf_ktime_get_ns();
	e->hook = hook;
	return e;
}

/* dev: a BTF pointer (a tracepoint argument or a field loaded from one): direct loads. */
static __always_inline void read_dev(struct trace_rec *e, const struct net_device *dev)
{
	if (!dev)
		return;
	e->ifindex = dev->ifindex;
	bpf_probe_read_kernel_str(e->ifname, sizeof(e->ifname), dev->name);
	e->netns = dev->nd_net.net->ns.inum;
}

/* IPv4/IPv6 and TCP/UDP/ICMP headers at l3, as far as the linear data goes. */
static __always_inline void read_l3(struct trace_rec *e, const unsigned char *l3)
{
	__u8 b[40];
	__u32 l4off;

	if (bpf_probe_read_kernel(b, sizeof(b), l3))
		return;
	if ((b[0] >> 4) == 4) {
		__u8 ihl = (b[0] & 0xf) * 4;
		__u16 frag = ((__u16)b[6] << 8 | b[7]) & 0x1fff;

		if (ihl < 20)
			return;
		e->family = 4;
		e->proto = b[9];
		e->ttl = b[8];
		e->ip_id = (__u16)b[4] << 8 | b[5];
		__builtin_memcpy(e->saddr, &b[12], 4);
		__builtin_memcpy(e->daddr, &b[16], 4);
		e->flags |= TRF_HAVE_PKT;
		if (frag)
			return; /* a later fragment: no L4 header */
		l4off = ihl;
	} else if ((b[0] >> 4) == 6) {
		e->family = 6;
		e->proto = b[6];
		e->ttl = b[7];
		__builtin_memcpy(e->saddr, &b[8], 16);
		__builtin_memcpy(e->daddr, &b[24], 16);
		e->flags |= TRF_HAVE_PKT;
		l4off = 40; /* extension headers: the L4 fields stay unknown */
	} else {
		return;
	}
	if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP) {
		__u8 h[14];

		if (bpf_probe_read_kernel(h, sizeof(h), l3 + l4off))
			return;
		e->sport = (__u16)h[0] << 8 | h[1];
		e->dport = (__u16)h[2] << 8 | h[3];
		if (e->proto == IPPROTO_TCP)
			e->tcp_flags = h[13];
	} else if (e->proto == IPPROTO_ICMP || e->proto == 58 /* ICMPv6 */) {
		__u8 h[8];

		if (bpf_probe_read_kernel(h, sizeof(h), l3 + l4off))
			return;
		e->icmp_type = h[0];
		e->icmp_code = h[1];
		/* Echo id/seq in the port fields: what ping shows. */
		e->sport = (__u16)h[4] << 8 | h[5];
		e->dport = (__u16)h[6] << 8 | h[7];
	}
}

/* The packet's headers and device. rx: the hook runs before the stack set the network
 * header (netif_rx, netif_receive_skb), and skb->data is at the IP header there. */
static __always_inline void read_skb(struct trace_rec *e, struct sk_buff *skb, bool rx)
{
	/* Direct BTF loads (tp_btf): no helper call per field. */
	unsigned char *head = skb->head, *data = skb->data;
	__u16 nh = skb->network_header, mh = skb->mac_header;
	__u16 proto = bpf_ntohs(skb->protocol);
	__u32 tail = skb->tail;
	const unsigned char *l3, *cap;
	__u32 off, n;

	e->skb = (__u64)skb;
	e->len = skb->len;
	read_dev(e, skb->dev);
	if (!head)
		return;
	if (rx || nh == NO_OFFSET)
		l3 = data;
	else
		l3 = head + nh;
	if (proto == ETH_P_IP_ || proto == ETH_P_IPV6_ || proto == 0)
		read_l3(e, l3);
	/* The copy for --pcap: from the Ethernet header when there is one right before. */
	cap = l3;
	if (mh != NO_OFFSET && head + mh + ETH_HLEN_ == l3) {
		cap = head + mh;
		e->flags |= TRF_MAC;
	}
	off = cap - head;
	if (off >= tail || !(e->flags & TRF_HAVE_PKT))
		return;
	n = tail - off;
	if (n > snap_len)
		n = snap_len;
	if (n > TRACE_SNAP)
		n = TRACE_SNAP;
	/* A constant size (the verifier cannot follow clang's copy of a clamped length);
	 * past the linear data it reads the buffer's tail room, and only n bytes go out. */
	if (!bpf_probe_read_kernel(e->data, TRACE_SNAP, cap))
		e->cap_len = n;
}

/* A global function: the verifier checks it once per program, not at every call site
 * with every caller's state (inlined, loading took seconds). */
__noinline int trace_filter(const struct tf_pkt *p)
{
	if (!p)
		return 0;
	return tf_match(&tfprog, p);
}

static __always_inline bool filter_ok(const struct trace_rec *e)
{
	struct tf_pkt p;

	if (tfprog.n == 0)
		return true;
	__builtin_memset(&p, 0, sizeof(p));
	p.family = e->family;
	p.proto = e->proto;
	__builtin_memcpy(p.saddr, e->saddr, 16);
	__builtin_memcpy(p.daddr, e->daddr, 16);
	if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP) {
		p.sport = e->sport;
		p.dport = e->dport;
		p.has_ports = e->sport || e->dport;
	}
	p.netns = e->netns;
	p.ifindex = e->ifindex;
	__builtin_memcpy(p.ifname, e->ifname, TF_IFNAMSIZ);
	return trace_filter(&p);
}

/* The filter on the sk_buff itself, before any event is built: most packets on the machine
 * are not the ones traced, and for them this is the whole cost of a hook. It reads only the
 * fields the filter's tests use (TF_F_NEED_*), through direct BTF loads rather than helper
 * calls, and fills them exactly as read_skb() + filter_ok() would, so both agree.
 * 1: the filter takes the packet. */
static __always_inline int pre_filter(struct sk_buff *skb, bool rx)
{
	__u32 need = tfprog.flags;
	struct net_device *dev;
	unsigned char *head, *l3;
	struct tf_pkt p;
	__u16 nh, proto;
	__u32 l4off;
	__u8 b[40];

	__builtin_memset(&p, 0, sizeof(p));
	if (need & (TF_F_NEED_DEV | TF_F_NEED_NETNS)) {
		dev = skb->dev;
		if (dev) {
			p.ifindex = dev->ifindex;
			if (need & TF_F_NEED_DEV)
				bpf_probe_read_kernel_str(p.ifname, sizeof(p.ifname), dev->name);
			if (need & TF_F_NEED_NETNS)
				p.netns = dev->nd_net.net->ns.inum;
		}
	}
	if (!(need & (TF_F_NEED_L3 | TF_F_NEED_L4)))
		goto eval;
	head = skb->head;
	nh = skb->network_header;
	proto = bpf_ntohs(skb->protocol);
	if (!head || (proto != ETH_P_IP_ && proto != ETH_P_IPV6_ && proto != 0))
		goto eval;
	l3 = (rx || nh == NO_OFFSET) ? skb->data : head + nh;
	/* The same 40 bytes read_l3() reads: a read that fails there fails here too. */
	if (bpf_probe_read_kernel(b, sizeof(b), l3))
		goto eval;
	if ((b[0] >> 4) == 4) {
		__u8 ihl = (b[0] & 0xf) * 4;

		if (ihl < 20)
			goto eval;
		p.family = 4;
		p.proto = b[9];
		__builtin_memcpy(&p.saddr[0], &b[12], 4);
		__builtin_memcpy(&p.daddr[0], &b[16], 4);
		if (((__u16)b[6] << 8 | b[7]) & 0x1fff)
			goto eval;
		l4off = ihl;
	} else if ((b[0] >> 4) == 6) {
		p.family = 6;
		p.proto = b[6];
		__builtin_memcpy(p.saddr, &b[8], 16);
		__builtin_memcpy(p.daddr, &b[24], 16);
		l4off = 40;
	} else {
		goto eval;
	}
	if ((need & TF_F_NEED_L4) && (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)) {
		__u8 h[14];

		if (bpf_probe_read_kernel(h, sizeof(h), l3 + l4off))
			goto eval;
		p.sport = (__u16)h[0] << 8 | h[1];
		p.dport = (__u16)h[2] << 8 | h[3];
		p.has_ports = p.sport || p.dport;
	}
eval:
	return trace_filter(&p);
}

static __always_inline __u32 addr4(const __u8 *a)
{
	__u32 v;

	__builtin_memcpy(&v, a, 4);
	return v;
}

static __always_inline void set_cur(const struct trace_rec *e)
{
	__u32 zero = 0;
	struct trcur *c = bpf_map_lookup_elem(&cur, &zero);

	if (!c)
		return;
	c->skb = e->skb;
	c->ts_ns = e->ts_ns;
	c->id = e->pkt_id;
	c->netns = e->netns;
	c->ifindex = e->ifindex;
	c->family = e->family;
	__builtin_memcpy(c->saddr, e->saddr, 16);
	__builtin_memcpy(c->daddr, e->daddr, 16);
}

/* Gives e its packet id: the tracked one, or a new one when the filter takes it
 * (pre 1: pre_filter() already said it does). false: not a packet we follow. */
static __always_inline bool track(struct trace_rec *e, int pre)
{
	struct trk *t, nt = {};
	__u64 key = e->skb;

	count(TRC_SEEN);
	t = bpf_map_lookup_elem(&tracked, &key);
	if (t && e->ts_ns - t->last_ns < TRACK_STALE_NS &&
	    (!(e->flags & TRF_HAVE_PKT) || addr4(e->saddr) == t->saddr || addr4(e->daddr) == t->daddr)) {
		t->last_ns = e->ts_ns;
		e->pkt_id = t->id;
		set_cur(e);
		return true;
	}
	if (pre != 1 && !filter_ok(e)) {
		if (t && !bpf_map_delete_elem(&tracked, &key))
			__sync_fetch_and_add(&live, -1);
		return false;
	}
	nt.id = new_id();
	nt.last_ns = e->ts_ns;
	nt.saddr = addr4(e->saddr);
	nt.daddr = addr4(e->daddr);
	__sync_fetch_and_add(&live, 1);
	bpf_map_update_elem(&tracked, &key, &nt, BPF_ANY);
	e->pkt_id = nt.id;
	e->flags |= TRF_NEW;
	count(TRC_MATCHED);
	set_cur(e);
	return true;
}

static __always_inline void submit(struct trace_rec *e)
{
	__u64 size = offsetof(struct trace_rec, data) + (e->cap_len & 0xff), avail;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (size > sizeof(*e))
		size = sizeof(*e);
	if (e->flags & TRF_LAST) {
		__u64 key = e->skb;

		if (!bpf_map_delete_elem(&tracked, &key))
			__sync_fetch_and_add(&live, -1);
	}
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail < wake_bytes && avail + size >= wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, e, size, flags))
		count(TRC_LOST);
	else
		count(TRC_EVENTS);
}

/* The common path of every hook that has the sk_buff. The filter comes first: a packet
 * it refuses costs the filter and, to see whether it is one we follow already (its
 * headers changed since), one table lookup; nothing is read into an event for it.
 * filter false: the caller knows the packet is followed (consume_skb). */
static __always_inline struct trace_rec *skb_event_(__u16 hook, struct sk_buff *skb, bool rx,
						    bool filter)
{
	struct trace_rec *e;
	int pre = -1;

	if (!skb)
		return NULL;
	if (filter && tfprog.n) {
		pre = pre_filter(skb, rx);
		if (!pre) {
			__u64 key = (__u64)skb;

			if (live <= 0 || !bpf_map_lookup_elem(&tracked, &key)) {
				count(TRC_SEEN);
				return NULL;
			}
		}
	}
	if (!(e = new_event(hook)))
		return NULL;
	read_skb(e, skb, rx);
	return track(e, pre) ? e : NULL;
}

static __always_inline struct trace_rec *skb_event(__u16 hook, struct sk_buff *skb, bool rx)
{
	return skb_event_(hook, skb, rx, true);
}

/* A hook without an sk_buff, whose flow is in e: the packet this CPU is working on when
 * it is that flow (either direction), else an event of its own if the filter takes it. */
static __always_inline bool flow_event(struct trace_rec *e)
{
	__u32 zero = 0;
	struct trcur *c = bpf_map_lookup_elem(&cur, &zero);

	count(TRC_SEEN);
	if (c && c->id && c->family == e->family && e->ts_ns - c->ts_ns < 1000000 &&
	    ((addr4(c->daddr) == addr4(e->daddr) && addr4(c->saddr) == addr4(e->saddr)) ||
	     (addr4(c->daddr) == addr4(e->saddr) && addr4(c->saddr) == addr4(e->daddr)) ||
	     (addr4(c->daddr) == addr4(e->daddr) && !addr4(e->saddr)))) {
		e->pkt_id = c->id;
		e->skb = c->skb;
		e->flags |= TRF_ATTRIBUTED;
		if (!e->netns)
			e->netns = c->netns;
		return true;
	}
	return filter_ok(e);
}

static __always_inline __u32 task_netns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* ---- packets entering and leaving devices ---- */

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tr_netif_receive_skb, struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_NETIF_RECEIVE_SKB, skb, true);

	if (e)
		submit(e);
	return 0;
}

SEC("tp_btf/netif_rx")
int BPF_PROG(tr_netif_rx, struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_NETIF_RX, skb, true);

	if (e)
		submit(e);
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(tr_net_dev_queue, struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_NET_DEV_QUEUE, skb, false);

	if (e)
		submit(e);
	return 0;
}

/* After the driver took the packet the sk_buff may be gone (a veth has already handed it
 * to its peer): only its address is looked up, nothing is read from it. */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(tr_net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int len)
{
	struct trace_rec *e;
	struct trk *t;
	__u64 key = (__u64)skb;

	if (live <= 0)
		return 0;
	t = bpf_map_lookup_elem(&tracked, &key);
	if (!t || !(e = new_event(TRH_NET_DEV_XMIT)))
		return 0;
	e->skb = key;
	e->pkt_id = t->id;
	e->err = rc;
	e->len = len;
	read_dev(e, dev);
	submit(e);
	return 0;
}

SEC("tp_btf/qdisc_enqueue")
int BPF_PROG(tr_qdisc_enqueue, struct Qdisc *q, const struct netdev_queue *txq, struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_QDISC_ENQUEUE, skb, false);

	if (!e)
		return 0;
	e->aux = BPF_CORE_READ(q, handle);
	submit(e);
	return 0;
}

/* ---- the end of a packet ---- */

SEC("tp_btf/kfree_skb")
int BPF_PROG(tr_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	struct trace_rec *e = skb_event(TRH_KFREE_SKB, skb, false);

	if (!e)
		return 0;
	e->location = (__u64)location;
	e->reason = reason;
	e->flags |= TRF_LAST;
	submit(e);
	return 0;
}

/* The most frequent event there is: only packets already followed are looked at. */
SEC("tp_btf/consume_skb")
int BPF_PROG(tr_consume_skb, struct sk_buff *skb, void *location)
{
	struct trace_rec *e;
	__u64 key = (__u64)skb;

	if (live <= 0 || !bpf_map_lookup_elem(&tracked, &key))
		return 0;
	e = skb_event_(TRH_CONSUME_SKB, skb, false, false);
	if (!e)
		return 0;
	e->location = (__u64)location;
	e->flags |= TRF_LAST;
	submit(e);
	return 0;
}

/* ---- the stack's answers about a packet ---- */

SEC("tp_btf/icmp_send")
int BPF_PROG(tr_icmp_send, const struct sk_buff *skb, int type, int code)
{
	struct trace_rec *e = skb_event(TRH_ICMP_SEND, (struct sk_buff *)skb, false);

	if (!e)
		return 0;
	e->reason = (__u32)(type & 0xff) << 8 | (code & 0xff);
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tr_tcp_send_reset, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	struct trace_rec *e = skb_event(TRH_TCP_SEND_RESET, (struct sk_buff *)skb, false);

	if (!e)
		return 0;
	e->reason = reason;
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_bad_csum")
int BPF_PROG(tr_tcp_bad_csum, const struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_TCP_BAD_CSUM, (struct sk_buff *)skb, false);

	if (e)
		submit(e);
	return 0;
}

SEC("tp_btf/udp_fail_queue_rcv_skb")
int BPF_PROG(tr_udp_fail_queue_rcv_skb, int rc, struct sock *sk, struct sk_buff *skb)
{
	struct trace_rec *e = skb_event(TRH_UDP_FAIL_RCV, skb, false);

	if (!e)
		return 0;
	e->err = rc;
	submit(e);
	return 0;
}

/* A socket's flow into e (IPv4; IPv6 sockets fill the address fields only). */
static __always_inline void read_sock(struct trace_rec *e, const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e->proto = IPPROTO_TCP;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (family == 2 /* AF_INET */) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		e->family = 4;
		__builtin_memcpy(e->saddr, &s, 4);
		__builtin_memcpy(e->daddr, &d, 4);
	} else if (family == 10 /* AF_INET6 */) {
		e->family = 6;
		BPF_CORE_READ_INTO(e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(e->daddr, sk, __sk_common.skc_v6_daddr);
	}
	e->flags |= TRF_HAVE_FLOW;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tr_tcp_receive_reset, struct sock *sk)
{
	struct trace_rec *e = new_event(TRH_TCP_RECEIVE_RESET);

	if (!e || !sk)
		return 0;
	read_sock(e, sk);
	if (flow_event(e))
		submit(e);
	return 0;
}

/* The sk_buff in the write queue never went out itself (clones did): its headers are not
 * built, so the socket says which flow it is. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tr_tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb, int err)
{
	struct trace_rec *e = new_event(TRH_TCP_RETRANSMIT);

	if (!e || !sk)
		return 0;
	read_sock(e, sk);
	e->err = err;
	e->len = BPF_CORE_READ(skb, len);
	if (filter_ok(e)) {
		count(TRC_SEEN);
		submit(e);
	}
	return 0;
}

/* ---- route lookups ---- */

/* flow_event()'s answer for a route lookup, from the flow alone and before an event is
 * built: false when it is not this CPU's packet and the filter refuses it. Fills p as
 * filter_ok() would from the event tr_fib_table_lookup builds (no ifindex: oif). */
static __always_inline bool fib_wanted(const struct flowi4 *flp, const struct fib_nh_common *nhc,
				       __u64 now)
{
	__u32 need = tfprog.flags, zero = 0;
	struct trcur *c = bpf_map_lookup_elem(&cur, &zero);
	__u32 s = flp->saddr, d = flp->daddr, cs, cd;
	struct tf_pkt p;

	if (c && c->id && c->family == 4 && now - c->ts_ns < 1000000) {
		cs = addr4(c->saddr);
		cd = addr4(c->daddr);
		if ((cd == d && cs == s) || (cd == s && cs == d) || (cd == d && !s))
			return true;
	}
	__builtin_memset(&p, 0, sizeof(p));
	p.family = 4;
	p.saddr[0] = s;
	p.daddr[0] = d;
	p.proto = flp->__fl_common.flowic_proto;
	if ((need & TF_F_NEED_L4) && (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)) {
		p.sport = bpf_ntohs(flp->uli.ports.sport);
		p.dport = bpf_ntohs(flp->uli.ports.dport);
		p.has_ports = p.sport || p.dport;
	}
	if (nhc && (need & (TF_F_NEED_DEV | TF_F_NEED_NETNS))) {
		struct net_device *dev = nhc->nhc_dev;

		if (dev) {
			if (need & TF_F_NEED_DEV)
				bpf_probe_read_kernel_str(p.ifname, sizeof(p.ifname), dev->name);
			p.netns = dev->nd_net.net->ns.inum;
		}
	}
	return trace_filter(&p);
}

SEC("tp_btf/fib_table_lookup")
int BPF_PROG(tr_fib_table_lookup, u32 tb_id, const struct flowi4 *flp,
	     const struct fib_nh_common *nhc, int err)
{
	struct trace_rec *e;
	__u64 now;
	__be32 s, d;
	__u8 gwf;

	if (!flp)
		return 0;
	now = bpf_ktime_get_ns();
	if (tfprog.n && !fib_wanted(flp, nhc, now)) {
		count(TRC_SEEN);
		return 0;
	}
	e = new_event(TRH_FIB_LOOKUP);
	if (!e)
		return 0;
	e->ts_ns = now; /* the time fib_wanted() compared with this CPU's packet */
	/* Direct BTF loads, no helper calls: this runs at every route lookup on the machine. */
	s = flp->saddr;
	d = flp->daddr;
	e->family = 4;
	__builtin_memcpy(e->saddr, &s, 4);
	__builtin_memcpy(e->daddr, &d, 4);
	e->proto = flp->__fl_common.flowic_proto;
	if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP) {
		e->sport = bpf_ntohs(flp->uli.ports.sport);
		e->dport = bpf_ntohs(flp->uli.ports.dport);
	}
	e->iif = flp->__fl_common.flowic_iif;
	e->aux = tb_id;
	e->err = err;
	e->flags |= TRF_HAVE_FLOW;
	if (nhc) {
		struct net_device *dev = nhc->nhc_dev;

		if (dev) {
			e->oif = dev->ifindex;
			bpf_probe_read_kernel_str(e->ifname, sizeof(e->ifname), dev->name);
			e->netns = dev->nd_net.net->ns.inum;
		}
	}
	if (!flow_event(e))
		return 0;
	/* The gateway only for an event that goes out: neither the filter nor the flow match
	 * looks at it. */
	if (nhc) {
		gwf = nhc->nhc_gw_family;
		e->gw_family = gwf == 10 ? 6 : gwf == 2 ? 4 : 0;
		if (e->gw_family == 4)
			BPF_CORE_READ_INTO(e->gw, nhc, nhc_gw.ipv4);
		else if (e->gw_family == 6)
			BPF_CORE_READ_INTO(e->gw, nhc, nhc_gw.ipv6);
	}
	if (!e->netns)
		e->netns = task_netns(); /* an output lookup runs in the sender's context */
	submit(e);
	return 0;
}

SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(tr_fib6_table_lookup, const struct net *net, const struct fib6_result *res,
	     struct fib6_table *table, const struct flowi6 *flp)
{
	struct trace_rec *e = new_event(TRH_FIB6_LOOKUP);
	struct fib6_nh *nh;

	if (!e || !flp)
		return 0;
	e->family = 6;
	BPF_CORE_READ_INTO(e->saddr, flp, saddr);
	BPF_CORE_READ_INTO(e->daddr, flp, daddr);
	e->proto = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	e->iif = BPF_CORE_READ(flp, __fl_common.flowic_iif);
	e->netns = BPF_CORE_READ(net, ns.inum);
	e->aux = table ? BPF_CORE_READ(table, tb6_id) : 0;
	e->flags |= TRF_HAVE_FLOW;
	if (res) {
		e->reason = BPF_CORE_READ(res, fib6_type); /* RTN_*: 7 unreachable */
		nh = BPF_CORE_READ(res, nh);
		if (nh) {
			struct net_device *dev = BPF_CORE_READ(nh, nh_common.nhc_dev);

			if (BPF_CORE_READ(nh, nh_common.nhc_gw_family)) {
				e->gw_family = 6;
				BPF_CORE_READ_INTO(e->gw, nh, nh_common.nhc_gw.ipv6);
			}
			if (dev) {
				e->oif = BPF_CORE_READ(dev, ifindex);
				bpf_probe_read_kernel_str(e->ifname, sizeof(e->ifname), dev->name);
			}
		}
	}
	if (flow_event(e))
		submit(e);
	return 0;
}

/* ---- neighbours (ARP, NDP) ---- */

static __always_inline void read_neigh(struct trace_rec *e, struct neighbour *n)
{
	__u16 family = n->tbl->family;

	read_dev(e, n->dev);
	e->reason = n->nud_state;
	if (family == 2) {
		e->family = e->gw_family = 4;
		bpf_probe_read_kernel(e->gw, 4, n->primary_key);
	} else if (family == 10) {
		e->family = e->gw_family = 6;
		bpf_probe_read_kernel(e->gw, 16, n->primary_key);
	}
	/* The filter's `host` sees the neighbour as the destination. */
	__builtin_memcpy(e->daddr, e->gw, 16);
	e->flags |= TRF_HAVE_FLOW;
}

SEC("tp_btf/neigh_update")
int BPF_PROG(tr_neigh_update, struct neighbour *n, const u8 *lladdr, u8 new_state,
	     u32 flags, u32 pid)
{
	struct trace_rec *e = new_event(TRH_NEIGH_UPDATE);

	if (!e || !n)
		return 0;
	read_neigh(e, n);
	e->aux = e->reason;     /* old state */
	e->reason = new_state;
	if (filter_ok(e)) {
		count(TRC_SEEN);
		submit(e);
	}
	return 0;
}

SEC("tp_btf/neigh_event_send_dead")
int BPF_PROG(tr_neigh_event_send_dead, struct neighbour *n, int err)
{
	struct trace_rec *e = new_event(TRH_NEIGH_DEAD);

	if (!e || !n)
		return 0;
	read_neigh(e, n);
	e->err = err;
	if (filter_ok(e)) {
		count(TRC_SEEN);
		submit(e);
	}
	return 0;
}

/* ---- XDP: no sk_buff yet, and the tracepoint has no packet: the device says where ---- */

static __always_inline void xdp_common(struct trace_rec *e, const struct net_device *dev,
				       const struct bpf_prog *prog, u32 act)
{
	read_dev(e, dev);
	e->reason = act;
	if (prog)
		e->aux = BPF_CORE_READ(prog, aux, id);
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(tr_xdp_exception, const struct net_device *dev, const struct bpf_prog *prog, u32 act)
{
	struct trace_rec *e = new_event(TRH_XDP_EXCEPTION);

	if (!e)
		return 0;
	xdp_common(e, dev, prog, act);
	count(TRC_SEEN);
	/* Generic XDP runs on an sk_buff, right after netif_receive_skb on this CPU: the same
	 * device a few microseconds later is that packet. Native XDP has none: on its own. */
	{
		__u32 zero = 0;
		struct trcur *c = bpf_map_lookup_elem(&cur, &zero);

		if (c && c->id && c->ifindex == e->ifindex && c->netns == e->netns &&
		    e->ts_ns - c->ts_ns < 200000) {
			e->pkt_id = c->id;
			e->skb = c->skb;
			e->flags |= TRF_ATTRIBUTED;
			submit(e);
			return 0;
		}
	}
	if (filter_ok(e))
		submit(e);
	return 0;
}

static __always_inline int xdp_redirect(__u16 hook, const struct net_device *dev,
					const struct bpf_prog *prog, int err, u32 map_id, u32 index)
{
	struct trace_rec *e = new_event(hook);

	if (!e)
		return 0;
	xdp_common(e, dev, prog, 4 /* XDP_REDIRECT */);
	e->err = err;
	e->oif = map_id;
	e->iif = index;
	count(TRC_SEEN);
	if (filter_ok(e))
		submit(e);
	return 0;
}

SEC("tp_btf/xdp_redirect")
int BPF_PROG(tr_xdp_redirect, const struct net_device *dev, const struct bpf_prog *prog,
	     const void *tgt, int err, enum bpf_map_type map_type, u32 map_id, u32 index)
{
	return xdp_redirect(TRH_XDP_REDIRECT, dev, prog, err, map_id, index);
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(tr_xdp_redirect_err, const struct net_device *dev, const struct bpf_prog *prog,
	     const void *tgt, int err, enum bpf_map_type map_type, u32 map_id, u32 index)
{
	return xdp_redirect(TRH_XDP_REDIRECT_ERR, dev, prog, err, map_id, index);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
