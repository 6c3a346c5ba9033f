// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb show [--watch]: reads the pinned maps into a struct lb_view, then renders it
 * once, as text or as one JSON record. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "json.h"
#include "lb_cmd.h"
#include "lb_ct.h"
#include "ifstats.h"
#include "lb_health.h"
#include "lb_announce.h"

struct lb_view_backend {
	char addr[LB_ADDR_STRLEN], mac[24];
	__u32 id, slots;
	__u16 weight;
	struct lb_stats st;
	bool has_health;         /* checked by `lb health` (now or by a checker since gone) */
	struct lb_health h;
};

struct lb_view_vip {
	char name[LB_ADDR_STRLEN + 8];
	__u32 id;
	struct lb_stats st;
	double pps;              /* with has_pps: packets per second since the last sample */
	bool dropping;           /* no backend of weight > 0: every packet is dropped */
	int announced;           /* lb announce: its route exists (1) or not (0); -1 none runs */
	bool has_ring;           /* ring_hash, table_hash: FNV-1a 64 of its Maglev table, as */
	__u64 ring_hash, table_hash; /* pinned bytes and as slot -> backend address */
	__u32 encap;             /* enum lb_encap */
	int first, n;            /* its backends: view->backends[first .. first + n) */
	bool has_health;
	struct lb_health h;
	struct lb_check check;
};

struct lb_view {
	bool has_pps;
	struct lb_meta meta;
	char snat[LB_ADDR_STRLEN], snat6[LB_ADDR_STRLEN], tsrc[LB_ADDR_STRLEN], tsrc6[LB_ADDR_STRLEN];
	__u64 flows, flows6, reverse_flows, memlock;
	__u64 memlock4, memlock6;  /* one family's maps: conntrack (+ reverse in nat) */
	int nvips, nbackends;
	struct lb_view_vip vips[LB_MAX_VIPS];
	struct lb_view_backend *backends;
	struct lb_counters counters;
	bool tx_counted;         /* tx_dropped: the veth's XDP_TX errors since start */
	__u64 tx_dropped;
	char warning[384];       /* "" when XDP_TX can leave */
};

