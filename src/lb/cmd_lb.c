// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb: the talk's load balancer, made correct. This file holds the options and
 * subcommand tables and the configuration edits (vip, backend); apply, flush and save are
 * in lb_apply.c, start/stop and opening a running balancer in lb_start.c, show in lb_show.c. Every
 * subcommand but start works on the pinned maps from any process, under a flock. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "maglev.h"
#include "lb_cmd.h"
#include "lb_ct.h"
#include "lb_health.h"
#include "lb_conns.h"
#include "lb_announce.h"

/* What the option table parses into; lb_opts_from() makes the lb_opts the parts use. */
struct lb_args {
	const char *iface, *config, *mac;
	int mode, xdp_mode;
	__u32 table_size, ct_size;
	struct lb_fam_addrs snat, tunnel_src; /* once per family */
	int encap;            /* enum lb_encap: --encap, 0 when not given */
	uint64_t weight, new_flow_limit;
	bool dry_run, allow_empty, watch, rate;
	double interval, duration;
};

#define NOT_GIVEN_W UINT64_MAX

static const struct opt_enum lb_modes[] = {
	{ .name = "nat", .value = LB_MODE_NAT }, { .name = "dsr", .value = LB_MODE_DSR },
	{ .name = NULL }
};

static const struct opt_enum lb_encaps[] = {
	{ .name = "ipip", .value = LB_ENCAP_IPIP }, { .name = "gue", .value = LB_ENCAP_GUE },
	{ .name = NULL }
};

static int parse_table_size(const char *arg, void *dst, char *why, size_t whylen)
{
	uint64_t v;

	if (parse_u64(arg, 2, MAGLEV_MAX_SIZE, &v)) {
		snprintf(why, whylen, "a prime up to %u (e.g. 65537, 131071)", MAGLEV_MAX_SIZE);
		return -1;
	}
	if (!maglev_is_prime(v)) {
		snprintf(why, whylen, "not a prime; the next prime is %u", maglev_next_prime(v));
		return -1;
	}
	*(__u32 *)dst = v;
	return 0;
}

/* --ct-size: what the tables really hold, a power of two (the program masks a hash to
 * pick a bucket), so N is rounded up and the capacity shown is the rounded one. */
_Static_assert(LB_CT_MIN == 64 && LB_CT_MAX == 1u << 26, "--ct-size help: update the bounds");
static int parse_ct_size(const char *arg, void *dst, char *why, size_t whylen)
{
	uint64_t v;
	__u32 r;

	if (parse_u64(arg, 0, UINT64_MAX, &v) || !(r = lb_ct_size_round(v))) {
		snprintf(why, whylen, "flows per family from %u to %u (rounded up to a power of two)",
			 LB_CT_MIN, LB_CT_MAX);
		return -1;
	}
	*(__u32 *)dst = r;
	return 0;
}

/* --snat, --tunnel-src: an address of each family, each at most once. */
static int parse_fam_addr(const char *arg, void *dst, char *why, size_t whylen)
{
	struct lb_fam_addrs *f = dst;
	struct lb_ip ip;
	char w[256];
	int err = lb_parse_ip(arg, &ip, w, sizeof(w));

	if (err) {
		snprintf(why, whylen, "%s (an IPv4 address a.b.c.d or an IPv6 one, once per family)", w);
		return -1;
	}
	if ((ip.family == LB_FAM4 ? f->v4 : f->v6).family) {
		snprintf(why, whylen, "an %s address was given already (once per family)",
			 ip.family == LB_FAM4 ? "IPv4" : "IPv6");
		return -1;
	}
	if (ip.family == LB_FAM4)
		f->v4 = ip;
	else
		f->v6 = ip;
	return 0;
}

#define LB_ARG(field) offsetof(struct lb_args, field)
#define EDITS "start,stop,vip,backend,apply,flush,save,show"

