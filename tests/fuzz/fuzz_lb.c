// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lb targets: lb.bpf.c loaded through lb_prog_load() as `bpflab lb start --mode nat|dsr`
 * loads it (default table and conntrack sizes, the LB's MAC and addresses from the fuzz
 * environment), configured through the lb_ctl edit path of `lb vip add` and
 * `lb backend add` (lb_fixture_*). IPv4 targets (lb_nat, lb_dsr and their encap twins)
 * and mixed-family ones (lb_*6: IPv6 VIPs beside an IPv4 one; encap backends of both
 * families, so every outer/inner combination). The model (model_lb.c) is stateful, so a
 * failure at index I is reproduced from the start of the run: --seed S --index 0
 * --count I+1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>

#include "fuzz.h"
#include "lb.h"
#include "lb_ctl.h"
#include "lb_prog.h"
#include "lb_ct.h"

/* A target's configuration, as a user would type it. mac: index into lb_fz_be_mac, or
 * -1 for none (encap VIPs reach their backends through the FIB). */
struct lb_fz_be {
	int vip;
	const char *addr;
	int weight, mac;
};
struct lb_fz_conf {
	const char *name;
	__u32 mode;
	bool netns;          /* routes of lb_fz_netns: the FIB finds encap next hops */
	int nvips, nbes;
	const char *vips[LBM_VIPS];
	__u32 encap[LBM_VIPS];
	struct lb_fz_be bes[LBM_BACKENDS];
};

struct lb_fuzz {
	struct lb_fixture fx;
	struct lb_model *m;
	const struct lb_fz_conf *conf;
	uint64_t state_mismatch, stats_mismatch;
	/* per VIP and backend stats (LBM_C_VIP..LBM_C_END): the model's increments for the
	 * last packet, the maps' values when last read, and the run's totals */
	uint64_t want[LBM_C_END], seen[LBM_C_END], total[LBM_C_END];
	bool have_seen;
	/* churn: backends of the configuration taken out or drained for a while */
	bool removed[LBM_BACKENDS], drained[LBM_BACKENDS];
	uint64_t churns;
	int netns_fd;        /* netns targets: the namespace to return to at teardown */
};

static const uint8_t lb_fz_be_mac[6][6] = {
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0b }, { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0c },
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0b }, { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0d },
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0e }, { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0f },
};

/* IPv4, one L2 segment. The last VIP has only a drained backend. */
#define LB_FZ_CONF4(n, m)									\
	{ .name = n, .mode = m, .nvips = 4, .nbes = 5,						\
	  .vips = { "10.77.0.100:80/tcp", "10.77.0.100:53/udp", "10.77.0.100:81/tcp",	\
		    "10.77.0.101:443/tcp" },						\
	  .bes = { { 0, "10.77.0.11", 1, 0 }, { 0, "10.77.0.12:8080", 2, 1 },		\
		   { 1, "10.77.0.11", 1, 2 }, { 2, "10.77.0.13", 1, 3 },		\
		   { 3, "10.77.0.14", 0, 4 } } }
/* IPv4, every VIP encapsulated, its backends behind the routes of lb_fz_netns:
 * reachable, a 600-byte path MTU, a next hop with no MAC. */
#define LB_FZ_CONF4_ENCAP(n, m)								\
	{ .name = n, .mode = m, .netns = true, .nvips = 4, .nbes = 5,				\
	  .vips = { "10.77.0.100:80/tcp", "10.77.0.100:53/udp", "10.77.0.100:81/tcp",	\
		    "10.77.0.101:443/tcp" },						\
	  .encap = { LB_ENCAP_IPIP, LB_ENCAP_GUE, LB_ENCAP_GUE, LB_ENCAP_IPIP },	\
	  .bes = { { 0, "10.78.0.11", 1, -1 }, { 0, "10.81.0.12:8080", 1, -1 },		\
		   { 1, "10.78.0.11", 1, -1 }, { 2, "10.79.0.13", 1, -1 },		\
		   { 3, "10.80.0.14", 1, -1 } } }
/* IPv6 VIPs and an IPv4 one in one configuration, one L2 segment. */
#define LB_FZ_CONF6(n, m)									\
	{ .name = n, .mode = m, .nvips = 5, .nbes = 6,						\
	  .vips = { "[2001:db8:77::100]:80/tcp", "[2001:db8:77::100]:53/udp",		\
		    "[2001:db8:77::100]:81/tcp", "[2001:db8:77::101]:443/tcp",		\
		    "10.77.0.100:80/tcp" },						\
	  .bes = { { 0, "2001:db8:77::11", 1, 0 }, { 0, "[2001:db8:77::12]:8080", 2, 1 },\
		   { 1, "2001:db8:77::11", 1, 2 }, { 2, "2001:db8:77::13", 1, 3 },	\
		   { 3, "2001:db8:77::14", 0, 4 }, { 4, "10.77.0.11", 1, 5 } } }
/* Mixed families through the tunnels: v6-in-v6, v6-in-v4, v4-in-v6 by IPIP and GUE,
 * paths with MTU 1300 (IPv6) and 1500, a next hop with no MAC, no route; and one IPv6 VIP
 * on the L2 segment (no encap) in the same configuration. */
#define LB_FZ_CONF6_ENCAP(n, m)								\
	{ .name = n, .mode = m, .netns = true, .nvips = 5, .nbes = 8,				\
	  .vips = { "[2001:db8:77::100]:80/tcp", "[2001:db8:77::100]:53/udp",		\
		    "10.77.0.100:80/tcp", "10.77.0.101:443/tcp",			\
		    "[2001:db8:77::102]:80/tcp" },					\
	  .encap = { LB_ENCAP_GUE, LB_ENCAP_IPIP, LB_ENCAP_GUE, LB_ENCAP_IPIP, 0 },	\
	  .bes = { { 0, "2001:db8:78::11", 1, -1 }, { 0, "10.78.0.12:8080", 1, -1 },	\
		   { 1, "2001:db8:79::13", 1, -1 }, { 1, "2001:db8:81::13", 1, -1 },	\
		   { 2, "2001:db8:78::14", 1, -1 }, { 2, "2001:db8:80::14", 1, -1 },	\
		   { 3, "2001:db8:79::16", 1, -1 }, { 4, "2001:db8:77::18", 1, 3 } } }

