// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab trace's output. Events arrive per CPU, roughly in time order; each packet's are
 * kept until its life ends (freed, consumed, or idle for idle_flush seconds), then shown
 * together in time order: one journey. Events tied to no packet show at once. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "util.h"
#include "trace_prog.h"
#include "trace_show.h"
#if __has_include("pcapng.h")
#include "pcapng.h"
#define HAVE_PCAPNG 1
#endif

#define JOURNEY_MAX_EVENTS 64
#define EAGAIN_ 11

struct trace_journey {
	__u64 bpf_id;
	__u64 display_id;
	double last_seen;      /* CLOCK_MONOTONIC seconds of the last event received */
	size_t n;
	bool ended;
	struct trace_item *ev; /* JOURNEY_MAX_EVENTS */
};

struct trace_count {
	char reason[48];
	char location[96];
	__u64 n;
};

/* ---- network namespace names ---- */

struct ns_name { __u32 ino; char name[64]; };
static struct ns_name *ns_names;
static size_t nns;
static double ns_scanned;

static void scan_netns(void)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	nns = 0;
	free(ns_names);
	ns_names = NULL;
	if (!stat("/proc/1/ns/net", &st)) {
		ns_names = calloc(1, sizeof(*ns_names));
		if (ns_names) {
			ns_names[0].ino = st.st_ino;
			snprintf(ns_names[0].name, sizeof(ns_names[0].name), "(init)");
			nns = 1;
		}
	}
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[320];
		struct ns_name *n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (stat(path, &st))
			continue;
		n = realloc(ns_names, (nns + 1) * sizeof(*n));
		if (!n)
			break;
		ns_names = n;
		ns_names[nns].ino = st.st_ino;
		snprintf(ns_names[nns].name, sizeof(ns_names[nns].name), "%s", de->d_name);
		nns++;
	}
	closedir(d);
}

const char *trace_netns_name(__u32 ino)
{
	if (!ino)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nns; i++)
			if (ns_names[i].ino == ino)
				return ns_names[i].name;
		/* A namespace made since: look again, at most 4 times a second. */
		if (pass == 0 && now_mono() - ns_scanned > 0.25) {
			ns_scanned = now_mono();
			scan_netns();
		} else {
			break;
		}
	}
	return NULL;
}

/* ---- words ---- */

static const char *proto_name(__u8 family, __u8 p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmp6";
	case 132: return "sctp";
	}
	return family ? "ip" : NULL;
}

static void addr_str(__u8 family, const __u8 *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
}

static const char *table_name(__u32 t, char *buf, size_t len)
{
	switch (t) {
	case 255: return "local";
	case 254: return "main";
	case 253: return "default";
	}
	snprintf(buf, len, "%u", t);
	return buf;
}

static const char *nud_name(__u32 s)
{
	switch (s) {
	case 0x00: return "NONE";
	case 0x01: return "INCOMPLETE";
	case 0x02: return "REACHABLE";
	case 0x04: return "STALE";
	case 0x08: return "DELAY";
	case 0x10: return "PROBE";
	case 0x20: return "FAILED";
	case 0x40: return "NOARP";
	case 0x80: return "PERMANENT";
	}
	return "?";
}

static const char *icmp_name(int type, int code)
{
	if (type == 3) {
		static const char *u[] = { "net_unreachable", "host_unreachable",
					   "protocol_unreachable", "port_unreachable",
					   "fragmentation_needed", "source_route_failed" };
		if (code >= 0 && code < 6)
			return u[code];
		if (code == 13)
			return "admin_prohibited";
		return "unreachable";
	}
	if (type == 11)
		return code == 0 ? "ttl_exceeded" : "reassembly_time_exceeded";
	if (type == 5)
		return "redirect";
	if (type == 12)
		return "parameter_problem";
	if (type == 0)
		return "echo_reply";
	return "icmp";
}

static const char *xdp_act(__u32 a)
{
	static const char *n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT" };

	return a < 5 ? n[a] : "XDP_?";
}

