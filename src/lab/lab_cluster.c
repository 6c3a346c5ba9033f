// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lab up --lbs N --router bird`: several LB nodes behind a router that spreads flows
 * over them by ECMP, the routes coming from real BGP (BIRD 2, one daemon per node):
 *
 *   <lab>-client 198.18.1.1 -- r-client 198.18.1.254  <lab>-router  (BIRD: one BGP session
 *                                        r-lan 198.18.0.254          per LB node, BFD,
 *                                             |                      kernel ECMP, L4 hash)
 *                             br0 in <lab>-sw (LAN 198.18.0.0/24)
 *               /            |            \              \
 *   <lab>-lb1 .2     <lab>-lb2 .3   ... lbN          dsr, nat: backends .11, .12 on the LAN
 *   BIRD + lb announce (+ lb health, lb start eth0)  ipip, gue: backends on their own
 *                                                    subnets 198.18.H.H/24 behind the router
 *
 * Every LB node exports, by BGP, the routes `lb announce` keeps in its table 4242 (BIRD's
 * kernel protocol learns them), so a VIP is routed to a node only while that node can
 * serve it. The router's BIRD merges the equal BGP routes into one multipath kernel route.
 * BFD (100 ms x 3) on both sides notices a dead node in ~300 ms. Every daemon has its own
 * config, control socket, pid file and log in the lab's runtime folder, and is known by
 * its argv[0] "<mark>:<lab>:<node>" (lab_proc.c), so `lab down` finds all of them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"
#include "json.h"
#include "lab.h"

#define BIRD_MARK "bpflab-clu-bird"
#define ANN_MARK "bpflab-clu-announce"
#define HEALTH_MARK "bpflab-clu-health"
#define AS_ROUTER 65000
#define AS_LB 65001
/* lb announce's table and drain marker (src/lb/lb_announce.h owns both). */
#define ANN_TABLE "4242"
#define ANN_DRAIN "/run/bpflab/announce/%s/drained"
#define LAN_GW LAB_NET4 "254"
#define LAN_GW6 LAB_NET6 "fe"
#define LB_ROUTES_MAX 64
#define ROUTER_LAN_MAC "02:00:c6:12:00:fe"

struct cnode {
	char name[16], netns[32], port[24], ip4[20], gw4[20], mac[18], rmac[18];
	char ip6[40], gw6[40];
	int host;
	bool lan;           /* on the LAN bridge (else on its own router port) */
};

struct clu {
	char name[LAB_NAME_MAX + 1], dir[128], router_ns[32], sw_ns[32];
	char mode[8];       /* dsr nat ipip gue */
	int nlbs, nbackends;
	struct cnode client, lbs[LAB_CLUSTER_MAX_LBS], backends[LAB_MAX_BACKENDS];
};

static bool encap_mode(const struct clu *c)
{
	return !strcmp(c->mode, "ipip") || !strcmp(c->mode, "gue");
}

static void plan(struct clu *c, const char *name, int nlbs, int nbackends, const char *mode)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->router_ns, sizeof(c->router_ns), "%s-router", name);
	snprintf(c->sw_ns, sizeof(c->sw_ns), "%s-sw", name);
	snprintf(c->mode, sizeof(c->mode), "%s", mode);
	lab_run_dir(name, c->dir, sizeof(c->dir));
	c->nlbs = nlbs;
	c->nbackends = nbackends;

	struct cnode *n = &c->client;
	snprintf(n->name, sizeof(n->name), "client");
	n->host = 1;
	snprintf(n->ip4, sizeof(n->ip4), "198.18.1.1");
	snprintf(n->gw4, sizeof(n->gw4), "198.18.1.254");
	snprintf(n->ip6, sizeof(n->ip6), LAB_NET6_L3 "1::1");
	snprintf(n->gw6, sizeof(n->gw6), LAB_NET6_L3 "1::fe");
	snprintf(n->port, sizeof(n->port), "r-client");
	snprintf(n->rmac, sizeof(n->rmac), "02:00:c6:12:fe:01");
	for (int i = 0; i < nlbs; i++) {
		n = &c->lbs[i];
		snprintf(n->name, sizeof(n->name), "lb%d", i + 1);
		n->host = 2 + i;
		n->lan = true;
		snprintf(n->ip4, sizeof(n->ip4), LAB_NET4 "%d", n->host);
		snprintf(n->ip6, sizeof(n->ip6), LAB_NET6 "%x", n->host);
	}
	for (int i = 0; i < nbackends; i++) {
		n = &c->backends[i];
		snprintf(n->name, sizeof(n->name), "backend-%c", 'a' + i);
		n->host = 11 + i;
		n->lan = !encap_mode(c);
		if (n->lan) {
			snprintf(n->ip4, sizeof(n->ip4), LAB_NET4 "%d", n->host);
			snprintf(n->ip6, sizeof(n->ip6), LAB_NET6 "%x", n->host);
		} else {
			snprintf(n->ip4, sizeof(n->ip4), "198.18.%d.%d", n->host, n->host);
			snprintf(n->gw4, sizeof(n->gw4), "198.18.%d.254", n->host);
			snprintf(n->ip6, sizeof(n->ip6), LAB_NET6_L3 "%x::%x", n->host, n->host);
			snprintf(n->gw6, sizeof(n->gw6), LAB_NET6_L3 "%x::fe", n->host);
			snprintf(n->port, sizeof(n->port), "r-%s", n->name);
			snprintf(n->rmac, sizeof(n->rmac), "02:00:c6:12:fe:%02x", n->host);
		}
	}
	for (int k = 0; k < 1 + nlbs + nbackends; k++) {
		n = k == 0 ? &c->client : k <= nlbs ? &c->lbs[k - 1] : &c->backends[k - 1 - nlbs];
		snprintf(n->netns, sizeof(n->netns), "%s-%s", name, n->name);
		snprintf(n->mac, sizeof(n->mac), "02:00:c6:12:00:%02x", n->host);
		if (n->lan) {
			snprintf(n->gw4, sizeof(n->gw4), LAN_GW);
			snprintf(n->gw6, sizeof(n->gw6), LAN_GW6);
			snprintf(n->port, sizeof(n->port), "p-%s", n->name);
			snprintf(n->rmac, sizeof(n->rmac), ROUTER_LAN_MAC);
		}
	}
}

/* The state file: what `up` was asked, for status, lb-apply, kill and revive. */
static int state_write(const struct clu *c)
{
	char tmp[192], p[192];
	FILE *f;

	if (mkdir_p(c->dir, 0755))
		return -errno;
	/* Written whole and renamed into place: an `up` killed while writing it must not
	 * leave a file that says less than it asked for. */
	snprintf(tmp, sizeof(tmp), "%s/cluster.tmp", c->dir);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "mode %s\nlbs %d\nbackends %d\n", c->mode, c->nlbs, c->nbackends);
	if (fclose(f))
		return -errno;
	snprintf(p, sizeof(p), "%s/cluster", c->dir);
	return rename(tmp, p) ? -errno : 0;
}