static const struct lb_fz_conf lb_fz_conf_nat = LB_FZ_CONF4("lb_nat", LB_MODE_NAT);
static const struct lb_fz_conf lb_fz_conf_dsr = LB_FZ_CONF4("lb_dsr", LB_MODE_DSR);
static const struct lb_fz_conf lb_fz_conf_nat_encap = LB_FZ_CONF4_ENCAP("lb_nat_encap", LB_MODE_NAT);
static const struct lb_fz_conf lb_fz_conf_dsr_encap = LB_FZ_CONF4_ENCAP("lb_dsr_encap", LB_MODE_DSR);
static const struct lb_fz_conf lb_fz_conf_nat6 = LB_FZ_CONF6("lb_nat6", LB_MODE_NAT);
static const struct lb_fz_conf lb_fz_conf_dsr6 = LB_FZ_CONF6("lb_dsr6", LB_MODE_DSR);
static const struct lb_fz_conf lb_fz_conf_nat_encap6 = LB_FZ_CONF6_ENCAP("lb_nat_encap6", LB_MODE_NAT);
static const struct lb_fz_conf lb_fz_conf_dsr_encap6 = LB_FZ_CONF6_ENCAP("lb_dsr_encap6", LB_MODE_DSR);

/* The routes of lb_fz_netns, as the FIB must answer them: LBM_RT_NO_NEIGH for a next hop
 * (or an on-link address) without a neighbour entry; anything else has no route. */
static const struct { int family; const char *net; int plen; enum lbm_route kind; uint32_t mtu; }
lb_fz_routes[] = {
	{ 4, "10.78.0.0", 16, LBM_RT_OK, 1500 }, { 4, "10.79.0.0", 16, LBM_RT_OK, 600 },
	{ 4, "10.80.0.0", 16, LBM_RT_NO_NEIGH, 1500 }, { 4, "10.77.0.0", 24, LBM_RT_NO_NEIGH, 1500 },
	{ 6, "2001:db8:78::", 48, LBM_RT_OK, 1500 }, { 6, "2001:db8:79::", 48, LBM_RT_OK, 1300 },
	{ 6, "2001:db8:80::", 48, LBM_RT_NO_NEIGH, 1500 },
	{ 6, "2001:db8:77::", 64, LBM_RT_NO_NEIGH, 1500 },
};
static const uint8_t lb_fz_gw_mac[6] = { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0xfe };

/* A namespace of the fuzzer's own whose FIB the program asks: lbz0 holds the
 * environment's MAC and first addresses; the model has the same routes. */
static int lb_fz_netns(struct lb_fuzz *lf, const struct fuzz_env *env, int *ifindex)
{
	char cmds[20][160], a6[INET6_ADDRSTRLEN];
	const uint8_t *a = env->local4[0], *mc = env->own_mac;
	int n = 0;

	lf->netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (lf->netns_fd < 0 || syscall(SYS_unshare, CLONE_NEWNET))
		return -errno;
	inet_ntop(AF_INET6, env->local6[0], a6, sizeof(a6));
	snprintf(cmds[n++], 160, "ip link add lbz0 address %02x:%02x:%02x:%02x:%02x:%02x type veth "
		 "peer name lbz1", mc[0], mc[1], mc[2], mc[3], mc[4], mc[5]);
	snprintf(cmds[n++], 160, "ip link set lbz0 up && ip link set lbz1 up && ip link set lo up");
	snprintf(cmds[n++], 160, "ip addr add %u.%u.%u.%u/%u dev lbz0", a[0], a[1], a[2], a[3],
		 env->plen4[0]);
	snprintf(cmds[n++], 160, "ip -6 addr add %s/%u dev lbz0 nodad", a6, env->plen6[0]);
	snprintf(cmds[n++], 160, "sysctl -qw net.ipv4.conf.all.forwarding=1");
	snprintf(cmds[n++], 160, "sysctl -qw net.ipv6.conf.all.forwarding=1");
	snprintf(cmds[n++], 160, "ip neigh add 10.77.0.254 lladdr 02:00:0a:4d:00:fe dev lbz0 nud permanent");
	snprintf(cmds[n++], 160, "ip route add 10.78.0.0/16 via 10.77.0.254");
	snprintf(cmds[n++], 160, "ip route add 10.79.0.0/16 via 10.77.0.254 mtu lock 600");
	snprintf(cmds[n++], 160, "ip route add 10.80.0.0/16 via 10.77.0.253");
	snprintf(cmds[n++], 160, "ip -6 neigh add 2001:db8:77::fe lladdr 02:00:0a:4d:00:fe dev lbz0 "
		 "nud permanent");
	snprintf(cmds[n++], 160, "ip -6 route add 2001:db8:78::/48 via 2001:db8:77::fe");
	snprintf(cmds[n++], 160, "ip -6 route add 2001:db8:79::/48 via 2001:db8:77::fe mtu lock 1300");
	snprintf(cmds[n++], 160, "ip -6 route add 2001:db8:80::/48 via 2001:db8:77::fd");
	for (int i = 0; i < n; i++) {
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", cmds[i]);
		if (system(cmd)) {
			fprintf(stderr, "lb encap fuzz: '%s' failed\n", cmds[i]);
			return -EIO;
		}
	}
	*ifindex = if_nametoindex("lbz0");
	return *ifindex ? 0 : -ENODEV;
}

