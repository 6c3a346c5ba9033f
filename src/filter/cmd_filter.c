// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab filter: options, subcommands, start/stop, apply. The running filter is its pin
 * folder /sys/fs/bpf/bpflab/filter/IFACE[@netns]: the maps by name, and either "link"
 * (its own XDP link) or, chained in front of lb (--then lb), "prog" and lb's program in
 * next_prog. Every subcommand but start works on the pinned maps, under a flock. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"
#include "json.h"
#include "filter_cmd.h"
#include "synproxy.h"

struct filter_args {
	const char *iface, *rules, *then, *synproxy;
	int xdp_mode;
	bool dry_run;
	__u32 top;
};

#define FA_(f) offsetof(struct filter_args, f)

static const struct opt_def filter_opt_defs[] = {
	{ "iface", 'i', OPT_IFACE, FA_(iface), "IFACE",
	  "which filter (needed when several run in this netns)", .only = "apply,show" },
	{ "rules", 'r', OPT_FILE, FA_(rules), "FILE", "rule file to start with",
	  .def = "none: everything passes", .only = "start" },
	{ "then", 0, OPT_STR, FA_(then), "lb",
	  "run in front of the load balancer already on IFACE (one XDP slot)", .only = "start" },
	{ "synproxy", 0, OPT_STR, FA_(synproxy), "PORTS",
	  "answer SYNs to PORTS with cookies in XDP, validated ACKs to the kernel's SYNPROXY",
	  .only = "start" },
	{ "xdp-mode", 'm', OPT_ENUM, FA_(xdp_mode), "MODE", "XDP attach mode", .def = "auto",
	  .values = opts_xdp_modes, .only = "start" },
	{ "dry-run", 'n', OPT_FLAG, FA_(dry_run), NULL, "print what would change, change nothing",
	  .only = "apply" },
	{ "top", 't', OPT_U32, FA_(top), "N", "top sources by drops to show", .def = "10",
	  .max = 1000, .only = "show" },
	OPTS_END
};

extern const struct cmd_spec cmd_filter_spec;

void finst_close(struct finst *in)
{
	filter_fds_close(&in->fds);
	if (in->lock_fd >= 0)
		close(in->lock_fd);
	in->lock_fd = -1;
}

static void finst_init(struct finst *in)
{
	memset(in, 0, sizeof(*in));
	in->lock_fd = -1;
#define FI_(n) in->fds.n = -1;
	FILTER_MAPS(FI_)
#undef FI_
}

/* The filter on iface, or the only one in this netns. 0 or an exit code (said). */
static int finst_find(const char *iface, struct finst *in)
{
	char only[256] = "";
	int found;

	finst_init(in);
	if (!iface) {
		found = pin_cmd_only("filter", only, sizeof(only));
		if (found != 1) {
			pr_warn(found ? "several filters run here; say which with --iface IFACE\n"
				      : "no filter runs in this network namespace; start one with "
					"'bpflab filter start IFACE'\n");
			return found ? EXIT_USAGE : EXIT_FAIL;
		}
		iface = only;
	}
	if (iface_check_name(iface))
		return EXIT_USAGE;
	snprintf(in->ifname, sizeof(in->ifname), "%s", iface);
	if (pin_dir_prepare("filter", iface, in->dir, sizeof(in->dir)))
		return EXIT_USAGE;
	if (access(in->dir, F_OK)) {
		pr_warn("no filter on '%s' (%s is missing); start one with 'bpflab filter start %s'\n",
			iface, in->dir, iface);
		return EXIT_FAIL;
	}
	return 0;
}

static int finst_open(struct finst *in, bool lock)
{
	char p[400];
	int err;

	if (lock) {
		in->lock_fd = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (in->lock_fd < 0 || flock(in->lock_fd, LOCK_EX)) {
			pr_warn("cannot lock %s: %s\n", in->dir, strerror(errno));
			return EXIT_FAIL;
		}
	}
	if ((err = filter_fds_open(in->dir, &in->fds))) {
		pr_warn("the filter on '%s' is incomplete or from another bpflab version (%s); "
			"'bpflab filter stop %s' removes it\n", in->ifname, strerr(err), in->ifname);
		return EXIT_FAIL;
	}
	snprintf(p, sizeof(p), "%s/link", in->dir);
	in->chained = access(p, F_OK) != 0;
	in->alive = in->chained ? filter_chain_alive(in) : pinned_link_alive(p) > 0;
	return 0;
}