/* Entries of a reverse map, whichever its key (the largest is 20 bytes). */
static __u64 count_flows(int fd)
{
	__u8 k[32], next[32];
	void *prev = NULL;
	__u64 n = 0;

	while (!bpf_map_get_next_key(fd, prev, next) && n < 100000000) {
		memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

static __u64 fd_memlock(int fd)
{
	char p[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Can what the balancer sends with XDP_TX leave, and how much did the driver drop since
 * start (the count at start is in meta: the device's counters are since its creation). */
static void tx_check(const struct lb_inst *in, struct lb_view *v)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct ifstats_xdp x;
	int ifindex = (int)v->meta.ifindex;

	/* lb_tx_doomed writes the warning only when there is one (v is zeroed) */
	if (!bpf_xdp_query(ifindex, 0, &q) && q.attach_mode == XDP_ATTACHED_DRV)
		lb_tx_doomed(in->ifname, ifindex, XDP_MODE_NATIVE, v->warning, sizeof(v->warning));
	if (v->meta.xdp_tx_counted && !ifstats_xdp_read(in->ifname, &x)) {
		v->tx_counted = true;
		v->tx_dropped = x.xdp_tx_err >= v->meta.xdp_tx_err0 ?
				x.xdp_tx_err - v->meta.xdp_tx_err0 : 0;
	}
}

static __u64 fnv1a(__u64 h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const __u8 *)p)[i]) * 0x100000001b3ull;
	return h;
}

/* Digests of a VIP's table, to compare nodes: equal ring_hash means byte-identical pinned
 * tables; equal table_hash means every slot names the same backend address, whatever ids
 * each node gave its backends. */
static void ring_digest(const struct lb_view *v, struct lb_view_vip *vv, const __u32 *ring,
			__u32 size)
{
	static short at[LB_MAX_BACKENDS];
	__u64 rh = 0xcbf29ce484222325ull, th = rh;

	memset(at, -1, sizeof(at));
	for (int b = vv->first; b < vv->first + vv->n; b++)
		if (v->backends[b].id < LB_MAX_BACKENDS)
			at[v->backends[b].id] = (short)b;
	for (__u32 k = 0; k < size; k++) {
		const char *a = ring[k] < LB_MAX_BACKENDS && at[ring[k]] >= 0 ?
				v->backends[at[ring[k]]].addr : "";
		rh = fnv1a(rh, &ring[k], sizeof(ring[k]));
		th = fnv1a(th, a, strlen(a) + 1);
	}
	vv->has_ring = true;
	vv->ring_hash = rh;
	vv->table_hash = th;
}

/* prev: the last sample's VIP stats by id (updated), for rates over dt seconds. */
static int view_read(struct lb_inst *in, struct lb_view *v, struct lb_stats *prev, double dt)
{
	struct lb_cfg *s = calloc(1, sizeof(*s));
	__u32 *ring = NULL;
	int err, hfd = -1;

	memset(v, 0, sizeof(*v));
	if (!s)
		return -ENOMEM;
	err = lb_meta_read(&in->fds, &v->meta);
	if (!err)
		err = lb_cfg_read(&in->fds, s);
	if (!err)
		err = lb_counters_read(&in->fds, &v->counters);
	if (!err)
		err = lb_checks_load(in->dir, s);
	hfd = lb_health_open(in->dir, false);
	if (!err) {
		ring = calloc(v->meta.table_size, sizeof(*ring));
		v->backends = calloc(s->nbackends + 1, sizeof(*v->backends));
		if (!ring || !v->backends)
			err = -ENOMEM;
	}
	if (err)
		goto out;
	{
		struct lb_fam_addrs sn, ts;

		lb_meta_sources(&v->meta, &sn, &ts);
		lb_fmt_ip(&sn.v4, v->snat, sizeof(v->snat));
		lb_fmt_ip(&sn.v6, v->snat6, sizeof(v->snat6));
		lb_fmt_ip(&ts.v4, v->tsrc, sizeof(v->tsrc));
		lb_fmt_ip(&ts.v6, v->tsrc6, sizeof(v->tsrc6));
		if (!sn.v4.family)
			v->snat[0] = 0;
		if (!sn.v6.family)
			v->snat6[0] = 0;
		if (!ts.v4.family)
			v->tsrc[0] = 0;
		if (!ts.v6.family)
			v->tsrc6[0] = 0;
	}
	tx_check(in, v);
	{
		long long n4 = lb_ct_count(in->fds.conntrack, LB_FAM4);
		long long n6 = lb_ct_count(in->fds.conntrack6, LB_FAM6);

		if (n4 < 0 || n6 < 0) {
			err = (int)(n4 < 0 ? n4 : n6);
			goto out;
		}
		v->flows6 = (__u64)n6;
		v->flows = (__u64)n4 + v->flows6;
	}
	v->memlock4 = fd_memlock(in->fds.conntrack);
	v->memlock6 = fd_memlock(in->fds.conntrack6);
	if (v->meta.mode == LB_MODE_NAT) {
		v->reverse_flows = count_flows(in->fds.reverse) + count_flows(in->fds.reverse6);
		v->memlock4 += fd_memlock(in->fds.reverse);
		v->memlock6 += fd_memlock(in->fds.reverse6);
	}
	v->memlock = v->memlock4 + v->memlock6;
	v->has_pps = prev != NULL;
	for (int i = 0; i < s->nvips; i++) {
		struct lb_view_vip *vv = &v->vips[v->nvips++];
		const struct lb_cfg_vip *cv = &s->vips[i];
		bool have_ring;

		lb_fmt_vip(&cv->key, vv->name, sizeof(vv->name));
		vv->id = cv->id;
		vv->encap = cv->encap;
		lb_stats_read(in->fds.vip_stats, cv->id, &vv->st);
		if (prev) {
			vv->pps = dt > 0 ? (vv->st.packets - prev[cv->id].packets) / dt : 0;
			prev[cv->id] = vv->st;
		}
		vv->dropping = !lb_cfg_vip_has_backend(s, &cv->key);
		vv->announced = lb_announce_state(&cv->key.addr, cv->key.family);
		vv->check = cv->check;
		if (hfd >= 0 && cv->check.type != LB_CHECK_NONE) {
			__u32 hk = LB_HKEY_VIP | cv->id;
			vv->has_health = !bpf_map_lookup_elem(hfd, &hk, &vv->h);
		}
		vv->first = v->nbackends;
		have_ring = !lb_ring_read(&in->fds, cv->id, ring, v->meta.table_size);
		for (int b = 0; b < s->nbackends; b++) {
			const struct lb_cfg_backend *cb = &s->backends[b];
			struct lb_view_backend *vb;

			if (!lb_vip_eq(&cb->vip, &cv->key))
				continue;
			vb = &v->backends[v->nbackends++];
			vv->n++;
			vb->id = cb->id;
			vb->weight = cb->weight;
			lb_fmt_ip_port(&cb->addr, cb->port, vb->addr, sizeof(vb->addr));
			lb_fmt_mac(cb->mac, vb->mac, sizeof(vb->mac));
			for (__u32 k = 0; have_ring && k < v->meta.table_size; k++)
				vb->slots += ring[k] == cb->id;
			lb_stats_read(in->fds.backend_stats, cb->id, &vb->st);
			if (hfd >= 0 && cv->check.type != LB_CHECK_NONE)
				vb->has_health = !bpf_map_lookup_elem(hfd, &cb->id, &vb->h) &&
						 !strcmp(vb->h.who, vb->addr);
		}
		if (have_ring)
			ring_digest(v, vv, ring, v->meta.table_size);
	}
out:
	if (hfd >= 0)
		close(hfd);
	free(ring);
	free(s);
	return err;
}

static void render_json(const struct lb_inst *in, const struct lb_view *v, bool stream)
{
	struct json j;

	json_record_begin(&j, stdout, stream ? "sample" : "lb");
	json_kstr(&j, "interface", in->ifname);
	json_kstr(&j, "mode", lb_mode_str(v->meta.mode));
	json_kuint(&j, "table_size", v->meta.table_size);
	json_kstr(&j, "snat", v->meta.mode == LB_MODE_NAT && *v->snat ? v->snat : NULL);
	json_kstr(&j, "snat6", v->meta.mode == LB_MODE_NAT && *v->snat6 ? v->snat6 : NULL);
	json_kstr(&j, "tunnel_src", *v->tsrc ? v->tsrc : NULL);
	json_kstr(&j, "tunnel_src6", *v->tsrc6 ? v->tsrc6 : NULL);
	json_kstr(&j, "pin_dir", in->dir);
	json_kuint(&j, "generation", v->meta.generation);
	json_kstr(&j, "warning", *v->warning ? v->warning : NULL);
	json_key(&j, "tx_dropped");
	if (v->tx_counted)
		json_uint(&j, v->tx_dropped);
	else
		json_null(&j);
	json_key(&j, "conntrack");
	json_obj_begin(&j);
	json_kuint(&j, "flows", v->flows);
	json_kuint(&j, "flows6", v->flows6);
	json_kuint(&j, "new_flow_limit", v->meta.new_flow_limit);
	json_key(&j, "reverse_flows");
	if (v->meta.mode == LB_MODE_NAT)
		json_uint(&j, v->reverse_flows);
	else
		json_null(&j);
	json_kuint(&j, "capacity", v->meta.ct_size);
	json_kuint(&j, "memlock_bytes", v->memlock);
	json_kdouble(&j, "bytes_per_flow", v->meta.ct_size ? (double)v->memlock4 / v->meta.ct_size : 0);
	json_kdouble(&j, "bytes_per_flow6", v->meta.ct_size ? (double)v->memlock6 / v->meta.ct_size : 0);
	json_obj_end(&j);
	json_key(&j, "vips");
	json_arr_begin(&j);
	for (int i = 0; i < v->nvips; i++) {
		const struct lb_view_vip *vv = &v->vips[i];

		json_obj_begin(&j);
		json_kstr(&j, "vip", vv->name);
		json_kuint(&j, "id", vv->id);
		json_kstr(&j, "encap", lb_encap_str(vv->encap));
		json_kuint(&j, "packets", vv->st.packets);
		json_kuint(&j, "bytes", vv->st.bytes);
		json_kuint(&j, "new_flows", vv->st.new_flows);
		json_kbool(&j, "dropping", vv->dropping);
		json_key(&j, "announced");
		if (vv->announced < 0)
			json_null(&j);
		else
			json_bool(&j, vv->announced);
		{
			char rh[24], th[24];
			snprintf(rh, sizeof(rh), "%016llx", (unsigned long long)vv->ring_hash);
			snprintf(th, sizeof(th), "%016llx", (unsigned long long)vv->table_hash);
			json_kstr(&j, "ring_hash", vv->has_ring ? rh : NULL);
			json_kstr(&j, "table_hash", vv->has_ring ? th : NULL);
		}
		if (v->has_pps)
			json_kdouble(&j, "pps", vv->pps);
		json_key(&j, "check");
		if (vv->check.type != LB_CHECK_NONE) {
			char ck[400];
			lb_check_format(&vv->check, ck, sizeof(ck));
			json_str(&j, ck);
		} else {
			json_null(&j);
		}
		json_key(&j, "health");
		if (vv->has_health) {
			json_obj_begin(&j);
			json_kstr(&j, "state", lb_health_str(vv->h.state));
			json_kuint(&j, "healthy", vv->h.healthy);
			json_kuint(&j, "backends", vv->h.total);
			json_kuint(&j, "need", vv->h.need);
			json_kbool(&j, "checker_running", lb_health_live(&vv->h));
			json_obj_end(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "backends");
		json_arr_begin(&j);
		for (int b = vv->first; b < vv->first + vv->n; b++) {
			const struct lb_view_backend *vb = &v->backends[b];

			json_obj_begin(&j);
			json_kstr(&j, "address", vb->addr);
			json_kuint(&j, "id", vb->id);
			json_kuint(&j, "weight", vb->weight);
			json_kstr(&j, "mac", vb->mac);
			json_kuint(&j, "slots", vb->slots);
			json_kuint(&j, "packets", vb->st.packets);
			json_kuint(&j, "bytes", vb->st.bytes);
			json_kuint(&j, "new_flows", vb->st.new_flows);
			json_key(&j, "health");
			if (vb->has_health) {
				json_obj_begin(&j);
				json_kstr(&j, "state", lb_health_str(vb->h.state));
				json_kbool(&j, "drained", vb->h.drained);
				json_kuint(&j, "restore_weight", vb->h.weight);
				json_kuint(&j, "checks", vb->h.checks);
				json_kuint(&j, "failed", vb->h.failed);
				json_kstr(&j, "last", vb->h.last);
				json_kuint(&j, "since_ms", vb->h.since_ms);
				json_kbool(&j, "checker_running", lb_health_live(&vb->h));
				json_obj_end(&j);
			} else {
				json_null(&j);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "counters");
	json_obj_begin(&j);
	for (int i = 0; i < LBC__MAX; i++)
		json_kuint(&j, lb_counter_name(i), v->counters.c[i]);
	json_obj_end(&j);
	json_record_end(&j);
}

static void render_text(const struct lb_inst *in, const struct lb_view *v)
{
	bool nat = v->meta.mode == LB_MODE_NAT;
	int w = 22; /* the name column: as wide as the longest (IPv6 names are) */

	for (int i = 0; i < v->nvips; i++)
		if ((int)strlen(v->vips[i].name) > w)
			w = (int)strlen(v->vips[i].name);
	for (int b = 0; b < v->nbackends; b++)
		if ((int)strlen(v->backends[b].addr) + 2 > w)
			w = (int)strlen(v->backends[b].addr) + 2;

	printf("lb on %s: %s mode%s%s%s%s, Maglev tables of %u, conntrack %llu flows (%llu IPv6) of "
	       "capacity %u per family (%s)\n",
	       in->ifname, lb_mode_str(v->meta.mode), nat ? ", snat " : "", nat ? v->snat : "",
	       nat && *v->snat && *v->snat6 ? " and " : "", nat ? v->snat6 : "",
	       v->meta.table_size, (unsigned long long)v->flows, (unsigned long long)v->flows6,
	       v->meta.ct_size, in->dir);
	if (*v->warning)
		printf("  warning: %s\n", v->warning);
	if (v->tx_counted)
		printf("  tx_dropped (XDP_TX the driver of %s dropped since start) %llu\n", in->ifname,
		       (unsigned long long)v->tx_dropped);
	for (int i = 0; i < v->nvips; i++) {
		const struct lb_view_vip *vv = &v->vips[i];

		printf("  %-*s packets %-10llu bytes %-12llu new flows %-8llu", w, vv->name,
		       (unsigned long long)vv->st.packets, (unsigned long long)vv->st.bytes,
		       (unsigned long long)vv->st.new_flows);
		if (v->has_pps)
			printf(" %.0f pkt/s", vv->pps);
		if (vv->encap)
			printf("  encap %s", lb_encap_str(vv->encap));
		printf("%s", vv->dropping ? "  no backend: dropping" : "");
		if (vv->announced >= 0)
			printf("  %s", vv->announced ? "announced" : "withdrawn");
		if (vv->has_health)
			printf("  health %s (%u/%u up, need %u)%s", lb_health_str(vv->h.state), vv->h.healthy,
			       vv->h.total, vv->h.need, lb_health_live(&vv->h) ? "" : " checker not running");
		else if (vv->check.type != LB_CHECK_NONE)
			printf("  checked, no checker has run ('bpflab lb health')");
		printf("\n");
		for (int b = vv->first; b < vv->first + vv->n; b++) {
			const struct lb_view_backend *vb = &v->backends[b];

			printf("    %-*s weight %-5u %-9s %5.1f%% of slots  packets %-10llu new flows %llu",
			       w - 2, vb->addr, vb->weight, vb->weight ? "" : "(drained)",
			       100.0 * vb->slots / v->meta.table_size, (unsigned long long)vb->st.packets,
			       (unsigned long long)vb->st.new_flows);
			if (vb->has_health)
				printf("  health %s (%s)", lb_health_str(vb->h.state), vb->h.last);
			printf("\n");
		}
	}
	printf("  counters:");
	for (int i = 0; i < LBC__MAX; i++)
		if (v->counters.c[i])
			printf(" %s %llu", lb_counter_name(i), (unsigned long long)v->counters.c[i]);
	printf("\n");
	fflush(stdout);
}

static int show_once(struct lb_inst *in, struct lb_stats *prev, double dt, bool stream)
{
	struct lb_view *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return EXIT_FAIL;
	err = view_read(in, v, prev, dt);
	if (err)
		pr_warn("reading the load balancer's maps failed: %s\n", strerr(err));
	else if (g_opts.json)
		render_json(in, v, stream);
	else
		render_text(in, v);
	free(v->backends);
	free(v);
	return err ? EXIT_FAIL : EXIT_OK;
}

int lb_show(struct lb_inst *in, struct lb_opts *o)
{
	struct lb_stats prev[LB_MAX_VIPS] = {};
	double start = now_mono(), last = start;
	int ret;

	if (!o->watch)
		return show_once(in, NULL, 0, false);
	ret = show_once(in, prev, 0, true);
	while (!ret && !exiting) {
		double now;
		poll(NULL, 0, (int)(o->interval * 1000));
		now = now_mono();
		if (exiting || (o->duration >= 0 && now - start > o->duration + 1e-3))
			break;
		if ((ret = inst_check_link(in)))
			break; /* interface deleted while watching */
		if (!g_opts.json)
			printf("\n");
		ret = show_once(in, prev, now - last, true);
		last = now;
	}
	return ret;
}