static void tcp_flags_str(__u8 f, char *buf)
{
	static const char c[] = "FSRPAUEC";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			buf[n++] = c[i];
	buf[n] = 0;
}

/* What an event says, computed once for both renderings. */
struct view {
	const char *verdict;   /* "drop", "consumed", ... or NULL */
	const char *reason;    /* a name, or NULL */
	long long reason_code; /* -1: none */
	char reason_buf[48];
	char location[96];
	char detail[200];
	bool is_route;
	const char *route_result; /* "ok", "no_match", "error" */
	char gw[48], oif_name[TRACE_IFNAMSIZ + 1];
};

static void view_of(const struct trace_item *it, struct view *v)
{
	const struct trace_rec *e = &it->r;
	char tb[16], a[48];

	memset(v, 0, sizeof(*v));
	v->reason_code = -1;
	if (e->location)
		trace_ksym(e->location, v->location, sizeof(v->location));
	switch (e->hook) {
	case TRH_KFREE_SKB:
		v->verdict = "drop";
		v->reason_code = e->reason;
		v->reason = trace_drop_reason(e->reason);
		if (!v->reason) {
			snprintf(v->reason_buf, sizeof(v->reason_buf), "reason %u", e->reason);
			v->reason = v->reason_buf;
		}
		snprintf(v->detail, sizeof(v->detail), "DROP %s%s%s", v->reason,
			 v->location[0] ? " at " : "", v->location);
		break;
	case TRH_CONSUME_SKB:
		v->verdict = "consumed";
		snprintf(v->detail, sizeof(v->detail), "consumed%s%s", v->location[0] ? " at " : "",
			 v->location);
		break;
	case TRH_NET_DEV_XMIT:
		v->verdict = e->err == 0 ? "sent" : "xmit_error";
		snprintf(v->detail, sizeof(v->detail), e->err ? "transmit failed: rc %d" : "sent", e->err);
		break;
	case TRH_QDISC_ENQUEUE:
		snprintf(v->detail, sizeof(v->detail), "qdisc %x:%x", e->aux >> 16, e->aux & 0xffff);
		break;
	case TRH_FIB_LOOKUP:
	case TRH_FIB6_LOOKUP: {
		const char *t = table_name(e->aux, tb, sizeof(tb));
		bool unreach6 = e->hook == TRH_FIB6_LOOKUP && (e->reason == 7 || e->reason == 6 ||
							      e->reason == 8);
		v->is_route = true;
		if (e->gw_family)
			addr_str(e->gw_family, e->gw, v->gw, sizeof(v->gw));
		snprintf(v->oif_name, sizeof(v->oif_name), "%s", e->ifname);
		if (e->hook == TRH_FIB_LOOKUP && e->err == -EAGAIN_) {
			v->route_result = "no_match";
			v->reason = "no_match";
			snprintf(v->detail, sizeof(v->detail), "route lookup: no match in table %s", t);
		} else if ((e->hook == TRH_FIB_LOOKUP && e->err) || unreach6 || (e->hook == TRH_FIB6_LOOKUP && !e->oif)) {
			v->route_result = "error";
			v->reason = e->hook == TRH_FIB_LOOKUP && e->err == -101 ? "unreachable" :
				    e->hook == TRH_FIB_LOOKUP && e->err == -113 ? "host_unreachable" :
				    e->hook == TRH_FIB_LOOKUP && e->err == -13 ? "prohibited" :
				    unreach6 ? "unreachable" : "error";
			v->reason_code = e->hook == TRH_FIB_LOOKUP ? (long long)e->err : (long long)e->reason;
			snprintf(v->detail, sizeof(v->detail), "route lookup: %s in table %s (%s)", v->reason, t,
				 e->hook == TRH_FIB_LOOKUP ? strerror(-e->err) : "no route");
		} else {
			v->route_result = "ok";
			v->reason = "ok";
			snprintf(v->detail, sizeof(v->detail), "route: %s%s%sdev %s, table %s",
				 v->gw[0] ? "via " : "", v->gw, v->gw[0] ? " " : "",
				 e->ifname[0] ? e->ifname : "?", t);
		}
		break;
	}
	case TRH_NEIGH_UPDATE:
		addr_str(e->gw_family, e->gw, a, sizeof(a));
		v->reason = nud_name(e->reason);
		v->reason_code = e->reason;
		snprintf(v->detail, sizeof(v->detail), "neighbour %s: %s -> %s", a, nud_name(e->aux),
			 v->reason);
		break;
	case TRH_NEIGH_DEAD:
		addr_str(e->gw_family, e->gw, a, sizeof(a));
		v->reason = "dead";
		snprintf(v->detail, sizeof(v->detail), "neighbour %s is dead: packet not sent", a);
		break;
	case TRH_ICMP_SEND:
		v->verdict = "icmp_sent";
		v->reason = icmp_name(e->reason >> 8, e->reason & 0xff);
		v->reason_code = e->reason;
		snprintf(v->detail, sizeof(v->detail), "ICMP %s sent back (type %u code %u)", v->reason,
			 e->reason >> 8, e->reason & 0xff);
		break;
	case TRH_TCP_SEND_RESET:
		v->verdict = "rst_sent";
		v->reason = trace_rst_reason(e->reason);
		v->reason_code = e->reason;
		snprintf(v->detail, sizeof(v->detail), "TCP RST sent back (%s)", v->reason ? v->reason : "?");
		break;
	case TRH_TCP_RECEIVE_RESET:
		v->verdict = "rst_received";
		snprintf(v->detail, sizeof(v->detail), "TCP RST received: connection reset");
		break;
	case TRH_TCP_RETRANSMIT:
		snprintf(v->detail, sizeof(v->detail), "TCP retransmit%s", e->err ? " failed" : "");
		break;
	case TRH_TCP_BAD_CSUM:
		v->reason = "bad_checksum";
		snprintf(v->detail, sizeof(v->detail), "bad TCP checksum");
		break;
	case TRH_UDP_FAIL_RCV:
		v->reason = "socket_queue_full";
		v->reason_code = e->err;
		snprintf(v->detail, sizeof(v->detail), "UDP socket could not queue it (rc %d)", e->err);
		break;
	case TRH_XDP_EXCEPTION:
		v->verdict = "aborted";
		v->reason = xdp_act(e->reason);
		v->reason_code = e->reason;
		snprintf(v->detail, sizeof(v->detail), "XDP exception: %s from program id %u", v->reason, e->aux);
		break;
	case TRH_XDP_REDIRECT:
	case TRH_XDP_REDIRECT_ERR:
		v->verdict = e->hook == TRH_XDP_REDIRECT ? "redirect" : "redirect_error";
		v->reason_code = e->err;
		snprintf(v->detail, sizeof(v->detail), "XDP redirect%s%s (program id %u, map %u index %u)",
			 e->err ? " failed: " : "", e->err ? strerror(-e->err) : "", e->aux, e->oif, e->iif);
		break;
	case TRH_VERDICT:
		v->verdict = it->verdict;
		v->reason = it->why[0] ? it->why : NULL;
		v->reason_code = e->reason;
		snprintf(v->detail, sizeof(v->detail), "%s: %s%s%s", it->prog, it->verdict,
			 it->why[0] ? " " : "", it->why);
		break;
	default:
		break;
	}
}