static void lb_fz_model_routes(struct lb_model *m)
{
	m->nrt = 0;
	for (size_t i = 0; i < sizeof(lb_fz_routes) / sizeof(lb_fz_routes[0]); i++) {
		struct lbm_rt *rt = &m->rt[m->nrt++];

		rt->family = lb_fz_routes[i].family;
		inet_pton(rt->family == 4 ? AF_INET : AF_INET6, lb_fz_routes[i].net, rt->net);
		rt->plen = lb_fz_routes[i].plen;
		rt->kind = lb_fz_routes[i].kind;
		rt->mtu = lb_fz_routes[i].mtu;
	}
	memcpy(m->gw_mac, lb_fz_gw_mac, 6);
}

_Static_assert(LBM_C_END <= FUZZ_MAX_COUNTERS, "lb targets: raise FUZZ_MAX_COUNTERS");

static char lb_fz_names_buf[LBM_C_END][32];
static const char *lb_fz_names[LBM_C_END];

static void lb_fz_names_init(void)
{
	static const char *const what[3] = { "packets", "bytes", "new_flows" };

	for (int i = 0; i < LBC__MAX; i++)
		lb_fz_names[i] = lb_counter_name(i);
	for (int i = 0; i < 3 * LBM_VIPS; i++) {
		snprintf(lb_fz_names_buf[LBM_C_VIP + i], 32, "vip%d_%s", i / 3, what[i % 3]);
		lb_fz_names[LBM_C_VIP + i] = lb_fz_names_buf[LBM_C_VIP + i];
	}
	for (int i = 0; i < 3 * LBM_BACKENDS; i++) {
		snprintf(lb_fz_names_buf[LBM_C_BE + i], 32, "backend%d_%s", i / 3, what[i % 3]);
		lb_fz_names[LBM_C_BE + i] = lb_fz_names_buf[LBM_C_BE + i];
	}
	lb_fz_names[LBM_C_STATS] = "stats_mismatch";
	lb_fz_names[LBM_C_STATE] = "state_mismatch";
}

/* The run's per-VIP and per-backend totals, as one TAP comment (the runner prints the
 * other counters). */
static void lb_fz_print_totals(const struct lb_fuzz *lf)
{
	char line[2048];
	size_t n = 0;

	for (int k = LBM_C_VIP; k < LBM_C_END && n < sizeof(line) - 64; k++)
		if (lf->total[k])
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%llu", lb_fz_names[k],
					      (unsigned long long)lf->total[k]);
	printf("# %s stats:%s\n", lf->conf->name, n ? line : " none");
	n = 0;
	for (int k = 0; k < LBM_P__N && n < sizeof(line) - 64; k++)
		if (lf->m->paths[k])
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%llu", lbm_path_names[k],
					      (unsigned long long)lf->m->paths[k]);
	printf("# %s paths:%s; %llu backend changes\n", lf->conf->name, n ? line : " none",
	       (unsigned long long)lf->churns);
}

static void lb_fz_teardown(struct fuzz_ctx *c)
{
	struct lb_fuzz *lf = c->priv;

	if (!lf)
		return;
	if (lf->have_seen && lf->m)
		lb_fz_print_totals(lf);
	if (lf->m)
		for (int i = 0; i < lf->m->nvips; i++)
			free(lf->m->vips[i].table);
	lb_fixture_down(&lf->fx);
	if (lf->netns_fd >= 0) {
		if (syscall(SYS_setns, lf->netns_fd, CLONE_NEWNET))
			fprintf(stderr, "lb encap fuzz: cannot return to the first namespace\n");
		close(lf->netns_fd);
	}
	free(lf->m);
	free(lf);
	c->priv = NULL;
}

/* What user space wrote, for the model: the backends and each VIP's Maglev table, read
 * again after every change. */
static int lb_fz_refresh(struct lb_fuzz *lf)
{
	struct lb_model *m = lf->m;

	memset(m->be, 0, sizeof(m->be));
	for (__u32 id = 1; id < LB_MAX_BACKENDS; id++) {
		struct lb_backend b;
		struct lbm_be *e = &m->be[id];

		if (bpf_map_lookup_elem(lf->fx.fds.backends, &id, &b) || !(b.flags & LB_BE_USED))
			continue;
		e->used = true;
		e->family = b.flags & LB_BE_V6 ? 6 : 4;
		memcpy(e->addr, b.addr.b, lbm_alen(e->family));
		e->port = b.port;
		memcpy(e->mac, b.mac, 6);
		e->vip_id = b.vip_id;
		e->encap = (b.flags >> LB_BE_ENCAP_SHIFT) & LB_VIP_ENCAP_MASK;
	}
	for (int i = 0; i < m->nvips; i++)
		if (lb_ring_read(&lf->fx.fds, m->vips[i].id, m->vips[i].table, m->table_size))
			return -EIO;
	m->nbe = 0;
	for (int i = 0; i < lf->fx.cfg->nbackends && m->nbe < LBM_BACKENDS; i++)
		m->be_ids[m->nbe++] = lf->fx.cfg->backends[i].id;
	return 0;
}

