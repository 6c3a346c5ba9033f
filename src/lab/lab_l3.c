// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lab up --lb ipip|gue`: the L3 picture lb's encapsulating VIPs are for. Every node on
 * a subnet of its own, all joined by one router namespace:
 *
 *   <lab>-client 198.18.1.1/24 ---- r-client 198.18.1.254 \
 *   <lab>-lb     198.18.2.2/24 ---- r-lb     198.18.2.254  +- <lab>-router (IPv4 and IPv6
 *   <lab>-backend-a 198.18.11.11 -- r-backend-a .254      /   forwarding; VIP routes via lb)
 *   ...                  IPv6: 2001:db8:18:<host>::<host>/64, router ::fe
 *
 * The router sends the VIPs (198.18.0.100, 2001:db8:18::100) to the LB; the LB
 * encapsulates towards a backend's own address; the backend holds the VIPs on lo (and
 * does not answer ARP for them), strips the tunnel with `bpflab lb decap eth0` and answers
 * the client directly, through the router (DSR). Neighbours are static (MACs are fixed),
 * so nothing waits for ARP or neighbour discovery. The decap processes live like the
 * `--serve` servers: pid file and log in the lab's runtime folder, found again by their
 * command line, stopped by `lab down`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "netns.h"
#include "lab.h"

/* argv[0] of a lab's decap process: "<mark>:<lab>:<node>". */
#define DECAP_MARK "bpflab-lab-decap"

bool lab_l3_exists(const char *lab)
{
	char ns[NETNS_NAME_MAX];

	snprintf(ns, sizeof(ns), "%s-router", lab);
	return netns_exists(ns);
}

void lab_l3_plan(struct lab *lab)
{
	snprintf(lab->sw_netns, sizeof(lab->sw_netns), "%s-router", lab->name);
	for (int i = 0; i < lab->nnodes; i++) {
		struct lab_node *n = &lab->nodes[i];
		snprintf(n->sw_port, sizeof(n->sw_port), "r-%s", n->name);
		snprintf(n->ip4, sizeof(n->ip4), "198.18.%d.%d", n->host, n->host);
		snprintf(n->ip6, sizeof(n->ip6), LAB_NET6_L3 "%x::%x", n->host, n->host);
	}
}

void lab_l3_gateway(const struct lab_node *n, char *gw4, size_t l4, char *gw6, size_t l6)
{
	snprintf(gw4, l4, "198.18.%d.254", n->host);
	snprintf(gw6, l6, LAB_NET6_L3 "%x::fe", n->host);
}

static int ip_cmd(const char *ns, char *const argv[])
{
	return netns_run(ns, argv, !g_opts.verbose) ? -EIO : 0;
}

/* A permanent neighbour entry: ip neigh replace ADDR lladdr MAC dev IF nud permanent. */
static int neigh(const char *ns, const char *dev, const char *addr, const char *mac)
{
	char *argv[] = { "ip", "neigh", "replace", (char *)addr, "lladdr", (char *)mac, "dev",
			 (char *)dev, "nud", "permanent", NULL };
	return ip_cmd(ns, argv);
}

static int route(const char *ns, bool v6, const char *dst, const char *via)
{
	char *argv[] = { "ip", v6 ? "-6" : "-4", "route", "replace", (char *)dst, "via",
			 (char *)via, NULL };
	return ip_cmd(ns, argv);
}

static int sysctl(const char *ns, char *const settings[])
{
	char *argv[16] = { "sysctl", "-qw" };
	int n = 2;

	for (int i = 0; settings[i] && n < 15; i++)
		argv[n++] = settings[i];
	argv[n] = NULL;
	return ip_cmd(ns, argv);
}