/* "ICMP 198.18.0.2 > 198.18.0.100 echo request id 5 seq 1, 84 bytes" */
static void packet_line(const struct trace_rec *e, char *buf, size_t len)
{
	char s[48], d[48], fl[10];
	const char *p = proto_name(e->family, e->proto);

	if (!e->family) {
		snprintf(buf, len, "not IP, %u bytes", e->len);
		return;
	}
	addr_str(e->family, e->saddr, s, sizeof(s));
	addr_str(e->family, e->daddr, d, sizeof(d));
	if (e->proto == 6 || e->proto == 17) {
		tcp_flags_str(e->tcp_flags, fl);
		snprintf(buf, len, "%s %s:%u > %s:%u%s%s%s, %u bytes", e->proto == 6 ? "TCP" : "UDP", s,
			 e->sport, d, e->dport, e->proto == 6 ? " [" : "", e->proto == 6 ? fl : "",
			 e->proto == 6 ? "]" : "", e->len);
	} else if (e->proto == 1 || e->proto == 58) {
		const char *t = e->icmp_type == (e->proto == 1 ? 8 : 128) ? "echo request" :
				e->icmp_type == (e->proto == 1 ? 0 : 129) ? "echo reply" : NULL;
		if (t)
			snprintf(buf, len, "ICMP %s > %s %s id %u seq %u, %u bytes", s, d, t, e->sport,
				 e->dport, e->len);
		else
			snprintf(buf, len, "ICMP %s > %s type %u code %u, %u bytes", s, d, e->icmp_type,
				 e->icmp_code, e->len);
	} else {
		snprintf(buf, len, "%s %s > %s proto %u, %u bytes", p ? p : "ip", s, d, e->proto, e->len);
	}
}

