// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab trace: where did my packet go, and why. Tracepoints only (this kernel has no
 * kprobes and refuses trampolines): the stack's own tracepoints on the sk_buff, plus the
 * verdicts bpflab's own XDP/TC programs report while a trace runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "tfilter.h"
#include "trace_prog.h"
#include "trace_show.h"
#if __has_include("pcapng.h")
#include "pcapng.h"
#define HAVE_PCAPNG 1
#endif
#if __has_include("verdicts.h")
#include "verdicts.h"
#define HAVE_VERDICTS 1
#endif

/* As exec: no wakeup per event; the reader looks every POLL_MS. */
#define POLL_MS 25

struct trace_opts {
	double duration;
	__u64 count;
	bool summary;
	const char *pcap;
	__u32 ringbuf_size;
};

struct trace_ctx {
	struct trace_opts *o;
	struct trace_show show;
	struct tf_prog filter;
	__u64 verdicts, lost_reported;
};

static int opt_ringbuf(const char *arg, void *dst, char *why, size_t n)
{
	uint64_t v;

	if (!parse_size(arg, 4096, 1ULL << 30, &v) && !(v & (v - 1))) {
		*(__u32 *)dst = v;
		return 0;
	}
	snprintf(why, n, "a power of two from 4096 to 1G, e.g. 65536, 256K, 16M");
	return -1;
}

