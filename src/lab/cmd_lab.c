// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lab: the talk's cloud VM, replaced by network namespaces on one L2 segment.
 *
 *   <lab>-client  <lab>-lb  <lab>-backend-a  <lab>-backend-b ...
 *        eth0        eth0         eth0              eth0
 *          \          |            |                /
 *           +------ br0 in <lab>-sw (its own namespace) --+
 *
 * The switch lives in its own namespace so nothing touches the root namespace. Every
 * node's eth0 has a stable MAC, an IPv4 and an IPv6 address, and lo up. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "lab.h"

const char cmd_lab_usage[] =
	"usage: bpflab lab up [--name NAME] [--backends N] [--lb nat|dsr]\n"
	"       bpflab lab down [--name NAME]\n"
	"       bpflab lab status [--name NAME] [--json]\n"
	"       bpflab lab exec [--name NAME] NODE -- CMD [ARGS...]\n"
	"\n"
	"The talk's picture as network namespaces: client, lb, backend-a, backend-b (and more\n"
	"with --backends) on one bridge that lives in its own namespace NAME-sw.\n"
	"Addresses: " LAB_NET4 "0/24 (RFC 2544 test range) and " LAB_NET6 "/64 (RFC 3849):\n"
	"client .1, lb .2, backend-a .11, backend-b .12, ...; MACs 02:00:c6:12:00:<host>.\n"
	"\n"
	"  up        create the lab (idempotent: an existing lab is checked and completed)\n"
	"  down      remove everything the lab made, also after a half-failed up\n"
	"  status    nodes, addresses, MACs and the BPF programs attached in each\n"
	"  exec      run CMD inside NODE's network namespace; unlike `ip netns exec` the\n"
	"            mount namespace is kept, so /sys/fs/bpf pins stay visible\n"
	"\n"
	"options:\n"
	"  -n, --name NAME     lab name, [a-z0-9-], at most 12 characters (default bpflab)\n"
	"  -b, --backends N    number of backends, 1-16 (default 2)\n"
	"      --lb MODE       prepare for `bpflab lb` in nat or dsr mode: the VIP " LAB_VIP4 " on\n"
	"                      lb's lo (so lb answers ARP for it); dsr: also on every backend's\n"
	"                      lo with arp_ignore=1/arp_announce=2; an XDP_PASS program on lb's\n"
	"                      switch port (XDP_TX into a veth needs the peer's NAPI); no TX checksum\n"
	"                      offload on the other nodes (an XDP-forwarded frame loses it)\n"
	"  -j, --json          machine-readable status\n";

int lab_check_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > LAB_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      (name[i] == '-' && i > 0)))
			return -EINVAL;
	return 0;
}

static void plan_node(struct lab *lab, const char *name, const char *port, int host)
{
	struct lab_node *n = &lab->nodes[lab->nnodes++];
	char labname[LAB_NAME_MAX + 1];

	memcpy(labname, lab->name, sizeof(labname));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->netns, sizeof(n->netns), "%s-%s", labname, name);
	snprintf(n->sw_port, sizeof(n->sw_port), "%s", port);
	n->host = host;
	snprintf(n->ip4, sizeof(n->ip4), LAB_NET4 "%d", host);
	snprintf(n->ip6, sizeof(n->ip6), LAB_NET6 "%x", host);
	snprintf(n->mac, sizeof(n->mac), "02:00:c6:12:00:%02x", host);
}

int lab_plan(struct lab *lab, const char *name, int nbackends)
{
	if (lab_check_name(name) || nbackends < 1 || nbackends > LAB_MAX_BACKENDS)
		return -EINVAL;
	memset(lab, 0, sizeof(*lab));
	snprintf(lab->name, sizeof(lab->name), "%s", name);
	snprintf(lab->sw_netns, sizeof(lab->sw_netns), "%s-sw", name);
	lab->nbackends = nbackends;
	plan_node(lab, "client", "p-client", 1);
	plan_node(lab, "lb", "p-lb", 2);
	for (int i = 0; i < nbackends; i++) {
		char nm[16], port[16];
		snprintf(nm, sizeof(nm), "backend-%c", 'a' + i);
		snprintf(port, sizeof(port), "p-backend-%c", 'a' + i);
		plan_node(lab, nm, port, 11 + i);
	}
	return 0;
}