static void iso_time(const struct trace_show *s, __u64 ts_ns, char *buf, size_t len)
{
	double t = ts_ns / 1e9 + s->mono_to_real;
	time_t sec = (time_t)t;
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((t - sec) * 1e6));
}

static void json_kstr_or_null(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	if (v && v[0])
		json_str(j, v);
	else
		json_null(j);
}

static void json_kuint_or_null(struct json *j, const char *k, bool have, __u64 v)
{
	json_key(j, k);
	if (have)
		json_uint(j, v);
	else
		json_null(j);
}

static void show_event_json(struct trace_show *s, const struct trace_item *it, __u64 id)
{
	const struct trace_rec *e = &it->r;
	bool ip = e->family != 0, ports = e->proto == 6 || e->proto == 17;
	char tbuf[40], a[48], tp[48], fl[10];
	struct view v;
	struct json j;

	view_of(it, &v);
	iso_time(s, e->ts_ns, tbuf, sizeof(tbuf));
	json_record_begin(&j, stdout, "event");
	json_kuint_or_null(&j, "packet", id != 0, id);
	json_kstr(&j, "time", tbuf);
	json_kdouble(&j, "elapsed", e->ts_ns / 1e9 - s->start_mono);
	json_kuint(&j, "ts_ns", e->ts_ns);
	json_kstr(&j, "hook", trace_hook_name(e->hook));
	snprintf(tp, sizeof(tp), "%s:%s", trace_hook_group(e->hook), trace_hook_name(e->hook));
	json_kstr(&j, "tracepoint", tp);
	json_kuint_or_null(&j, "netns", e->netns, e->netns);
	json_kstr_or_null(&j, "netns_name", trace_netns_name(e->netns));
	json_kstr_or_null(&j, "interface", e->ifname);
	json_kuint_or_null(&j, "len", e->len, e->len);
	json_kstr_or_null(&j, "proto", proto_name(e->family, e->proto));
	addr_str(e->family, e->saddr, a, sizeof(a));
	json_kstr_or_null(&j, "src", ip ? a : NULL);
	addr_str(e->family, e->daddr, a, sizeof(a));
	json_kstr_or_null(&j, "dst", ip ? a : NULL);
	json_kuint_or_null(&j, "sport", ip && ports, e->sport);
	json_kuint_or_null(&j, "dport", ip && ports, e->dport);
	json_kuint_or_null(&j, "ttl", e->flags & TRF_HAVE_PKT, e->ttl);
	tcp_flags_str(e->tcp_flags, fl);
	json_kstr_or_null(&j, "tcp_flags", e->proto == 6 && (e->flags & TRF_HAVE_PKT) ? fl : NULL);
	json_kuint_or_null(&j, "icmp_type", (e->proto == 1 || e->proto == 58) && (e->flags & TRF_HAVE_PKT),
			   e->icmp_type);
	json_kstr_or_null(&j, "verdict", v.verdict);
	json_kstr_or_null(&j, "reason", v.reason);
	json_key(&j, "reason_code");
	if (v.reason_code >= 0 || e->hook == TRH_FIB_LOOKUP)
		json_int(&j, v.reason_code);
	else
		json_null(&j);
	json_kstr_or_null(&j, "location", v.location);
	json_key(&j, "route");
	if (v.is_route) {
		char tb[16];
		json_obj_begin(&j);
		json_kstr(&j, "table", table_name(e->aux, tb, sizeof(tb)));
		json_kstr(&j, "result", v.route_result);
		json_kstr_or_null(&j, "gateway", v.gw);
		json_kstr_or_null(&j, "dev", v.oif_name);
		json_obj_end(&j);
	} else {
		json_null(&j);
	}
	json_kstr_or_null(&j, "program", e->hook == TRH_VERDICT ? it->prog : NULL);
	json_kbool(&j, "attributed", e->flags & TRF_ATTRIBUTED);
	json_kstr(&j, "detail", v.detail);
	json_obj_end(&j);
	fputc('\n', stdout);
}