static void help_here(FILE *f)
{
	int have = 0, n = 0;
	char missing[512] = "";

	if (caps_missing(CAPN_BPF | CAPN_PERFMON)) {
		fprintf(f, "\nHere: not probed (needs CAP_BPF and CAP_PERFMON); `bpflab doctor` says more.\n");
		return;
	}
	for (size_t i = 0; i < trace_nhooks; i++) {
		if (trace_hook_available(&trace_hooks[i], NULL)) {
			have++;
		} else {
			size_t l = strlen(missing);
			snprintf(missing + l, sizeof(missing) - l, "%s%s:%s", n++ ? ", " : "",
				 trace_hooks[i].group, trace_hooks[i].name);
		}
	}
	fprintf(f, "\nHere (probed now): %d of the %zu tracepoints%s%s.\n", have, trace_nhooks,
		missing[0] ? "; missing: " : "", missing);
}

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct trace_opts, field, arg, help)
static const struct opt_def trace_opts[] = {
	OPTS_DURATION(struct trace_opts, duration),
	{ O("count", 'c', OPT_UINT, count, "N", "stop after N packets were shown"), .min = 1,
	  .def = "no limit" },
	{ O("summary", 's', OPT_FLAG, summary, NULL, "no journeys: at the end, drops counted by "
	    "reason and location (dropwatch-style)") },
	{ O("pcap", 'w', OPT_FILE, pcap, "FILE", "also write the packets as pcapng, each with its "
	    "fate in the comment (tcpdump -r, tshark -r)") },
	{ O("ringbuf-size", 0, OPT_FUNC, ringbuf_size, "SIZE", "ring buffer bytes, a power of two "
	    "from 4096 to 1G"), .def = "4M", .parse = opt_ringbuf },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_trace_spec = {
	.name = "trace",
	.args = "[FILTER] [options]",
	.about = "Where did my packet go, and why: follows every packet the FILTER takes through the\n"
		 "stack, from the stack's tracepoints only (no kprobe, no fentry), and prints its\n"
		 "journey in time order: network namespace, interface, hook, the route lookup's result,\n"
		 "and how it ended (the kernel's drop reason by name, an ICMP error or RST sent back,\n"
		 "an XDP exception). bpflab's own programs (count, ping, lb, filter) report their\n"
		 "verdicts into the trace while it runs. FILTER is a subset of pcap-filter: host,\n"
		 "net, port, portrange, tcp|udp|icmp|icmp6|ip|ip6, dev IFNAME, netns NAME,\n"
		 "and/or/not and parentheses (see docs/trace.md). Events the ring buffer had no\n"
		 "room for are counted and reported.\n",
	.opts = trace_opts,
	.notes = "Examples:\n"
		 "  bpflab trace icmp and host 198.18.0.100       why does this ping fail?\n"
		 "  bpflab trace --summary -d 10                   drops by reason, 10 seconds\n"
		 "  bpflab trace tcp port 80 -w out.pcapng -c 5\n"
		 "Exit codes: 2 for a filter it cannot parse (the position is shown).\n",
	.json_help = "JSON Lines: attached, event, packet, lost, drops and summary records",
	.help_tail = help_here,
	.max_args = -1,
};

static void take(struct trace_ctx *c, const struct trace_item *it)
{
	trace_show_item(&c->show, it);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct trace_ctx *c = ctx;
	struct trace_item it;

	if (size < offsetof(struct trace_rec, data))
		return 0;
	memset(&it, 0, sizeof(it));
	memcpy(&it.r, data, size < sizeof(it.r) ? size : sizeof(it.r));
	if (it.r.cap_len > size - offsetof(struct trace_rec, data))
		it.r.cap_len = size - offsetof(struct trace_rec, data);
	take(c, &it);
	return 0;
}

#ifdef HAVE_VERDICTS
/* The rest of the header fields the trace's own events carry (TTL, TCP flags, ICMP type),
 * read from the verdict's Ethernet snapshot: tf_pkt has only what the filter needs. */
static void verdict_hdr(const __u8 *d, __u32 n, struct trace_rec *r)
{
	__u32 off = 14, l4;
	__u16 et;

	if (n < 14)
		return;
	et = (__u16)d[12] << 8 | d[13];
	while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) {
		et = (__u16)d[off + 2] << 8 | d[off + 3];
		off += 4;
	}
	if (et == 0x0800 && n >= off + 20 && r->family == 4) {
		__u32 ihl = (d[off] & 15) * 4;

		r->ttl = d[off + 8];
		r->ip_id = (__u16)d[off + 4] << 8 | d[off + 5];
		/* A later fragment has no L4 header; a bad IHL is not trusted. */
		if (ihl < 20 || ((d[off + 6] & 0x1f) | d[off + 7]))
			return;
		l4 = off + ihl;
	} else if (et == 0x86dd && n >= off + 40 && r->family == 6) {
		r->ttl = d[off + 7];
		/* Extension headers: tf_pkt walked them for proto; the header is read only
		 * when it follows the fixed header directly. */
		if (d[off + 6] != r->proto)
			return;
		l4 = off + 40;
	} else {
		return;
	}
	if (r->proto == 6 && n >= l4 + 14) {
		r->tcp_flags = d[l4 + 13];
	} else if ((r->proto == 1 || r->proto == 58) && n >= l4 + 8) {
		r->icmp_type = d[l4];
		r->icmp_code = d[l4 + 1];
		/* Echo id/seq in the port fields, as trace.bpf.c does: what ping shows. */
		r->sport = (__u16)d[l4 + 4] << 8 | d[l4 + 5];
		r->dport = (__u16)d[l4 + 6] << 8 | d[l4 + 7];
	}
}