const struct lab_node *lab_find_node(const struct lab *lab, const char *node)
{
	for (int i = 0; i < lab->nnodes; i++) {
		const char *nm = lab->nodes[i].name;
		if (!strcmp(nm, node) || !strcmp(lab->nodes[i].netns, node))
			return &lab->nodes[i];
		/* "a" and "A" for backend-a, as the talk's picture names them */
		if (!strncmp(nm, "backend-", 8) && strlen(node) == 1 && tolower(node[0]) == nm[8])
			return &lab->nodes[i];
	}
	return NULL;
}

static bool netns_exists(const char *name)
{
	char p[96];
	snprintf(p, sizeof(p), "/run/netns/%s", name);
	return access(p, F_OK) == 0;
}

/* Backends present from an earlier `up`, so status/down need no --backends. */
static int lab_count_backends(const char *name)
{
	int n = 0;
	for (int i = 0; i < LAB_MAX_BACKENDS; i++) {
		char ns[64];
		snprintf(ns, sizeof(ns), "%s-backend-%c", name, 'a' + i);
		if (netns_exists(ns))
			n = i + 1;
	}
	return n;
}

static int ip(const char *fmt, const char *a, const char *b, const char *c, const char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, a, b, c, d);
	return run_cmdf(!g_opts.verbose, "%s", cmd);
}

static int setup_node(struct lab *lab, struct lab_node *n)
{
	char addr4[48], addr6[64];
	int err = 0;

	if (!netns_exists(n->netns))
		err |= ip("ip netns add %s", n->netns, 0, 0, 0);
	err |= ip("ip -n %s link set lo up", n->netns, 0, 0, 0);
	if (run_cmdf(true, "ip -n %s link show eth0", n->netns) != 0)
		err |= ip("ip -n %s link add eth0 type veth peer name %s netns %s", n->netns,
			  n->sw_port, lab->sw_netns, 0);
	err |= ip("ip -n %s link set eth0 address %s", n->netns, n->mac, 0, 0);
	/* Duplicate address detection would hold the v6 address back for a second or two. */
	snprintf(addr4, sizeof(addr4), "%s/%d", n->ip4, LAB_PREFIX4);
	snprintf(addr6, sizeof(addr6), "%s/%d", n->ip6, LAB_PREFIX6);
	err |= ip("ip -n %s addr replace %s dev eth0", n->netns, addr4, 0, 0);
	err |= ip("ip -n %s addr replace %s dev eth0 nodad", n->netns, addr6, 0, 0);
	err |= ip("ip -n %s link set eth0 up", n->netns, 0, 0, 0);
	err |= ip("ip -n %s link set %s master br0", lab->sw_netns, n->sw_port, 0, 0);
	err |= ip("ip -n %s link set %s up", lab->sw_netns, n->sw_port, 0, 0);
	return err ? -EIO : 0;
}

static int lab_down(struct lab *lab, bool quiet);

/* XDP_TX from lb's eth0 lands in its veth peer, the switch port, which must run NAPI:
 * an XDP program there does it (GRO on the port did not, measured on 6.18). A 2-insn
 * XDP_PASS, attached the classic way so it lives as long as the port, no pin needed. */
static int lab_peer_xdp_pass(const char *netns, const char *ifname)
{
	struct bpf_insn prog[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd, ifindex, err = -EIO;

	if (self < 0)
		return -errno;
	if (!netns_enter(netns) && (ifindex = if_nametoindex(ifname)) > 0) {
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "lab_napi_pass", "GPL", prog, 2, NULL);
		if (fd >= 0) {
			err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
			close(fd);
		}
	}
	setns(self, CLONE_NEWNET);
	close(self);
	return err;
}