/* Rule file -> compiled tables; on error "FILE:LINE: message", EXIT_USAGE. */
static int load_rules(const char *path, struct fr_set *s, struct fr_tables *t)
{
	char err[1024];
	int e;

	if (!path) {
		memset(s, 0, sizeof(*s));
		s->default_action = FA_ALLOW;
	} else if ((e = fr_parse_file(path, s, err, sizeof(err)))) {
		pr_warn("%s; nothing was changed\n", err);
		return e == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
	}
	if ((e = fr_compile(s, t, err, sizeof(err)))) {
		pr_warn("%s: %s; nothing was changed\n", path ? path : "rules", err);
		fr_set_free(s);
		return e == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
	}
	return 0;
}

static int pin_filter(struct finst *in, struct filter_bpf *skel, int link_fd)
{
	const char *names[64];
	int fds[64], n = filter_prog_pin_objs(skel, names, fds, 64), err;
	char tmp[300], path[400];

	if ((err = pin_tmp_begin(in->dir, tmp, sizeof(tmp))))
		return err;
	snprintf(path, sizeof(path), "%s/%s", tmp, link_fd >= 0 ? "link" : "prog");
	err = bpf_obj_pin(link_fd >= 0 ? link_fd : filter_prog_fd(skel), path) ? -errno : 0;
	for (int i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
		err = bpf_obj_pin(fds[i], path) ? -errno : 0;
	}
	if (err) {
		pr_warn("pinning under %s failed: %s\n", tmp, strerr(err));
		pin_dir_remove(tmp);
		return err;
	}
	return pin_tmp_commit(tmp, in->dir);
}