static int handle_verdict(void *ctx, const struct verdict_src *src, const struct verdict_rec *v)
{
	struct trace_ctx *c = ctx;
	struct trace_item it;
	struct tf_pkt p;
	__u32 n = v->cap_len < VERDICT_SNAP ? v->cap_len : VERDICT_SNAP;
	char why[64];

	memset(&it, 0, sizeof(it));
	memset(&p, 0, sizeof(p));
	tfilter_pkt_from_frame(v->data, n, &p);
	it.r.ts_ns = v->ts_ns;
	it.r.hook = TRH_VERDICT;
	it.r.ifindex = v->ifindex;
	it.r.len = v->pkt_len;
	it.r.reason = v->reason;
	it.r.family = p.family;
	it.r.proto = p.proto;
	it.r.sport = p.sport;
	it.r.dport = p.dport;
	memcpy(it.r.saddr, p.saddr, 16);
	memcpy(it.r.daddr, p.daddr, 16);
	if (p.family) {
		it.r.flags |= TRF_HAVE_PKT;
		verdict_hdr(v->data, n, &it.r);
	}
	it.r.flags |= TRF_MAC;
	it.r.cap_len = n > TRACE_SNAP ? TRACE_SNAP : n;
	memcpy(it.r.data, v->data, it.r.cap_len);
	/* The record has the ifindex only: a `netns` or `dev` term does not match it. */
	p.ifindex = it.r.ifindex;
	if (!tfilter_eval(&c->filter, &p))
		return 0;
	snprintf(it.prog, sizeof(it.prog), "%s", verdicts_kind_name(src->kind));
	snprintf(it.verdict, sizeof(it.verdict), "%s", verdicts_verdict_name(v->hook, v->verdict));
	snprintf(it.why, sizeof(it.why), "%s", verdicts_reason(v, why, sizeof(why)));
	it.prog_id = src->prog_id;
	c->verdicts++;
	/* A packet of its own (an XDP verdict comes before any sk_buff, so no kernel event
	 * shares its id): it gets a packet record, its fate, a --count slot and a pcap frame.
	 * The top bit keeps it apart from the BPF side's seq << 16 | cpu ids. */
	it.r.pkt_id = 1ULL << 63 | c->verdicts;
	it.r.flags |= TRF_NEW | TRF_LAST;
	take(c, &it);
	return 0;
}
#endif

static void report_lost(struct trace_ctx *c, __u64 lost, __u64 vlost)
{
	if (lost + vlost == c->lost_reported)
		return;
	c->lost_reported = lost + vlost;
	trace_show_lost(&c->show, lost, vlost, c->o->ringbuf_size);
}

static int run(struct trace_opts *o, const char *ftext)
{
	struct trace_ctx c = { .o = o };
	struct trace_prog tp;
	struct ring_buffer *rb = NULL;
	struct tf_error ferr;
	char hooks[1024] = "";
	__u64 cnt[TRC__MAX] = {}, vlost = 0;
	int err, ret = EXIT_FAIL, nverd = 0;
	const char *tfs;
#ifdef HAVE_VERDICTS
	struct verdicts *vd = NULL;
	double last_scan = 0;
#endif

	if (tfilter_compile(ftext, &c.filter, &ferr, NULL)) {
		tfilter_perror(stderr, ftext, &ferr);
		return usage_error("trace", "bad filter: %s (column %d)", ferr.msg, ferr.pos + 1);
	}
	/* The tracepoints are attached through BTF (tp_btf), but `bpflab doctor` and the
	 * "attached" record say what tracefs lists: mount it if this boot has not. */
	ensure_tracefs(&tfs);
	err = trace_prog_open(&tp, &c.filter, o->ringbuf_size);
	if (err) {
		trace_prog_close(&tp);
		return err == -EOPNOTSUPP ? EXIT_UNSUPPORTED : err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
	}
	for (size_t i = 0; i < trace_nhooks; i++)
		if (tp.have[trace_hooks[i].hook]) {
			size_t l = strlen(hooks);
			snprintf(hooks + l, sizeof(hooks) - l, "%s%s:%s", l ? " " : "",
				 trace_hooks[i].group, trace_hooks[i].name);
		}
	rb = ring_buffer__new(trace_prog_events_fd(&tp), handle_event, &c, NULL);
	if (!rb) {
		pr_warn("failed to open the ring buffer: %s\n", strerr(errno));
		goto out;
	}
#ifdef HAVE_PCAPNG
	if (o->pcap && !(c.show.pcap = pcapng_open(o->pcap))) {
		pr_warn("cannot write '%s': %s\n", o->pcap, strerror(errno));
		goto out;
	}
#else
	if (o->pcap) {
		pr_warn("--pcap: this build has no pcapng writer\n");
		ret = EXIT_UNSUPPORTED;
		goto out;
	}
#endif
#ifdef HAVE_VERDICTS
	vd = verdicts_open(handle_verdict, &c);
	if (vd) {
		if (verdicts_find(vd) > 0 && (nverd = verdicts_enable(vd, &rb)) < 0)
			pr_warn("our programs' verdicts will not be shown: %s\n", strerr(nverd));
		last_scan = now_mono();
	}
#endif
	if ((err = trace_prog_attach(&tp)))
		goto out;

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	c.show.json = g_opts.json;
	c.show.summary_only = o->summary;
	c.show.max_packets = o->count;
	trace_show_init(&c.show);
	{
		struct trace_attached at = { .nhooks = tp.nhave, .nmissing = tp.nmissing,
					     .hooks = hooks, .missing = tp.missing, .filter = ftext,
					     .ringbuf_size = o->ringbuf_size, .verdict_progs = nverd < 0 ? 0 : nverd,
					     .pcap = o->pcap };
		trace_show_attached(&c.show, &at);
	}
	ret = EXIT_OK;
	while (!exiting && !c.show.done) {
		if (o->duration >= 0 && now_mono() - c.show.start_mono >= o->duration)
			break;
		err = ring_buffer__poll(rb, POLL_MS);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			pr_warn("reading the ring buffer failed: %s\n", strerr(err));
			ret = EXIT_FAIL;
			break;
		}
		trace_show_flush(&c.show, false);
#ifdef HAVE_VERDICTS
		/* A program started after the trace reports too: look for new ones each second. */
		if (vd && now_mono() - last_scan > 1.0) {
			last_scan = now_mono();
			if (verdicts_find(vd) > 0)
				verdicts_enable(vd, &rb);
			verdicts_keepalive(vd); /* the programs report only while the lease runs */
			vlost = verdicts_lost(vd);
		}
#endif
		trace_prog_counters(&tp, cnt);
		report_lost(&c, cnt[TRC_LOST], vlost);
	}
	ring_buffer__consume(rb);
	trace_show_flush(&c.show, true);
	trace_prog_counters(&tp, cnt);
