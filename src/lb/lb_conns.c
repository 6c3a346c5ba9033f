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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "opts.h"
#include "json.h"
#include "ifstats.h"
#include "lb_cmd.h"
#include "lb_conns.h"

#define CONNS_MAX 1000000 /* a walk of the LRU is bounded even if it churns under us */

struct names {
	char vip[LB_MAX_VIPS][64];
	char be[LB_MAX_BACKENDS][32];
};

static int names_read(struct lb_inst *in, struct names *nm, struct lb_cfg *s)
{
	int err = lb_cfg_read(&in->fds, s);

	if (err)
		return err;
	for (int i = 0; i < s->nvips; i++)
		if (s->vips[i].id < LB_MAX_VIPS)
			lb_fmt_vip(&s->vips[i].key, nm->vip[s->vips[i].id], sizeof(nm->vip[0]));
	for (int i = 0; i < s->nbackends; i++)
		if (s->backends[i].id < LB_MAX_BACKENDS)
			lb_fmt_addr_port(s->backends[i].addr, lb_be_port(&s->backends[i]),
					 nm->be[s->backends[i].id], sizeof(nm->be[0]));
	return 0;
}

int lb_conns(struct lb_inst *in, const char *vip, const char *backend)
{
	struct names *nm = calloc(1, sizeof(*nm));
	struct lb_cfg *s = calloc(1, sizeof(*s));
	struct lb_flow k, next, *prev = NULL;
	__u64 total = 0, shown = 0;
	struct json j;
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
	if (g_opts.json) {
		json_record_begin(&j, stdout, "conns");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "mode", lb_mode_str(in->meta.mode));
		json_key(&j, "flows");
		json_arr_begin(&j);
	} else {
		printf("%-5s %-22s %-22s %-22s%s\n", "proto", "client", "vip", "backend",
		       in->meta.mode == LB_MODE_NAT ? " nat port" : "");
	}
	while (total < CONNS_MAX && !bpf_map_get_next_key(in->fds.conntrack, prev, &next)) {
		char c[32], v[64];
		struct lb_ct ct;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(in->fds.conntrack, &k, &ct))
			continue; /* evicted meanwhile */
		total++;
		lb_fmt_addr_port(k.saddr, k.sport, c, sizeof(c));
		if (ct.vip_id < LB_MAX_VIPS && nm->vip[ct.vip_id][0])
			snprintf(v, sizeof(v), "%s", nm->vip[ct.vip_id]);
		else
			snprintf(v, sizeof(v), "%s", "?");
		const char *be = ct.backend_id < LB_MAX_BACKENDS && nm->be[ct.backend_id][0] ?
				 nm->be[ct.backend_id] : "?";
		/* --backend A.B.C.D matches any port of it, A.B.C.D:PORT that one */
		if ((vip && strcmp(vip, v)) ||
		    (backend && (strchr(backend, ':') ? strcmp(backend, be) :
				 strlen(backend) != strcspn(be, ":") ||
				 strncmp(backend, be, strlen(backend)))))
			continue;
		shown++;
		if (g_opts.json) {
			json_obj_begin(&j);
			json_kstr(&j, "proto", k.proto == 6 ? "tcp" : "udp");
			json_kstr(&j, "client", c);
			json_kstr(&j, "vip", v);
			json_kstr(&j, "backend", be);
			json_kuint(&j, "backend_id", ct.backend_id);
			json_key(&j, "nat_port");
			if (in->meta.mode == LB_MODE_NAT)
				json_uint(&j, ntohs(ct.nat_port));
			else
				json_null(&j);
			json_obj_end(&j);
		} else {
			printf("%-5s %-22s %-22s %-22s", k.proto == 6 ? "tcp" : "udp", c, v, be);
			if (in->meta.mode == LB_MODE_NAT)
				printf(" %u", ntohs(ct.nat_port));
			printf("\n");
		}
	}
	if (g_opts.json) {
		json_arr_end(&j);
		json_kuint(&j, "tracked", total);
		json_kuint(&j, "shown", shown);
		json_record_end(&j);
	} else {
		printf("%llu of %llu tracked flows shown\n", (unsigned long long)shown,
		       (unsigned long long)total);
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
			char n[64], a[32];

			lb_fmt_vip(&s->vips[i].key, n, sizeof(n));
			json_obj_begin(&j);
			json_kstr(&j, "vip", n);
			rate_json(&j, &v0[i], &v1[i], dt);
			json_key(&j, "backends");
			json_arr_begin(&j);
			for (int k = 0; k < s->nbackends; k++) {
				if (!lb_vip_eq(&s->backends[k].vip, &s->vips[i].key))
					continue;
				lb_fmt_addr_port(s->backends[k].addr, lb_be_port(&s->backends[k]), a, sizeof(a));
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
		char n[64], a[32];

		lb_fmt_vip(&s->vips[i].key, n, sizeof(n));
		printf("  %-22s %12.0f pkt/s %14.0f bit/s %8.0f new flows/s\n", n,
		       (v1[i].packets - v0[i].packets) / dt, 8.0 * (v1[i].bytes - v0[i].bytes) / dt,
		       (v1[i].new_flows - v0[i].new_flows) / dt);
		for (int k = 0; k < s->nbackends; k++) {
			if (!lb_vip_eq(&s->backends[k].vip, &s->vips[i].key))
				continue;
			lb_fmt_addr_port(s->backends[k].addr, lb_be_port(&s->backends[k]), a, sizeof(a));
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
	{ OPTDEF("vip", 0, OPT_STR, struct conns_args, vip, "VIP", "only flows of VIP A.B.C.D:PORT/PROTO") },
	{ OPTDEF("backend", 0, OPT_STR, struct conns_args, backend, "ADDR[:PORT]",
		 "only flows on this backend (any port when none is given)") },
	OPTS_END
};

const struct cmd_spec lb_conns_spec = {
	.name = "lb conns",
	.args = "[--vip VIP] [--backend ADDR[:PORT]] [--iface IFACE]",
	.about = "The flows in the connection table (ipvsadm -Lc): client, VIP and the backend\n"
		 "it is kept on (nat: and the source port towards it). The table is an LRU that\n"
		 "keeps no timestamps, so there is no age column: an idle flow stays until evicted.\n",
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
	__be32 addr;
	__be16 port;
	struct lb_inst in;
	int err;

	if ((err = opts_parse(spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	if (a.vip && lb_parse_vip(a.vip, &k))
		return usage_error("lb", "invalid --vip '%s': expected A.B.C.D:PORT/tcp|udp", a.vip);
	if (a.backend && lb_parse_addr_port(a.backend, &addr, &port))
		return usage_error("lb", "invalid --backend '%s': expected A.B.C.D[:PORT]", a.backend);
	if ((err = require_root("bpflab lb")) || (err = inst_find(a.iface, &in)))
		return err;
	if (spec == &lb_zero_spec)
		return lb_zero(&in);
	if (!(err = inst_open(&in, false, false))) {
		char v[64], b[32];
		/* compared as lb prints them, so 198.18.0.100:080/tcp matches too */
		if (a.vip)
			lb_fmt_vip(&k, v, sizeof(v));
		if (a.backend)
			lb_fmt_addr_port(addr, port, b, sizeof(b));
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