static int sub_start(char **pos, int npos, struct filter_args *a)
{
	struct finst in;
	struct fr_set s;
	struct fr_tables *t = calloc(1, sizeof(*t));
	struct synproxy_cfg syn = {};
	struct filter_bpf *skel = NULL;
	enum xdp_mode eff = a->xdp_mode;
	int ifindex, err, ret = EXIT_FAIL, link_fd = -1;
	bool syn_on = false;
	__u32 gen;
	char why[256];

	finst_init(&in);
	if (!t)
		return EXIT_FAIL;
	if (npos != 2) {
		free(t);
		return usage_error("filter", npos < 2 ? "start needs IFACE" : "unexpected argument '%s'",
				   pos[npos < 2 ? 0 : 2]);
	}
	if (a->then && strcmp(a->then, "lb")) {
		free(t);
		return usage_error("filter", "--then takes 'lb' (the load balancer on the same interface)");
	}
	if (a->synproxy) {
		if (synproxy_parse_ports(a->synproxy, &syn, why, sizeof(why))) {
			free(t);
			return usage_error("filter", "--synproxy %s: %s", a->synproxy, why);
		}
		snprintf(syn.ifname, sizeof(syn.ifname), "%s", pos[1]);
	}
	if (iface_check_name(pos[1]) || iface_resolve(pos[1], &ifindex)) {
		free(t);
		return EXIT_USAGE;
	}
	snprintf(in.ifname, sizeof(in.ifname), "%s", pos[1]);
	if (pin_dir_prepare("filter", pos[1], in.dir, sizeof(in.dir))) {
		free(t);
		return EXIT_USAGE;
	}
	if ((ret = load_rules(a->rules, &s, t))) {
		free(t);
		return ret;
	}
	ret = EXIT_FAIL;
	if ((err = ensure_bpffs(NULL))) {
		pr_warn("cannot mount bpffs at /sys/fs/bpf: %s\n", strerr(err));
		goto out;
	}
	if (!access(in.dir, F_OK)) {
		struct finst old;
		finst_init(&old);
		memcpy(old.ifname, in.ifname, sizeof(old.ifname));
		memcpy(old.dir, in.dir, sizeof(old.dir));
		if (!finst_open(&old, false) && old.alive) {
			finst_close(&old);
			pr_warn("a filter already runs on %s; change its rules with 'bpflab filter "
				"apply FILE --iface %s', or stop it first\n", in.ifname, in.ifname);
			ret = EXIT_USAGE;
			goto out;
		}
		finst_close(&old);
		pr_debug("removing defunct %s\n", in.dir);
		if (pin_dir_detach(in.dir) && !access(in.dir, F_OK))
			goto out;
	}
	if (a->synproxy) {
		if ((err = synproxy_start(&syn))) {
			pr_warn("setting up the kernel's SYNPROXY for %s failed: %s\n", in.ifname,
				strerr(err));
			goto out;
		}
		syn_on = true;
	}
	skel = filter_prog_load(&(struct filter_prog_cfg){ .syn = a->synproxy ? &syn : NULL });
	if (!skel)
		goto out;
	filter_fds_from_skel(skel, &in.fds);
	if ((err = filter_install(&in.fds, t, &gen))) {
		pr_warn("writing the rules failed: %s\n", strerr(err));
		goto out_nofds;
	}
	if (a->then) {
		if ((err = filter_chain_lb(&in, filter_prog_fd(skel))))
			goto out_nofds;
		in.chained = true;
	} else {
		link_fd = xdp_link_attach(filter_prog_fd(skel), ifindex, in.ifname, a->xdp_mode, &eff);
		if (link_fd < 0) {
			ret = link_fd == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
			goto out_nofds;
		}
	}
	if (pin_filter(&in, skel, link_fd)) {
		if (in.chained)
			filter_unchain_lb(&in);
		goto out_nofds;
	}
	syn_on = false; /* running now: `stop` undoes it */
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "started");
		json_kstr(&j, "interface", in.ifname);
		json_kstr(&j, "xdp_mode", in.chained ? NULL : xdp_mode_str(eff));
		json_kstr(&j, "then", in.chained ? "lb" : NULL);
		json_kuint(&j, "rules", s.n);
		json_kint(&j, "prefixes", s.prefixes);
		json_kstr(&j, "default", fr_action_str(s.default_action));
		json_kstr(&j, "synproxy", a->synproxy);
		json_kstr(&j, "pin_dir", in.dir);
		json_record_end(&j);
	} else {
		printf("filter started on %s: %d rules, %ld prefixes, default %s, %s%s%s; pinned at %s\n",
		       in.ifname, s.n, s.prefixes, fr_action_str(s.default_action),
		       in.chained ? "in front of lb" : xdp_mode_str(eff), in.chained ? "" : " XDP",
		       a->synproxy ? ", SYN cookies in XDP" : "", in.dir);
	}
	ret = EXIT_OK;
out_nofds:
	finst_init(&in); /* the skeleton owns these fds */
out:
	if (syn_on)
		synproxy_stop(in.ifname);
	if (link_fd >= 0)
		close(link_fd); /* the pin keeps it attached */
	filter_prog_destroy(skel);
	fr_tables_free(t);
	free(t);
	fr_set_free(&s);
	return ret;
}

static int sub_stop(char **pos, int npos, struct filter_args *a)
{
	struct finst in;
	int ret;

	if (npos != 2)
		return usage_error("filter", npos < 2 ? "stop needs IFACE" : "unexpected argument '%s'",
				   pos[npos < 2 ? 0 : 2]);
	/* filter-syn: a start killed before its pins leaves only the SYNPROXY table */
	if ((ret = finst_find(pos[1], &in))) {
		if (strlen(pos[1]) < IF_NAMESIZE && synproxy_active(pos[1]) == 1 &&
		    !synproxy_stop(pos[1])) {
			printf("filter: removed the SYNPROXY table a killed start left on %s\n", pos[1]);
			return EXIT_OK;
		}
		return ret;
	}
	if (!finst_open(&in, true) && in.chained && in.alive)
		filter_unchain_lb(&in);
	finst_close(&in);
	synproxy_stop(in.ifname);
	if (pin_dir_detach(in.dir) && !access(in.dir, F_OK))
		return EXIT_FAIL;
	print_detached("stopped", in.ifname, in.dir, "filter stopped on");
	return EXIT_OK;
}