static int count_ns(const char *lab, const char *fmt, int max)
{
	int n = 0;

	for (int i = 0; i < max; i++) {
		char ns[64], nm[24];
		snprintf(nm, sizeof(nm), fmt, fmt[0] == 'l' ? i + 1 : 'a' + i);
		snprintf(ns, sizeof(ns), "%s-%s", lab, nm);
		if (netns_exists(ns))
			n = i + 1;
	}
	return n;
}

/* The plan of a lab that is up, from its state file (or, without one, its namespaces). */
static void state_read(struct clu *c, const char *lab)
{
	char dir[128], p[192], mode[8] = "dsr", line[64];
	int lbs = count_ns(lab, "lb%d", LAB_CLUSTER_MAX_LBS),
	    be = count_ns(lab, "backend-%c", LAB_MAX_BACKENDS);
	FILE *f;

	lab_run_dir(lab, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/cluster", dir);
	if ((f = fopen(p, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			int v;
			if (sscanf(line, "mode %7s", mode) == 1)
				continue;
			if (sscanf(line, "lbs %d", &v) == 1 && v > 0 && v <= LAB_CLUSTER_MAX_LBS)
				lbs = v;
			if (sscanf(line, "backends %d", &v) == 1 && v > 0 && v <= LAB_MAX_BACKENDS)
				be = v;
		}
		fclose(f);
	}
	plan(c, lab, lbs, be ? be : 1, mode);
}

bool lab_cluster_exists(const char *lab)
{
	char ns[64], dir[128], p[192];

	snprintf(ns, sizeof(ns), "%s-lb1", lab);
	if (netns_exists(ns))
		return true;
	/* `up` writes its state file before the first namespace: an up killed before lb1 was
	 * made left a cluster lab too, which `up` again must finish, not call another kind. */
	lab_run_dir(lab, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/cluster", dir);
	return access(p, F_OK) == 0;
}

/* ---- commands ---- */

static int ipc(const char *ns, char *const argv[])
{
	return netns_run(ns, argv, !g_opts.verbose) ? -EIO : 0;
}

static int neigh(const char *ns, const char *dev, const char *addr, const char *mac)
{
	char *argv[] = { "ip", "neigh", "replace", (char *)addr, "lladdr", (char *)mac, "dev",
			 (char *)dev, "nud", "permanent", NULL };
	return ipc(ns, argv);
}

static int sysctls(const char *ns, const char *const *kv)
{
	char *argv[16] = { "sysctl", "-qw" };
	int n = 2;

	for (int i = 0; kv[i] && n < 15; i++)
		argv[n++] = (char *)kv[i];
	argv[n] = NULL;
	return ipc(ns, argv);
}

static int tx_off(const char *ns, const char *dev)
{
	char *argv[] = { "ethtool", "-K", (char *)dev, "tx", "off", NULL };
	return ipc(ns, argv);
}

/* Runs argv (a PATH lookup) with its stdout into buf; its exit status, or -1. */
static int capture(char *const argv[], char *buf, size_t len)
{
	int p[2], st = 0;
	size_t got = 0;
	pid_t pid;

	buf[0] = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		int nul = open("/dev/null", O_RDWR);
		dup2(p[1], 1);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	/* Bounded: birdc on a wedged socket must not hang `lab status`. */
	for (double end = now_mono() + 3; got + 1 < len;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		int ms = (int)((end - now_mono()) * 1000);
		ssize_t r;
		if (ms <= 0 || poll(&pf, 1, ms) <= 0)
			break;
		r = read(p[0], buf + got, len - 1 - got);
		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = 0;
	close(p[0]);
	kill(pid, SIGKILL); /* a no-op when it has exited */
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (!access(buf, X_OK))
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* ---- the network ---- */

static const char *const keep6[] = { "net.ipv6.conf.all.keep_addr_on_down=1",
	"net.ipv6.conf.default.keep_addr_on_down=1", NULL };

/* What a link going down takes away and `lab revive` puts back: the node's default routes
 * and its fixed neighbours (the gateway; on an LB node, the LAN backends too: lb learns
 * IPv6 backend MACs from the neighbour table, and a static entry needs no ND first). */
static int node_l3(const struct clu *c, const struct cnode *n)
{
	char *def4[] = { "ip", "-4", "route", "replace", "default", "via", (char *)n->gw4, NULL };
	char *def6[] = { "ip", "-6", "route", "replace", "default", "via", (char *)n->gw6, NULL };
	int err = 0;

	err = err ?: neigh(n->netns, "eth0", n->gw4, n->rmac);
	err = err ?: neigh(n->netns, "eth0", n->gw6, n->rmac);
	err = err ?: ipc(n->netns, def4);
	err = err ?: ipc(n->netns, def6);
	for (int i = 0; !strncmp(n->name, "lb", 2) && i < c->nbackends && !err; i++)
		if (c->backends[i].lan)
			err = neigh(n->netns, "eth0", c->backends[i].ip6, c->backends[i].mac);
	return err;
}

static int veth_node(const struct clu *c, const struct cnode *n)
{
	const char *peer_ns = n->lan ? c->sw_ns : c->router_ns;
	struct netns_end eth0 = { n->netns, "eth0", n->mac }, port = { peer_ns, n->port, NULL };
	char a4[48], r4[48], a6[56], r6[56];
	int err = 0;

	if (!n->lan)
		port.mac = n->rmac;
	snprintf(a4, sizeof(a4), "%s/24", n->ip4);
	snprintf(r4, sizeof(r4), "%s/24", n->gw4);
	snprintf(a6, sizeof(a6), "%s/64", n->ip6);
	snprintf(r6, sizeof(r6), "%s/64", n->gw6);
	err = err ?: netns_add(n->netns);
	err = err ?: netns_link_up(n->netns, "lo");
	/* `lab kill` takes eth0 down: its IPv6 addresses must outlive that, as IPv4's do. */
	err = err ?: sysctls(n->netns, keep6);
	err = err ?: netns_veth_add(&eth0, &port);
	err = err ?: netns_link_set_mac(n->netns, "eth0", n->mac);
	err = err ?: netns_addr_add(n->netns, "eth0", a4);
	err = err ?: netns_addr_add(n->netns, "eth0", a6);
	err = err ?: netns_link_up(n->netns, "eth0");
	if (n->lan) {
		err = err ?: netns_link_master(c->sw_ns, n->port, "br0");
	} else {
		err = err ?: netns_link_set_mac(c->router_ns, n->port, n->rmac);
		err = err ?: netns_addr_add(c->router_ns, n->port, r4);
		err = err ?: netns_addr_add(c->router_ns, n->port, r6);
		err = err ?: neigh(c->router_ns, n->port, n->ip4, n->mac);
		err = err ?: neigh(c->router_ns, n->port, n->ip6, n->mac);
		err = err ?: tx_off(c->router_ns, n->port);
	}
	err = err ?: netns_link_up(peer_ns, n->port);
	err = err ?: node_l3(c, n);
	if (!err && n->lan)
		err = neigh(c->router_ns, "r-lan", n->ip4, n->mac);
	if (!err && n->lan)
		err = neigh(c->router_ns, "r-lan", n->ip6, n->mac);
	return err;
}

static int net_up(const struct clu *c)
{
	static const char *const rt[] = { "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
		"net.ipv4.conf.default.rp_filter=0", "net.ipv4.fib_multipath_hash_policy=1",
		"net.ipv6.conf.all.forwarding=1", "net.ipv6.fib_multipath_hash_policy=1", NULL };
	static const char *const dsr[] = { "net.ipv4.conf.all.arp_ignore=1",
		"net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.eth0.arp_ignore=1",
		"net.ipv4.conf.eth0.arp_announce=2", "net.ipv4.conf.all.rp_filter=0",
		"net.ipv4.conf.eth0.rp_filter=0", NULL };
	static const char *const fwd[] = { "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		NULL };
	struct netns_end rl = { c->router_ns, "r-lan", ROUTER_LAN_MAC }, sp = { c->sw_ns, "p-router", NULL };
	int err = 0;

	err = err ?: netns_add(c->sw_ns);
	err = err ?: netns_link_up(c->sw_ns, "lo");
	err = err ?: netns_bridge_add(c->sw_ns, "br0");
	err = err ?: netns_add(c->router_ns);
	err = err ?: netns_link_up(c->router_ns, "lo");
	err = err ?: sysctls(c->router_ns, rt);
	err = err ?: netns_veth_add(&rl, &sp);
	err = err ?: netns_link_set_mac(c->router_ns, "r-lan", ROUTER_LAN_MAC);
	err = err ?: netns_addr_add(c->router_ns, "r-lan", LAN_GW "/24");
	err = err ?: netns_addr_add(c->router_ns, "r-lan", LAN_GW6 "/64");
	err = err ?: netns_link_up(c->router_ns, "r-lan");
	err = err ?: netns_link_master(c->sw_ns, "p-router", "br0");
	err = err ?: netns_link_up(c->sw_ns, "p-router");
	/* The router only forwards; frames it sends still must carry full checksums once an
	 * LB node's XDP has forwarded them (a veth hands partial ones on). */
	err = err ?: tx_off(c->router_ns, "r-lan");
	err = err ?: veth_node(c, &c->client);
	err = err ?: tx_off(c->client.netns, "eth0");
	for (int i = 0; i < c->nlbs && !err; i++) {
		const struct cnode *n = &c->lbs[i];
		err = err ?: veth_node(c, n);
		err = err ?: tx_off(n->netns, "eth0");
		/* XDP_TX from the node's eth0 lands in its switch port: that needs NAPI. */
		err = err ?: lab_peer_xdp_pass(c->sw_ns, n->port);
		if (!err && encap_mode(c)) {
			/* bpf_fib_lookup needs forwarding on; a VIP packet XDP did not take is refused
			 * here rather than sent back to the router, which would send it here again. */
			char *un[] = { "ip", "-4", "route", "replace", "unreachable", LAB_VIP4 "/32", NULL };
			char *un6[] = { "ip", "-6", "route", "replace", "unreachable", LAB_VIP6 "/128",
					NULL };
			err = err ?: sysctls(n->netns, fwd);
			err = err ?: ipc(n->netns, un);
			err = err ?: ipc(n->netns, un6);
		}
	}
	for (int i = 0; i < c->nbackends && !err; i++) {
		const struct cnode *n = &c->backends[i];
		err = err ?: veth_node(c, n);
		err = err ?: tx_off(n->netns, "eth0");
		if (!err && strcmp(c->mode, "nat")) {
			/* IPv6 answers neighbour solicitations only for addresses on the asking link,
			 * so the VIP on lo needs no arp_ignore of its own. */
			err = err ?: netns_addr_add(n->netns, "lo", LAB_VIP4 "/32");
			err = err ?: netns_addr_add(n->netns, "lo", LAB_VIP6 "/128");
			err = err ?: sysctls(n->netns, dsr);
		}
	}
	return err;
}

/* ---- the daemons ---- */

static void mark(char *buf, size_t len, const char *what, const char *lab, const char *node)
{
	snprintf(buf, len, "%s:%s:%s", what, lab, node ? node : "");
}

static int daemon_pid(const char *what, const char *lab, const char *node)
{
	char a0[96];
	int pid = 0;

	mark(a0, sizeof(a0), what, lab, node);
	return lab_proc_each(a0, false, 0, &pid) ? pid : 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* BFD 100 ms x 3: a node that stops answering is gone from the route in ~0.3 s. The
 * timers after an error are short so a node that comes back is peered again in ~1 s. */
#define BFD_CONF "protocol bfd { interface \"*\" { min rx interval 100 ms; " \
		 "min tx interval 100 ms; multiplier 3; }; }\n"
#define BGP_TIMERS "hold time 3; keepalive time 1; connect retry time 1; " \
		   "error wait time 1, 3; connect delay time 1; bfd on;"

static int bird_conf_router(const struct clu *c)
{
	char path[192], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return -ENOMEM;
	fprintf(f, "# lab %s: the router. One eBGP session per LB node; the equal routes they\n"
		   "# announce are merged into one multipath kernel route (ECMP, L4 hash).\n"
		   "router id %s;\nlog \"%s/bird-router.log\" all;\ndebug protocols { states, events };\n"
		   "protocol device { scan time 10; }\n"
		   "protocol kernel { ipv4 { import none; export all; }; merge paths on limit 16; }\n"
		   "protocol kernel kernel6 { ipv6 { import none; export all; }; "
		   "merge paths on limit 16; }\n"
		   BFD_CONF
		   "template bgp lbnode { local %s as %d; " BGP_TIMERS
		   " ipv4 { import all; export none; }; ipv6 { import all; export none; }; }\n",
		c->name, LAN_GW, c->dir, LAN_GW,
		AS_ROUTER);
	for (int i = 0; i < c->nlbs; i++)
		fprintf(f, "protocol bgp %s from lbnode { neighbor %s as %d; }\n", c->lbs[i].name,
			c->lbs[i].ip4, AS_LB);
	fclose(f);
	snprintf(path, sizeof(path), "%s/bird-router.conf", c->dir);
	err = write_file(path, text);
	free(text);
	return err;
}

static int bird_conf_lb(const struct clu *c, const struct cnode *n)
{
	char path[192], text[4096];

	/* IPv6 rides the IPv4 session (one session, one BFD: a node is up or down for both
	 * families at once); its next hop is the node's own IPv6 address on the LAN, so the
	 * router's v6 route needs no v4-mapped or extended next hop. */
	snprintf(text, sizeof(text),
		 "# lab %s, %s: export by BGP what `bpflab lb announce` keeps in kernel table "
		 ANN_TABLE ".\n"
		 "router id %s;\nlog \"%s/bird-%s.log\" all;\ndebug protocols { states, events };\n"
		 "ipv4 table announced4;\nipv6 table announced6;\n"
		 "protocol device { scan time 10; }\n"
		 "protocol kernel announce { ipv4 { table announced4; import all; export none; }; "
		 "kernel table " ANN_TABLE "; learn; scan time 10; }\n"
		 "protocol kernel announce6 { ipv6 { table announced6; import all; export none; }; "
		 "kernel table " ANN_TABLE "; learn; scan time 10; }\n"
		 BFD_CONF
		 "protocol bgp uplink { local %s as %d; neighbor %s as %d; " BGP_TIMERS
		 " ipv4 { table announced4; import none; export all; next hop self; };"
		 " ipv6 { table announced6; import none; export all; next hop address %s; }; }\n",
		 c->name, n->name, n->ip4, c->dir, n->name, n->ip4, AS_LB, LAN_GW, AS_ROUTER,
		 n->ip6);
	snprintf(path, sizeof(path), "%s/bird-%s.conf", c->dir, n->name);
	return write_file(path, text);
}

/* bird -f in ns with argv[0] = its marker; the child's pid or -1. */
static pid_t bird_spawn(const struct clu *c, const char *node, const char *ns)
{
	char a0[96], conf[192], sock[192], pidf[192], log[192];
	char *argv[] = { a0, "-f", "-c", conf, "-s", sock, "-P", pidf, NULL };
	pid_t pid;

	mark(a0, sizeof(a0), BIRD_MARK, c->name, node);
	snprintf(conf, sizeof(conf), "%s/bird-%s.conf", c->dir, node);
	snprintf(sock, sizeof(sock), "%s/bird-%s.ctl", c->dir, node);
	snprintf(pidf, sizeof(pidf), "%s/bird-%s.pid", c->dir, node);
	snprintf(log, sizeof(log), "%s/bird-%s.out", c->dir, node);
	pid = fork();
	if (pid)
		return pid;
	setsid();
	int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (netns_enter(ns))
		_exit(126);
	execvp("bird", argv);
	dprintf(2, "cannot run bird: %s (make deps installs bird2)\n", strerror(errno));
	_exit(127);
}

static int bird_start(const struct clu *c, const char *node, const char *ns)
{
	char sock[192], out[192];
	pid_t pid;

	if (daemon_pid(BIRD_MARK, c->name, node))
		return 0;
	pid = bird_spawn(c, node, ns);
	if (pid < 0)
		return -errno;
	/* Up means its control socket answers. */
	snprintf(sock, sizeof(sock), "%s/bird-%s.ctl", c->dir, node);
	for (int t = 0; t < 300; t++) {
		char buf[256], *argv[] = { "birdc", "-s", sock, "show", "status", NULL };
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (!access(sock, F_OK) && !capture(argv, buf, sizeof(buf)) && strstr(buf, "BIRD"))
			return 0;
		poll(NULL, 0, 10);
	}
	pr_warn("lab '%s': bird on %s did not start:\n", c->name, node);
	snprintf(out, sizeof(out), "%s/bird-%s.out", c->dir, node);
	lab_log_warn(out, node);
	return -EIO;
}

/* Runs `bpflab argv...` in ns and waits; its exit status (-1: could not run). */
static int bpflab_run(const char *ns, char **argv, const char *log)
{
	pid_t pid = lab_proc_spawn(ns, argv, log, true);
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* A foreground bpflab daemon (lb announce, lb health) on node n, waiting until its log's
 * first line has the record `ready`. */
static int bpflab_daemon(const struct clu *c, const struct cnode *n, const char *what,
			 char **argv, const char *ready)
{
	char a0[96], log[192];
	pid_t pid;

	if (daemon_pid(what, c->name, n->name))
		return 0;
	mark(a0, sizeof(a0), what, c->name, n->name);
	argv[0] = a0;
	snprintf(log, sizeof(log), "%s/%s-%s.log", c->dir, !strcmp(what, ANN_MARK) ? "announce" :
		 "health", n->name);
	unlink(log);
	pid = lab_proc_spawn(n->netns, argv, log, false);
	if (pid < 0)
		return -errno;
	for (int t = 0; t < 500; t++) {
		char line[256] = "";
		FILE *f;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if ((f = fopen(log, "r"))) {
			bool up = fgets(line, sizeof(line), f) && strstr(line, ready);
			fclose(f);
			if (up)
				return 0;
		}
		poll(NULL, 0, 10);
	}
	pr_warn("lab '%s': %s on %s did not start:\n", c->name, argv[1], n->name);
	lab_log_warn(log, n->name);
	return -EIO;
}

static bool link_up(const struct cnode *n);

/* lb start (or, on a running balancer, replace + apply) with the file cfg on node n, then
 * its checker when the file has checks. */
static int lb_config_node(const struct clu *c, const struct cnode *n, const char *cfg)
{
	const char *mode = !strcmp(c->mode, "nat") ? "nat" : "dsr";
	char *start[] = { "bpflab", "lb", "start", "eth0", "--mode", (char *)mode, "--config",
			  (char *)cfg, NULL };
	char *health[] = { NULL, "lb", "health", "--json", NULL };
	char log[192];
	int rc;

	snprintf(log, sizeof(log), "%s/lb-%s.log", c->dir, n->name);
	unlink(log);
	rc = bpflab_run(n->netns, start, log);
	if (rc) {
		pr_warn("lab '%s': 'bpflab lb start eth0 --mode %s --config %s' on %s failed:\n",
			c->name, mode, cfg, n->name);
		lab_log_warn(log, n->name);
		return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_FAIL;
	}
	if (lab_config_has_check(cfg) && bpflab_daemon(c, n, HEALTH_MARK, health, "\"health_started\""))
		return EXIT_FAIL;
	return EXIT_OK;
}

/* The configuration last applied, in the lab's runtime folder: a node that was down when
 * it was applied gets it when it is revived. Written whole, then renamed into place. */
static int keep_config(const struct clu *c, const char *cfg, char *kept, size_t len)
{
	char tmp[PATH_MAX], buf[8192];
	FILE *in = fopen(cfg, "r"), *out;
	size_t n;
	int err = 0;

	snprintf(kept, len, "%s/lb.conf", c->dir);
	snprintf(tmp, sizeof(tmp), "%s/lb.conf.tmp", c->dir);
	if (!in)
		return -errno;
	if (!(out = fopen(tmp, "w"))) {
		err = -errno;
		fclose(in);
		return err;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			err = -EIO;
	if (ferror(in))
		err = -EIO;
	fclose(in);
	if (fclose(out) && !err)
		err = -errno;
	if (!err && rename(tmp, kept))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* The file config on every LB node; with skip_down (lb-apply), a node whose link is down
 * (`lab kill`) is left for `lab revive` to configure, and *applied says how many were. */
static int lb_config_all(const struct clu *c, const char *config, bool skip_down, int *applied)
{
	char cfg[PATH_MAX], kept[PATH_MAX];
	int err;

	*applied = 0;
	if (!realpath(config, cfg)) {
		pr_warn("lab '%s': cannot read '%s': %s\n", c->name, config, strerror(errno));
		return EXIT_USAGE;
	}
	for (int i = 0; i < c->nlbs; i++) {
		const struct cnode *n = &c->lbs[i];
		int rc;

		if (skip_down && !link_up(n)) {
			pr_warn("lab '%s': %s is down; 'lab revive' gives it this configuration\n",
				c->name, n->name);
			continue;
		}
		rc = lb_config_node(c, n, cfg);
		if (rc)
			return rc;
		(*applied)++;
	}
	/* Kept once every node that is up has it, so a failed apply is not what revive uses. */
	if ((err = keep_config(c, cfg, kept, sizeof(kept)))) {
		pr_warn("lab '%s': cannot keep the configuration in %s: %s\n", c->name, kept,
			strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Every daemon of the lab that is missing: BIRDs, announcers, checkers (when the nodes'
 * balancers have checks: a config was applied with them). */
static int daemons_up(const struct clu *c)
{
	int err = 0;

	err = err ?: bird_conf_router(c);
	err = err ?: bird_start(c, "router", c->router_ns);
	for (int i = 0; i < c->nlbs && !err; i++) {
		const struct cnode *n = &c->lbs[i];
		char *ann[] = { NULL, "lb", "announce", "--json", NULL };
		char p[192];

		err = err ?: bird_conf_lb(c, n);
		err = err ?: bird_start(c, n->name, n->netns);
		err = err ?: bpflab_daemon(c, n, ANN_MARK, ann, "\"announce_started\"");
		snprintf(p, sizeof(p), "%s/health-%s.log", c->dir, n->name);
		if (!err && !access(p, F_OK)) { /* it had a checker: `lab kill` took it */
			char *health[] = { NULL, "lb", "health", "--json", NULL };
			err = bpflab_daemon(c, n, HEALTH_MARK, health, "\"health_started\"");
		}
	}
	return err;
}

/* ---- what BIRD and the kernel say ---- */

/* "BGP state:" of protocol proto from `birdc -s SOCK show protocols all PROTO`. */
static void bgp_state(const struct clu *c, const char *node, const char *proto, char *out,
		      size_t len)
{
	char sock[192], buf[8192], *argv[] = { "birdc", "-s", sock, "show", "protocols", "all",
					      (char *)proto, NULL };
	char *p, row[40], fmt[16];

	out[0] = 0;
	snprintf(sock, sizeof(sock), "%s/bird-%s.ctl", c->dir, node);
	if (access(sock, F_OK) || capture(argv, buf, sizeof(buf)) < 0)
		return;
	snprintf(fmt, sizeof(fmt), " %%%zus", len - 1);
	p = strstr(buf, "BGP state:");
	snprintf(row, sizeof(row), "\n%s ", proto);
	if (p)
		sscanf(p + 10, fmt, out);
	else if ((p = strstr(buf, row))) /* no BGP state (down): the state column */
		sscanf(p + 1, "%*s %*s %*s %31s", out);
}

struct croute {
	char prefix[48];
	int nhops;
	char via[LAB_CLUSTER_MAX_LBS][40];
};

static int router_routes_of(const struct clu *c, const char *fam, struct croute *r, int max);

/* The router's BIRD routes (`ip -o route show proto bird`), IPv4 then IPv6: prefix and
 * next hops. */
static int router_routes(const struct clu *c, struct croute *r, int max)
{
	int n = 0;

	for (int fam = 0; fam < 2; fam++)
		n += router_routes_of(c, fam ? "-6" : "-4", r + n, max - n);
	return n;
}

static int router_routes_of(const struct clu *c, const char *fam, struct croute *r, int max)
{
	char buf[16384], *argv[] = { "ip", "-n", (char *)c->router_ns, (char *)fam, "-o", "route",
				     "show", "proto", "bird", NULL };
	int n = 0;

	if (max <= 0 || capture(argv, buf, sizeof(buf)))
		return 0;
	for (char *line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n")) {
		struct croute *e = &r[n];
		char *tok, *save;
		bool via = false;

		memset(e, 0, sizeof(*e));
		for (tok = strtok_r(line, " \t\\", &save); tok; tok = strtok_r(NULL, " \t\\", &save)) {
			if (!e->prefix[0]) {
				snprintf(e->prefix, sizeof(e->prefix), "%s%s", tok,
					 strchr(tok, '/') ? "" : fam[1] == '6' ? "/128" : "/32");
			} else if (via && e->nhops < LAB_CLUSTER_MAX_LBS) {
				snprintf(e->via[e->nhops++], sizeof(e->via[0]), "%s", tok);
				via = false;
			} else {
				via = !strcmp(tok, "via");
			}
		}
		n++;
	}
	return n;
}

/* The prefixes node n's announcer has in table 4242, comma-joined into out; how many. */
static int node_announced(const struct cnode *n, char out[][48], int max)
{
	char buf[4096], *argv[] = { "ip", "-n", (char *)n->netns, "-o", "route", "show", "table",
				    ANN_TABLE, NULL };
	int k = 0;

	for (int fam = 0; fam < 2; fam++) {
		argv[0] = "ip";
		char *a6[] = { "ip", "-n", (char *)n->netns, "-6", "-o", "route", "show", "table",
			       ANN_TABLE, NULL };
		if (capture(fam ? a6 : argv, buf, sizeof(buf)))
			continue;
		for (char *line = strtok(buf, "\n"); line && k < max; line = strtok(NULL, "\n")) {
			char pfx[48] = "";
			if (sscanf(line, "%47s", pfx) != 1 || !strstr(line, "dev bpflab-ann"))
				continue;
			snprintf(out[k++], 48, "%s%s", pfx, strchr(pfx, '/') ? "" : fam ? "/128" : "/32");
		}
	}
	return k;
}

static bool link_up(const struct cnode *n)
{
	char buf[1024], *argv[] = { "ip", "-n", (char *)n->netns, "-o", "link", "show", "eth0", NULL };

	return !capture(argv, buf, sizeof(buf)) && strstr(buf, ",UP") != NULL;
}

static bool balancer_attached(const struct cnode *n)
{
	char p[256];

	snprintf(p, sizeof(p), BPFLAB_PIN_ROOT "/lb/eth0@%s/link", n->netns);
	return pinned_link_alive(p) > 0;
}

static bool node_drained(const struct cnode *n)
{
	char p[256];

	snprintf(p, sizeof(p), ANN_DRAIN, n->netns);
	return !access(p, F_OK);
}

static const char *node_of(const struct clu *c, const char *ip)
{
	for (int i = 0; i < c->nlbs; i++)
		if (!strcmp(c->lbs[i].ip4, ip) || !strcmp(c->lbs[i].ip6, ip))
			return c->lbs[i].name;
	return NULL;
}

static void json_node(struct json *j, const char *name, const char *ns, const char *ip,
		      const char *ip6, const char *mac)
{
	json_obj_begin(j);
	json_kstr(j, "node", name);
	json_kstr(j, "netns", ns);
	json_kbool(j, "present", netns_exists(ns));
	json_kstr(j, "ipv4", ip);
	json_kstr(j, "ipv6", ip6);
	json_kstr(j, "mac", mac);
	json_obj_end(j);
}

static void json_pid(struct json *j, const char *k, int pid)
{
	json_key(j, k);
	if (pid)
		json_int(j, pid);
	else
		json_null(j);
}

static int status(const struct clu *c)
{
	static struct croute routes[LB_ROUTES_MAX];
	int nr = router_routes(c, routes, LB_ROUTES_MAX);
	struct json j;

	if (!g_opts.json) {
		printf("lab '%s': %d LB nodes (%s) behind router %s (BIRD, AS %d; nodes AS %d, BFD "
		       "100 ms x 3), client %s, VIP %s\n", c->name, c->nlbs, c->mode, c->router_ns,
		       AS_ROUTER, AS_LB, c->client.ip4, LAB_VIP4);
		printf("  %-6s %-16s %-6s %-12s %-12s %-9s %-8s %s\n", "node", "ipv4", "link",
		       "bgp", "router-side", "balancer", "drained", "announced");
		for (int i = 0; i < c->nlbs; i++) {
			const struct cnode *n = &c->lbs[i];
			char st[32], rst[32], ann[LB_ROUTES_MAX][48], list[512] = "";
			int na = node_announced(n, ann, LB_ROUTES_MAX);
			size_t o = 0;

			bgp_state(c, n->name, "uplink", st, sizeof(st));
			bgp_state(c, "router", n->name, rst, sizeof(rst));
			for (int k = 0; k < na && o < sizeof(list); k++)
				o += snprintf(list + o, sizeof(list) - o, "%s%s", k ? "," : "", ann[k]);
			printf("  %-6s %-16s %-6s %-12s %-12s %-9s %-8s %s\n", n->name, n->ip4,
			       link_up(n) ? "up" : "down", *st ? st : "-", *rst ? rst : "-",
			       balancer_attached(n) ? "attached" : "-", node_drained(n) ? "yes" : "no",
			       *list ? list : "-");
		}
		for (int i = 0; i < nr; i++) {
			printf("  route %s:", routes[i].prefix);
			for (int k = 0; k < routes[i].nhops; k++) {
				const char *nm = node_of(c, routes[i].via[k]);
				printf(" %s%s%s%s", routes[i].via[k], nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
			}
			printf("\n");
		}
		if (!nr)
			printf("  no route from BGP on the router yet\n");
		return EXIT_OK;
	}
	json_record_begin(&j, stdout, "lab_cluster");
	json_kstr(&j, "lab", c->name);
	json_kbool(&j, "up", true);
	json_kstr(&j, "mode", c->mode);
	json_kstr(&j, "router", "bird");
	json_kstr(&j, "router_netns", c->router_ns);
	json_kstr(&j, "switch_netns", c->sw_ns);
	json_kstr(&j, "vip4", LAB_VIP4);
	json_kstr(&j, "vip6", LAB_VIP6);
	json_kint(&j, "router_as", AS_ROUTER);
	json_kint(&j, "lb_as", AS_LB);
	json_kint(&j, "lbs", c->nlbs);
	json_kint(&j, "backends", c->nbackends);
	json_pid(&j, "router_bird_pid", daemon_pid(BIRD_MARK, c->name, "router"));
	json_key(&j, "nodes");
	json_arr_begin(&j);
	json_node(&j, "client", c->client.netns, c->client.ip4, c->client.ip6, c->client.mac);
	json_node(&j, "router", c->router_ns, LAN_GW, LAN_GW6, ROUTER_LAN_MAC);
	for (int i = 0; i < c->nbackends; i++)
		json_node(&j, c->backends[i].name, c->backends[i].netns, c->backends[i].ip4,
			  c->backends[i].ip6, c->backends[i].mac);
	json_arr_end(&j);
	json_key(&j, "lb_nodes");
	json_arr_begin(&j);
	for (int i = 0; i < c->nlbs; i++) {
		const struct cnode *n = &c->lbs[i];
		char st[32], rst[32], ann[LB_ROUTES_MAX][48];
		int na = node_announced(n, ann, LB_ROUTES_MAX);

		bgp_state(c, n->name, "uplink", st, sizeof(st));
		bgp_state(c, "router", n->name, rst, sizeof(rst));
		json_obj_begin(&j);
		json_kstr(&j, "node", n->name);
		json_kstr(&j, "netns", n->netns);
		json_kbool(&j, "present", netns_exists(n->netns));
		json_kstr(&j, "ipv4", n->ip4);
		json_kstr(&j, "ipv6", n->ip6);
		json_kstr(&j, "mac", n->mac);
		json_kbool(&j, "link_up", link_up(n));
		json_pid(&j, "bird_pid", daemon_pid(BIRD_MARK, c->name, n->name));
		json_kstr(&j, "bgp", *st ? st : NULL);
		json_kstr(&j, "router_bgp", *rst ? rst : NULL);
		json_pid(&j, "announcer_pid", daemon_pid(ANN_MARK, c->name, n->name));
		json_pid(&j, "health_pid", daemon_pid(HEALTH_MARK, c->name, n->name));
		json_kbool(&j, "balancer", balancer_attached(n));
		json_kbool(&j, "drained", node_drained(n));
		json_key(&j, "announced");
		json_arr_begin(&j);
		for (int k = 0; k < na; k++)
			json_str(&j, ann[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "routes");
	json_arr_begin(&j);
	for (int i = 0; i < nr; i++) {
		json_obj_begin(&j);
		json_kstr(&j, "prefix", routes[i].prefix);
		json_key(&j, "next_hops");
		json_arr_begin(&j);
		for (int k = 0; k < routes[i].nhops; k++) {
			json_obj_begin(&j);
			json_kstr(&j, "via", routes[i].via[k]);
			json_kstr(&j, "node", node_of(c, routes[i].via[k]));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_record_end(&j);
	return EXIT_OK;
}

/* ---- the subcommands ---- */

/* A struct lab of the backends alone, for the `--serve` servers and `lb decap` (serve.c,
 * lab_l3.c), which take backends at nodes[2..]. */
static void backend_view(const struct clu *c, struct lab *v)
{
	lab_plan(v, c->name, c->nbackends);
	for (int i = 0; i < c->nbackends; i++) {
		snprintf(v->nodes[2 + i].ip4, sizeof(v->nodes[2 + i].ip4), "%s", c->backends[i].ip4);
		snprintf(v->nodes[2 + i].ip6, sizeof(v->nodes[2 + i].ip6), "%s", c->backends[i].ip6);
	}
}

/* Every BGP session Established on the router's side, within 15 s. */
static int wait_bgp(const struct clu *c)
{
	for (int t = 0; t < 150; t++) {
		int ok = 0;
		for (int i = 0; i < c->nlbs; i++) {
			char st[32];
			bgp_state(c, "router", c->lbs[i].name, st, sizeof(st));
			ok += !strcmp(st, "Established");
		}
		if (ok == c->nlbs)
			return 0;
		poll(NULL, 0, 100);
	}
	pr_warn("lab '%s': the BGP sessions did not all come up within 15 s; the router's log:\n",
		c->name);
	{
		char log[192];
		snprintf(log, sizeof(log), "%s/bird-router.log", c->dir);
		lab_log_warn(log, "router");
	}
	return -ETIMEDOUT;
}

/* With a configuration applied: until every node's route is on the router (bounded;
 * a VIP without quorum is not announced, which is no failure of `up`). */
static void wait_routes(const struct clu *c)
{
	static struct croute r[LB_ROUTES_MAX];

	for (int t = 0; t < 100; t++) {
		int n = router_routes(c, r, LB_ROUTES_MAX), full = 0;
		for (int i = 0; i < n; i++)
			full += r[i].nhops == c->nlbs;
		if (n && full == n)
			return;
		poll(NULL, 0, 100);
	}
	pr_warn("lab '%s': not every VIP is routed to all %d nodes after 10 s (see 'lab status')\n",
		c->name, c->nlbs);
}

int lab_cluster_stop(const char *lab)
{
	char a0[96], p[256];
	int n = 0;

	/* Announcers first: their routes go, so BGP withdraws before the sessions close. */
	snprintf(a0, sizeof(a0), ANN_MARK ":%s:", lab);
	n += lab_proc_stop(a0, true);
	snprintf(a0, sizeof(a0), HEALTH_MARK ":%s:", lab);
	n += lab_proc_stop(a0, true);
	snprintf(a0, sizeof(a0), BIRD_MARK ":%s:", lab);
	n += lab_proc_stop(a0, true);
	/* Drain markers of the nodes (lb drain-node), kept outside the namespaces. */
	for (int i = 1; i <= LAB_CLUSTER_MAX_LBS; i++) {
		char ns[48];
		snprintf(ns, sizeof(ns), "%s-lb%d", lab, i);
		snprintf(p, sizeof(p), ANN_DRAIN, ns);
		unlink(p);
		*strrchr(p, '/') = 0;
		rmdir(p);
	}
	rmdir("/run/bpflab/announce"); /* when it is empty */
	return n;
}

int lab_cluster_up(const struct lab_cluster_opts *given)
{
	static struct clu c, old;
	static struct lab view;
	struct lab_cluster_opts oo = *given, *o = &oo;
	int err;

	/* `up` again on a cluster lab: what it was made with, unless said otherwise. */
	if (lab_cluster_exists(o->name)) {
		state_read(&old, o->name);
		o->lbs = o->lbs ?: old.nlbs;
		o->mode = o->mode ?: old.mode;
	}
	o->mode = o->mode ?: "dsr";
	o->router = o->router ?: "bird";
	if (o->lbs < 2 || o->lbs > LAB_CLUSTER_MAX_LBS)
		return usage_error("lab", "--lbs needs 2 to %d LB nodes", LAB_CLUSTER_MAX_LBS);
	if (strcmp(o->router, "bird"))
		return usage_error("lab", "--router: only bird (BIRD 2) is supported");
	if (o->lb_config && access(o->lb_config, R_OK))
		return usage_error("lab", "cannot read --lb-config '%s': %s", o->lb_config,
				   strerror(errno));
	if (!in_path("bird") || !in_path("birdc")) {
		pr_warn("lab '%s': bird and birdc are not installed ('make deps' installs bird2)\n",
			o->name);
		return EXIT_UNSUPPORTED;
	}
	if (!lab_cluster_exists(o->name)) {
		char sw[48], rt[48];
		snprintf(sw, sizeof(sw), "%s-sw", o->name);
		snprintf(rt, sizeof(rt), "%s-router", o->name);
		if (netns_exists(sw) || netns_exists(rt)) {
			pr_warn("lab '%s' is up as another kind of lab; 'bpflab lab down --name %s' "
				"first\n", o->name, o->name);
			return EXIT_USAGE;
		}
	} else {
		/* old.nlbs is 0 when an up was killed before it made any LB node: nothing to keep. */
		if (old.nlbs && (old.nlbs != o->lbs || strcmp(old.mode, o->mode) ||
				 old.nbackends != o->backends)) {
			pr_warn("lab '%s' is up with --lbs %d --lb %s --backends %d; 'bpflab lab down "
				"--name %s' first to change them\n", o->name, old.nlbs, old.mode,
				old.nbackends, o->name);
			return EXIT_USAGE;
		}
	}
	plan(&c, o->name, o->lbs, o->backends, o->mode);
	err = state_write(&c);
	if (!err && (err = net_up(&c)))
		pr_warn("lab '%s': setting up the network failed (run with -v to see the commands)\n",
			c.name);
	/* A node brought back after `lab kill`: its link comes up with everything else. */
	for (int i = 0; !err && i < c.nlbs; i++)
		err = netns_link_up(c.lbs[i].netns, "eth0");
	err = err ?: daemons_up(&c);
	if (!err && o->lb_config) {
		int applied;

		err = lb_config_all(&c, o->lb_config, false, &applied) ? -EIO : 0;
	}
	backend_view(&c, &view);
	if (!err && o->serve)
		err = lab_serve_start(&view) ? -EIO : 0;
	if (!err && encap_mode(&c))
		err = lab_l3_decap_start(&view) ? -EIO : 0;
	err = err ?: wait_bgp(&c);
	if (err) {
		pr_warn("lab '%s': removing what was made\n", c.name);
		return EXIT_FAIL; /* the caller takes the lab down */
	}
	if (o->lb_config)
		wait_routes(&c);
	if (g_opts.json)
		return status(&c);
	printf("lab '%s' is up: %d LB nodes (%s) from %s behind router %s with BGP (BIRD) and "
	       "ECMP, client %s, %d backends from %s%s\n", c.name, c.nlbs, c.mode, c.lbs[0].ip4,
	       c.router_ns, c.client.ip4, c.nbackends, c.backends[0].ip4,
	       o->serve ? " serving HTTP on port 80" : "");
	return EXIT_OK;
}

int lab_cluster_status(const char *lab)
{
	static struct clu c;

	state_read(&c, lab);
	return status(&c);
}

static const struct cnode *find(const struct clu *c, const char *node, const char **ns)
{
	if (!strcmp(node, "router")) {
		*ns = c->router_ns;
		return NULL;
	}
	if (!strcmp(node, "sw") || !strcmp(node, "switch")) {
		*ns = c->sw_ns;
		return NULL;
	}
	*ns = NULL;
	if (!strcmp(node, "client"))
		return *ns = c->client.netns, &c->client;
	for (int i = 0; i < c->nlbs; i++)
		if (!strcmp(node, c->lbs[i].name) || !strcmp(node, c->lbs[i].netns))
			return *ns = c->lbs[i].netns, &c->lbs[i];
	for (int i = 0; i < c->nbackends; i++)
		if (!strcmp(node, c->backends[i].name) || !strcmp(node, c->backends[i].netns) ||
		    (strlen(node) == 1 && tolower(node[0]) == c->backends[i].name[8]))
			return *ns = c->backends[i].netns, &c->backends[i];
	return NULL;
}

int lab_cluster_exec(const char *lab, int argc, char **argv)
{
	static struct clu c;
	const char *ns;

	state_read(&c, lab);
	if (argc < 1)
		return usage_error("lab", "exec needs a NODE and a command after --");
	find(&c, argv[0], &ns);
	if (!ns)
		return usage_error("lab", "no node '%s' in lab '%s' (nodes: client, router, lb1..lb%d, "
				   "backend-a, ...)", argv[0], lab, c.nlbs);
	argc--, argv++;
	if (argc > 0 && !strcmp(argv[0], "--"))
		argc--, argv++;
	if (argc < 1)
		return usage_error("lab", "exec needs a command after the node");
	if (netns_enter(ns))
		return EXIT_FAIL;
	execvp(argv[0], argv);
	pr_warn("cannot run '%s': %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int lab_cluster_apply(const char *lab, const char *file)
{
	static struct clu c;
	int rc, applied;

	state_read(&c, lab);
	if (access(file, R_OK))
		return usage_error("lab", "cannot read '%s': %s", file, strerror(errno));
	rc = lb_config_all(&c, file, true, &applied);
	if (rc)
		return rc;
	wait_routes(&c);
	if (g_opts.json)
		return status(&c);
	printf("lab '%s': %s applied on %d of %d LB nodes\n", lab, file, applied, c.nlbs);
	return EXIT_OK;
}

static const struct cnode *lb_node(const struct clu *c, const char *node)
{
	const char *ns;
	const struct cnode *n = find(c, node, &ns);

	return n && !strncmp(n->name, "lb", 2) ? n : NULL;
}

int lab_cluster_kill(const char *lab, const char *node)
{
	static struct clu c;
	const struct cnode *n;
	const char *marks[] = { ANN_MARK, HEALTH_MARK, BIRD_MARK };
	char *down[] = { "ip", "link", "set", "eth0", "down", NULL };
	int killed = 0;

	state_read(&c, lab);
	if (!(n = lb_node(&c, node)))
		return usage_error("lab", "no LB node '%s' in lab '%s' (lb1..lb%d)", node, lab, c.nlbs);
	/* As a power cut: the link first, so not even the FIN of BIRD's closing BGP socket gets
	 * out and the router must notice by itself (BFD); then every process at once. */
	if (ipc(n->netns, down)) {
		pr_warn("lab '%s': cannot take eth0 of %s down\n", lab, n->name);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		char a0[96];
		mark(a0, sizeof(a0), marks[i], lab, n->name);
		killed += lab_proc_each(a0, false, SIGKILL, NULL);
	}
	for (int t = 0; t < 100; t++) {
		int left = 0;
		for (size_t i = 0; i < ARRAY_SIZE(marks); i++)
			left += daemon_pid(marks[i], lab, n->name) != 0;
		if (!left)
			break;
		poll(NULL, 0, 10);
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "lab_kill");
		json_kstr(&j, "lab", lab);
		json_kstr(&j, "node", n->name);
		json_kint(&j, "killed", killed);
		json_kbool(&j, "link_up", false);
		json_kdouble(&j, "time", now_mono());
		json_record_end(&j);
	} else {
		printf("lab '%s': %s killed (%d processes, SIGKILL), eth0 down\n", lab, n->name, killed);
	}
	return EXIT_OK;
}

int lab_cluster_revive(const char *lab, const char *node)
{
	static struct clu c;
	const struct cnode *n;
	char kept[PATH_MAX];

	state_read(&c, lab);
	if (!(n = lb_node(&c, node)))
		return usage_error("lab", "no LB node '%s' in lab '%s' (lb1..lb%d)", node, lab, c.nlbs);
	/* The link going down took the node's routes and neighbours: back before the announcer,
	 * so the node is routed to only once it can forward (encap needs its default route). */
	if (netns_link_up(n->netns, "eth0") || node_l3(&c, n))
		return EXIT_FAIL;
	/* What was applied while it was down (or before: the same again changes nothing). */
	snprintf(kept, sizeof(kept), "%s/lb.conf", c.dir);
	if (!access(kept, F_OK) && lb_config_node(&c, n, kept))
		return EXIT_FAIL;
	if (daemons_up(&c))
		return EXIT_FAIL;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "lab_revive");
		json_kstr(&j, "lab", lab);
		json_kstr(&j, "node", n->name);
		json_kdouble(&j, "time", now_mono());
		json_record_end(&j);
	} else {
		printf("lab '%s': %s is back (eth0 up, its daemons started)\n", lab, n->name);
	}
	return EXIT_OK;
}
