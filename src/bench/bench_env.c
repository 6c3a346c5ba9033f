// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where the live rows of `bpflab bench` run (bench_env.h): the namespaces and veth pairs,
 * made with the one builder (lib/netns), commands inside them, and the veth driver's own
 * counters. The moving parts (traffic, CPU accounting) are in bench_traffic.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "util.h"
#include "ifstats.h"
#include "bench_env.h"

#define NS_PREFIX "bpflab-bench"

static const uint8_t mac_g[6] = { 0x02, 0xbe, 0x00, 0x00, 0x65, 0x01 };
static const uint8_t mac_r[6] = { 0x02, 0xbe, 0x00, 0x00, 0x65, 0x02 };
static const uint8_t mac_f[6] = { 0x02, 0xbe, 0x00, 0x00, 0x66, 0x01 };
static const uint8_t mac_d[6] = { 0x02, 0xbe, 0x00, 0x00, 0x66, 0x02 };

static const char *mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static int benv_ifindex(const char *ns, const char *ifname)
{
	int home = netns_save(), idx = 0;

	if (home < 0)
		return -1;
	if (!netns_enter(ns))
		idx = if_nametoindex(ifname);
	netns_restore(home);
	return idx ? idx : -1;
}

/* ---- commands in a namespace ---- */

int benv_run(const char *ns, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pr_debug("bench: [%s] %s\n", ns, cmd);
	return run_cmdf(!g_opts.verbose, "ip netns exec %s %s", ns, cmd);
}

long long benv_read_after(const char *ns, const char *cmd, const char *key, int field)
{
	char full[512], line[1024];
	long long v = -1;
	FILE *f;

	snprintf(full, sizeof(full), "ip netns exec %s %s 2>/dev/null", ns, cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);
		if (!p)
			continue;
		if (field < 0) {
			v = strtoll(p + strlen(key), NULL, 10);
		} else {
			char *save, *tok = strtok_r(line, " \t", &save);
			for (int i = 0; tok && i < field; i++)
				tok = strtok_r(NULL, " \t", &save);
			if (tok)
				v = strtoll(tok, NULL, 10);
		}
		break;
	}
	pclose(f);
	return v;
}

/* UDP NoPorts of a namespace, from its /proc/net/snmp (a header line, then values). */
long long benv_udp_noports(const char *ns)
{
	char full[256], hdr[1024] = "", line[1024];
	long long v = -1;
	FILE *f;

	snprintf(full, sizeof(full), "ip netns exec %s cat /proc/net/snmp", ns);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!hdr[0]) {
			snprintf(hdr, sizeof(hdr), "%s", line);
			continue;
		}
		char *s1, *s2, *h = strtok_r(hdr, " \n", &s1), *d = strtok_r(line, " \n", &s2);
		for (; h && d; h = strtok_r(NULL, " \n", &s1), d = strtok_r(NULL, " \n", &s2))
			if (!strcmp(h, "NoPorts")) {
				v = strtoll(d, NULL, 10);
				break;
			}
		break;
	}
	pclose(f);
	return v;
}

int benv_xdp_attach(const char *ns, int prog_fd, int ifindex, const char *ifname,
		    enum xdp_mode mode)
{
	enum xdp_mode eff;
	int home = netns_save(), fd;

	if (home < 0)
		return -1;
	if (netns_enter(ns)) {
		netns_restore(home);
		return -1;
	}
	fd = xdp_link_attach(prog_fd, ifindex, ifname, mode, &eff);
	netns_restore(home);
	return fd < 0 ? -1 : fd;
}

/* ---- the veth driver's counters (ethtool -S, through lib/ifstats) ---- */

/* "rx_queue_<n>_<name>": the part after the queue number, or NULL. */
static const char *rx_queue_stat(const char *s)
{
	if (strncmp(s, "rx_queue_", 9))
		return NULL;
	s += 9;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '_' ? s + 1 : NULL;
}