static int sub_apply(char **pos, int npos, struct filter_args *a)
{
	struct finst in;
	struct fr_set s;
	struct fr_tables *t;
	int ret;
	__u32 gen;

	if (npos != 2)
		return usage_error("filter", npos < 2 ? "apply needs a rule FILE (- for stdin)"
				   : "unexpected argument '%s'", pos[npos < 2 ? 0 : 2]);
	/* The file first: a bad one changes nothing, whatever runs. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return EXIT_FAIL;
	if ((ret = load_rules(pos[1], &s, t))) {
		free(t);
		return ret;
	}
	if ((ret = finst_find(a->iface, &in)) || (ret = finst_open(&in, true)))
		goto out;
	if (!in.alive)
		pr_warn("warning: the filter on %s is not attached any more (its interface or link "
			"is gone); the rules are written anyway\n", in.ifname);
	if (a->dry_run) {
		ret = filter_print_diff(&in, pos[1], &s);
		goto out;
	}
	ret = filter_install(&in.fds, t, &gen);
	if (ret) {
		pr_warn("applying %s failed: %s; the running rules are unchanged\n", pos[1], strerr(ret));
		ret = EXIT_FAIL;
		goto out;
	}
	{
		struct filter_gen g = {};
		bpf_map_lookup_elem(in.fds.gens, &gen, &g);
		gen = g.seq;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "changed");
		json_kstr(&j, "interface", in.ifname);
		json_kstr(&j, "file", pos[1]);
		json_kuint(&j, "generation", gen);
		json_kuint(&j, "rules", s.n);
		json_kint(&j, "prefixes", s.prefixes);
		json_kstr(&j, "default", fr_action_str(s.default_action));
		json_record_end(&j);
	} else {
		printf("filter on %s: %s applied (%d rules, %ld prefixes, default %s), generation %u\n",
		       in.ifname, pos[1], s.n, s.prefixes, fr_action_str(s.default_action), gen);
	}
	ret = EXIT_OK;
out:
	finst_close(&in);
	fr_tables_free(t);
	free(t);
	fr_set_free(&s);
	return ret;
}

/* Parse and compile only: what a file would become. No root needed. */
static int sub_check(char **pos, int npos, struct filter_args *a)
{
	struct fr_set s;
	struct fr_tables *t;
	int ret;

	if (npos != 2)
		return usage_error("filter", npos < 2 ? "check needs a rule FILE"
				   : "unexpected argument '%s'", pos[npos < 2 ? 0 : 2]);
	t = calloc(1, sizeof(*t));
	if (!t)
		return EXIT_FAIL;
	if ((ret = load_rules(pos[1], &s, t))) {
		free(t);
		return ret;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "check");
		json_kstr(&j, "file", pos[1]);
		json_kuint(&j, "rules", s.n);
		json_kint(&j, "prefixes", s.prefixes);
		json_kstr(&j, "default", fr_action_str(s.default_action));
		json_kuint(&j, "src_classes", t->addr[0].n);
		json_kuint(&j, "dst_classes", t->addr[1].n);
		json_kuint(&j, "src_bounds", t->nbounds[0]);
		json_kuint(&j, "dst_bounds", t->nbounds[1]);
		json_kuint(&j, "src6_prefixes", t->nv6[0]);
		json_kuint(&j, "dst6_prefixes", t->nv6[1]);
		json_kuint(&j, "port_classes", t->port[0].n + t->port[1].n);
		json_kuint(&j, "extra_classes", t->extra.n);
		json_record_end(&j);
	} else {
		printf("%s: %d rules, %ld prefixes, default %s; tables: %d+%d address classes, "
		       "%u+%u IPv4 boundaries, %d+%d IPv6 prefixes, %d port classes, %d flag/ICMP classes\n",
		       pos[1], s.n, s.prefixes, fr_action_str(s.default_action), t->addr[0].n,
		       t->addr[1].n, t->nbounds[0], t->nbounds[1], t->nv6[0], t->nv6[1],
		       t->port[0].n + t->port[1].n, t->extra.n);
	}
	fr_tables_free(t);
	free(t);
	fr_set_free(&s);
	return EXIT_OK;
}