static int lb_fz_setup(struct fuzz_ctx *c, const struct lb_fz_conf *conf)
{
	/* A fixed bucket seed: a run is the same run again (placement decides evictions). */
	struct lb_prog_cfg pc = { .mode = conf->mode, .ct_seed = 0x6c62667a };
	struct lb_fuzz *lf = calloc(1, sizeof(*lf));
	struct lb_model *m;
	int err, ifindex = 0;

	if (!lf)
		return -ENOMEM;
	c->priv = lf;
	lf->netns_fd = -1;
	lf->conf = conf;
	if (conf->netns && (err = lb_fz_netns(lf, &c->env, &ifindex))) {
		lb_fz_teardown(c);
		return err;
	}
	lf->m = m = calloc(1, sizeof(*m));
	if (!m) {
		lb_fz_teardown(c);
		return -ENOMEM;
	}
	lb_fz_names_init();
	/* `lb start` takes the interface's MAC and, for --snat and --tunnel-src, its
	 * addresses of each family. */
	memcpy(pc.mac, c->env.own_mac, 6);
	memcpy(&pc.snat_addr, c->env.local4[0], 4);
	memcpy(&pc.snat6, c->env.local6[0], 16);
	if (conf->netns) {
		memcpy(&pc.tunnel_src4, c->env.local4[0], 4);
		memcpy(&pc.tunnel_src6, c->env.local6[0], 16);
		pc.ifindex = ifindex;
	}
	err = lb_fixture_up(&lf->fx, &pc);
	for (int i = 0; !err && i < conf->nvips; i++)
		err = lb_fixture_vip_add_encap(&lf->fx, conf->vips[i], conf->encap[i]);
	for (int i = 0; !err && i < conf->nbes; i++) {
		const struct lb_fz_be *b = &conf->bes[i];

		err = lb_fixture_backend_add(&lf->fx, conf->vips[b->vip], b->addr,
					     b->mac >= 0 ? lb_fz_be_mac[b->mac] : NULL, b->weight);
	}
	if (err) {
		fprintf(stderr, "lb fuzz: configuring the fixture failed: %s\n", strerror(-err));
		lb_fz_teardown(c);
		return err < 0 ? err : -EINVAL;
	}
	/* What user space wrote, for the model: backends, and each VIP's Maglev table. */
	m->mode = conf->mode;
	m->table_size = lf->fx.meta.table_size;
	memcpy(m->snat4, &pc.snat_addr, 4);
	memcpy(m->snat6, &pc.snat6, 16);
	memcpy(m->tunnel_src4, &pc.tunnel_src4, 4);
	memcpy(m->tunnel_src6, &pc.tunnel_src6, 16);
	if (conf->netns)
		lb_fz_model_routes(m);
	memcpy(m->mac, pc.mac, 6);
	for (int i = 0; i < lf->fx.cfg->nvips && m->nvips < LBM_VIPS; i++) {
		const struct lb_cfg_vip *cv = &lf->fx.cfg->vips[i];
		struct lbm_vip *v = &m->vips[m->nvips++];

		v->family = cv->key.family;
		memcpy(v->addr, cv->key.addr.b, lbm_alen(v->family));
		v->port = cv->key.port;
		v->proto = cv->key.proto;
		v->id = cv->id;
		v->table = calloc(m->table_size, sizeof(*v->table));
		if (!v->table) {
			lb_fz_teardown(c);
			return -ENOMEM;
		}
	}
	if ((err = lb_fz_refresh(lf))) {
		lb_fz_teardown(c);
		return err;
	}
	c->prog_fd = lf->fx.prog_fd;
	c->tc = false;
	return 0;
}

static int lb_fz_setup_nat(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_nat); }
static int lb_fz_setup_dsr(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_dsr); }
static int lb_fz_setup_nat_encap(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_nat_encap); }
static int lb_fz_setup_dsr_encap(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_dsr_encap); }
static int lb_fz_setup_nat6(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_nat6); }
static int lb_fz_setup_dsr6(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_dsr6); }
static int lb_fz_setup_nat_encap6(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_nat_encap6); }
static int lb_fz_setup_dsr_encap6(struct fuzz_ctx *c) { return lb_fz_setup(c, &lb_fz_conf_dsr_encap6); }

static void lb_fz_clear(int fd, size_t ksz)
{
	uint8_t k[64], next[64];

	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(k, next, ksz);
		if (bpf_map_delete_elem(fd, k))
			break;
	}
}

static void lb_fz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct lb_fuzz *lf = c->priv;

	lb_model(lf->m, in, x);
	memcpy(lf->want + LBM_C_VIP, x->counters + LBM_C_VIP,
	       (LBM_C_END - LBM_C_VIP) * sizeof(lf->want[0]));
	if (lf->m->reset) {
		/* Whole tables (6 MiB in batches): a stray write anywhere goes too. A failure
		 * would leave flows the model has forgotten: counted as a state mismatch. */
		if (lb_ct_clear(lf->fx.fds.conntrack, LB_FAM4) ||
		    lb_ct_clear(lf->fx.fds.conntrack6, LB_FAM6))
			lf->state_mismatch++;
		lb_fz_clear(lf->fx.fds.reverse, sizeof(struct lb_rev4_key));
		lb_fz_clear(lf->fx.fds.reverse6, sizeof(struct lb_rev6_key));
	}
}

/* The program's clock for `created`: CLOCK_MONOTONIC seconds (coarse, docs/lb.md). */
static uint32_t lb_fz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}

/* One conntrack entry the last packet must have left, against its table (found in its
 * bucket as the program finds it: lb_ct.h). */
static bool lb_fz_check_ct(struct lb_fuzz *lf, const struct lbm_check *ck)
{
	const struct lbm_ct_e *e = &ck->ct;
	struct lb_ct4_key k4 = { 0 };
	struct lb_ct6_key k6 = { 0 };
	struct lb_ct v;
	uint32_t created;
	bool there;

	if (e->k.family == 4) {
		memcpy(&k4.saddr, e->k.saddr, 4);
		k4.sport = e->k.sport;
		k4.vip_id = (__u16)e->vip_id;
		there = !lb_ct4_lookup(lf->fx.fds.conntrack, &lf->fx.meta, &k4, &v);
	} else {
		memcpy(k6.saddr.b, e->k.saddr, 16);
		k6.sport = e->k.sport;
		k6.vip_id = (__u16)e->vip_id;
		there = !lb_ct6_lookup(lf->fx.fds.conntrack6, &lf->fx.meta, &k6, &v);
	}
	if (there != ck->present)
		return false;
	if (!there)
		return true;
	if (v.backend_id != e->backend_id || v.nat_port != e->nat_port ||
	    !(v.stamp & LB_CT_REF) != !e->ref)
		return false;
	created = v.stamp & ~LB_CT_REF;
	if (ck->written) {
		uint32_t now = lb_fz_now();

		/* written during this packet's run: the coarse clock may lag by a tick */
		if (created > now || created + 2 < now)
			return false;
		ck->e->created = created;
		return true;
	}
	return created == e->created;
}