/* Every option once; .only: the subcommands that take it (others refuse it). */
static const struct opt_def lb_opt_defs[] = {
	{ "iface", 'i', OPT_IFACE, LB_ARG(iface), "IFACE",
	  "which balancer (needed when several run in this netns)", .only = EDITS },
	{ "mode", 0, OPT_ENUM, LB_ARG(mode), "MODE", "how packets reach the backends",
	  .values = lb_modes, .only = "start" },
	{ "config", 'c', OPT_FILE, LB_ARG(config), "FILE", "configuration to apply after start",
	  .only = "start" },
	{ "table-size", 0, OPT_FUNC, LB_ARG(table_size), "P", "Maglev table size per VIP, a prime",
	  .def = "65537", .parse = parse_table_size, .only = "start" },
	{ "ct-size", 0, OPT_FUNC, LB_ARG(ct_size), "N",
	  "flows tracked per family, 64 to 67108864, rounded up to a power of two",
	  .def = "131072", .parse = parse_ct_size, .only = "start" },
	{ "new-flow-limit", 0, OPT_UINT, LB_ARG(new_flow_limit), "N",
	  "dsr/encap: new flows recorded per CPU and second; the rest go where Maglev says, "
	  "unrecorded (0: no limit)", .def = "0", .max = 100000000, .only = "start" },
	{ "snat", 0, OPT_FUNC, LB_ARG(snat), "ADDR",
	  "nat: source address towards backends (once per family: IPv4 and IPv6)",
	  .def = "IFACE's", .parse = parse_fam_addr, .only = "start" },
	{ "tunnel-src", 0, OPT_FUNC, LB_ARG(tunnel_src), "ADDR",
	  "encap VIPs: outer source address (once per family: IPv4 and IPv6)", .def = "IFACE's",
	  .parse = parse_fam_addr, .only = "start" },
	{ "encap", 0, OPT_ENUM, LB_ARG(encap), "ENCAP",
	  "vip add: reach the backends across routers, IPIP or GUE (UDP 6080)",
	  .values = lb_encaps, .only = "vip" },
	{ "xdp-mode", 'm', OPT_ENUM, LB_ARG(xdp_mode), "MODE", "XDP attach mode", .def = "auto",
	  .values = opts_xdp_modes, .only = "start" },
	{ "weight", 'w', OPT_UINT, LB_ARG(weight), "W",
	  "backend weight 0-65535 (0 drains: no new flows)", .def = "1", .max = 65535,
	  .only = "backend" },
	{ "mac", 0, OPT_STR, LB_ARG(mac), "MAC", "backend's MAC",
	  .def = "resolved through ARP", .only = "backend" },
	{ "dry-run", 0, OPT_FLAG, LB_ARG(dry_run), NULL, "print what would change, change nothing",
	  .only = "apply,flush" },
	{ "allow-empty", 0, OPT_FLAG, LB_ARG(allow_empty), NULL,
	  "accept a file with no VIP (removes them all)", .only = "apply" },
	{ "rate", 0, OPT_FLAG, LB_ARG(rate), NULL,
	  "packets and bits per second per VIP and backend, over one --interval", .only = "show" },
	{ "watch", 0, OPT_FLAG, LB_ARG(watch), NULL, "repeat every --interval, with rates",
	  .only = "show" },
	{ "interval", 'I', OPT_DURATION, LB_ARG(interval), "S", "seconds between samples",
	  .def = "1", .dmin = INTERVAL_MIN, .only = "show" },
	{ "duration", 'd', OPT_DURATION, LB_ARG(duration), "S", "stop after S seconds",
	  .only = "show" },
	OPTS_END
};

/* Is word one of the comma-separated list? */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0))
		if (strcspn(p, ",") == n && !strncmp(p, word, n))
			return true;
	return false;
}