static int sub_show(char **pos, int npos, struct filter_args *a)
{
	struct finst in;
	int ret;

	if (npos != 1)
		return usage_error("filter", "unexpected argument '%s' (use --iface IFACE)", pos[1]);
	if ((ret = finst_find(a->iface, &in)) || (ret = finst_open(&in, false))) {
		finst_close(&in);
		return ret;
	}
	ret = filter_show(&in, a->top ? a->top : 10);
	finst_close(&in);
	return ret;
}

static int run(int (*fn)(char **, int, struct filter_args *), bool root, int argc, char **argv)
{
	struct filter_args a = { .top = 10 };
	char *pos[8];
	int rc, npos = 0;

	rc = opts_parse(&cmd_filter_spec, argc, argv, &a);
	if (rc != OPTS_GO_ON)
		return rc;
	pos[npos++] = argv[0];
	for (int i = optind; i < argc; i++) {
		if (npos >= (int)ARRAY_SIZE(pos))
			return usage_error("filter", "too many arguments");
		pos[npos++] = argv[i];
	}
	if (root && (rc = require_root("bpflab filter")))
		return rc;
	return fn(pos, npos, &a);
}

#define FILTER_SUB(fn, root) \
	static int fn##_main(int argc, char **argv) { return run(fn, root, argc, argv); }
FILTER_SUB(sub_start, true)
FILTER_SUB(sub_stop, true)
FILTER_SUB(sub_apply, true)
FILTER_SUB(sub_show, true)
FILTER_SUB(sub_check, false)

static const struct subcmd filter_subs[] = {
	{ "start", "IFACE [--rules FILE] [--then lb] [--synproxy PORTS] [-m MODE]",
	  "load, attach and pin the filter with a rule set", sub_start_main, NULL },
	{ "apply", "FILE|- [--dry-run] [--iface IFACE]",
	  "replace the running rules by FILE's in one swap (--dry-run: say what would change)",
	  sub_apply_main, NULL },
	{ "show", "[--iface IFACE] [--top N]", "rules with packets, bytes, rates; top sources; counters",
	  sub_show_main, NULL },
	{ "stop", "IFACE", "detach it (or unchain it from lb) and remove its pins", sub_stop_main, NULL },
	{ "check", "FILE", "parse and compile a rule file, change nothing", sub_check_main, NULL },
	{ .name = NULL }
};

const struct cmd_spec cmd_filter_spec = {
	.name = "filter",
	.args = "SUBCOMMAND [options]",
	.about =
	"An XDP firewall for DDoS mitigation. Rules (IPv4/IPv6 CIDR source and destination,\n"
	"protocol, port ranges, ICMP type/code, TCP flags; actions allow, deny, limit) are\n"
	"compiled into lookup tables, not code: 100,000 prefixes cost what 10 do. The first\n"
	"matching rule by priority decides, the allow-list before all. `apply` swaps a whole\n"
	"new rule set in with one map update. State is pinned under " BPFLAB_PIN_ROOT "/filter/IFACE[@NETNS].\n",
	.opts = filter_opt_defs,
	.subs = filter_subs,
	.notes =
	"rule FILE (docs/filter.md; '#' starts a comment):\n"
	"  default deny                               # when no rule matches (default: allow)\n"
	"  allowlist 198.18.0.0/28 2001:db8::/64      # checked before every rule\n"
	"  10 deny src 203.0.113.0/24\n"
	"  20 deny dst 198.18.0.11 proto tcp dport 22\n"
	"  30 deny proto icmp icmp-type 8\n"
	"  40 deny src @blocklist.netset              # one CIDR per line (ipset/FireHOL style)\n"
	"  50 limit proto udp rate 1000pps burst 100 block 10s per /24\n"
	"  60 deny proto tcp flags syn,!ack dport 1000-2000\n"
	"Exit 2 on a bad rule (FILE:LINE: message); the running rules are untouched.\n",
	.json_help = "JSON output",
	.max_args = -1,
};

int cmd_filter(int argc, char **argv)
{
	return opts_dispatch(&cmd_filter_spec, argc - 1, argv + 1, NULL);
}