static bool lb_fz_check_rev(struct lb_fuzz *lf, const struct lbm_check *ck)
{
	const struct lbm_rev_e *e = &ck->rv;
	bool there;

	if (e->k.family == 4) {
		struct lb_rev4_key k = { .bport = e->k.sport, .nat_port = e->k.dport };
		struct lb_rev4 v, w = { .client_port = e->client_port, .vip_port = e->vip_port,
					.proto = e->proto };

		memcpy(&k.baddr, e->k.saddr, 4);
		memcpy(&w.client_addr, e->client_addr, 4);
		memcpy(&w.vip_addr, e->vip_addr, 4);
		memcpy(w.client_mac, e->client_mac, 6);
		there = !bpf_map_lookup_elem(lf->fx.fds.reverse, &k, &v);
		return there == ck->present && (!there || !memcmp(&v, &w, sizeof(v)));
	} else {
		struct lb_rev6_key k = { .bport = e->k.sport, .nat_port = e->k.dport };
		struct lb_rev6 v, w = { .client_port = e->client_port, .vip_port = e->vip_port,
					.proto = e->proto };

		memcpy(k.baddr.b, e->k.saddr, 16);
		memcpy(w.client_addr.b, e->client_addr, 16);
		memcpy(w.vip_addr.b, e->vip_addr, 16);
		memcpy(w.client_mac, e->client_mac, 6);
		there = !bpf_map_lookup_elem(lf->fx.fds.reverse6, &k, &v);
		return there == ck->present && (!there || !memcmp(&v, &w, sizeof(v)));
	}
}

/* The entries the last packet must have left, against the maps. */
static void lb_fz_check_state(struct lb_fuzz *lf)
{
	struct lb_model *m = lf->m;

	for (int i = 0; i < m->ncheck; i++) {
		const struct lbm_check *ck = &m->check[i];

		if (!(ck->rev ? lb_fz_check_rev(lf, ck) : lb_fz_check_ct(lf, ck)))
			lf->state_mismatch++;
	}
	m->ncheck = 0;
}

/* The per-VIP and per-backend stats, in the model's slots. */
static int lb_fz_read_stats(struct lb_fuzz *lf, uint64_t *now)
{
	const struct lb_model *m = lf->m;
	struct lb_stats s;
	int err;

	memset(now, 0, LBM_C_END * sizeof(*now));
	for (int i = 0; i < m->nvips; i++) {
		if ((err = lb_stats_read(lf->fx.fds.vip_stats, m->vips[i].id, &s)))
			return err;
		now[LBM_C_VIP + 3 * i] = s.packets;
		now[LBM_C_VIP + 3 * i + 1] = s.bytes;
		now[LBM_C_VIP + 3 * i + 2] = s.new_flows;
	}
	for (int i = 0; i < m->nbe; i++) {
		if ((err = lb_stats_read(lf->fx.fds.backend_stats, m->be_ids[i], &s)))
			return err;
		now[LBM_C_BE + 3 * i] = s.packets;
		now[LBM_C_BE + 3 * i + 1] = s.bytes;
		now[LBM_C_BE + 3 * i + 2] = s.new_flows;
	}
	return 0;
}

static int lb_fz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct lb_fuzz *lf = c->priv;
	struct lb_counters lc;
	uint64_t now[LBM_C_END];
	int err = lb_counters_read(&lf->fx.fds, &lc);

	if (err)
		return err;
	for (int i = 0; i < LBC__MAX; i++)
		v[i] = lc.c[i];
	if ((err = lb_fz_read_stats(lf, now)))
		return err;
	/* The first read is the baseline; after that, each read follows one packet. */
	for (int k = LBM_C_VIP; lf->have_seen && k < LBM_C_END; k++) {
		uint64_t d = now[k] - lf->seen[k];

		lf->total[k] += d;
		if (d != lf->want[k]) {
			printf("# %s: %s +%llu, model +%llu\n", lf->conf->name, lb_fz_names[k],
			       (unsigned long long)d, (unsigned long long)lf->want[k]);
			lf->stats_mismatch++;
		}
	}
	memcpy(lf->seen, now, sizeof(now));
	memset(lf->want, 0, sizeof(lf->want));
	lf->have_seen = true;
	lb_fz_check_state(lf);
	v[LBM_C_STATS] = lf->stats_mismatch;
	v[LBM_C_STATE] = lf->state_mismatch;
	return 0;
}

/* A change of configuration between two packets, as `lb backend del|add|set` makes it
 * (read, edit, apply): one backend taken out (its flows go stale and are placed again),
 * put back (under a new id), drained (weight 0: out of the Maglev table, kept for its
 * flows) or restored. The model then reads the backends and tables again. A change
 * that fails is a state mismatch. */
