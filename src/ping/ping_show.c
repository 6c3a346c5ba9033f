// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab ping's output. Each record is computed once into a struct, then written as text
 * or as JSON from it, so both say the same thing in the same words: "replied" (the program
 * sent a reply), "answered" (it left the interface), "refused" (passed, never answered). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "json.h"
#include "ping_cmd.h"
#include "ping_prog.h"

static const char *stat_names[PS__MAX] = {
	"packets", "echo_v4", "echo_v6", "passed", "dropped", "replied", "refused",
	"fragments", "malformed", "events_lost", "exthdrs", "events_suppressed",
};

static const char *refuse_names[PR__MAX] = {
	"", "l2_multicast", "dst_multicast", "dst_not_ours", "src_invalid", "loopback",
	"src_ours", "routing_header", "ip_checksum", "ip_options", "zero_checksum",
};

/* What the program does with an echo request: the same words for the configured action
 * (attached, summary) and for each request (echo), as count's "action". */
static const char *action_names[] = { "pass", "drop", "reply" };
/* The text output keeps the option's word for the configured action. */
static const char *action_text[] = { "watch", "drop", "reply" };

/* IPv4 addresses travel as ::ffff:a.b.c.d in the maps. */
static void addr_str(const __u8 *a16, char *buf, size_t len)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(a16, mapped, 12))
		inet_ntop(AF_INET, a16 + 12, buf, len);
	else
		inet_ntop(AF_INET6, a16, buf, len);
}

static void event_addr(const struct ping_event *e, const __u8 *a, char *buf, size_t len)
{
	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

static void hook_json(struct json *j, const struct ping_ctx *c)
{
	json_kstr(j, "hook", c->tc ? "tc" : "xdp");
	json_kstr(j, "attach", c->tc ? c->tc_via : NULL);
	json_kstr(j, "mode", c->tc ? NULL : xdp_mode_str(c->mode));
}

/* "tc (tcx link)", "xdp native" */
static void hook_text(const struct ping_ctx *c, char *buf, size_t len)
{
	if (c->tc)
		snprintf(buf, len, "tc (%s %s)", c->tc_via,
			 strcmp(c->tc_via, "tcx") ? "qdisc" : "link");
	else
		snprintf(buf, len, "xdp %s", xdp_mode_str(c->mode));
}

int ping_show_event(void *arg, void *data, size_t size)
{
	struct ping_ctx *c = arg;
	const struct ping_event *e = data;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tbuf[32];
	double t;
	time_t secs;
	struct tm tm;
	const char *reason;

	if (size < sizeof(*e))
		return 0;
	c->events++;
	if (c->quiet)
		return 0;
	t = e->ts_ns / 1e9 + c->mono_to_real;
	secs = (time_t)t;
	reason = e->refused && e->refused < PR__MAX ? refuse_names[e->refused] : NULL;
	event_addr(e, e->src, src, sizeof(src));
	event_addr(e, e->dst, dst, sizeof(dst));
	if (g_opts.json) {
		struct json j;
		char iso[48];

		gmtime_r(&secs, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(iso + strlen(iso), sizeof(iso) - strlen(iso), ".%06ldZ",
			 (long)((t - secs) * 1e6));
		json_record_begin(&j, stdout, "echo");
		json_kstr(&j, "time", iso);
		json_kint(&j, "family", e->family);
		json_kstr(&j, "src", src);
		json_kstr(&j, "dst", dst);
		json_kuint(&j, "id", e->id);
		json_kuint(&j, "seq", e->seq);
		json_kuint(&j, "size", e->size);
		json_kuint(&j, "ttl", e->ttl);
		json_kuint(&j, "vlan", e->vlan);
		json_kuint(&j, "ifindex", e->ifindex);
		json_kstr(&j, "action", e->verdict < 3 ? action_names[e->verdict] : "?");
		json_kstr(&j, "reason", reason);
		json_record_end(&j);
		return 0;
	}
	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	printf("%s.%06ld  %-4s %s > %s  echo id %u seq %u size %u ttl %u", tbuf,
	       (long)((t - secs) * 1e6), e->family == 4 ? "ipv4" : "ipv6", src, dst, e->id, e->seq,
	       e->size, e->ttl);
	if (e->vlan)
		printf(" vlan %u", e->vlan);
	if (reason)
		printf("  passed (refused: %s)\n", reason);
	else
		printf("  %s\n", e->verdict == PING_DROP ? "DROPPED" :
				 e->verdict != PING_REPLY ? "passed" :
				 c->tx_doomed ? "replied (the veth driver drops it)" : "REPLIED");
	fflush(stdout);
	return 0;
}

void ping_show_attached(const struct ping_ctx *c)
{
	const char *prog = c->tc ? "ping_tc" : "ping_xdp";
	char hook[48];

	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "attached");
		json_kstr(&j, "interface", c->ifname);
		json_kint(&j, "ifindex", c->ifindex);
		hook_json(&j, c);
		json_kstr(&j, "program", prog);
		json_kstr(&j, "action", action_names[c->action]);
		json_kstr(&j, "reason", *c->reason ? c->reason : NULL);
		json_record_end(&j);
		return;
	}
	hook_text(c, hook, sizeof(hook));
	if (*c->reason)
		fprintf(stderr, "hook %s (auto): %s\n", c->tc ? "tc" : "xdp", c->reason);
	fprintf(stderr, "%s attached to %s (ifindex %d) via %s: %s echo requests; Ctrl-C to stop\n",
		prog, c->ifname, c->ifindex, hook,
		c->action == PING_DROP ? "dropping" : c->action == PING_REPLY ? "answering" : "watching");
}

