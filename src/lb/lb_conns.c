// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What ipvsadm users reach for: `lb conns` (the tracked flows: client, VIP, backend; -c),
 * `lb show --rate` (packets and bytes per second per VIP and backend from two counter
 * reads; --rate) and `lb zero` (counters to zero, under the balancer's lock; -Z). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "opts.h"
#include "json.h"
#include "ifstats.h"
#include "lb_cmd.h"
#include "lb_conns.h"
#include "lb_ct.h"

struct names {
	char vip[LB_MAX_VIPS][LB_ADDR_STRLEN + 8];
	__u8 proto[LB_MAX_VIPS];
	char be[LB_MAX_BACKENDS][LB_ADDR_STRLEN];
};

static int names_read(struct lb_inst *in, struct names *nm, struct lb_cfg *s)
{
	int err = lb_cfg_read(&in->fds, s);

	if (err)
		return err;
	for (int i = 0; i < s->nvips; i++) {
		if (s->vips[i].id >= LB_MAX_VIPS)
			continue;
		lb_fmt_vip(&s->vips[i].key, nm->vip[s->vips[i].id], sizeof(nm->vip[0]));
		nm->proto[s->vips[i].id] = s->vips[i].key.proto;
	}
	for (int i = 0; i < s->nbackends; i++)
		if (s->backends[i].id < LB_MAX_BACKENDS)
			lb_fmt_ip_port(&s->backends[i].addr, lb_be_port(&s->backends[i]),
				       nm->be[s->backends[i].id], sizeof(nm->be[0]));
	return 0;
}

/* One tracked flow, whichever family's map it came from. */
struct conn {
	struct lb_ip client;
	__be16 sport;
	__u16 vip_id;
	struct lb_ct ct;
};

/* Does backend name be (as names_read prints it) match the filter: ADDR matches any
 * port of it, ADDR:PORT or [V6]:PORT only that one. */
static bool backend_match(const char *filter, const char *be)
{
	size_t n = strlen(filter);

	if (strchr(filter, ']') || (strchr(filter, ':') && !strchr(strchr(filter, ':') + 1, ':')))
		return !strcmp(filter, be);
	/* a bare address: be is "ADDR:PORT" (v4) or "[ADDR]:PORT" (v6) */
	if (be[0] == '[')
		return !strncmp(be + 1, filter, n) && be[n + 1] == ']';
	return !strncmp(be, filter, n) && be[n] == ':';
}

struct conns_walk {
	struct lb_inst *in;
	const struct names *nm;
	const char *vip, *backend;
	__u64 total, shown, now;
	struct json j;
};

static void conn_print(struct conns_walk *w, const struct conn *c)
{
	char cl[LB_ADDR_STRLEN];
	const char *v = c->vip_id < LB_MAX_VIPS && w->nm->vip[c->vip_id][0] ? w->nm->vip[c->vip_id] : "?";
	const char *be = c->ct.backend_id < LB_MAX_BACKENDS && w->nm->be[c->ct.backend_id][0] ?
			 w->nm->be[c->ct.backend_id] : "?";
	const char *proto = c->vip_id < LB_MAX_VIPS && w->nm->proto[c->vip_id] == IPPROTO_UDP ?
			    "udp" : c->vip_id < LB_MAX_VIPS && w->nm->proto[c->vip_id] ? "tcp" : "?";
	bool nat = w->in->meta.mode == LB_MODE_NAT && c->ct.nat_port;
	/* created is coarse-clock seconds: a flow made this second may read one ahead */
	__u32 created = c->ct.stamp & ~LB_CT_REF;
	__u64 age = w->now > created ? w->now - created : 0;

	w->total++;
	if ((w->vip && strcmp(w->vip, v)) || (w->backend && !backend_match(w->backend, be)))
		return;
	w->shown++;
	lb_fmt_ip_port(&c->client, c->sport, cl, sizeof(cl));
	if (g_opts.json) {
		json_obj_begin(&w->j);
		json_kstr(&w->j, "proto", proto);
		json_kint(&w->j, "family", c->client.family);
		json_kstr(&w->j, "client", cl);
		json_kstr(&w->j, "vip", v);
		json_kstr(&w->j, "backend", be);
		json_kuint(&w->j, "backend_id", c->ct.backend_id);
		json_key(&w->j, "nat_port");
		if (nat)
			json_uint(&w->j, ntohs(c->ct.nat_port));
		else
			json_null(&w->j);
		json_kuint(&w->j, "age_s", age);
		json_obj_end(&w->j);
	} else {
		printf("%-5s %-30s %-30s %-26s %6llu", proto, cl, v, be, (unsigned long long)age);
		if (nat)
			printf(" %u", ntohs(c->ct.nat_port));
		printf("\n");
	}
}

static int conns_one(void *ctx, const struct lb_ct_flow *f)
{
	struct conn c;

	memset(&c, 0, sizeof(c));
	c.client.family = f->family;
	c.client.a = f->saddr;
	c.sport = f->sport;
	c.vip_id = f->vip_id;
	c.ct = f->v;
	conn_print(ctx, &c);
	return 0;
}

int lb_conns(struct lb_inst *in, const char *vip, const char *backend)
{
	struct names *nm = calloc(1, sizeof(*nm));
	struct lb_cfg *s = calloc(1, sizeof(*s));
	struct conns_walk w = { .in = in, .nm = nm, .vip = vip, .backend = backend };
	struct timespec ts;
	int err, ret = EXIT_OK;

	if (!nm || !s) {
		ret = EXIT_FAIL;
		goto out;
	}
	if ((err = names_read(in, nm, s))) {
		pr_warn("reading the configuration from %s failed: %s\n", in->dir, strerr(err));
		ret = EXIT_FAIL;
		goto out;
	}
	/* the data plane stamps flows with bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	w.now = ts.tv_sec;
	if (g_opts.json) {
		json_record_begin(&w.j, stdout, "conns");
		json_kstr(&w.j, "interface", in->ifname);
		json_kstr(&w.j, "mode", lb_mode_str(in->meta.mode));
		json_key(&w.j, "flows");
		json_arr_begin(&w.j);
	} else {
		printf("%-5s %-30s %-30s %-26s %6s%s\n", "proto", "client", "vip", "backend", "age s",
		       in->meta.mode == LB_MODE_NAT ? " nat port" : "");
	}
	/* A table that cannot be read ends the listing there, said on stderr: the totals
	 * then count what was shown, and the exit code says it failed. */
	if ((err = lb_ct_walk(in->fds.conntrack, LB_FAM4, conns_one, &w)) ||
	    (err = lb_ct_walk(in->fds.conntrack6, LB_FAM6, conns_one, &w))) {
		pr_warn("reading the connection tables in %s failed: %s\n", in->dir, strerr(err));
		ret = EXIT_FAIL;
	}
	if (g_opts.json) {
		json_arr_end(&w.j);
		json_kuint(&w.j, "tracked", w.total);
		json_kuint(&w.j, "shown", w.shown);
		json_record_end(&w.j);
	} else {
		printf("%llu of %llu tracked flows shown\n", (unsigned long long)w.shown,
		       (unsigned long long)w.total);
	}
out:
	free(nm);
	free(s);
	return ret;
}

int lb_zero(struct lb_inst *in)
{
	int ncpu = libbpf_num_possible_cpus(), ret = EXIT_OK;
	void *z = ncpu > 0 ? calloc(ncpu, sizeof(struct lb_counters)) : NULL;
	struct ifstats_xdp x;

	if (!z)
		return EXIT_FAIL;
	if ((ret = inst_open(in, true, false)))
		goto out;
	for (__u32 id = 0; id < LB_MAX_VIPS; id++)
		if (bpf_map_update_elem(in->fds.vip_stats, &id, z, BPF_ANY))
			ret = EXIT_FAIL;
	for (__u32 id = 0; id < LB_MAX_BACKENDS; id++)
		if (bpf_map_update_elem(in->fds.backend_stats, &id, z, BPF_ANY))
			ret = EXIT_FAIL;
	{
		__u32 k = 0;
		if (bpf_map_update_elem(in->fds.counters, &k, z, BPF_ANY))
			ret = EXIT_FAIL;
	}
	/* tx_dropped counts from the driver's count at start: from now on, too. */
	if (in->meta.xdp_tx_counted && !ifstats_xdp_read(in->ifname, &x)) {
		in->meta.xdp_tx_err0 = x.xdp_tx_err;
		if (lb_meta_write(&in->fds, &in->meta))
			ret = EXIT_FAIL;
	}
	if (ret) {
		pr_warn("zeroing the counters in %s failed: %s\n", in->dir, strerror(errno));
		goto out;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "zeroed");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "pin_dir", in->dir);
		json_record_end(&j);
	} else {
		printf("lb on %s: counters zeroed\n", in->ifname);
	}