static void show_event_text(struct trace_show *s, const struct trace_item *it, double t0)
{
	const struct trace_rec *e = &it->r;
	const char *ns = trace_netns_name(e->netns);
	char nsbuf[16], what[64];
	struct view v;

	view_of(it, &v);
	if (!ns) {
		snprintf(nsbuf, sizeof(nsbuf), "%u", e->netns);
		ns = e->netns ? nsbuf : "-";
	}
	snprintf(what, sizeof(what), "%s", trace_hook_name(e->hook));
	printf("  %+10.6f  %-18s %-12s %-18s %s\n", e->ts_ns / 1e9 - t0, ns,
	       e->ifname[0] ? e->ifname : "-", what, v.detail);
}

/* ---- pcap ---- */

static void pcap_item(struct trace_show *s, const struct trace_item *it, const char *comment)
{
#ifdef HAVE_PCAPNG
	const struct trace_rec *e = &it->r;
	__u8 frame[14 + TRACE_SNAP];
	const void *p = e->data;
	__u32 n = e->cap_len, orig = e->len;
	int ifid;

	if (!s->pcap || !n)
		return;
	if (!(e->flags & TRF_MAC)) {
		/* pcapng here is Ethernet: give an IP packet a zero Ethernet header. */
		memset(frame, 0, 12);
		frame[12] = e->family == 6 ? 0x86 : 0x08;
		frame[13] = e->family == 6 ? 0xdd : 0x00;
		memcpy(frame + 14, e->data, n > TRACE_SNAP ? TRACE_SNAP : n);
		p = frame;
		n += 14;
		orig += 14;
	}
	if (orig < n)
		orig = n;
	ifid = pcapng_interface(s->pcap, e->netns, e->ifindex, e->ifname[0] ? e->ifname : "?");
	if (ifid >= 0)
		pcapng_packet(s->pcap, ifid, (__u64)((e->ts_ns / 1e9 + s->mono_to_real) * 1e9), p, n,
			      orig, comment);
#else
	(void)s; (void)it; (void)comment;
#endif
}

/* ---- summary counts ---- */

static void count_drop(struct trace_show *s, const struct trace_item *it)
{
	struct view v;
	char reason[48];

	view_of(it, &v);
	snprintf(reason, sizeof(reason), "%s%s%s", it->r.hook == TRH_VERDICT ? it->prog : "",
		 it->r.hook == TRH_VERDICT ? ":" : "", v.reason ? v.reason : v.verdict ? v.verdict : "?");
	for (size_t i = 0; i < s->ncnt; i++)
		if (!strcmp(s->cnt[i].reason, reason) && !strcmp(s->cnt[i].location, v.location)) {
			s->cnt[i].n++;
			return;
		}
	if (s->ncnt == s->capcnt) {
		size_t nc = s->capcnt ? s->capcnt * 2 : 32;
		struct trace_count *n = realloc(s->cnt, nc * sizeof(*n));
		if (!n)
			return;
		s->cnt = n;
		s->capcnt = nc;
	}
	snprintf(s->cnt[s->ncnt].reason, sizeof(s->cnt[0].reason), "%s", reason);
	snprintf(s->cnt[s->ncnt].location, sizeof(s->cnt[0].location), "%s", v.location);
	s->cnt[s->ncnt++].n = 1;
}