static void lb_fz_churn(struct fuzz_rng *r, struct lb_fuzz *lf)
{
	const struct lb_fz_conf *conf = lf->conf;
	int i = (int)fuzz_below(r, (uint32_t)conf->nbes), err;
	const struct lb_fz_be *b = &conf->bes[i];
	struct lb_edit e = { .op = LB_BACKEND_SET };

	if (lf->removed[i]) {
		err = lb_fixture_backend_add(&lf->fx, conf->vips[b->vip], b->addr,
					     b->mac >= 0 ? lb_fz_be_mac[b->mac] : NULL,
					     lf->drained[i] ? 0 : (__u16)b->weight);
		if (!err)
			lf->removed[i] = false;
	} else {
		if (fuzz_chance(r, 1, 2))
			e.op = LB_BACKEND_DEL;
		e.set_weight = true;
		e.backend.weight = lf->drained[i] ? (__u16)b->weight : 0;
		err = lb_parse_vip(conf->vips[b->vip], &e.vip);
		e.backend.vip = e.vip;
		if (!err)
			err = lb_parse_addr_port(b->addr, &e.backend.addr, &e.backend.port);
		if (!err)
			err = lb_cfg_read(&lf->fx.fds, lf->fx.cfg);
		if (!err)
			err = lb_cfg_edit(lf->fx.cfg, &e);
		if (!err)
			err = lb_cfg_apply(&lf->fx.fds, &lf->fx.meta, lf->fx.cfg);
		if (!err && e.op == LB_BACKEND_DEL)
			lf->removed[i] = true;
		else if (!err)
			lf->drained[i] = !lf->drained[i];
	}
	lf->churns++;
	if (err || lb_fz_refresh(lf) || lb_fz_read_stats(lf, lf->seen)) {
		printf("# %s: changing backend %s failed: %s\n", conf->name, b->addr,
		       strerror(err < 0 ? -err : EIO));
		lf->state_mismatch++;
	}
}

/* ---- generator: what reaches a balancer, then the fuzzer's mutations ---- */

/* Clients: 10.77.1.1-8 and 2001:db8:77:1::1-8 mostly, a few random ones. */
static void lb_fz_client(struct fuzz_rng *r, int family, uint8_t *a)
{
	uint8_t last = fuzz_chance(r, 1, 10) ? (uint8_t)fuzz_next(r) : (uint8_t)(1 + fuzz_below(r, 8));

	if (family == 4) {
		memcpy(a, "\x0a\x4d\x01\x00", 4);
		a[3] = last;
		return;
	}
	memset(a, 0, 16);
	memcpy(a, "\x20\x01\x0d\xb8\x00\x77\x00\x01", 8);
	a[15] = last;
	if (fuzz_chance(r, 1, 20))
		fuzz_bytes(r, a + 8, 8);
}

static uint16_t lb_fz_port(struct fuzz_rng *r)
{
	switch (fuzz_below(r, 40)) {
	case 0: return 0;
	case 1: return 65535;
	case 2: return (uint16_t)fuzz_next(r);
	case 3: return 1;
	default: return (uint16_t)(40000 + fuzz_below(r, 16));
	}
}

static void lb_fz_l4(struct fuzz_rng *r, struct fuzz_tmpl *t)
{
	t->tcp_seq = (uint32_t)fuzz_next(r);
	t->tcp_ack = (uint32_t)fuzz_next(r);
	t->tcp_flags = fuzz_chance(r, 1, 3) ? 0x02 : fuzz_chance(r, 1, 2) ? 0x10 : (uint8_t)fuzz_next(r);
	t->tcp_opts_len = (uint8_t)(4 * fuzz_below(r, 3));
	t->payload_len = fuzz_chance(r, 1, 4) ? 0 : (int)fuzz_below(r, 120);
	fuzz_bytes(r, t->payload, t->payload_len);
}

static void lb_fz_ext(struct fuzz_tmpl *t, uint8_t type, int len)
{
	int i = t->next++;

	t->ext_type[i] = type;
	t->ext_len[i] = (uint8_t)len;
	memset(t->ext[i], 0, sizeof(t->ext[i]));
	if ((type == 0 || type == 60) && len > 2) {
		t->ext[i][2] = 1;                    /* PadN over the rest (RFC 8200 4.2) */
		t->ext[i][3] = (uint8_t)(len - 4);
	}
	if (type == 43)
		t->ext[i][2] = 4;                    /* a routing type (SRH's number) */
}

/* IPv6 extension headers on a VIP packet: the ones a final destination walks past
 * (hop-by-hop, destination options, a finished routing header, AH), and the ones lb must
 * refuse (fragments, segments left, chains past the parser's bound, hop-by-hop not
 * first, two of a kind). Truncated chains come from fuzz_mutate's truncation. */
static void lb_fz_ext6(struct fuzz_rng *r, struct fuzz_tmpl *t)
{
	int k = fuzz_below(r, 15), n;

	switch (k) {
	case 0: lb_fz_ext(t, 0, 8); break;
	case 1: lb_fz_ext(t, 60, 8 + 8 * fuzz_below(r, 2)); break;
	case 2: lb_fz_ext(t, 43, 24); break;                          /* segments left 0 */
	case 3:
		lb_fz_ext(t, 43, 24);
		t->ext[0][3] = (uint8_t)(1 + fuzz_below(r, 3));
		break;
	case 4: /* first fragment */
		lb_fz_ext(t, 44, 8);
		fuzz_put16(t->ext[0] + 2, 1);
		fuzz_put32(t->ext[0] + 4, (uint32_t)fuzz_next(r));
		break;
	case 5: /* later fragment, last or not */
		lb_fz_ext(t, 44, 8);
		fuzz_put16(t->ext[0] + 2, (uint16_t)(8 * (1 + fuzz_below(r, 100)) | fuzz_below(r, 2)));
		break;
	case 6: lb_fz_ext(t, 44, 8); break;                           /* atomic fragment */
	case 7: lb_fz_ext(t, 51, 12 + 4 * fuzz_below(r, 3)); break;  /* AH */
	case 8: /* a long legitimate chain */
		lb_fz_ext(t, 0, 8);
		lb_fz_ext(t, 60, 8);
		lb_fz_ext(t, 43, 24);
		lb_fz_ext(t, 60, 16);
		break;
	case 9: case 10: /* around the parser's bound (8) */
		n = 7 + (int)fuzz_below(r, 4);
		for (int i = 0; i < n; i++)
			lb_fz_ext(t, 60, 8);
		break;
	case 11:
		lb_fz_ext(t, 60, 8);
		lb_fz_ext(t, 0, 8);
		break;
	case 12:
		lb_fz_ext(t, 44, 8);
		lb_fz_ext(t, 44, 8);
		break;
	case 13:
		lb_fz_ext(t, 43, 24);
		lb_fz_ext(t, 43, 24);
		t->ext[fuzz_below(r, 2)][3] = (uint8_t)fuzz_below(r, 2);
		break;
	default: /* hop-by-hop then a fragment header */
		lb_fz_ext(t, 0, 8);
		lb_fz_ext(t, 44, 8);
		fuzz_put16(t->ext[1] + 2, fuzz_chance(r, 1, 2) ? 1 : 0);
		break;
	}
}