/* An option given to a subcommand that ignores it is a mistake worth saying. */
static int check_only(const char *sub, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *w = argv[i];

		if (w[0] != '-' || !w[1])
			continue;
		for (const struct opt_def *d = lb_opt_defs; d->name; d++) {
			bool hit = w[1] == '-' ? !strncmp(w + 2, d->name, strcspn(w + 2, "=")) &&
						 strlen(d->name) == strcspn(w + 2, "=")
					       : d->short_opt && strchr(w + 1, d->short_opt) == w + 1;
			if (hit && d->only && !in_list(d->only, sub))
				return usage_error("lb", "--%s is not an option of 'lb %s' (it is for: %s)",
						   d->name, sub, d->only);
			if (hit && d->type != OPT_FLAG && !strchr(w, '=') && (w[1] == '-' || !w[2]))
				i++; /* its value */
		}
	}
	return 0;
}

/* ---- configuration edits ---- */

int lb_read_cfg(struct lb_inst *in, struct lb_cfg *s)
{
	int err = lb_cfg_read(&in->fds, s);

	if (!err)
		err = lb_checks_load(in->dir, s); /* the checks live beside the maps (lb_health.h) */
	if (err)
		pr_warn("reading the configuration from %s failed: %s\n", in->dir, strerr(err));
	return err ? EXIT_FAIL : 0;
}

int lb_edit_result(struct lb_inst *in, const char *what, const char *detail,
		   const struct lb_diff *d)
{
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "changed");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "change", what);
		json_kstr(&j, "detail", detail);
		json_kuint(&j, "generation", in->meta.generation);
		if (d) {
			json_kint(&j, "vips_added", d->vips_added);
			json_kint(&j, "vips_removed", d->vips_removed);
			json_kint(&j, "backends_added", d->backends_added);
			json_kint(&j, "backends_removed", d->backends_removed);
			json_kint(&j, "backends_reweighted", d->backends_reweighted);
			json_kdouble(&j, "moved_share", d->moved_share);
		}
		json_record_end(&j);
	} else {
		printf("lb on %s: %s %s\n", in->ifname, what, detail);
	}
	return EXIT_OK;
}

/* The message for an lb_cfg_edit error, naming what was asked. */
static void edit_refused(const struct lb_edit *e, const char *vip, const char *addr, int err)
{
	if (e->op == LB_VIP_ADD || e->op == LB_VIP_DEL)
		pr_warn("VIP %s: %s; nothing changed\n", vip,
			err == -EEXIST ? "already exists" : err == -ENOENT ? "no such VIP" :
			"too many VIPs");
	else if (err == -ENXIO)
		pr_warn("no VIP %s; add it first with 'bpflab lb vip add %s'; nothing changed\n",
			vip, vip);
	else if (err == -EEXIST)
		pr_warn("backend %s is already in VIP %s (use 'backend set' to change it); "
			"nothing changed\n", addr, vip);
	else if (err == -ENOENT)
		pr_warn("backend %s is not in VIP %s; nothing changed\n", addr, vip);

	else
		pr_warn("too many backends; nothing changed\n");
}

static int bad_addr(const char *what, int err, const char *why, const char *expect)
{
	if (err == -EADDRNOTAVAIL)
		return usage_error("lb", "%s %s", what, why);
	return usage_error("lb", "invalid %s: %s (expected %s)", what, why, expect);
}

/* lb vip add|del VIP, lb backend add|del|set VIP ADDR: the words into e, before any
 * balancer is looked for, so bad input is exit 2 whether one runs or not. */