static bool is_drop(const struct trace_item *it)
{
	if (it->r.hook == TRH_KFREE_SKB || it->r.hook == TRH_XDP_EXCEPTION ||
	    it->r.hook == TRH_XDP_REDIRECT_ERR)
		return true;
	return it->r.hook == TRH_VERDICT && (strstr(it->verdict, "DROP") || strstr(it->verdict, "SHOT") ||
					     strstr(it->verdict, "ABORTED"));
}

/* ---- journeys ---- */

static int cmp_item(const void *a, const void *b)
{
	const struct trace_item *x = a, *y = b;

	return x->r.ts_ns < y->r.ts_ns ? -1 : x->r.ts_ns > y->r.ts_ns;
}

static void show_journey(struct trace_show *s, struct trace_journey *jn)
{
	const struct trace_item *last, *first = NULL;
	const struct trace_rec *hdr = NULL;
	char line[200], comment[240];
	const char *fate;
	struct view v;

	if (!jn->n)
		return;
	qsort(jn->ev, jn->n, sizeof(*jn->ev), cmp_item);
	last = &jn->ev[jn->n - 1];
	for (size_t i = 0; i < jn->n; i++)
		if (jn->ev[i].r.flags & TRF_HAVE_PKT) {
			hdr = &jn->ev[i].r;
			break;
		}
	for (size_t i = 0; !hdr && i < jn->n; i++)
		if (jn->ev[i].r.flags & TRF_HAVE_FLOW)
			hdr = &jn->ev[i].r;
	first = &jn->ev[0];
	if (!hdr)
		hdr = &first->r;
	/* The fate is the first drop, else what ended it. */
	last = NULL;
	for (size_t i = 0; i < jn->n && !last; i++)
		if (is_drop(&jn->ev[i]))
			last = &jn->ev[i];
	if (!last)
		last = &jn->ev[jn->n - 1];
	view_of(last, &v);
	fate = is_drop(last) ? "dropped" : last->r.hook == TRH_CONSUME_SKB ? "consumed" : "in_flight";
	if (!strcmp(fate, "dropped"))
		s->dropped++;
	s->packets++;
	s->shown_events += jn->n;
	if (jn->display_id) {
		for (size_t i = 0; i < jn->n; i++)
			if (is_drop(&jn->ev[i]) || (s->summary_only && jn->ev[i].r.hook == TRH_ICMP_SEND))
				count_drop(s, &jn->ev[i]);
	} else {
		for (size_t i = 0; i < jn->n; i++)
			if (is_drop(&jn->ev[i]))
				count_drop(s, &jn->ev[i]);
	}
	packet_line(hdr, line, sizeof(line));
	snprintf(comment, sizeof(comment), "%s%s%s", fate, v.reason ? ": " : "", v.reason ? v.reason : "");
	/* One frame per packet: the first event that copied its bytes. */
	for (size_t i = 0; i < jn->n; i++)
		if (jn->ev[i].r.cap_len) {
			pcap_item(s, &jn->ev[i], comment);
			break;
		}
	if (s->summary_only)
		goto out;
	if (s->json) {
		struct json j;
		for (size_t i = 0; i < jn->n; i++)
			show_event_json(s, &jn->ev[i], jn->display_id);
		if (jn->display_id) {
			json_record_begin(&j, stdout, "packet");
			json_kuint(&j, "packet", jn->display_id);
			json_kuint(&j, "events", jn->n);
			json_kstr(&j, "fate", fate);
			json_kstr_or_null(&j, "reason", v.reason);
			json_kstr_or_null(&j, "hook", trace_hook_name(last->r.hook));
			json_kstr_or_null(&j, "netns_name", trace_netns_name(last->r.netns));
			json_kstr_or_null(&j, "interface", last->r.ifname);
			json_kstr(&j, "summary", line);
			json_obj_end(&j);
			fputc('\n', stdout);
		}
	} else {
		if (jn->display_id)
			printf("#%llu %s: %s%s%s\n", (unsigned long long)jn->display_id, line, fate,
			       v.reason ? " " : "", v.reason ? v.reason : "");
		for (size_t i = 0; i < jn->n; i++)
			show_event_text(s, &jn->ev[i], s->start_mono);
	}
out:
	if (s->max_packets && jn->display_id && s->packets >= s->max_packets)
		s->done = true;
}

