// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* trace.bpf.c: open, configure, load, attach. The only place that writes its .rodata. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "trace_prog.h"
#include "trace.skel.h"

const struct trace_hook_def trace_hooks[] = {
	{ TRH_NETIF_RECEIVE_SKB, "net", "netif_receive_skb" },
	{ TRH_NETIF_RX, "net", "netif_rx" },
	{ TRH_NET_DEV_QUEUE, "net", "net_dev_queue" },
	{ TRH_NET_DEV_XMIT, "net", "net_dev_xmit" },
	{ TRH_QDISC_ENQUEUE, "qdisc", "qdisc_enqueue" },
	{ TRH_FIB_LOOKUP, "fib", "fib_table_lookup" },
	{ TRH_FIB6_LOOKUP, "fib6", "fib6_table_lookup" },
	{ TRH_NEIGH_UPDATE, "neigh", "neigh_update" },
	{ TRH_NEIGH_DEAD, "neigh", "neigh_event_send_dead" },
	{ TRH_ICMP_SEND, "icmp", "icmp_send" },
	{ TRH_TCP_SEND_RESET, "tcp", "tcp_send_reset" },
	{ TRH_TCP_RECEIVE_RESET, "tcp", "tcp_receive_reset" },
	{ TRH_TCP_RETRANSMIT, "tcp", "tcp_retransmit_skb" },
	{ TRH_TCP_BAD_CSUM, "tcp", "tcp_bad_csum" },
	{ TRH_UDP_FAIL_RCV, "udp", "udp_fail_queue_rcv_skb" },
	{ TRH_XDP_EXCEPTION, "xdp", "xdp_exception" },
	{ TRH_XDP_REDIRECT, "xdp", "xdp_redirect" },
	{ TRH_XDP_REDIRECT_ERR, "xdp", "xdp_redirect_err" },
	{ TRH_KFREE_SKB, "skb", "kfree_skb" },
	{ TRH_CONSUME_SKB, "skb", "consume_skb" },
};
const size_t trace_nhooks = ARRAY_SIZE(trace_hooks);

const char *trace_hook_name(int hook)
{
	if (hook == TRH_VERDICT)
		return "verdict";
	for (size_t i = 0; i < trace_nhooks; i++)
		if (trace_hooks[i].hook == hook)
			return trace_hooks[i].name;
	return "?";
}

const char *trace_hook_group(int hook)
{
	if (hook == TRH_VERDICT)
		return "bpflab";
	for (size_t i = 0; i < trace_nhooks; i++)
		if (trace_hooks[i].hook == hook)
			return trace_hooks[i].group;
	return "?";
}

bool trace_hook_available(const struct trace_hook_def *h, bool *in_tracefs)
{
	char name[96];

	if (in_tracefs) {
		const char *tfs;
		*in_tracefs = false;
		if (!ensure_tracefs(&tfs)) {
			snprintf(name, sizeof(name), "%s/events/%s/%s", tfs, h->group, h->name);
			*in_tracefs = !access(name, F_OK);
		}
	}
	snprintf(name, sizeof(name), "btf_trace_%s", h->name);
	return trace_btf_has_type(name);
}