static int edit_parse(char **pos, int npos, const struct lb_opts *o, struct lb_edit *e)
{
	static const struct { const char *obj, *verb; enum lb_edit_op op; } verbs[] = {
		{ "vip", "add", LB_VIP_ADD }, { "vip", "del", LB_VIP_DEL },
		{ "backend", "add", LB_BACKEND_ADD }, { "backend", "del", LB_BACKEND_DEL },
		{ "backend", "set", LB_BACKEND_SET },
	};
	const char *obj = pos[0], *verb = npos > 1 ? pos[1] : "";
	bool is_vip = !strcmp(obj, "vip");
	char why[256];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(obj, verbs[i].obj) && !strcmp(verb, verbs[i].verb))
			break;
	if (i == ARRAY_SIZE(verbs) || npos != (is_vip ? 3 : 4))
		return usage_error("lb", is_vip ? "usage: lb vip add|del VIP:PORT/PROTO" :
				   "usage: lb backend add|del|set VIP:PORT/PROTO ADDR[:PORT] "
				   "[--weight W] [--mac MAC]");
	e->op = verbs[i].op;
	if ((err = lb_parse_vip_why(pos[2], &e->vip, why, sizeof(why))))
		return bad_addr("VIP", err, why, "A.B.C.D:PORT/tcp|udp or [IPV6]:PORT/tcp|udp, "
				"port 1-65535");
	if (o->encap && e->op != LB_VIP_ADD)
		return usage_error("lb", "--encap is for 'vip add' only");
	e->vip_encap = o->encap;
	if (!is_vip) {
		if ((err = lb_parse_ip_port(pos[3], &e->backend.addr, &e->backend.port, why,
					    sizeof(why))))
			return bad_addr("backend", err, why, "A.B.C.D[:PORT], IPV6 or [IPV6]:PORT, "
					"port 1-65535");
		if (o->mac) {
			if (lb_parse_mac(o->mac, e->backend.mac))
				return usage_error("lb", "invalid --mac '%s'", o->mac);
			e->backend.has_mac = e->set_mac = true;
		}
		if (o->weight >= 0) {
			e->backend.weight = o->weight;
			e->set_weight = true;
		}
		if (e->op == LB_BACKEND_SET && !e->set_weight && !e->set_mac)
			return usage_error("lb", "backend set needs --weight or --mac");
	}
	return 0;
}

static int lb_edit(struct lb_inst *in, char **pos, struct lb_edit *e)
{
	const char *obj = pos[0], *verb = pos[1];
	bool is_vip = !strcmp(obj, "vip");
	struct lb_cfg *s;
	int ret, err;
	char what[48], d[128];

	s = calloc(1, sizeof(*s));
	if (!s)
		return EXIT_FAIL;
	if ((ret = inst_open(in, true, false)) || (ret = lb_read_cfg(in, s)))
		goto out;
	err = lb_cfg_edit(s, e);
	if (err == -EAFNOSUPPORT) {
		pr_warn("backend %s of VIP %s: %s; nothing changed\n", pos[3], pos[2],
			lb_family_refusal(&e->vip, lb_cfg_vip_encap(s, &e->vip), &e->backend.addr));
		ret = EXIT_USAGE;
		goto out;
	} else if (err) {
		edit_refused(e, pos[2], is_vip ? "" : pos[3], err);
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = lb_apply_cfg(in, s)))
		goto out;
	snprintf(what, sizeof(what), "%s %s", obj, verb);
	snprintf(d, sizeof(d), "%s%s%s", pos[2], is_vip ? "" : " ", is_vip ? "" : pos[3]);
	if (!is_vip && e->op != LB_BACKEND_DEL) {
		const struct lb_cfg_backend *cur =
			lb_cfg_backend_find(s, &e->vip, &e->backend.addr, e->backend.port);
		if (cur)
			snprintf(d + strlen(d), sizeof(d) - strlen(d), " weight %u", cur->weight);
	}
	ret = lb_edit_result(in, what, d, NULL);
out:
	inst_close(in);
	free(s);
	return ret;
}

static int sub_start(char **pos, int npos, struct lb_opts *o)
{
	const char *ifname = npos > 1 ? pos[1] : o->iface;

	if (!ifname || npos > 2)
		return usage_error("lb", "usage: lb start IFACE --mode nat|dsr");
	return lb_start(ifname, o);
}

static int sub_stop(char **pos, int npos, struct lb_opts *o)
{
	const char *ifname = npos > 1 ? pos[1] : o->iface;

	if (!ifname || npos > 2)
		return usage_error("lb", "usage: lb stop IFACE");
	return lb_stop(ifname);
}

static int sub_show(char **pos, int npos, struct lb_opts *o)
{
	struct lb_inst in;
	int err;

	if (npos > 1)
		return usage_error("lb", "unexpected argument '%s'", pos[1]);
	if ((err = inst_find(o->iface, &in)))
		return err;
	if (o->rate && o->watch)
		return usage_error("lb", "--rate and --watch: say one (--watch has pps too)");
	if (!(err = inst_open(&in, false, false)))
		err = o->rate ? lb_rate(&in, o->interval) : lb_show(&in, o);
	inst_close(&in);
	return err;
}