void trace_show_init(struct trace_show *s)
{
	struct timespec rt, mt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	s->start_mono = mt.tv_sec + mt.tv_nsec / 1e9;
	s->mono_to_real = rt.tv_sec + rt.tv_nsec / 1e9 - s->start_mono;
	if (!s->idle_flush)
		s->idle_flush = 1.0;
	ns_scanned = now_mono();
	scan_netns();
}

static struct trace_journey *journey_of(struct trace_show *s, __u64 id)
{
	struct trace_journey *jn;

	for (size_t i = 0; i < s->nj; i++)
		if (s->j[i].bpf_id == id)
			return &s->j[i];
	if (s->nj == s->capj) {
		size_t nc = s->capj ? s->capj * 2 : 64;
		struct trace_journey *n = realloc(s->j, nc * sizeof(*n));
		if (!n)
			return NULL;
		s->j = n;
		s->capj = nc;
	}
	jn = &s->j[s->nj];
	memset(jn, 0, sizeof(*jn));
	jn->ev = malloc(JOURNEY_MAX_EVENTS * sizeof(*jn->ev));
	if (!jn->ev)
		return NULL;
	jn->bpf_id = id;
	jn->display_id = ++s->next_display_id;
	s->nj++;
	return jn;
}

static void journey_drop(struct trace_show *s, size_t i)
{
	free(s->j[i].ev);
	s->j[i] = s->j[--s->nj];
}

void trace_show_item(struct trace_show *s, const struct trace_item *it)
{
	struct trace_journey *jn;

	s->events++;
	if (s->done)
		return;
	if (!it->r.pkt_id) {
		struct trace_journey one = { .n = 1, .ev = (struct trace_item *)it };
		show_journey(s, &one);
		return;
	}
	jn = journey_of(s, it->r.pkt_id);
	if (!jn)
		return;
	if (jn->n == JOURNEY_MAX_EVENTS) {
		/* A long life (a looping packet): show what there is, go on as the same id. */
		__u64 keep = jn->display_id;
		show_journey(s, jn);
		jn->n = 0;
		jn->display_id = keep;
	}
	jn->ev[jn->n++] = *it;
	jn->last_seen = now_mono();
	if (it->r.flags & TRF_LAST)
		jn->ended = true;
}

void trace_show_flush(struct trace_show *s, bool force)
{
	double now = now_mono();

	for (size_t i = 0; i < s->nj;) {
		struct trace_journey *jn = &s->j[i];

		/* An ended packet waits a little: another CPU's events for it may still come. */
		if (force || (jn->ended && now - jn->last_seen > 0.05) ||
		    now - jn->last_seen > s->idle_flush) {
			if (!s->done)
				show_journey(s, jn);
			journey_drop(s, i);
			continue;
		}
		i++;
	}
	fflush(stdout);
}

void trace_show_free(struct trace_show *s)
{
	for (size_t i = 0; i < s->nj; i++)
		free(s->j[i].ev);
	free(s->j);
	free(s->cnt);
	s->j = NULL;
	s->cnt = NULL;
	s->nj = s->ncnt = 0;
}