#ifdef HAVE_VERDICTS
	if (vd)
		vlost = verdicts_lost(vd);
#endif
	report_lost(&c, cnt[TRC_LOST], vlost);
	{
		struct trace_summary sum = { .elapsed = now_mono() - c.show.start_mono,
					     .seen = cnt[TRC_SEEN], .matched = cnt[TRC_MATCHED],
					     .events = cnt[TRC_EVENTS], .lost = cnt[TRC_LOST],
					     .verdicts = c.verdicts, .verdicts_lost = vlost,
					     .ringbuf_size = o->ringbuf_size };
		trace_show_summary(&c.show, &sum);
	}
out:
#ifdef HAVE_VERDICTS
	if (vd)
		verdicts_close(vd);
#endif
	ring_buffer__free(rb);
	trace_prog_close(&tp);
#ifdef HAVE_PCAPNG
	if (c.show.pcap && pcapng_close(c.show.pcap) && ret == EXIT_OK) {
		pr_warn("writing '%s' failed: %s\n", o->pcap, strerror(errno));
		ret = EXIT_FAIL;
	}
#endif
	trace_show_free(&c.show);
	return ret;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = { .duration = -1, .ringbuf_size = 4 << 20 };
	char *ftext;
	int ret;

	if ((ret = opts_parse(&cmd_trace_spec, argc, argv, &o)) != OPTS_GO_ON)
		return ret;
	ftext = tfilter_join(argc - optind, argv + optind);
	if (!ftext)
		return EXIT_FAIL;
	/* A filter error is a usage error: say it before asking for privileges. */
	{
		struct tf_prog f;
		struct tf_error ferr;

		if (tfilter_compile(ftext, &f, &ferr, NULL)) {
			tfilter_perror(stderr, ftext, &ferr);
			ret = usage_error("trace", "bad filter: %s (column %d)", ferr.msg, ferr.pos + 1);
			free(ftext);
			return ret;
		}
	}
	/* tracefs is root's (0700): another uid also needs CAP_DAC_OVERRIDE to read it. */
	if ((ret = require_caps("trace", CAPN_BPF | CAPN_PERFMON | (is_root() ? 0 : CAPN_DAC_OVERRIDE),
				"CAP_BPF and CAP_PERFMON to load and attach tracing programs"
				"; CAP_DAC_OVERRIDE to read tracefs when not uid 0"))) {
		free(ftext);
		return ret;
	}
	ret = run(&o, ftext);
	free(ftext);
	return ret;
}