static int sub_edit(char **pos, int npos, struct lb_opts *o)
{
	struct lb_edit e = { .backend.weight = 1 };
	struct lb_inst in;
	int err = edit_parse(pos, npos, o, &e);

	if (!err)
		err = inst_find(o->iface, &in);
	return err ? err : lb_edit(&in, pos, &e);
}

static int sub_apply(char **pos, int npos, struct lb_opts *o)
{
	struct lb_inst in;
	int err;

	if (npos != 2)
		return usage_error("lb", "apply needs one FILE (or - for stdin)");
	if ((err = inst_find(o->iface, &in)))
		return err;
	return lb_apply(&in, pos[1], o);
}

/* lb flush, lb save: no argument, on the balancer found. */
static int sub_whole(char **pos, int npos, struct lb_opts *o)
{
	struct lb_inst in;
	int err;

	if (npos != 1)
		return usage_error("lb", "unexpected argument '%s'", pos[1]);
	if ((err = inst_find(o->iface, &in)))
		return err;
	return !strcmp(pos[0], "flush") ? lb_apply(&in, NULL, o) : lb_save(&in);
}

extern const struct cmd_spec cmd_lb_spec;

/* Parses one subcommand's words (argv[0] is its name) and runs fn on them. */
static int run(int (*fn)(char **pos, int npos, struct lb_opts *o), int argc, char **argv)
{
	struct lb_args a = { .weight = NOT_GIVEN_W, .new_flow_limit = NOT_GIVEN_W, .interval = 1,
			     .duration = -1 };
	struct lb_opts o;
	char *pos[8];
	int rc, npos = 0;

	if ((rc = check_only(argv[0], argc, argv)))
		return rc;
	rc = opts_parse(&cmd_lb_spec, argc, argv, &a);
	if (rc != OPTS_GO_ON)
		return rc;
	pos[npos++] = argv[0];
	for (int i = optind; i < argc; i++) {
		if (npos >= (int)ARRAY_SIZE(pos))
			return usage_error("lb", "too many arguments");
		pos[npos++] = argv[i];
	}
	o = (struct lb_opts){
		.iface = a.iface, .config = a.config, .mac = a.mac, .mode = a.mode, .table_size = a.table_size,
		.ct_size = a.ct_size, .snat = a.snat, .xdp_mode = a.xdp_mode,
		.encap = a.encap, .tunnel_src = a.tunnel_src,
		.weight = a.weight == NOT_GIVEN_W ? -1 : (int)a.weight,
		.new_flow_limit = a.new_flow_limit == NOT_GIVEN_W ? -1 : (long long)a.new_flow_limit,
		.watch = a.watch, .rate = a.rate, .dry_run = a.dry_run, .allow_empty = a.allow_empty,
		.interval = a.interval, .duration = a.duration,
	};
	if ((rc = require_root("bpflab lb")))
		return rc;
	return fn(pos, npos, &o);
}

#define LB_SUB(fn) \
	static int fn##_main(int argc, char **argv) { return run(fn, argc, argv); }
LB_SUB(sub_start)
LB_SUB(sub_stop)
LB_SUB(sub_edit)
LB_SUB(sub_apply)
LB_SUB(sub_whole)
LB_SUB(sub_show)

