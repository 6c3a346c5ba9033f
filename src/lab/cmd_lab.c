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
#include <stddef.h>
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

#include "opts.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"
#include "json.h"
#include "lab.h"

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

void lab_plan_attacker(struct lab *lab)
{
	if (!lab_find_node(lab, "attacker"))
		plan_node(lab, "attacker", "p-attacker", LAB_ATTACKER_HOST);
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

static int setup_node(struct lab *lab, struct lab_node *n)
{
	struct netns_end eth0 = { n->netns, "eth0", n->mac }, port = { lab->sw_netns, n->sw_port, NULL };
	char addr4[48], addr6[64];
	int err = 0;

	snprintf(addr4, sizeof(addr4), "%s/%d", n->ip4, LAB_PREFIX4);
	snprintf(addr6, sizeof(addr6), "%s/%d", n->ip6, LAB_PREFIX6);
	err = err ?: netns_add(n->netns);
	err = err ?: netns_link_up(n->netns, "lo");
	err = err ?: netns_veth_add(&eth0, &port);
	/* An eth0 from an earlier, half-made lab keeps its MAC only if we set it again. */
	err = err ?: netns_link_set_mac(n->netns, "eth0", n->mac);
	err = err ?: netns_addr_add(n->netns, "eth0", addr4);
	err = err ?: netns_addr_add(n->netns, "eth0", addr6);
	err = err ?: netns_link_up(n->netns, "eth0");
	err = err ?: netns_link_master(lab->sw_netns, n->sw_port, "br0");
	err = err ?: netns_link_up(lab->sw_netns, n->sw_port);
	return err;
}

static int lab_down(struct lab *lab, bool quiet);

/* XDP_TX from lb's eth0 lands in its veth peer, the switch port, which must run NAPI:
 * an XDP program there does it (GRO on the port did not, measured on 6.18). A 2-insn
 * XDP_PASS, attached the classic way so it lives as long as the port, no pin needed. */
int lab_peer_xdp_pass(const char *netns, const char *ifname)
{
	struct bpf_insn prog[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int self = netns_save(), fd, ifindex, err = -EIO;

	if (self < 0)
		return self;
	if (!netns_enter(netns) && (ifindex = if_nametoindex(ifname)) > 0) {
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "lab_napi_pass", "GPL", prog, 2, NULL);
		if (fd >= 0) {
			err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
			close(fd);
		}
	}
	netns_restore(self);
	return err;
}

/* `up --lb MODE`: what the talk's load balancer needs from the lab (see usage). */
static int lab_lb_setup(struct lab *lab, const char *mode)
{
	char *ethtool[] = { "ethtool", "-K", "eth0", "tx", "off", NULL };
	char *sysctl[] = { "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1",
			   "net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.eth0.arp_ignore=1",
			   "net.ipv4.conf.eth0.arp_announce=2", NULL };
	bool quiet = !g_opts.verbose;
	int err = 0;

	err |= netns_addr_add(lab->nodes[1].netns, "lo", LAB_VIP4 "/32");
	/* Neighbour discovery answers only for addresses of the interface asked on (unlike
	 * ARP's arp_ignore=0): the IPv6 VIP goes on lb's eth0, and on a dsr backend's lo it
	 * is never answered for, which is what dsr needs. */
	err |= netns_addr_add(lab->nodes[1].netns, "eth0", LAB_VIP6 "/128");
	err |= lab_peer_xdp_pass(lab->sw_netns, lab->nodes[1].sw_port);
	for (int i = 0; i < lab->nnodes; i++) {
		const char *ns = lab->nodes[i].netns;
		if (i == 1)
			continue;
		err |= netns_run(ns, ethtool, quiet);
		if (i < 2 || strcmp(mode, "dsr") || lab->nodes[i].host == LAB_ATTACKER_HOST)
			continue;
		err |= netns_addr_add(ns, "lo", LAB_VIP4 "/32");
		err |= netns_addr_add(ns, "lo", LAB_VIP6 "/128");
		err |= netns_run(ns, sysctl, quiet);
	}
	return err ? -EIO : 0;
}

static int lab_up(struct lab *lab)
{
	int err = 0;

	err = err ?: netns_add(lab->sw_netns);
	err = err ?: netns_link_up(lab->sw_netns, "lo");
	err = err ?: netns_bridge_add(lab->sw_netns, "br0");
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

/* The namespaces a lab makes: <lab>-sw, -client, -lb, -backend-*. */
static bool lab_ns_suffix(const char *rest)
{
	return !strcmp(rest, "sw") || !strcmp(rest, "client") || !strcmp(rest, "lb") ||
	       !strncmp(rest, "backend-", 8) || !strcmp(rest, "attacker") || !strcmp(rest, "router") ||
	       /* the cluster lab's lb1..lbN */
	       (!strncmp(rest, "lb", 2) && isdigit((unsigned char)rest[2]) && !rest[3]);
}

/* What bpflab commands pinned for the lab's namespaces (BPFLAB_PIN_ROOT/<cmd>/<iface>@<ns>)
 * outlives the namespaces: a test or a user that never ran `lb stop` / `filter stop` would
 * leave maps (a full conntrack table) with no interface behind them. Returns how many went. */
static int lab_unpin(const char *lab)
{
	char prefix[40], dir[PATH_MAX];
	struct dirent *c, *e;
	DIR *root, *d;
	int n = 0;

	snprintf(prefix, sizeof(prefix), "%s-", lab);
	root = opendir(BPFLAB_PIN_ROOT);
	if (!root)
		return 0; /* bpffs not mounted or nothing pinned: nothing to do */
	while ((c = readdir(root))) {
		if (c->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", BPFLAB_PIN_ROOT, c->d_name);
		d = opendir(dir);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			const char *ns = strchr(e->d_name, '@');
			char path[PATH_MAX + 256];

			if (!ns || strncmp(ns + 1, prefix, strlen(prefix)) ||
			    strstr(ns, "_tmp_") || !lab_ns_suffix(ns + 1 + strlen(prefix)))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (!pin_dir_detach(path))
				n++;
		}
		closedir(d);
	}
	closedir(root);
	return n;
}

static int lab_down(struct lab *lab, bool quiet)
{
	char prefix[32];
	int removed, stopped;

	/* Remove every namespace of this lab, including ones a larger --backends made or a
	 * half-failed up left, so `down` converges whatever state it finds. */
	/* Servers first: a process inside a namespace keeps it alive after its name is gone. */
	lab_cluster_stop(lab->name); /* --lbs: announcers, checkers, BIRDs */
	lab_l3_stop(lab->name); /* --lb ipip|gue: the decap processes, likewise */
	lab_lb_stop(lab);       /* --lb-config: the checker and the balancer */
	stopped = lab_serve_stop(lab->name);
	snprintf(prefix, sizeof(prefix), "%s-", lab->name);
	removed = netns_del_prefix(prefix, lab_ns_suffix);
	if (lab_unpin(lab->name) > 0)
		pr_debug("lab '%s': removed pins its namespaces left\n", lab->name);
	if (removed < 0)
		pr_warn("lab '%s': some namespaces could not be removed (run with -v to see why)\n",
			lab->name);
	if (quiet)
		return removed < 0 ? EXIT_FAIL : EXIT_OK;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "lab_down");
		json_kstr(&j, "lab", lab->name);
		json_kbool(&j, "ok", removed >= 0);
		if (removed >= 0)
			json_kint(&j, "removed_namespaces", removed);
		json_kint(&j, "stopped_servers", stopped);
		json_record_end(&j);
	} else if (removed >= 0) {
		printf("lab '%s': removed %d namespaces%s", lab->name, removed, stopped ? "" : "\n");
		if (stopped)
			printf(", stopped %d HTTP servers\n", stopped);
	}
	return removed < 0 ? EXIT_FAIL : EXIT_OK;
}