/* `up --lb MODE`: what the talk's load balancer needs from the lab (see usage). */
static int lab_lb_setup(struct lab *lab, const char *mode)
{
	int err = 0;

	err |= ip("ip -n %s addr replace %s/32 dev lo", lab->nodes[1].netns, LAB_VIP4, 0, 0);
	err |= lab_peer_xdp_pass(lab->sw_netns, lab->nodes[1].sw_port) ? 1 : 0;
	for (int i = 0; i < lab->nnodes; i++) {
		const char *ns = lab->nodes[i].netns;
		if (i == 1)
			continue;
		err |= run_cmdf(!g_opts.verbose, "ip netns exec %s ethtool -K eth0 tx off", ns);
		if (i < 2 || strcmp(mode, "dsr"))
			continue;
		err |= ip("ip -n %s addr replace %s/32 dev lo", ns, LAB_VIP4, 0, 0);
		err |= run_cmdf(!g_opts.verbose, "ip netns exec %s sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
				"net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 "
				"net.ipv4.conf.eth0.arp_announce=2", ns);
	}
	return err ? -EIO : 0;
}

static int lab_up(struct lab *lab)
{
	int err = 0;

	if (!netns_exists(lab->sw_netns))
		err |= ip("ip netns add %s", lab->sw_netns, 0, 0, 0);
	err |= ip("ip -n %s link set lo up", lab->sw_netns, 0, 0, 0);
	if (run_cmdf(true, "ip -n %s link show br0", lab->sw_netns) != 0)
		err |= ip("ip -n %s link add br0 type bridge", lab->sw_netns, 0, 0, 0);
	/* No STP forwarding delay and no IPv6 on the switch itself: it only switches. */
	err |= ip("ip -n %s link set br0 type bridge forward_delay 0 stp_state 0",
		  lab->sw_netns, 0, 0, 0);
	err |= ip("ip -n %s link set br0 up", lab->sw_netns, 0, 0, 0);
	for (int i = 0; i < lab->nnodes && !err; i++)
		err |= setup_node(lab, &lab->nodes[i]);
	if (err) {
		pr_warn("lab '%s': setting up failed (run with -v to see the commands); removing what was made\n",
			lab->name);
		lab_down(lab, true);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int lab_down(struct lab *lab, bool quiet)
{
	char prefix[32];
	struct dirent *de;
	int removed = 0, failed = 0;
	DIR *d;

	/* Remove every namespace of this lab, including ones a larger --backends made or a
	 * half-failed up left, so `down` converges whatever state it finds. */
	snprintf(prefix, sizeof(prefix), "%s-", lab->name);
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		const char *rest;
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		rest = de->d_name + strlen(prefix);
		if (strcmp(rest, "sw") && strcmp(rest, "client") && strcmp(rest, "lb") &&
		    strncmp(rest, "backend-", 8))
			continue;
		if (ip("ip netns del %s", de->d_name, 0, 0, 0))
			failed++;
		else
			removed++;
	}
	if (d)
		closedir(d);
	if (!quiet && !g_opts.json)
		printf("lab '%s': removed %d namespaces\n", lab->name, removed);
	return failed ? EXIT_FAIL : EXIT_OK;
}

/* Lists XDP programs on the node's interfaces; runs inside its netns. */
static void node_programs(const struct lab_node *n, struct json *j, char *human, size_t cap)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct if_nameindex *ifs, *it;
	size_t o = 0;

	human[0] = 0;
	if (self < 0 || netns_enter(n->netns)) {
		if (self >= 0)
			close(self);
		return;
	}
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		struct xdp_present p;
		if (xdp_query_present(it->if_index, &p) <= 0)
			continue;
		if (j) {
			json_obj_begin(j);
			json_kstr(j, "interface", it->if_name);
			json_kstr(j, "hook", "xdp");
			json_kstr(j, "mode", p.mode);
			json_kuint(j, "id", p.prog_id);
			json_kstr(j, "name", p.name);
			json_obj_end(j);
		} else if (o < cap) {
			o += snprintf(human + o, cap - o, "%sxdp:%s on %s (%s)", o ? ", " : "",
				      p.name, it->if_name, p.mode);
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	setns(self, CLONE_NEWNET);
	close(self);
}

static int lab_status(struct lab *lab, bool exists)
{
	struct json j;

	if (g_opts.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "lab", lab->name);
		json_kbool(&j, "up", exists);
		json_kstr(&j, "switch_netns", lab->sw_netns);
		json_kstr(&j, "subnet4", LAB_NET4 "0/24");
		json_kstr(&j, "subnet6", LAB_NET6 "/64");
		json_kint(&j, "backends", exists ? lab->nbackends : 0);
		json_key(&j, "nodes");
		json_arr_begin(&j);
	} else if (!exists) {
		printf("lab '%s' is not up\n", lab->name);
		return EXIT_OK;
	} else {
		printf("lab '%s': switch br0 in %s, %s0/24, %s/64\n", lab->name, lab->sw_netns,
		       LAB_NET4, LAB_NET6);
		printf("  %-10s %-20s %-16s %-20s %-18s %s\n", "node", "netns", "ipv4", "ipv6",
		       "mac", "bpf");
	}
	for (int i = 0; exists && i < lab->nnodes; i++) {
		const struct lab_node *n = &lab->nodes[i];
		bool up = netns_exists(n->netns);
		char progs[256];

		if (g_opts.json) {
			json_obj_begin(&j);
			json_kstr(&j, "node", n->name);
			json_kstr(&j, "netns", n->netns);
			json_kbool(&j, "present", up);
			json_kstr(&j, "interface", "eth0");
			json_kstr(&j, "ipv4", n->ip4);
			json_kstr(&j, "ipv6", n->ip6);
			json_kstr(&j, "mac", n->mac);
			json_key(&j, "programs");
			json_arr_begin(&j);
			if (up)
				node_programs(n, &j, progs, sizeof(progs));
			json_arr_end(&j);
			json_obj_end(&j);
		} else {
			progs[0] = 0;
			if (up)
				node_programs(n, NULL, progs, sizeof(progs));
			printf("  %-10s %-20s %-16s %-20s %-18s %s\n", n->name,
			       up ? n->netns : "(missing)", n->ip4, n->ip6, n->mac,
			       progs[0] ? progs : "-");
		}
	}
	if (g_opts.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_newline(&j);
	}
	return EXIT_OK;
}