static const struct subcmd lb_subs[] = {
	{ "start", "IFACE --mode nat|dsr [--config FILE] [options]",
	  "load, attach and pin the balancer; on a running one, replace its program", sub_start_main, NULL },
	{ "stop", "IFACE", "detach it and remove its pins", sub_stop_main, NULL },
	{ "vip", "add|del VIP:PORT/PROTO [--encap ipip|gue]", "add or remove a VIP (and its backends)",
	  sub_edit_main, NULL },
	{ "backend", "add|set|del VIP:PORT/PROTO ADDR[:PORT] [--weight W] [--mac MAC]",
	  "add, change or remove a backend of a VIP", sub_edit_main, NULL },
	{ "apply", "FILE|- [--dry-run] [--allow-empty]",
	  "replace the whole configuration by FILE's (--dry-run: say what would change)",
	  sub_apply_main, NULL },
	{ "flush", "[--dry-run]", "remove every VIP and backend", sub_whole_main, NULL },
	{ "save", "", "print the running configuration as a config file", sub_whole_main, NULL },
	{ "show", "[--watch|--rate] [--interval S] [--duration S]", "VIPs, backends, counters",
	  sub_show_main, NULL },
	{ "health", "[IFACE...] [--duration S]",
	  "run the health checks of the configuration, draining and restoring backends",
	  lb_health_main, &lb_health_spec },
	{ "conns", "[--vip VIP] [--backend ADDR[:PORT]]", "the tracked flows: client, VIP, backend",
	  lb_conns_main, &lb_conns_spec },
	{ "zero", "", "set every counter to zero", lb_zero_main, &lb_zero_spec },
	{ "decap", "IFACE [--vip VIP ...] [--hook auto|xdp|tc]",
	  "on a backend: strip IPIP/GUE for its VIPs (foreground; counters on exit)",
	  lb_decap_main, &lb_decap_spec },
	{ "announce", "[--iface IFACE] [--table N] [--interval S]",
	  "keep a route per VIP address for the BGP speaker while the VIP is really up (foreground)",
	  lb_announce_main, &lb_announce_spec },
	{ "drain-node", "[--wait S]", "withdraw this node's VIPs from routing, for maintenance",
	  lb_drain_main, &lb_drain_spec },
	{ "undrain-node", "[--wait S]", "announce them again", lb_undrain_main, &lb_undrain_spec },
	{ .name = NULL }
};

const struct cmd_spec cmd_lb_spec = {
	.name = "lb",
	.args = "SUBCOMMAND [options]",
	.about =
	"An L4 load balancer in XDP (IPv4 and IPv6, TCP and UDP). Each flow to a VIP is placed on a\n"
	"backend by the VIP's Maglev table and kept there by a connection table.\n"
	"  nat  the LB rewrites the packet to come from its own address and go to the backend,\n"
	"       and rewrites the backend's reply to come from the VIP; backends need nothing.\n"
	"  dsr  only the MACs change; backends hold the VIP on lo (arp_ignore=1,\n"
	"       arp_announce=2) and answer the client directly.\n"
	"  A VIP added with --encap ipip|gue (or 'encap' in a config) is DSR across routers:\n"
	"       the packet goes unchanged inside IPIP or GUE (UDP 6080) to the backend, via\n"
	"       the kernel's next hop; backends strip it with `bpflab lb decap`.\n"
	"State lives in pinned maps under " BPFLAB_PIN_ROOT "/lb/IFACE[@NETNS]; `start` on a\n"
	"running balancer replaces its program and keeps every connection.\n",
	.opts = lb_opt_defs,
	.subs = lb_subs,
	.notes =
	"config FILE (for --config and apply; apply replaces the whole configuration, and\n"
	"refuses a file with no VIP unless --allow-empty; `save` prints one, `flush` empties):\n"
	"  vip 198.18.0.100:80/tcp [encap ipip|gue]\n"
	"  backend 198.18.0.100:80/tcp 198.18.0.11 [weight 2] [mac 02:00:c6:12:00:0b]\n"
	"  vip [2001:db8:18::100]:80/tcp\n"
	"  backend [2001:db8:18::100]:80/tcp 2001:db8:18::b     (or [2001:db8:18::b]:8080)\n"
	"A backend is of its VIP's family, or of either with encap (v4-in-v6, v6-in-v4).\n",
	.json_help = "JSON output (JSON Lines with show --watch)",
	.max_args = -1,
};

int cmd_lb(int argc, char **argv)
{
	return opts_dispatch(&cmd_lb_spec, argc - 1, argv + 1, NULL);
}