static const struct lbm_vip *lb_fz_vip(struct fuzz_rng *r, const struct lb_model *m)
{
	return &m->vips[fuzz_below(r, m->nvips)];
}

/* A request to the VIP address: a VIP's port and protocol, mostly. */
static void lb_fz_request(struct fuzz_rng *r, const struct lb_model *m, struct fuzz_tmpl *t)
{
	const struct lbm_vip *v = lb_fz_vip(r, m);

	t->family = v->family;
	lb_fz_client(r, t->family, t->src);
	memcpy(t->dst, v->addr, lbm_alen(v->family));
	t->proto = v->proto;
	t->dport = ntohs(v->port);
	if (fuzz_chance(r, 1, 12))
		t->proto = t->proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	if (fuzz_chance(r, 1, 12))
		t->dport = (uint16_t)fuzz_next(r);
	t->sport = lb_fz_port(r);
	lb_fz_l4(r, t);
	if (t->family == 6 && fuzz_chance(r, 1, 6))
		lb_fz_ext6(r, t);
}

/* A backend's reply to LB:port: mostly to a NAT port the model knows. */
static void lb_fz_reply(struct fuzz_rng *r, const struct lb_model *m, struct fuzz_tmpl *t)
{
	const struct lbm_rev_e *e = NULL;

	if (m->nrev && fuzz_chance(r, 7, 8))
		for (int n = 0; n < 64 && !e; n++) {
			const struct lbm_rev_e *c = &m->rev[fuzz_below(r, LBM_CAP)];
			if (c->used)
				e = c;
		}
	if (e) {
		t->family = e->k.family;
		memcpy(t->src, e->k.saddr, 16);
		memcpy(t->dst, e->k.daddr, 16);
		t->proto = fuzz_chance(r, 1, 10) ? (uint8_t)(IPPROTO_TCP + IPPROTO_UDP - e->proto)
						 : e->proto;
		t->sport = ntohs(e->k.sport);
		t->dport = ntohs(e->k.dport);
		if (fuzz_chance(r, 1, 10))
			t->dport = lb_fz_port(r);
	} else {
		const struct lbm_be *be = &m->be[m->be_ids[fuzz_below(r, m->nbe)]];
		t->family = be->family;
		memcpy(t->src, be->addr, 16);
		memcpy(t->dst, be->family == 4 ? m->snat4 : m->snat6, lbm_alen(be->family));
		t->proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		t->sport = ntohs(be->port);
		t->dport = lb_fz_port(r);
	}
	lb_fz_l4(r, t);
	if (t->family == 6 && fuzz_chance(r, 1, 10))
		lb_fz_ext6(r, t);
}

/* An ICMP (ICMPv6) error about a flow's reply (VIP:port -> client:port), as a router
 * sends it to the VIP; the quote is the reply's IP header and 8 or more of its bytes. */
static void lb_fz_icmp_error(struct fuzz_rng *r, const struct lb_model *m, struct fuzz_tmpl *t)
{
	static const uint8_t types4[] = { 3, 3, 3, 11, 11, 0, 8, 5, 12 };
	static const uint8_t types6[] = { 1, 1, 2, 2, 3, 3, 4, 128, 129, 135, 136, 0 };
	static struct fuzz_tmpl q;
	const struct lbm_ct_e *e = NULL;
	uint8_t qb[256];
	uint32_t qn;
	int fam, qmin;

	if (m->nct && fuzz_chance(r, 7, 8))
		for (int n = 0; n < 64 && !e; n++) {
			const struct lbm_ct_e *c = &m->ct[fuzz_below(r, LBM_CAP)];
			if (c->used)
				e = c;
		}
	memset(&q, 0, sizeof(q));
	q.ttl = 63;
	if (e) {
		fam = q.family = e->k.family;
		memcpy(q.src, e->k.daddr, 16);
		memcpy(q.dst, e->k.saddr, 16);
		q.proto = e->k.proto;
		q.sport = ntohs(e->k.dport);
		q.dport = ntohs(e->k.sport);
	} else {
		const struct lbm_vip *v = lb_fz_vip(r, m);
		fam = q.family = v->family;
		memcpy(q.src, v->addr, 16);
		lb_fz_client(r, fam, q.dst);
		q.proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		q.sport = ntohs(v->port);
		q.dport = lb_fz_port(r);
	}
	if (fuzz_chance(r, 1, 20)) {
		if (fam == 4)
			q.frag_off = (uint16_t)(1 + fuzz_below(r, 100));
		else
			lb_fz_ext6(r, &q);
	}
	if (fuzz_chance(r, 1, 30))
		q.proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	lb_fz_l4(r, &q);
	qn = fuzz_build_ip(&q, qb, sizeof(qb));
	t->family = fam;
	if (fam == 4)
		memcpy(t->src, "\x0a\x4d\x02\x01", 4);
	else
		memcpy(t->src, "\x20\x01\x0d\xb8\x00\x77\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01", 16);
	memcpy(t->dst, q.src, 16);
	t->proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (fam == 4)
		t->icmp_type = types4[fuzz_below(r, sizeof(types4))];
	else
		t->icmp_type = types6[fuzz_below(r, sizeof(types6))];
	if (fam == 6 && !t->icmp_type)
		t->icmp_type = (uint8_t)fuzz_next(r);
	t->icmp_code = (uint8_t)fuzz_below(r, 16);
	t->icmp_id = 0;
	t->icmp_seq = fuzz_chance(r, 1, 2) ? 1400 : (uint16_t)fuzz_next(r);
	qmin = fam == 4 ? 28 : 48;
	t->payload_len = (int)(qmin + fuzz_below(r, 40));
	if ((uint32_t)t->payload_len > qn)
		t->payload_len = (int)qn;
	memcpy(t->payload, qb, t->payload_len);
	switch (fuzz_below(r, 12)) { /* the quoted header lying */
	case 0:
		if (fam == 4)
			fuzz_put16(t->payload + 2, (uint16_t)fuzz_below(r, 40));
		else
			fuzz_put16(t->payload + 4, (uint16_t)fuzz_below(r, 16));
		break;
	case 1:
		if (fam == 4)
			t->payload[0] = (uint8_t)(0x40 | fuzz_below(r, 16));
		else
			t->payload[6] = (uint8_t)fuzz_next(r);     /* quoted next header */
		break;
	case 2: t->payload[0] = (uint8_t)(fuzz_below(r, 16) << 4 | (t->payload[0] & 15)); break;
	case 3: t->payload_len = (int)fuzz_below(r, qmin); break;
	}
	if (fam == 6 && fuzz_chance(r, 1, 12))
		lb_fz_ext6(r, t);
}