static int lab_exec(struct lab *lab, int argc, char **argv)
{
	const struct lab_node *n;

	if (argc < 1)
		return usage_error("lab", "exec needs a NODE and a command after --");
	n = lab_find_node(lab, argv[0]);
	if (!n)
		return usage_error("lab", "no node '%s' in lab '%s' (nodes: client, lb, backend-a, ...)",
				   argv[0], lab->name);
	argc--, argv++;
	if (argc > 0 && !strcmp(argv[0], "--"))
		argc--, argv++;
	if (argc < 1)
		return usage_error("lab", "exec needs a command after the node");
	if (netns_enter(n->netns))
		return EXIT_FAIL;
	execvp(argv[0], argv);
	pr_warn("cannot run '%s': %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

struct lab_args {
	const char *name;
	const char *lb_mode;
	uint64_t backends;
};

/* Options may stand before and after the subcommand (`lab --name x up`, `lab up --name x`):
 * one parser for both places. '+' stops at the first non-option, so that `exec NODE -- cmd -x`
 * leaves the command's own options alone. Returns 0 or the exit code to return. */
static int lab_parse_opts(int argc, char **argv, struct lab_args *a)
{
	static const struct option opts[] = {
		{ "name", required_argument, 0, 'n' },
		{ "backends", required_argument, 0, 'b' },
		{ "lb", required_argument, 0, 'L' },
		COMMON_LONGOPTS,
		{}
	};
	int opt, err;

	while ((opt = getopt_long(argc, argv, "+n:b:" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'n': a->name = optarg; break;
		case 'b':
			if (parse_u64(optarg, 1, LAB_MAX_BACKENDS, &a->backends))
				return usage_error("lab", "invalid --backends '%s': 1 to %d",
						   optarg, LAB_MAX_BACKENDS);
			break;
		case 'L':
			if (strcmp(optarg, "nat") && strcmp(optarg, "dsr"))
				return usage_error("lab", "invalid --lb '%s': nat or dsr", optarg);
			a->lb_mode = optarg;
			break;
		default:
			if ((err = common_opt("lab", opt)) > 0)
				return err;
		}
	}
	return 0;
}

int cmd_lab(int argc, char **argv)
{
	struct lab_args a = { .name = "bpflab" };
	const char *name, *sub, *lb_mode;
	uint64_t nb;
	struct lab lab;
	bool exists;
	int err;

	if ((err = lab_parse_opts(argc, argv, &a)))
		return err;
	if (optind >= argc)
		return usage_error("lab", "missing subcommand: up, down, status or exec");
	sub = argv[optind++];
	/* Options may also follow the subcommand: `lab up --name x`. */
	if (strcmp(sub, "exec")) {
		if ((err = lab_parse_opts(argc, argv, &a)))
			return err;
		if (optind < argc)
			return usage_error("lab", "unexpected argument '%s'", argv[optind]);
	} else {
		while (optind < argc && argv[optind][0] == '-' && strcmp(argv[optind], "--")) {
			if ((!strcmp(argv[optind], "--name") || !strcmp(argv[optind], "-n")) &&
			    optind + 1 < argc) {
				a.name = argv[optind + 1];
				optind += 2;
			} else {
				return usage_error("lab", "unknown exec option '%s'", argv[optind]);
			}
		}
	}
	name = a.name;
	lb_mode = a.lb_mode;
	nb = a.backends;
	if (lab_check_name(name))
		return usage_error("lab", "invalid lab name '%s': 1-%d characters of a-z, 0-9 and '-'",
				   name, LAB_NAME_MAX);
	if ((err = require_root("bpflab lab")))
		return err;
	{
		char sw[48];
		snprintf(sw, sizeof(sw), "%s-sw", name);
		exists = netns_exists(sw);
	}
	if (!nb)
		nb = exists && lab_count_backends(name) ? lab_count_backends(name) : 2;
	lab_plan(&lab, name, (int)nb);

	if (!strcmp(sub, "up")) {
		err = lab_up(&lab);
		if (err)
			return err;
		if (lb_mode && lab_lb_setup(&lab, lb_mode)) {
			pr_warn("lab '%s': preparing for the load balancer (--lb %s) failed; run with -v\n",
				name, lb_mode);
			return EXIT_FAIL;
		}
		if (g_opts.json)
			return lab_status(&lab, true);
		printf("lab '%s' is up: client %s, lb %s, %d backends from %s; "
		       "`bpflab lab exec%s%s NODE -- CMD` runs a command in a node\n",
		       name, lab.nodes[0].ip4, lab.nodes[1].ip4, lab.nbackends, lab.nodes[2].ip4,
		       strcmp(name, "bpflab") ? " --name " : "", strcmp(name, "bpflab") ? name : "");
		return EXIT_OK;
	}
	if (!strcmp(sub, "down"))
		return lab_down(&lab, false);
	if (!strcmp(sub, "status"))
		return lab_status(&lab, exists);
	if (!strcmp(sub, "exec")) {
		if (!exists) {
			pr_warn("lab '%s' is not up; run 'bpflab lab up%s%s' first\n", name,
				strcmp(name, "bpflab") ? " --name " : "", strcmp(name, "bpflab") ? name : "");
			return EXIT_FAIL;
		}
		return lab_exec(&lab, argc - optind, argv + optind);
	}
	return usage_error("lab", "unknown subcommand '%s': up, down, status or exec", sub);
}