out:
	inst_close(in);
	free(z);
	return ret;
}

static void stats_all(struct lb_inst *in, const struct lb_cfg *s, struct lb_stats *v,
		      struct lb_stats *b)
{
	for (int i = 0; i < s->nvips; i++)
		lb_stats_read(in->fds.vip_stats, s->vips[i].id, &v[i]);
	for (int i = 0; i < s->nbackends; i++)
		lb_stats_read(in->fds.backend_stats, s->backends[i].id, &b[i]);
}

static void rate_json(struct json *j, const struct lb_stats *a, const struct lb_stats *b, double dt)
{
	json_kdouble(j, "pps", (double)(b->packets - a->packets) / dt);
	json_kdouble(j, "bps", 8.0 * (b->bytes - a->bytes) / dt);
	json_kdouble(j, "new_flows_per_s", (double)(b->new_flows - a->new_flows) / dt);
}

int lb_rate(struct lb_inst *in, double interval)
{
	struct lb_cfg *s = calloc(1, sizeof(*s));
	struct lb_stats *v0 = calloc(LB_MAX_VIPS * 2, sizeof(*v0)), *v1 = v0 ? v0 + LB_MAX_VIPS : NULL;
	struct lb_stats *b0 = calloc(LB_MAX_BACKENDS * 2, sizeof(*b0)),
			*b1 = b0 ? b0 + LB_MAX_BACKENDS : NULL;
	double t0, dt;
	int ret = EXIT_OK;

	if (!s || !v0 || !b0 || lb_cfg_read(&in->fds, s)) {
		ret = EXIT_FAIL;
		goto out;
	}
	t0 = now_mono();
	stats_all(in, s, v0, b0);
	poll(NULL, 0, (int)(interval * 1000));
	if (exiting)
		goto out;
	dt = now_mono() - t0;
	stats_all(in, s, v1, b1);
	if (g_opts.json) {
		struct json j;

		json_record_begin(&j, stdout, "rate");
		json_kstr(&j, "interface", in->ifname);
		json_kdouble(&j, "interval", dt);
		json_key(&j, "vips");
		json_arr_begin(&j);
		for (int i = 0; i < s->nvips; i++) {
			char n[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN];

			lb_fmt_vip(&s->vips[i].key, n, sizeof(n));
			json_obj_begin(&j);
			json_kstr(&j, "vip", n);
			rate_json(&j, &v0[i], &v1[i], dt);
			json_key(&j, "backends");
			json_arr_begin(&j);
			for (int k = 0; k < s->nbackends; k++) {
				if (!lb_vip_eq(&s->backends[k].vip, &s->vips[i].key))
					continue;
				lb_fmt_ip_port(&s->backends[k].addr, lb_be_port(&s->backends[k]), a, sizeof(a));
				json_obj_begin(&j);
				json_kstr(&j, "address", a);
				rate_json(&j, &b0[k], &b1[k], dt);
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_record_end(&j);
		goto out;
	}
	printf("lb on %s: rates over %.2f s\n", in->ifname, dt);
	for (int i = 0; i < s->nvips; i++) {
		char n[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN];

		lb_fmt_vip(&s->vips[i].key, n, sizeof(n));
		printf("  %-22s %12.0f pkt/s %14.0f bit/s %8.0f new flows/s\n", n,
		       (v1[i].packets - v0[i].packets) / dt, 8.0 * (v1[i].bytes - v0[i].bytes) / dt,
		       (v1[i].new_flows - v0[i].new_flows) / dt);
		for (int k = 0; k < s->nbackends; k++) {
			if (!lb_vip_eq(&s->backends[k].vip, &s->vips[i].key))
				continue;
			lb_fmt_ip_port(&s->backends[k].addr, lb_be_port(&s->backends[k]), a, sizeof(a));
			printf("    %-20s %12.0f pkt/s %14.0f bit/s %8.0f new flows/s\n", a,
			       (b1[k].packets - b0[k].packets) / dt, 8.0 * (b1[k].bytes - b0[k].bytes) / dt,
			       (b1[k].new_flows - b0[k].new_flows) / dt);
		}
	}
out:
	free(s);
	free(v0);
	free(b0);
	return ret;
}

/* ---- the subcommands (own option tables, like lb decap) ---- */

struct conns_args {
	const char *iface, *vip, *backend;
};

static const struct opt_def conns_opts[] = {
	{ OPTDEF("iface", 'i', OPT_IFACE, struct conns_args, iface, "IFACE",
		 "which balancer (needed when several run in this netns)") },
	{ OPTDEF("vip", 0, OPT_STR, struct conns_args, vip, "VIP",
		 "only flows of VIP A.B.C.D:PORT/PROTO or [IPV6]:PORT/PROTO") },
	{ OPTDEF("backend", 0, OPT_STR, struct conns_args, backend, "ADDR[:PORT]",
		 "only flows on this backend: A.B.C.D[:PORT], IPV6 or [IPV6]:PORT (any port when "
		 "none is given)") },
	OPTS_END
};

const struct cmd_spec lb_conns_spec = {
	.name = "lb conns",
	.args = "[--vip VIP] [--backend ADDR[:PORT]] [--iface IFACE]",
	.about = "The flows in the connection tables (ipvsadm -Lc), IPv4 and IPv6: client, VIP,\n"
		 "the backend it is kept on, its age in seconds since the balancer placed it (not\n"
		 "since its last packet: an idle flow stays until a new flow needs its slot) and,\n"
		 "in nat, the source port towards the backend.\n",
	.opts = conns_opts,
	.json_help = "one conns record",
	.max_args = 0,
};

static const struct opt_def zero_opts[] = {
	{ OPTDEF("iface", 'i', OPT_IFACE, struct conns_args, iface, "IFACE",
		 "which balancer (needed when several run in this netns)") },
	OPTS_END
};

const struct cmd_spec lb_zero_spec = {
	.name = "lb zero",
	.args = "[--iface IFACE]",
	.about = "Sets every packet, byte, flow and drop counter of the balancer to zero (ipvsadm\n"
		 "-Z), under its lock; flows, weights and the configuration stay.\n",
	.opts = zero_opts,
	.json_help = "one zeroed record",
	.max_args = 0,
};

static int conns_or_zero(const struct cmd_spec *spec, int argc, char **argv)
{
	struct conns_args a = {};
	struct lb_vip_key k;
	struct lb_ip addr;
	__be16 port;
	struct lb_inst in;
	char why[256];
	int err;

	if ((err = opts_parse(spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	if (a.vip && lb_parse_vip_why(a.vip, &k, why, sizeof(why)))
		return usage_error("lb", "invalid --vip: %s (expected A.B.C.D:PORT/tcp|udp or "
				   "[IPV6]:PORT/tcp|udp)", why);
	if (a.backend && lb_parse_ip_port(a.backend, &addr, &port, why, sizeof(why)))
		return usage_error("lb", "invalid --backend: %s (expected A.B.C.D[:PORT], IPV6 or "
				   "[IPV6]:PORT)", why);
	if ((err = require_root("bpflab lb")) || (err = inst_find(a.iface, &in)))
		return err;
	if (spec == &lb_zero_spec)
		return lb_zero(&in);
	if (!(err = inst_open(&in, false, false))) {
		char v[LB_ADDR_STRLEN + 8], b[LB_ADDR_STRLEN];
		/* compared as lb prints them, so 2001:DB8::1 matches 2001:db8::1 too */
		if (a.vip)
			lb_fmt_vip(&k, v, sizeof(v));
		if (a.backend)
			lb_fmt_ip_port(&addr, port, b, sizeof(b));
		err = lb_conns(&in, a.vip ? v : NULL, a.backend ? b : NULL);
	}
	inst_close(&in);
	return err;
}

int lb_conns_main(int argc, char **argv)
{
	return conns_or_zero(&lb_conns_spec, argc, argv);
}

int lb_zero_main(int argc, char **argv)
{
	return conns_or_zero(&lb_zero_spec, argc, argv);
}