static void lb_fz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	struct lb_fuzz *lf = c->priv;
	const struct lb_model *m = lf->m;
	static struct fuzz_tmpl t;
	const char *kind;
	int k;

	/* a change costs about a second (Maglev tables rebuilt and read back): rare */
	if (fuzz_chance(r, 1, 20000))
		lb_fz_churn(r, lf);
	k = fuzz_below(r, 100);
	do {
		memset(&t, 0, sizeof(t));
		if (k < 15) {
			/* anything, from the fuzzer's own templates; sometimes to a VIP address
			 * (or the LB's own, where NAT replies arrive) */
			fuzz_tmpl_random(r, &c->env, &t);
			if (t.family && fuzz_chance(r, 1, 2)) {
				const struct lbm_vip *v = lb_fz_vip(r, m);
				if (v->family == t.family)
					memcpy(t.dst, v->addr, lbm_alen(v->family));
			}
			kind = "random";
		} else {
			memcpy(t.dst_mac, c->env.own_mac, 6);
			memcpy(t.src_mac, c->env.peer_mac, 6);
			t.ttl = 64;
			t.ip_id = (uint16_t)fuzz_next(r);
			if (k < 55) {
				lb_fz_request(r, m, &t);
				kind = "request";
				/* encap: sizes around the path MTUs (600, 1300, 1500), DF mostly */
				if (lf->conf->netns && fuzz_chance(r, 1, 4)) {
					t.payload_len = (int)(500 + fuzz_below(r, 900));
					fuzz_bytes(r, t.payload, t.payload_len);
					t.frag_off = fuzz_chance(r, 3, 4) ? 0x4000 : 0;
				}
			} else if (k < 75) {
				lb_fz_reply(r, m, &t);
				kind = "reply";
			} else {
				lb_fz_icmp_error(r, m, &t);
				kind = "icmp-error";
			}
			if (t.family == 4) {
				if (fuzz_chance(r, 1, 25))
					t.frag_off = fuzz_chance(r, 1, 2) ? 0x2000 :
						     (uint16_t)(1 + fuzz_below(r, 200));
				else if (fuzz_chance(r, 1, 30))
					t.frag_off = 0x4000; /* DF: a whole packet */
				if (fuzz_chance(r, 1, 25)) {
					memcpy(t.ip_opts, "\x94\x04\x00\x00", 4);
					t.ip_opts_len = 4;
				}
			} else {
				t.frag_off = 0;
				if (fuzz_chance(r, 1, 8))
					t.tos = (uint8_t)fuzz_next(r);   /* traffic class */
			}
			if (fuzz_chance(r, 1, 8)) {
				t.nvlan = fuzz_chance(r, 1, 4) ? 2 : 1;
				for (int i = 0; i < t.nvlan; i++) {
					t.vlan_tpid[i] = t.nvlan == 2 && i == 0 ? 0x88a8 : 0x8100;
					t.vlan_tci[i] = (uint16_t)fuzz_below(r, 4096);
				}
			}
			switch (fuzz_below(r, 30)) { /* frames not for us */
			case 0: memset(t.dst_mac, 0xff, 6); break;
			case 1: memcpy(t.dst_mac, "\x01\x00\x5e\x00\x00\x01", 6); break;
			case 2: memcpy(t.dst_mac, c->env.peer_mac, 6); break;
			case 3: t.dst_mac[fuzz_below(r, 6)] ^= (uint8_t)(1 + fuzz_below(r, 255)); break;
			}
		}
	} while (!fuzz_build(&t, p));
	snprintf(p->what, sizeof(p->what), "%s/ip%d%s", kind, t.family, t.next ? "/ext" : "");
	if (fuzz_chance(r, 2, 5))
		fuzz_mutate(r, &c->env, p);
}

#define LB_FZ_TARGET(id, tname)								\
static const struct fuzz_target fuzz_lb_##id = {						\
	.name = tname, .setup = lb_fz_setup_##id, .teardown = lb_fz_teardown,		\
	.gen = lb_fz_gen, .model = lb_fz_model, .read_counters = lb_fz_counters,	\
	.ncounters = LBM_NCOUNTERS, .counter_names = lb_fz_names,			\
}
LB_FZ_TARGET(nat, "lb_nat");
LB_FZ_TARGET(dsr, "lb_dsr");
LB_FZ_TARGET(nat_encap, "lb_nat_encap");
LB_FZ_TARGET(dsr_encap, "lb_dsr_encap");
LB_FZ_TARGET(nat6, "lb_nat6");
LB_FZ_TARGET(dsr6, "lb_dsr6");
LB_FZ_TARGET(nat_encap6, "lb_nat_encap6");
LB_FZ_TARGET(dsr_encap6, "lb_dsr_encap6");
