/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* How bpflab's packet programs tell `bpflab trace` their verdicts, and why.
 *
 * Each program that includes this header gets two maps, found by `bpflab trace` through
 * the kernel by name (no pins, nothing left behind; names fit BPF_OBJ_NAME_LEN):
 *   trace_ctl   PERCPU_ARRAY, one struct verdict_ctl per CPU: on/off, the tracer's pid,
 *               its lease, records lost, and the reason noted for the packet in flight
 *   trace_ring  RINGBUF, VERDICT_RING_SIZE: one struct verdict_rec per verdict while on
 * verdict_report() at a verdict point costs, while no trace runs, one per-CPU array
 * lookup (the verifier inlines it since 6.10: no helper call), one load and one branch.
 * Per CPU, so that a program can note its reason where it decides (verdict_note) and
 * report at its one exit (verdict_report_noted) without a store shared between CPUs.
 * While a trace runs it reserves a record, copies the first VERDICT_SNAP bytes of the packet and submits.
 *
 * The flag is a lease: the tracer renews deadline_ns (CLOCK_MONOTONIC, as
 * bpf_ktime_get_ns) every second or so, and a report past it is not made. A trace killed
 * with -9 so leaves the flag on, and each verdict then costs the out-of-line call and one
 * clock read (no reserve, nothing written) until the next `bpflab trace` takes the flag
 * over (its owner is dead) and turns it off when it exits. Verdicts, packets and the
 * program's own counters are never changed by a report: it only reads.
 *
 * Records carry the program's kind and a reason code. Its name comes from the program's
 * own BTF: VERDICT_REASONS(enum x) names the enum the reasons are values of (and
 * VERDICT_ARGS(enum y) the one of arg, when it is one), and user space prints an
 * enumerator LBC_DROP_NO_BACKEND as "drop_no_backend". So trace needs no feature's
 * header, and a reason added to a program prints by name at once. count: the packet
 * class (enum count_proto), ping: the outcome (enum ping_stat) and the refusal (enum
 * ping_refuse) in arg, lb: its verdict counter (enum lb_counter), filter: the rule id. */
#ifndef BPFLAB_VERDICT_H
#define BPFLAB_VERDICT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VERDICT_SNAP 128
#define VERDICT_RING_SIZE (256 * 1024)
#define VERDICT_CTL_MAP "trace_ctl"
#define VERDICT_RING_MAP "trace_ring"
/* How long a lease lasts without renewal. */
#define VERDICT_LEASE_NS (10ULL * 1000000000ULL)

enum verdict_kind {
	VK_NONE = 0,
	VK_COUNT,
	VK_PING,
	VK_LB,
	VK_FILTER,
	VK__MAX
};

enum verdict_hook {
	VH_XDP = 1,
	VH_TC = 2,
};

/* One per CPU. User space writes on/owner_pid/deadline_ns into every CPU's copy. */
struct verdict_ctl {
	__u32 on;          /* 1: report every verdict into trace_ring */
	__u32 owner_pid;   /* the `bpflab trace` that turned it on */
	__u64 lost;        /* records trace_ring could not take (full), this CPU's */
	__u64 deadline_ns; /* the lease: no report after this bpf_ktime_get_ns() */
	__u32 note_reason; /* verdict_note() of the packet in flight on this CPU */
	__u32 note_arg;
	__u32 note_flags;  /* VERDICT_NOTED, VERDICT_REPORTED */
	__u32 pad;
};
#define VERDICT_NOTED 1u
#define VERDICT_REPORTED 2u

struct verdict_rec {
	__u64 ts_ns;       /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u32 ifindex;     /* XDP: ingress_ifindex; tc: skb->ifindex */
	__u32 rxq;         /* XDP: rx_queue_index; tc: skb->queue_mapping */
	__u32 pkt_len;     /* the whole packet's length */
	__u32 cap_len;     /* bytes in data[], <= VERDICT_SNAP */
	__u32 verdict;     /* XDP_* (hook VH_XDP) or TC_ACT_* (VH_TC), as returned */
	__u32 reason;      /* per kind, see above */
	__u32 arg;         /* per kind: ping's refusal, filter's rule id, lb's backend id */
	__u8 kind;         /* enum verdict_kind */
	__u8 hook;         /* enum verdict_hook */
	__u16 pad;
	__u8 data[VERDICT_SNAP]; /* the packet from its Ethernet header, as at the report */
};

/* The names of the variables VERDICT_REASONS/VERDICT_ARGS declare, read from BTF. */
#define VERDICT_REASON_VAR "verdict_reason_enum"
#define VERDICT_ARG_VAR "verdict_arg_enum"

#ifdef __bpf__
/* Never read: a variable of the enum's type puts the enum into the program's BTF. */
#define VERDICT_REASONS(type) const volatile type verdict_reason_enum = 0
#define VERDICT_ARGS(type) const volatile type verdict_arg_enum = 0

#ifndef __VMLINUX_H__
#include <linux/bpf.h>
#endif
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct verdict_ctl);
} trace_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VERDICT_RING_SIZE);
} trace_ring SEC(".maps");

/* The clock is read for the record's timestamp anyway: the lease check is free. */
static __always_inline struct verdict_rec *verdict_reserve_(void)
{
	__u32 zero = 0;
	struct verdict_ctl *c = bpf_map_lookup_elem(&trace_ctl, &zero);
	__u64 now = bpf_ktime_get_ns();
	struct verdict_rec *r;

	if (!c || now > c->deadline_ns)
		return NULL;
	r = bpf_ringbuf_reserve(&trace_ring, sizeof(*r), 0);
	if (!r) {
		c->lost++; /* this CPU's copy: no atomic */
		return NULL;
	}
	r->ts_ns = now;
	return r;
}