struct source_row {
	char addr[INET6_ADDRSTRLEN];
	__u64 n;
};

/* Everything the summary says, computed once for both renderings. */
struct ping_report {
	const struct ping_stats *s;
	double elapsed;
	__u64 txd, answered, in_ring;
	struct source_row rows[PING_MAX_SOURCES];
	int n;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct source_row *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->addr, y->addr);
}

static int read_sources(const struct ping_ctx *c, struct source_row *rows, int cap)
{
	static struct ping_source src[PING_MAX_SOURCES];
	int n = ping_prog_sources(c->skel, src, cap < PING_MAX_SOURCES ? cap : PING_MAX_SOURCES);

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		addr_str(src[i].a.a, rows[i].addr, sizeof(rows[i].addr));
		rows[i].n = src[i].n;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	return n;
}

static void summary_json(const struct ping_ctx *c, const struct ping_report *r)
{
	struct json j;

	json_record_begin(&j, stdout, "summary");
	json_kstr(&j, "interface", c->ifname);
	json_kint(&j, "ifindex", c->ifindex);
	hook_json(&j, c);
	json_kstr(&j, "action", action_names[c->action]);
	json_kdouble(&j, "elapsed", r->elapsed);
	for (int i = 0; i < PS__MAX; i++)
		json_kuint(&j, stat_names[i], r->s->c[i]);
	json_kuint(&j, "events", c->events);
	json_kuint(&j, "answered", r->answered);
	if (c->tx_counted)
		json_kuint(&j, "tx_dropped", r->txd);
	else
		json_kstr(&j, "tx_dropped", NULL);
	json_key(&j, "sources");
	json_arr_begin(&j);
	for (int i = 0; i < r->n; i++) {
		json_obj_begin(&j);
		json_kstr(&j, "addr", r->rows[i].addr);
		json_kuint(&j, "requests", r->rows[i].n);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_record_end(&j);
}

static void summary_text(const struct ping_ctx *c, const struct ping_report *r)
{
	const __u64 *v = r->s->c;
	char hook[48];

	hook_text(c, hook, sizeof(hook));
	printf("\nping (%s) on %s via %s: %llu echo requests in %.1fs (%llu IPv4, %llu IPv6)\n",
	       action_text[c->action], c->ifname, hook,
	       (unsigned long long)(v[PS_ECHO4] + v[PS_ECHO6]), r->elapsed,
	       (unsigned long long)v[PS_ECHO4], (unsigned long long)v[PS_ECHO6]);
	printf("  passed %llu  dropped %llu  replied %llu  answered %llu  refused %llu\n",
	       (unsigned long long)v[PS_PASSED], (unsigned long long)v[PS_DROPPED],
	       (unsigned long long)v[PS_REPLIED], (unsigned long long)r->answered,
	       (unsigned long long)v[PS_REFUSED]);
	if (c->tx_counted)
		printf("  replies dropped by the driver (tx_dropped: XDP_TX errors of %s) %llu\n",
		       c->ifname, (unsigned long long)r->txd);
	if (r->in_ring)
		printf("  replies the driver took into the peer's ring, where no NAPI reads them "
		       "(peer GRO on, no XDP) %llu\n", (unsigned long long)r->in_ring);
	printf("  packets seen %llu, fragments %llu, malformed %llu, too many extension headers "
	       "%llu\n", (unsigned long long)v[PS_PACKETS], (unsigned long long)v[PS_FRAGMENTS],
	       (unsigned long long)v[PS_MALFORMED], (unsigned long long)v[PS_EXTHDRS]);
	printf("  events shown %llu, suppressed by the rate limit %llu, lost (ring full) %llu\n",
	       (unsigned long long)c->events, (unsigned long long)v[PS_SUPPRESSED],
	       (unsigned long long)v[PS_EVENTS_LOST]);
	if (r->n) {
		printf("  %-40s %10s\n", "source", "requests");
		for (int i = 0; i < r->n; i++)
			printf("  %-40s %10llu\n", r->rows[i].addr, (unsigned long long)r->rows[i].n);
	}
}

void ping_show_summary(const struct ping_ctx *c, const struct ping_stats *s, double elapsed,
		       __u64 txd)
{
	static struct ping_report r;
	__u64 replied = s->c[PS_REPLIED];

	r.s = s;
	r.elapsed = elapsed;
	r.txd = txd;
	/* A doomed veth drops them (xdp_tx errors) or, when the peer has GRO on, leaves them
	 * in the peer's ring with no NAPI to take them: none counts as answered. */
	r.answered = c->tx_doomed ? 0 : replied > txd ? replied - txd : 0;
	r.in_ring = c->tx_doomed && replied > txd ? replied - txd : 0;
	r.n = read_sources(c, r.rows, PING_MAX_SOURCES);
	if (g_opts.json)
		summary_json(c, &r);
	else
		summary_text(c, &r);
}