static int setup_node(const struct lab *lab, const struct lab_node *n, bool is_lb)
{
	struct netns_end eth0 = { n->netns, "eth0", n->mac }, port = { lab->sw_netns, n->sw_port, NULL };
	char a4[48], a6[64], gw4[24], gw6[48], rmac[18], r4[48], r6[64];
	char *ethtool[] = { "ethtool", "-K", "eth0", "tx", "off", NULL };
	char *dsr[] = { "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
			"net.ipv4.conf.eth0.arp_ignore=1", "net.ipv4.conf.eth0.arp_announce=2",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0", NULL };
	bool backend = !strncmp(n->name, "backend-", 8);
	int err = 0;

	lab_l3_gateway(n, gw4, sizeof(gw4), gw6, sizeof(gw6));
	snprintf(rmac, sizeof(rmac), "02:00:c6:12:fe:%02x", n->host);
	snprintf(a4, sizeof(a4), "%s/24", n->ip4);
	snprintf(a6, sizeof(a6), "%s/64", n->ip6);
	snprintf(r4, sizeof(r4), "%s/24", gw4);
	snprintf(r6, sizeof(r6), "%s/64", gw6);
	port.mac = rmac;
	err = err ?: netns_add(n->netns);
	err = err ?: netns_link_up(n->netns, "lo");
	err = err ?: netns_veth_add(&eth0, &port);
	err = err ?: netns_link_set_mac(n->netns, "eth0", n->mac);
	err = err ?: netns_link_set_mac(lab->sw_netns, n->sw_port, rmac);
	err = err ?: netns_addr_add(n->netns, "eth0", a4);
	err = err ?: netns_addr_add(n->netns, "eth0", a6);
	err = err ?: netns_addr_add(lab->sw_netns, n->sw_port, r4);
	err = err ?: netns_addr_add(lab->sw_netns, n->sw_port, r6);
	err = err ?: netns_link_up(n->netns, "eth0");
	err = err ?: netns_link_up(lab->sw_netns, n->sw_port);
	err = err ?: neigh(n->netns, "eth0", gw4, rmac);
	err = err ?: neigh(n->netns, "eth0", gw6, rmac);
	err = err ?: neigh(lab->sw_netns, n->sw_port, n->ip4, n->mac);
	err = err ?: neigh(lab->sw_netns, n->sw_port, n->ip6, n->mac);
	err = err ?: route(n->netns, false, "default", gw4);
	err = err ?: route(n->netns, true, "default", gw6);
	/* An XDP-forwarded frame loses its checksum offload state: full checksums only. */
	if (!err && !is_lb)
		err = ip_cmd(n->netns, ethtool);
	if (!err && is_lb) {
		/* bpf_fib_lookup answers "forwarding disabled" on an interface that does not
		 * forward; a VIP packet the balancer's XDP did not take is refused, not sent
		 * back to the router (which would send it here again). */
		char *fwd[] = { "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", NULL };
		char *un4[] = { "ip", "-4", "route", "replace", "unreachable", LAB_VIP4 "/32", NULL };
		char *un6[] = { "ip", "-6", "route", "replace", "unreachable", LAB_VIP6 "/128", NULL };
		/* XDP_TX from lb's eth0 lands in its router port, which must run NAPI. */
		err = err ?: lab_peer_xdp_pass(lab->sw_netns, n->sw_port);
		err = err ?: sysctl(n->netns, fwd);
		err = err ?: ip_cmd(n->netns, un4);
		err = err ?: ip_cmd(n->netns, un6);
	}
	if (!err && backend) {
		err = err ?: netns_addr_add(n->netns, "lo", LAB_VIP4 "/32");
		err = err ?: netns_addr_add(n->netns, "lo", LAB_VIP6 "/128");
		err = err ?: sysctl(n->netns, dsr);
	}
	return err;
}

int lab_l3_up(struct lab *lab)
{
	char *fwd[] = { "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", NULL };
	char vip6[64];
	int err = 0;

	err = err ?: netns_add(lab->sw_netns);
	err = err ?: netns_link_up(lab->sw_netns, "lo");
	err = err ?: sysctl(lab->sw_netns, fwd);
	for (int i = 0; i < lab->nnodes && !err; i++)
		err = setup_node(lab, &lab->nodes[i], i == 1);
	/* The VIPs live behind the LB. Backends answer from them straight to the client;
	 * rp_filter is off on the router, whose route for the VIP points at the LB. */
	err = err ?: route(lab->sw_netns, false, LAB_VIP4 "/32", lab->nodes[1].ip4);
	snprintf(vip6, sizeof(vip6), "%s/128", LAB_VIP6);
	err = err ?: route(lab->sw_netns, true, vip6, lab->nodes[1].ip6);
	return err;
}

/* ---- the decap processes ---- */

static void decap_mark(char *buf, size_t len, const char *lab, const char *node)
{
	snprintf(buf, len, DECAP_MARK ":%s:%s", lab, node ? node : "");
}

int lab_l3_decap_pid(const char *lab, const char *node)
{
	char a0[96];
	int pid = 0;

	decap_mark(a0, sizeof(a0), lab, node);
	lab_proc_each(a0, !node, 0, &pid);
	return pid;
}

int lab_l3_stop(const char *lab)
{
	char a0[96];

	decap_mark(a0, sizeof(a0), lab, NULL);
	return lab_proc_stop(a0, true);
}

static pid_t decap_spawn(const char *lab, const struct lab_node *n, const char *dir)
{
	char a0[96], log[256];
	char *argv[] = { a0, "lb", "decap", "eth0", "--json", NULL };

	decap_mark(a0, sizeof(a0), lab, n->name);
	snprintf(log, sizeof(log), "%s/decap-%s.log", dir, n->name);
	/* Before the fork: the wait below must not read a killed predecessor's log. */
	unlink(log);
	return lab_proc_spawn(n->netns, argv, log, false);
}

static bool log_has(const char *path, const char *what)
{
	char line[1024];
	bool hit = false;
	FILE *f = fopen(path, "r");

	while (f && !hit && fgets(line, sizeof(line), f))
		hit = strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return hit;
}

int lab_l3_decap_start(const struct lab *lab)
{
	char dir[128];
	pid_t pids[LAB_MAX_BACKENDS] = { 0 };

	lab_run_dir(lab->name, dir, sizeof(dir));
	{
		char *mk[] = { "mkdir", "-p", dir, NULL };
		if (run_cmd(mk, true)) {
			pr_warn("lab '%s': cannot make %s\n", lab->name, dir);
			return EXIT_FAIL;
		}
	}
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		char pf[256];
		FILE *f;

		if (lab_l3_decap_pid(lab->name, n->name))
			continue; /* idempotent, as `up` is */
		pids[i] = decap_spawn(lab->name, n, dir);
		if (pids[i] < 0) {
			pr_warn("lab '%s': fork: %s\n", lab->name, strerror(errno));
			return EXIT_FAIL;
		}
		snprintf(pf, sizeof(pf), "%s/decap-%s.pid", dir, n->name);
		if ((f = fopen(pf, "w"))) {
			fprintf(f, "%d\n", pids[i]);
			fclose(f);
		}
	}
	/* Up means attached: each says so in its log within 5 s. */
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		char log[256];
		bool ok = false;

		if (!pids[i])
			continue;
		snprintf(log, sizeof(log), "%s/decap-%s.log", dir, n->name);
		for (int t = 0; t < 500 && !ok; t++) {
			struct timespec ts = { 0, 10 * 1000000L };
			int st;
			if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				pr_warn("lab '%s': lb decap on %s exited:\n", lab->name, n->name);
				lab_log_warn(log, n->name);
				return EXIT_FAIL;
			}
			ok = log_has(log, "\"decap_started\"");
			if (!ok)
				nanosleep(&ts, NULL);
		}
		if (!ok) {
			pr_warn("lab '%s': lb decap on %s did not attach within 5 s\n", lab->name, n->name);
			lab_log_warn(log, n->name);
			return EXIT_FAIL;
		}
	}
	return EXIT_OK;
}