/* No wakeup per record (~2 us each): the reader polls, and is woken when the ring is
 * half full. */
static __always_inline void verdict_submit_(struct verdict_rec *r)
{
	bpf_ringbuf_submit(r, bpf_ringbuf_query(&trace_ring, BPF_RB_AVAIL_DATA) >
				      VERDICT_RING_SIZE / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Out of line: the slow path is one copy per program, not one per verdict point. */
static __attribute__((noinline, unused)) int
verdict_emit_xdp(struct xdp_md *ctx, __u32 kind, __u32 verdict, __u32 reason, __u32 arg)
{
	struct verdict_rec *r = verdict_reserve_();
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	/* 64-bit: a 32-bit length is zero-extended into a copy, and clang may bound-check
	 * the copy and pass the original, which the verifier cannot follow. */
	__u64 len, n;

	if (!r)
		return 0;
	len = data_end - data;
	n = len < VERDICT_SNAP ? len : VERDICT_SNAP;
	r->ifindex = ctx->ingress_ifindex;
	r->rxq = ctx->rx_queue_index;
	r->pkt_len = len;
	r->verdict = verdict;
	r->reason = reason;
	r->arg = arg;
	r->kind = kind;
	r->hook = VH_XDP;
	r->pad = 0;
	if (n == 0 || n > VERDICT_SNAP || bpf_xdp_load_bytes(ctx, 0, r->data, n))
		n = 0;
	r->cap_len = n;
	verdict_submit_(r);
	return 0;
}

static __attribute__((noinline, unused)) int
verdict_emit_tc(struct __sk_buff *skb, __u32 kind, __u32 verdict, __u32 reason, __u32 arg)
{
	struct verdict_rec *r = verdict_reserve_();
	__u64 len, n;

	if (!r)
		return 0;
	len = skb->len;
	n = len < VERDICT_SNAP ? len : VERDICT_SNAP;
	r->ifindex = skb->ifindex;
	r->rxq = skb->queue_mapping;
	r->pkt_len = len;
	r->verdict = verdict;
	r->reason = reason;
	r->arg = arg;
	r->kind = kind;
	r->hook = VH_TC;
	r->pad = 0;
	if (n == 0 || n > VERDICT_SNAP || bpf_skb_load_bytes(skb, 0, r->data, n))
		n = 0;
	r->cap_len = n;
	verdict_submit_(r);
	return 0;
}

/* The fast path, inlined at each verdict point: is a trace on? */
static __always_inline int verdict_on_(void)
{
	__u32 zero = 0;
	struct verdict_ctl *c = bpf_map_lookup_elem(&trace_ctl, &zero);

	return c && c->on;
}


static __always_inline struct verdict_ctl *verdict_ctl_(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&trace_ctl, &zero);
}

/* For a program with many verdict points: note the reason where it is decided... */
static __always_inline void verdict_note(__u32 reason, __u32 arg)
{
	struct verdict_ctl *c = verdict_ctl_();

	if (c && c->on) {
		c->note_reason = reason;
		c->note_arg = arg;
		c->note_flags = VERDICT_NOTED;
	}
}

/* A program that may report before its exit (before a tail call) forgets the previous
 * packet's note at its entry. */
static __always_inline void verdict_begin(void)
{
	struct verdict_ctl *c = verdict_ctl_();

	if (c && c->on)
		c->note_flags = 0;
}

/* ...and report at the exit with the reason noted (dflt when none was), once: a report
 * made with verdict_report_noted_early (before a tail call that returned) is not made
 * again. */
#define verdict_report_noted_(ctx, xdp, kind, verdict, dflt, after)                           \
	do {                                                                               \
		struct verdict_ctl *c_ = verdict_ctl_();                                   \
		if (c_ && c_->on) {                                                        \
			__u32 f_ = c_->note_flags;                                         \
			__u32 r_ = f_ & VERDICT_NOTED ? c_->note_reason : (dflt);          \
			__u32 a_ = f_ & VERDICT_NOTED ? c_->note_arg : 0;                  \
			c_->note_flags = (after);                                          \
			if (!(f_ & VERDICT_REPORTED)) {                                    \
				if (xdp)                                                   \
					verdict_emit_xdp((struct xdp_md *)(ctx), (kind),    \
							 (verdict), r_, a_);               \
				else                                                       \
					verdict_emit_tc((struct __sk_buff *)(ctx), (kind), \
							(verdict), r_, a_);                \
			}                                                                  \
		}                                                                          \
	} while (0)
#define verdict_report_noted(ctx, xdp, kind, verdict, dflt)                                   \
	verdict_report_noted_(ctx, xdp, kind, verdict, dflt, 0)
#define verdict_report_noted_early(ctx, xdp, kind, verdict, dflt)                             \
	verdict_report_noted_(ctx, xdp, kind, verdict, dflt, VERDICT_REPORTED)

/* ctx is the program's context; xdp a compile-time constant (true: struct xdp_md). */
#define verdict_report(ctx, xdp, kind, verdict, reason, arg)                                 \
	do {                                                                               \
		if (verdict_on_()) {                                                       \
			if (xdp)                                                           \
				verdict_emit_xdp((struct xdp_md *)(ctx), (kind), (verdict),  \
						 (reason), (arg));                         \
			else                                                               \
				verdict_emit_tc((struct __sk_buff *)(ctx), (kind),         \
						(verdict), (reason), (arg));               \
		}                                                                          \
	} while (0)

#endif /* __bpf__ */

#endif