/* "tx_queue_<n>_xdp_xmit[_errors]": veth reads them from the peer's receive queues. */
static bool tx_queue_stat(struct benv_veth *v, const char *s, uint64_t value)
{
	if (strncmp(s, "tx_queue_", 9))
		return false;
	s += 9;
	while (*s >= '0' && *s <= '9')
		s++;
	if (!strcmp(s, "_xdp_xmit"))
		v->xmit += value;
	else if (!strcmp(s, "_xdp_xmit_errors"))
		v->xmit_errors += value;
	return true;
}

static void veth_stat(void *ctx, const char *name, uint64_t value)
{
	struct benv_veth *v = ctx;
	const char *k = rx_queue_stat(name);

	if (!k) {
		tx_queue_stat(v, name, value);
		return;
	}
	if (!strcmp(k, "xdp_packets"))
		v->packets += value;
	else if (!strcmp(k, "xdp_drops"))
		v->drops += value;
	else if (!strcmp(k, "xdp_tx"))
		v->tx += value;
	else if (!strcmp(k, "xdp_tx_errors"))
		v->tx_errors += value;
	else if (!strcmp(k, "xdp_redirect"))
		v->redirect += value;
}

int benv_veth_read(const char *ns, const char *ifname, struct benv_veth *v)
{
	int home = netns_save(), fd, err;

	memset(v, 0, sizeof(*v));
	if (home < 0)
		return home;
	if (netns_enter(ns)) {
		netns_restore(home);
		return -ENOENT;
	}
	/* The socket belongs to the namespace it was made in: the ioctls name ifname there. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	netns_restore(home);
	if (err)
		return err;
	err = ifstats_each(fd, ifname, veth_stat, v);
	close(fd);
	return err;
}

/* ---- the namespaces ---- */

void benv_down(struct bench_env *e)
{
	if (!e->made)
		return;
	/* Deleting the namespaces removes the veths, qdiscs, tables and XDP links in them. */
	netns_del(e->ns_gen);
	netns_del(e->ns_rx);
	netns_del(e->ns_dst);
	e->made = false;
}

/* "<pid in hex>-<role>" of a process that is gone: a bench killed with SIGKILL. */
static bool stale_rest(const char *rest)
{
	unsigned int pid;
	char role[8];

	if (sscanf(rest, "%x-%7s", &pid, role) != 2)
		return false;
	return kill(pid, 0) && errno == ESRCH;
}

int benv_up(struct bench_env *e, char *why, size_t wlen)
{
	unsigned int id = getpid() & 0xffffff;
	char m_g[20], m_r[20], m_f[20], m_d[20];
	struct netns_end g, r, f, d;
	int err = 0;

	snprintf(e->ns_gen, sizeof(e->ns_gen), NS_PREFIX "%x-gen", id);
	snprintf(e->ns_rx, sizeof(e->ns_rx), NS_PREFIX "%x-rx", id);
	snprintf(e->ns_dst, sizeof(e->ns_dst), NS_PREFIX "%x-dst", id);
	snprintf(e->if_g, sizeof(e->if_g), "b%xg", id);
	snprintf(e->if_r, sizeof(e->if_r), "b%xr", id);
	snprintf(e->if_f, sizeof(e->if_f), "b%xf", id);
	snprintf(e->if_d, sizeof(e->if_d), "b%xd", id);
	netns_del_prefix(NS_PREFIX, stale_rest);
	e->made = true;
	if (netns_add(e->ns_gen) || netns_add(e->ns_rx) || netns_add(e->ns_dst)) {
		snprintf(why, wlen, "cannot create network namespaces (ip netns add)");
		return -1;
	}
	/* No IPv6 on the bench links: their stacks would send router solicitations and MLD
	 * reports through the measured hop, frames that are not the generator's. */
	for (int i = 0; i < 3 && !err; i++)
		err = benv_run(i == 0 ? e->ns_gen : i == 1 ? e->ns_rx : e->ns_dst,
			       "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			       "net.ipv6.conf.default.disable_ipv6=1");
	g = (struct netns_end){ e->ns_gen, e->if_g, mac_str(mac_g, m_g, sizeof(m_g)) };
	r = (struct netns_end){ e->ns_rx, e->if_r, mac_str(mac_r, m_r, sizeof(m_r)) };
	f = (struct netns_end){ e->ns_rx, e->if_f, mac_str(mac_f, m_f, sizeof(m_f)) };
	d = (struct netns_end){ e->ns_dst, e->if_d, mac_str(mac_d, m_d, sizeof(m_d)) };
	/* Created directly inside the namespaces: nothing ever appears in ours. */
	err = err ?: netns_veth_add(&g, &r);
	err = err ?: netns_veth_add(&f, &d);
	err = err ?: netns_addr_add(e->ns_gen, e->if_g, BENV_GEN_IP "/24");
	err = err ?: netns_addr_add(e->ns_rx, e->if_r, BENV_RX_IP "/24");
	err = err ?: netns_addr_add(e->ns_rx, e->if_f, BENV_FWD_IP "/24");
	err = err ?: netns_addr_add(e->ns_dst, e->if_d, BENV_DST_IP "/24");
	err = err ?: netns_link_up(e->ns_gen, e->if_g);
	err = err ?: netns_link_up(e->ns_gen, "lo");
	err = err ?: netns_link_up(e->ns_rx, e->if_r);
	err = err ?: netns_link_up(e->ns_rx, e->if_f);
	err = err ?: netns_link_up(e->ns_rx, "lo");
	err = err ?: netns_link_up(e->ns_dst, e->if_d);
	/* Static neighbours: no ARP in the measured path, and the XDP forwarder's
	 * bpf_fib_lookup finds the next hop's MAC at once. */
	err = err ?: benv_run(e->ns_rx, "ip neigh replace " BENV_GEN_IP " lladdr %s dev %s nud "
			      "permanent", m_g, e->if_r);
	err = err ?: benv_run(e->ns_rx, "ip neigh replace " BENV_DST_IP " lladdr %s dev %s nud "
			      "permanent", m_d, e->if_f);
	err = err ?: benv_run(e->ns_gen, "ip neigh replace " BENV_RX_IP " lladdr %s dev %s nud "
			      "permanent", m_r, e->if_g);
	err = err ?: benv_run(e->ns_rx, "sysctl -qw net.ipv4.ip_forward=1");
	/* A veth without an XDP program has NAPI only with GRO on; XDP_TX into it needs that
	 * NAPI, and threaded NAPI lets us run the receiver on its own CPU. sysfs shows the
	 * devices of the namespace it was mounted in: `ip netns exec` mounts the namespace's
	 * own, so the write goes through a shell there. */
	err = err ?: benv_run(e->ns_rx, "ethtool -K %s gro on", e->if_r);
	if (!err) {
		char cmd[128];
		char *argv[] = { "sh", "-c", cmd, NULL };

		snprintf(cmd, sizeof(cmd), "echo 1 > /sys/class/net/%s/threaded", e->if_r);
		err = netns_run(e->ns_rx, argv, !g_opts.verbose);
	}
	if (err) {
		snprintf(why, wlen, "setting up the veth pairs failed (run with -v to see the commands)");
		return -1;
	}
	e->idx_g = benv_ifindex(e->ns_gen, e->if_g);
	e->idx_r = benv_ifindex(e->ns_rx, e->if_r);
	e->idx_d = benv_ifindex(e->ns_dst, e->if_d);
	if (e->idx_g <= 0 || e->idx_r <= 0 || e->idx_d <= 0) {
		snprintf(why, wlen, "the bench interfaces did not appear");
		return -1;
	}
	return 0;
}

/* 60-byte UDP frames (64 on the wire with the FCS, as in the XDP paper). */
void benv_gen_udp_frame(struct benv_gen *g, bool forward)
{
	static const uint8_t payload[18];
	struct pkt_spec s;

	pkt_spec_default(&s);
	memcpy(s.src_mac, mac_g, 6);
	memcpy(s.dst_mac, mac_r, 6);
	inet_pton(AF_INET, BENV_GEN_IP, &s.src4);
	inet_pton(AF_INET, forward ? BENV_DST_IP : BENV_RX_IP, &s.dst4);
	s.proto = IPPROTO_UDP;
	s.sport = 40000;
	s.dport = BENV_UDP_PORT;
	s.payload = payload;
	s.payload_len = sizeof(payload);
	g->len = pkt_build(&s, g->frame);
}