/* What `status` shows, computed first and rendered once (text or JSON). */
#define NODE_PROGS_MAX 32
struct node_prog {
	char ifname[IF_NAMESIZE];
	struct iface_prog p;
};
struct node_status {
	bool present;
	int serve_pid; /* its `--serve` HTTP server, 0 if none */
	int decap_pid; /* L3 lab: its `lb decap`, 0 if none */
	int nprogs;
	struct node_prog progs[NODE_PROGS_MAX];
};

/* Every XDP and tcx program on the node's interfaces, looked at from inside its netns. */
static void node_programs(const struct lab_node *n, struct node_status *st)
{
	int self = netns_save();
	struct if_nameindex *ifs, *it;

	st->nprogs = 0;
	if (self < 0)
		return;
	if (netns_enter(n->netns)) {
		close(self);
		return;
	}
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		struct iface_prog p[IFACE_PROGS_MAX];
		int np = iface_programs(it->if_index, p, IFACE_PROGS_MAX);

		for (int i = 0; i < np && st->nprogs < NODE_PROGS_MAX; i++) {
			struct node_prog *o = &st->progs[st->nprogs++];
			snprintf(o->ifname, sizeof(o->ifname), "%s", it->if_name);
			o->p = p[i];
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	netns_restore(self);
}

static void render_json(const struct lab *lab, bool exists, const struct node_status *st)
{
	struct json j;

	json_record_begin(&j, stdout, "lab");
	json_kstr(&j, "lab", lab->name);
	json_kbool(&j, "up", exists);
	json_kstr(&j, "switch_netns", lab->sw_netns);
	json_kstr(&j, "subnet4", LAB_NET4 "0/24");
	json_kstr(&j, "subnet6", LAB_NET6 "/64");
	json_kstr(&j, "topology", lab_l3_exists(lab->name) ? "l3" : "l2");
	json_kint(&j, "backends", exists ? lab->nbackends : 0);
	json_key(&j, "nodes");
	json_arr_begin(&j);
	for (int i = 0; exists && i < lab->nnodes; i++) {
		const struct lab_node *n = &lab->nodes[i];
		json_obj_begin(&j);
		json_kstr(&j, "node", n->name);
		json_kstr(&j, "netns", n->netns);
		json_kbool(&j, "present", st[i].present);
		json_kstr(&j, "interface", "eth0");
		json_kstr(&j, "ipv4", n->ip4);
		json_kstr(&j, "ipv6", n->ip6);
		json_kstr(&j, "mac", n->mac);
		json_key(&j, "decap");
		if (st[i].decap_pid) {
			json_obj_begin(&j);
			json_kstr(&j, "interface", "eth0");
			json_kint(&j, "pid", st[i].decap_pid);
			json_obj_end(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "server");
		if (st[i].serve_pid) {
			json_obj_begin(&j);
			json_kstr(&j, "protocol", "http");
			json_kint(&j, "port", LAB_SERVE_PORT);
			json_kint(&j, "pid", st[i].serve_pid);
			json_obj_end(&j);
		} else {
			json_null(&j);
		}
		json_key(&j, "programs");
		json_arr_begin(&j);
		for (int k = 0; k < st[i].nprogs; k++) {
			const struct node_prog *p = &st[i].progs[k];
			json_obj_begin(&j);
			/* ping's words: hook xdp|tc, attach tcx for a link (docs/json.md) */
			bool tcx = !strncmp(p->p.hook, "tcx_", 4);
			json_kstr(&j, "interface", p->ifname);
			json_kstr(&j, "hook", tcx ? "tc" : p->p.hook);
			json_kstr(&j, "attach", tcx ? "tcx" : NULL);
			json_kstr(&j, "direction", tcx ? p->p.hook + 4 : "ingress");
			json_kstr(&j, "mode", tcx ? NULL : p->p.mode);
			json_kuint(&j, "id", p->p.id);
			json_kstr(&j, "name", p->p.name);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_record_end(&j);
}

static void render_text(const struct lab *lab, bool exists, const struct node_status *st)
{
	if (!exists) {
		printf("lab '%s' is not up\n", lab->name);
		return;
	}
	if (lab_l3_exists(lab->name))
		printf("lab '%s': L3, router %s, a subnet per node (198.18.HOST.0/24, %sHOST::/64), "
		       "VIPs %s and %s via lb\n", lab->name, lab->sw_netns, LAB_NET6_L3, LAB_VIP4,
		       LAB_VIP6);
	else
		printf("lab '%s': switch br0 in %s, %s0/24, %s/64\n", lab->name, lab->sw_netns,
		       LAB_NET4, LAB_NET6);
	printf("  %-10s %-20s %-16s %-20s %-18s %s\n", "node", "netns", "ipv4", "ipv6", "mac", "bpf");
	for (int i = 0; i < lab->nnodes; i++) {
		const struct lab_node *n = &lab->nodes[i];
		char progs[1024] = "-";
		size_t o = 0;

		for (int k = 0; k < st[i].nprogs && o < sizeof(progs); k++) {
			const struct node_prog *p = &st[i].progs[k];
			o += snprintf(progs + o, sizeof(progs) - o, "%s%s:%s#%u on %s (%s)", k ? ", " : "",
				      p->p.hook, p->p.name[0] ? p->p.name : "?", p->p.id, p->ifname, p->p.mode);
		}
		printf("  %-10s %-20s %-16s %-20s %-18s %s\n", n->name,
		       st[i].present ? n->netns : "(missing)", n->ip4, n->ip6, n->mac, progs);
	}
	for (int i = 0, k = 0; i < lab->nnodes; i++)
		if (st[i].serve_pid)
			printf("%s%s :%d (pid %d)", k++ ? ", " : "  http servers (lab up --serve): ",
			       lab->nodes[i].name, LAB_SERVE_PORT, st[i].serve_pid);
	for (int i = 0; i < lab->nnodes; i++)
		if (st[i].serve_pid) {
			printf("\n");
			break;
		}
	for (int i = 0, k = 0; i < lab->nnodes; i++)
		if (st[i].decap_pid)
			printf("%s%s eth0 (pid %d)", k++ ? ", " : "  lb decap (L3 lab): ",
			       lab->nodes[i].name, st[i].decap_pid);
	for (int i = 0; i < lab->nnodes; i++)
		if (st[i].decap_pid) {
			printf("\n");
			break;
		}
}

static int lab_status(struct lab *lab, bool exists)
{
	static struct node_status st[2 + LAB_MAX_BACKENDS];

	for (int i = 0; exists && i < lab->nnodes; i++) {
		st[i].present = netns_exists(lab->nodes[i].netns);
		st[i].nprogs = 0;
		st[i].serve_pid = lab_serve_pid(lab->name, lab->nodes[i].name);
		st[i].decap_pid = lab_l3_decap_pid(lab->name, lab->nodes[i].name);
		if (st[i].present)
			node_programs(&lab->nodes[i], &st[i]);
	}
	if (g_opts.json)
		render_json(lab, exists, st);
	else
		render_text(lab, exists, st);
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
	int lb_mode; /* LB_NONE, or an index into lb_mode_names */
	uint64_t backends;
	bool serve;
	bool attacker;
	const char *lb_config; /* --lb-config: lab_health.c */
	uint64_t lbs;          /* --lbs: the cluster lab (lab_cluster.c) */
	int router;
};

enum { LB_NONE, LB_NAT, LB_DSR, LB_IPIP, LB_GUE };
static const char *const lb_mode_names[] = { NULL, "nat", "dsr", "ipip", "gue" };
static const struct opt_enum lb_modes[] = {
	{ .name = "nat", .value = LB_NAT }, { .name = "dsr", .value = LB_DSR },
	{ .name = "ipip", .value = LB_IPIP }, { .name = "gue", .value = LB_GUE }, { .name = NULL }
};
enum { ROUTER_NONE, ROUTER_BIRD };
static const struct opt_enum routers[] = { { .name = "bird", .value = ROUTER_BIRD }, { .name = NULL } };

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct lab_args, field, arg, help)
static const struct opt_def lab_opts[] = {
	{ O("name", 'n', OPT_STR, name, "NAME", "lab name, [a-z0-9-], at most 12 characters"),
	  .def = "bpflab" },
	{ O("backends", 'b', OPT_UINT, backends, "N", "number of backends"), .def = "2",
	  .min = 1, .max = LAB_MAX_BACKENDS, .only = "up" },
	{ O("lb", 0, OPT_ENUM, lb_mode, "MODE", "prepare for `bpflab lb` in nat or dsr mode: the VIP "
	    LAB_VIP4 " on lb's lo (so lb answers ARP for it); dsr: also on every backend's lo with "
	    "arp_ignore=1/arp_announce=2; an XDP_PASS program on lb's switch port (XDP_TX into a "
	    "veth needs the peer's NAPI); no TX checksum offload on the other nodes (an "
	    "XDP-forwarded frame loses it). ipip, gue: the L3 lab instead (lab_l3.c): every node on "
	    "its own subnet behind router namespace NAME-router, the VIPs routed to lb, backends "
	    "with the VIPs on lo running `lb decap eth0`"), .values = lb_modes, .only = "up" },
	{ O("lb-config", 0, OPT_FILE, lb_config, "FILE", "with --lb: also start `bpflab lb "
	    "start eth0` on lb with this configuration and, when it has `check` lines, `bpflab lb "
	    "health` in the background (log in " LAB_RUN_DIR "/NAME/); `lab down` stops both"),
	  .only = "up" },
	{ O("serve", 's', OPT_FLAG, serve, NULL, "an HTTP server on port 80 of every backend that "
	    "answers with the backend's name (curl http://198.18.0.11/ says backend-a); it listens "
	    "on all addresses, so also on the VIP in dsr mode; `lab down` stops it"), .only = "up" },
	{ O("attacker", 0, OPT_FLAG, attacker, NULL, "also an attacker node, " LAB_NET4 "66 in "
	    "namespace NAME-attacker on the same switch, for floods (`lab exec attacker -- hping3 "
	    "...`); status and down know it from then on. Also an XDP_PASS program on every "
	    "backend's switch port, so XDP_TX from a backend (filter --synproxy's SYN-ACKs) "
	    "leaves its veth, and no TX checksum offload on the client, lb and attacker (the "
	    "SYN cookies answer only SYNs whose checksums are filled in)"), .only = "up" },
	{ O("lbs", 0, OPT_UINT, lbs, "N", "the cluster lab instead: N LB nodes lb1..lbN (" LAB_NET4
	    "2..) on one LAN with router NAME-router (" LAB_NET4 "254; client on 198.18.1.0/24), "
	    "BGP from BIRD on the router and every node, ECMP over the nodes that announce a VIP, "
	    "`lb announce` on every node; with --lb dsr|nat (default dsr) backends on the LAN, "
	    "ipip|gue behind the router with `lb decap`"), .min = 2, .max = LAB_CLUSTER_MAX_LBS,
	  .only = "up" },
	{ O("router", 0, OPT_ENUM, router, "DAEMON", "with --lbs: the routing daemon of the "
	    "router and the nodes (BIRD 2)"), .def = "bird", .values = routers, .only = "up" },
	OPTS_END
};
#undef O

/* What every subcommand works on, made by cmd_lab before it dispatches. */
static struct lab_args args;
static struct lab cur_lab;
static bool lab_exists;

static int sub_up(int argc, char **argv)
{
	const char *name = args.name;
	int err;

	(void)argc, (void)argv;
	if (args.router && !args.lbs && !lab_cluster_exists(name))
		return usage_error("lab", "--router is for the cluster lab: give --lbs N too");
	if (args.lbs || lab_cluster_exists(name)) {
		struct lab_cluster_opts co = {
			.name = name, .mode = lb_mode_names[args.lb_mode], .lb_config = args.lb_config,
			.lbs = (int)args.lbs, .backends = (int)args.backends, .serve = args.serve,
			.router = args.router ? "bird" : NULL,
		};
		if (args.attacker)
			return usage_error("lab", "--attacker is not for the cluster lab (--lbs)");
		err = lab_cluster_up(&co);
		if (err == EXIT_FAIL)
			lab_down(&cur_lab, true); /* a failed up leaves nothing */
		return err;
	}
	if (args.lb_config && !args.lb_mode)
		return usage_error("lab", "--lb-config needs --lb nat|dsr|ipip|gue");
	/* An L3 lab stays one (`up --serve` on it again); the other kind is refused. */
	bool l3 = args.lb_mode >= LB_IPIP || (!args.lb_mode && lab_l3_exists(name));

	if (l3 != lab_l3_exists(name) && lab_exists) {
		pr_warn("lab '%s' is up as an %s lab; 'bpflab lab down%s%s' first\n", name,
			lab_l3_exists(name) ? "L3 (--lb ipip|gue)" : "L2", strcmp(name, "bpflab") ?
			" --name " : "", strcmp(name, "bpflab") ? name : "");
		return EXIT_USAGE;
	}
	if (l3) {
		if (lab_l3_up(&cur_lab)) {
			pr_warn("lab '%s': setting up the L3 lab failed (run with -v to see the "
				"commands); removing what was made\n", name);
			lab_down(&cur_lab, true);
			return EXIT_FAIL;
		}
		if ((args.serve && lab_serve_start(&cur_lab)) || lab_l3_decap_start(&cur_lab)) {
			lab_l3_stop(name);
			lab_serve_stop(name);
			return EXIT_FAIL;
		}
		/* lab_lb_start runs lb in dsr mode here: the config's `encap` lines say which VIPs
		 * are tunnelled. */
		if (args.lb_config && (err = lab_lb_start(&cur_lab, lb_mode_names[args.lb_mode],
							  args.lb_config)))
			return err;
		return g_opts.json ? lab_status(&cur_lab, true) : (printf("lab '%s' is up (L3, "
			"router %s): client %s, lb %s, %d backends from %s with `lb decap` on eth0%s\n",
			name, cur_lab.sw_netns, cur_lab.nodes[0].ip4, cur_lab.nodes[1].ip4,
			cur_lab.nbackends, cur_lab.nodes[2].ip4, args.serve ?
			", serving HTTP on port 80" : ""), EXIT_OK);
	}
	err = lab_up(&cur_lab);
	if (err)
		return err;
	if (args.lb_mode && lab_lb_setup(&cur_lab, lb_mode_names[args.lb_mode])) {
		pr_warn("lab '%s': preparing for the load balancer (--lb %s) failed; run with -v\n",
			name, lb_mode_names[args.lb_mode]);
		return EXIT_FAIL;
	}
	/* filter --synproxy on a backend answers SYNs with XDP_TX: the switch port must run
	 * NAPI for those frames to leave (see lab_peer_xdp_pass); and it answers only SYNs
	 * whose checksums are right, which a veth with TX offload does not fill in. */
	for (int i = 0; args.attacker && i < cur_lab.nnodes; i++) {
		char *tx_off[] = { "ethtool", "-K", "eth0", "tx", "off", NULL };
		const struct lab_node *n = &cur_lab.nodes[i];
		int e = i >= 2 && i < 2 + cur_lab.nbackends ?
			lab_peer_xdp_pass(cur_lab.sw_netns, n->sw_port) :
			netns_run(n->netns, tx_off, !g_opts.verbose);

		if (i != 1 && e) {
			pr_warn("lab '%s': preparing %s for --attacker failed; run with -v\n", name,
				n->name);
			return EXIT_FAIL;
		}
	}
	if (args.serve && lab_serve_start(&cur_lab)) {
		/* The namespaces stay (up is idempotent); a server that did start goes. */
		lab_serve_stop(name);
		return EXIT_FAIL;
	}
	if (args.lb_config && (err = lab_lb_start(&cur_lab, lb_mode_names[args.lb_mode],
						  args.lb_config)))
		return err;
	if (g_opts.json)
		return lab_status(&cur_lab, true);
	printf("lab '%s' is up: client %s, lb %s, %d backends from %s%s; "
	       "`bpflab lab exec%s%s NODE -- CMD` runs a command in a node\n",
	       name, cur_lab.nodes[0].ip4, cur_lab.nodes[1].ip4, cur_lab.nbackends, cur_lab.nodes[2].ip4,
	       args.serve ? " serving HTTP on port 80" : "",
	       strcmp(name, "bpflab") ? " --name " : "", strcmp(name, "bpflab") ? name : "");
	return EXIT_OK;
}

static int sub_down(int argc, char **argv)
{
	(void)argc, (void)argv;
	return lab_down(&cur_lab, false);
}

static int sub_status(int argc, char **argv)
{
	(void)argc, (void)argv;
	if (lab_cluster_exists(args.name))
		return lab_cluster_status(args.name);
	return lab_status(&cur_lab, lab_exists);
}

static int sub_exec(int argc, char **argv)
{
	const char *name = args.name;

	if (!lab_exists) {
		pr_warn("lab '%s' is not up; run 'bpflab lab up%s%s' first\n", name,
			strcmp(name, "bpflab") ? " --name " : "", strcmp(name, "bpflab") ? name : "");
		return EXIT_FAIL;
	}
	if (lab_cluster_exists(name))
		return lab_cluster_exec(name, argc, argv);
	return lab_exec(&cur_lab, argc, argv);
}

/* The cluster lab's own subcommands (lab_cluster.c): one positional argument each. */
static int cluster_only(const char *sub, int argc, char **argv)
{
	if (!lab_cluster_exists(args.name)) {
		pr_warn("lab '%s' is not a cluster lab (lab up --lbs N); '%s' is for one\n", args.name,
			sub);
		return EXIT_FAIL;
	}
	if (argc != 1)
		return usage_error("lab", "%s needs exactly one %s", sub,
				   strcmp(sub, "lb-apply") ? "LB node (lb1, lb2, ...)" : "FILE");
	(void)argv;
	return 0;
}

static int sub_lb_apply(int argc, char **argv)
{
	int err = cluster_only("lb-apply", argc, argv);
	return err ? err : lab_cluster_apply(args.name, argv[0]);
}

static int sub_kill(int argc, char **argv)
{
	int err = cluster_only("kill", argc, argv);
	return err ? err : lab_cluster_kill(args.name, argv[0]);
}

static int sub_revive(int argc, char **argv)
{
	int err = cluster_only("revive", argc, argv);
	return err ? err : lab_cluster_revive(args.name, argv[0]);
}

/* Its own option table (stream.c); the lab's name may come before the subcommand. */
static int sub_stream(int argc, char **argv)
{
	return lab_stream_main(args.name, argc, argv);
}

static const struct subcmd lab_subs[] = {
	{ .name = "up", .args = "[--name NAME] [--backends N] [--lb nat|dsr|ipip|gue] [--serve] "
		"[--attacker] [--lbs N [--router bird]]",
	  .summary = "create the lab (idempotent: an existing lab is checked and completed)",
	  .fn = sub_up },
	{ .name = "down", .args = "[--name NAME]",
	  .summary = "remove everything the lab made, also after a half-failed up", .fn = sub_down },
	{ .name = "status", .args = "[--name NAME] [--json]",
	  .summary = "nodes, addresses, MACs and the BPF programs attached in each", .fn = sub_status },
	{ .name = "exec", .args = "[--name NAME] NODE -- CMD [ARGS...]",
	  .summary = "run CMD inside NODE's network namespace; unlike `ip netns exec` the mount "
		     "namespace is kept, so /sys/fs/bpf pins stay visible", .fn = sub_exec },
	{ .name = "clients", .args = "--connect ADDR:PORT [--conns N] [--interval S] [--duration S]",
	  .summary = "long-lived TCP connections from a node (client), each answered by a backend's "
		     "stream server: how many broke, moved, stalled", .fn = sub_stream,
	  .spec = &lab_stream_spec },
	{ .name = "lb-apply", .args = "[--name NAME] FILE",
	  .summary = "cluster lab: one lb configuration on every LB node (lb start or lb apply, "
		     "and lb health when FILE has checks): the same Maglev tables everywhere",
	  .fn = sub_lb_apply },
	{ .name = "kill", .args = "[--name NAME] NODE",
	  .summary = "cluster lab: take eth0 of LB node NODE down, then SIGKILL its daemons (BIRD, "
		     "lb announce, lb health), as a power cut; its XDP link stays pinned",
	  .fn = sub_kill },
	{ .name = "revive", .args = "[--name NAME] NODE",
	  .summary = "cluster lab: eth0 of NODE up again and its daemons restarted", .fn = sub_revive },
	{ .name = NULL }
};

const struct cmd_spec cmd_lab_spec = {
	.name = "lab",
	.args = "SUBCOMMAND [options]",
	.about = "The talk's picture as network namespaces: client, lb, backend-a, backend-b (and more\n"
		 "with --backends) on one bridge that lives in its own namespace NAME-sw.\n"
		 "Addresses: " LAB_NET4 "0/24 (RFC 2544 test range) and " LAB_NET6 "/64 (RFC 3849):\n"
		 "client .1, lb .2, backend-a .11, backend-b .12, ...; MACs 02:00:c6:12:00:<host>.\n"
		 "Options may come before or after the subcommand (`lab --name x up`).\n",
	.opts = lab_opts,
	.subs = lab_subs,
	.json_help = "machine-readable status",
	/* '+': `exec NODE -- cmd -x` leaves the command's own options alone. */
	.stop_at_arg = true,
	.max_args = -1,
};

int cmd_lab(int argc, char **argv)
{
	const struct subcmd *s;
	char sw[NETNS_NAME_MAX];
	bool amb;
	int err;

	args = (struct lab_args){ .name = "bpflab" };
	/* Options before the subcommand, then the subcommand's own (argv[0] its name). */
	if ((err = opts_parse(&cmd_lab_spec, argc, argv, &args)) != OPTS_GO_ON)
		return err;
	if (optind >= argc)
		return usage_error("lab", "missing subcommand: up, down, status or exec");
	argc -= optind, argv += optind;
	if (!strcmp(argv[0], "help")) {
		opts_print_help(&cmd_lab_spec, stdout);
		return EXIT_OK;
	}
	s = opts_find_sub(lab_subs, argv[0], &amb);
	if (!s)
		return usage_error("lab", "%s subcommand '%s': up, down, status or exec",
				   amb ? "ambiguous" : "unknown", argv[0]);
	argv[0] = (char *)s->name;
	if (s->spec)
		return s->fn(argc, argv);
	if (s->fn == sub_lb_apply || s->fn == sub_kill || s->fn == sub_revive) {
		/* One positional and nothing after it to protect (unlike exec's command): options
		 * may follow it, `lab kill lb2 --name X`. */
		struct cmd_spec any_order = cmd_lab_spec;
		any_order.stop_at_arg = false;
		err = opts_parse(&any_order, argc, argv, &args);
	} else {
		err = opts_parse(&cmd_lab_spec, argc, argv, &args);
	}
	if (err != OPTS_GO_ON)
		return err;
	if (s->fn != sub_exec && s->fn != sub_lb_apply && s->fn != sub_kill && s->fn != sub_revive &&
	    optind < argc)
		return usage_error("lab", "unexpected argument '%s'", argv[optind]);
	if (lab_check_name(args.name))
		return usage_error("lab", "invalid lab name '%s': 1-%d characters of a-z, 0-9 and '-'",
				   args.name, LAB_NAME_MAX);
	if ((err = require_caps("lab", CAPN_SYS_ADMIN | CAPN_NET_ADMIN | CAPN_BPF,
				"CAP_SYS_ADMIN and CAP_NET_ADMIN to make namespaces, veths and the "
				"bridge; CAP_BPF for --lb's XDP program and to name programs in status")))
		return err;
	snprintf(sw, sizeof(sw), "%s-sw", args.name);
	lab_exists = netns_exists(sw) || lab_l3_exists(args.name);
	if (!args.backends)
		args.backends = lab_exists && lab_count_backends(args.name) ?
			lab_count_backends(args.name) : 2;
	lab_plan(&cur_lab, args.name, (int)args.backends);
	if (args.attacker || (snprintf(sw, sizeof(sw), "%s-attacker", args.name), netns_exists(sw)))
		lab_plan_attacker(&cur_lab);
	if (args.lb_mode >= LB_IPIP || lab_l3_exists(args.name))
		lab_l3_plan(&cur_lab); /* after the attacker: it gets a subnet too */
	return s->fn(argc - optind, argv + optind);
}