void trace_show_attached(const struct trace_show *s, const struct trace_attached *a)
{
	struct json j;

	if (s->json) {
		json_record_begin(&j, stdout, "attached");
		json_kuint(&j, "tracepoints", a->nhooks);
		json_kstr(&j, "hooks", a->hooks);
		json_kstr_or_null(&j, "missing", a->missing);
		json_kstr(&j, "filter", a->filter);
		json_kuint(&j, "ringbuf_size", a->ringbuf_size);
		json_kuint(&j, "verdict_programs", a->verdict_progs);
		json_kstr_or_null(&j, "pcap", a->pcap);
		json_record_end(&j);
		return;
	}
	fprintf(stderr, "bpflab trace: %d tracepoints attached%s%s; filter: %s; %d bpflab program%s "
		"reporting verdicts%s%s. Ctrl-C to stop.\n", a->nhooks,
		a->missing[0] ? ", this kernel lacks " : "", a->missing,
		a->filter[0] ? a->filter : "(none: every packet)", a->verdict_progs,
		a->verdict_progs == 1 ? "" : "s", a->pcap ? "; writing " : "", a->pcap ? a->pcap : "");
	if (!s->summary_only)
		printf("#ID packet: fate\n  %10s  %-18s %-12s %-18s %s\n", "TIME(s)", "NETNS", "IFACE",
		       "HOOK", "WHAT");
	fflush(stdout);
}

void trace_show_lost(const struct trace_show *s, __u64 lost, __u64 vlost, __u32 ringbuf_size)
{
	struct json j;

	if (s->json) {
		json_record_begin(&j, stdout, "lost");
		json_kuint(&j, "lost", lost);
		json_kuint(&j, "verdicts_lost", vlost);
		json_record_end(&j);
		return;
	}
	fprintf(stderr, "bpflab trace: %llu event%s lost so far (and %llu verdicts): the %u KiB ring "
		"buffer was full; raise --ringbuf-size or narrow the filter\n",
		(unsigned long long)lost, lost == 1 ? "" : "s", (unsigned long long)vlost,
		ringbuf_size >> 10);
}

static int cmp_count(const void *a, const void *b)
{
	const struct trace_count *x = a, *y = b;

	return x->n > y->n ? -1 : x->n < y->n;
}

void trace_show_summary(struct trace_show *s, const struct trace_summary *sum)
{
	struct json j;

	qsort(s->cnt, s->ncnt, sizeof(*s->cnt), cmp_count);
	if (s->json) {
		for (size_t i = 0; i < s->ncnt; i++) {
			json_record_begin(&j, stdout, "drops");
			json_kstr(&j, "reason", s->cnt[i].reason);
			json_kstr_or_null(&j, "location", s->cnt[i].location);
			json_kuint(&j, "count", s->cnt[i].n);
			json_record_end(&j);
		}
		json_record_begin(&j, stdout, "summary");
		json_kdouble(&j, "elapsed", sum->elapsed);
		json_kuint(&j, "packets", s->packets);
		json_kuint(&j, "dropped", s->dropped);
		json_kuint(&j, "events", sum->events);
		json_kuint(&j, "seen", sum->seen);
		json_kuint(&j, "matched", sum->matched);
		json_kuint(&j, "lost", sum->lost);
		json_kuint(&j, "verdicts", sum->verdicts);
		json_kuint(&j, "verdicts_lost", sum->verdicts_lost);
		json_kuint(&j, "ringbuf_size", sum->ringbuf_size);
		json_record_end(&j);
		return;
	}
	if (s->summary_only || s->ncnt) {
		printf("%s%8s  %-40s %s\n", s->summary_only ? "" : "\n", "COUNT", "DROP REASON", "LOCATION");
		for (size_t i = 0; i < s->ncnt; i++)
			printf("%8llu  %-40s %s\n", (unsigned long long)s->cnt[i].n, s->cnt[i].reason,
			       s->cnt[i].location[0] ? s->cnt[i].location : "-");
	}
	fflush(stdout);
	fprintf(stderr, "\n%llu packets followed (%llu dropped), %llu events, %llu lost in %.1fs\n",
		(unsigned long long)s->packets, (unsigned long long)s->dropped,
		(unsigned long long)sum->events, (unsigned long long)(sum->lost + sum->verdicts_lost),
		sum->elapsed);
	if (sum->lost)
		fprintf(stderr, "%llu events did not fit in the %u KiB ring buffer: raise --ringbuf-size\n",
			(unsigned long long)sum->lost, sum->ringbuf_size >> 10);
}