static struct bpf_program *prog_of(struct trace_bpf *s, int hook)
{
	switch (hook) {
	case TRH_NETIF_RECEIVE_SKB: return s->progs.tr_netif_receive_skb;
	case TRH_NETIF_RX: return s->progs.tr_netif_rx;
	case TRH_NET_DEV_QUEUE: return s->progs.tr_net_dev_queue;
	case TRH_NET_DEV_XMIT: return s->progs.tr_net_dev_xmit;
	case TRH_QDISC_ENQUEUE: return s->progs.tr_qdisc_enqueue;
	case TRH_FIB_LOOKUP: return s->progs.tr_fib_table_lookup;
	case TRH_FIB6_LOOKUP: return s->progs.tr_fib6_table_lookup;
	case TRH_NEIGH_UPDATE: return s->progs.tr_neigh_update;
	case TRH_NEIGH_DEAD: return s->progs.tr_neigh_event_send_dead;
	case TRH_ICMP_SEND: return s->progs.tr_icmp_send;
	case TRH_TCP_SEND_RESET: return s->progs.tr_tcp_send_reset;
	case TRH_TCP_RECEIVE_RESET: return s->progs.tr_tcp_receive_reset;
	case TRH_TCP_RETRANSMIT: return s->progs.tr_tcp_retransmit_skb;
	case TRH_TCP_BAD_CSUM: return s->progs.tr_tcp_bad_csum;
	case TRH_UDP_FAIL_RCV: return s->progs.tr_udp_fail_queue_rcv_skb;
	case TRH_XDP_EXCEPTION: return s->progs.tr_xdp_exception;
	case TRH_XDP_REDIRECT: return s->progs.tr_xdp_redirect;
	case TRH_XDP_REDIRECT_ERR: return s->progs.tr_xdp_redirect_err;
	case TRH_KFREE_SKB: return s->progs.tr_kfree_skb;
	case TRH_CONSUME_SKB: return s->progs.tr_consume_skb;
	}
	return NULL;
}

int trace_prog_open(struct trace_prog *tp, const struct tf_prog *filter, __u32 ringbuf_size)
{
	struct trace_bpf *s;
	int err;

	memset(tp, 0, sizeof(*tp));
	s = trace_bpf__open();
	if (!s) {
		err = -errno;
		pr_warn("failed to open the BPF program: %s\n", strerr(err));
		return err;
	}
	tp->skel = s;
	if (filter)
		memcpy(&s->bss->tfprog, filter, sizeof(*filter));
	s->rodata->wake_bytes = ringbuf_size / 4;
	bpf_map__set_max_entries(s->maps.events, ringbuf_size);
	for (size_t i = 0; i < trace_nhooks; i++) {
		const struct trace_hook_def *h = &trace_hooks[i];
		bool ok = trace_hook_available(h, NULL);

		tp->have[h->hook] = ok;
		bpf_program__set_autoload(prog_of(s, h->hook), ok);
		if (ok) {
			tp->nhave++;
		} else {
			size_t n = strlen(tp->missing);
			snprintf(tp->missing + n, sizeof(tp->missing) - n, "%s%s:%s",
				 tp->nmissing ? ", " : "", h->group, h->name);
			tp->nmissing++;
		}
	}
	if (!tp->nhave) {
		pr_warn("this kernel has none of the tracepoints trace uses (as tp_btf: its BTF "
			"lacks btf_trace_kfree_skb and the others)\n");
		return -EOPNOTSUPP;
	}
	err = trace_bpf__load(s);
	if (err) {
		pr_warn("failed to load the BPF program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		return err;
	}
	return 0;
}

int trace_prog_attach(struct trace_prog *tp)
{
	for (size_t i = 0; i < trace_nhooks; i++) {
		int h = trace_hooks[i].hook;
		struct bpf_program *p = prog_of(tp->skel, h);

		if (!tp->have[h])
			continue;
		tp->links[h] = bpf_program__attach(p);
		if (!tp->links[h]) {
			int err = -errno;
			pr_warn("attaching to %s:%s failed: %s\n", trace_hooks[i].group,
				trace_hooks[i].name, strerr(err));
			return err;
		}
	}
	return 0;
}

int trace_prog_events_fd(const struct trace_prog *tp)
{
	return bpf_map__fd(tp->skel->maps.events);
}

int trace_prog_counters(const struct trace_prog *tp, __u64 out[TRC__MAX])
{
	__u32 zero = 0;

	return percpu_sum_u64(bpf_map__fd(tp->skel->maps.counters), &zero, out, TRC__MAX);
}

void trace_prog_close(struct trace_prog *tp)
{
	for (int i = 0; i < TRH__MAX; i++) {
		bpf_link__destroy(tp->links[i]);
		tp->links[i] = NULL;
	}
	trace_bpf__destroy(tp->skel);
	tp->skel = NULL;
}
