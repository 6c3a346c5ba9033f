// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lb targets: lb.bpf.c loaded through lb_prog_load() as `bpflab lb start --mode nat|dsr`
 * loads it (default table and conntrack sizes, the LB's MAC and address from the fuzz
 * environment), configured through the lb_ctl edit path of `lb vip add` and
 * `lb backend add` (lb_fixture_*). The model (model_lb.c) is stateful, so a failure at
 * index I is reproduced from the start of the run: --seed S --index 0 --count I+1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct lb_fuzz {
	struct lb_fixture fx;
	struct lb_model *m;
	uint64_t state_mismatch;
	bool encap;
	int netns_fd;        /* encap targets: the namespace to return to at teardown */
};

static const uint8_t lb_fz_be_mac[LBM_BACKENDS][6] = {
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0b }, { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0c },
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0b }, { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0d },
	{ 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x0e },
};

/* The configuration, as a user would type it. The last VIP has only a drained backend. */
static const char *const lb_fz_vips[LBM_VIPS] = {
	"10.77.0.100:80/tcp", "10.77.0.100:53/udp", "10.77.0.100:81/tcp", "10.77.0.101:443/tcp",
};
static const struct { int vip; const char *addr; int weight; } lb_fz_bes[LBM_BACKENDS] = {
	{ 0, "10.77.0.11", 1 }, { 0, "10.77.0.12:8080", 2 }, { 1, "10.77.0.11", 1 },
	{ 2, "10.77.0.13", 1 }, { 3, "10.77.0.14", 0 },
};

/* Encap targets: every VIP encapsulated, its backends behind the routes of
 * lb_fz_netns: reachable, a 600-byte path MTU, a next hop with no MAC, no route. */
static const __u32 lb_fz_encap[LBM_VIPS] = {
	LB_ENCAP_IPIP, LB_ENCAP_GUE, LB_ENCAP_GUE, LB_ENCAP_IPIP,
};
static const struct { int vip; const char *addr; int weight; } lb_fz_encap_bes[LBM_BACKENDS] = {
	{ 0, "10.78.0.11", 1 }, { 0, "10.81.0.12:8080", 1 }, { 1, "10.78.0.11", 1 },
	{ 2, "10.79.0.13", 1 }, { 3, "10.80.0.14", 1 },
};
static const uint8_t lb_fz_gw_mac[6] = { 0x02, 0x00, 0x0a, 0x4d, 0x00, 0xfe };

/* A namespace of the fuzzer's own whose FIB the program asks: lbz0 holds the
 * environment's MAC and first address; the model has the same routes (lbm_rt). */
static int lb_fz_netns(struct lb_fuzz *lf, const struct fuzz_env *env, int *ifindex)
{
	char cmds[12][160];
	const uint8_t *a = env->local4[0], *mc = env->own_mac;
	int n = 0;

	lf->netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (lf->netns_fd < 0 || syscall(SYS_unshare, CLONE_NEWNET))
		return -errno;
	snprintf(cmds[n++], 160, "ip link add lbz0 address %02x:%02x:%02x:%02x:%02x:%02x type veth "
		 "peer name lbz1", mc[0], mc[1], mc[2], mc[3], mc[4], mc[5]);
	snprintf(cmds[n++], 160, "ip link set lbz0 up && ip link set lbz1 up && ip link set lo up");
	snprintf(cmds[n++], 160, "ip addr add %u.%u.%u.%u/%u dev lbz0", a[0], a[1], a[2], a[3],
		 env->plen4[0]);
	snprintf(cmds[n++], 160, "sysctl -qw net.ipv4.conf.all.forwarding=1");
	snprintf(cmds[n++], 160, "ip neigh add 10.77.0.254 lladdr 02:00:0a:4d:00:fe dev lbz0 nud permanent");
	snprintf(cmds[n++], 160, "ip route add 10.78.0.0/16 via 10.77.0.254");
	snprintf(cmds[n++], 160, "ip route add 10.79.0.0/16 via 10.77.0.254 mtu lock 600");
	snprintf(cmds[n++], 160, "ip route add 10.80.0.0/16 via 10.77.0.253");
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
	static const struct { const char *net; int plen; enum lbm_route kind; uint32_t mtu; } rt[] = {
		{ "10.78.0.0", 16, LBM_RT_OK, 1500 }, { "10.79.0.0", 16, LBM_RT_OK, 600 },
		{ "10.80.0.0", 16, LBM_RT_NO_NEIGH, 1500 }, { "10.77.0.0", 24, LBM_RT_NO_NEIGH, 1500 },
	};

	for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		inet_pton(AF_INET, rt[i].net, &m->rt[i].net);
		m->rt[i].mask = htonl(~0u << (32 - rt[i].plen));
		m->rt[i].kind = rt[i].kind;
		m->rt[i].mtu = rt[i].mtu;
	}
	m->nrt = sizeof(rt) / sizeof(rt[0]);
	memcpy(m->gw_mac, lb_fz_gw_mac, 6);
}

_Static_assert(LBM_NCOUNTERS <= FUZZ_MAX_COUNTERS, "lb targets: raise FUZZ_MAX_COUNTERS");

static char lb_fz_names_buf[LBM_NCOUNTERS][32];
static const char *lb_fz_names[LBM_NCOUNTERS];

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
	lb_fz_names[LBM_C_STATE] = "state_mismatch";
}

static void lb_fz_teardown(struct fuzz_ctx *c)
{
	struct lb_fuzz *lf = c->priv;

	if (!lf)
		return;
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

static int lb_fz_setup(struct fuzz_ctx *c, __u32 mode, bool encap)
{
	struct lb_prog_cfg pc = { .mode = mode };
	struct lb_fuzz *lf = calloc(1, sizeof(*lf));
	struct lb_model *m;
	int err, ifindex = 0;

	if (!lf)
		return -ENOMEM;
	c->priv = lf;
	lf->netns_fd = -1;
	lf->encap = encap;
	if (encap && (err = lb_fz_netns(lf, &c->env, &ifindex))) {
		lb_fz_teardown(c);
		return err;
	}
	lf->m = m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	lb_fz_names_init();
	/* `lb start` takes the interface's MAC and, for --snat, its address. */
	memcpy(pc.mac, c->env.own_mac, 6);
	memcpy(&pc.snat_addr, c->env.local4[0], 4);
	if (encap) {
		memcpy(&pc.tunnel_src4, c->env.local4[0], 4);
		pc.ifindex = ifindex;
	}
	err = lb_fixture_up(&lf->fx, &pc);
	for (int i = 0; !err && i < LBM_VIPS; i++)
		err = lb_fixture_vip_add_encap(&lf->fx, lb_fz_vips[i], encap ? lb_fz_encap[i] : 0);
	for (int i = 0; !err && i < LBM_BACKENDS; i++)
		err = encap ? lb_fixture_backend_add(&lf->fx, lb_fz_vips[lb_fz_encap_bes[i].vip],
						     lb_fz_encap_bes[i].addr, NULL,
						     lb_fz_encap_bes[i].weight)
			    : lb_fixture_backend_add(&lf->fx, lb_fz_vips[lb_fz_bes[i].vip],
						     lb_fz_bes[i].addr, lb_fz_be_mac[i],
						     lb_fz_bes[i].weight);
	if (err) {
		lb_fz_teardown(c);
		return err < 0 ? err : -EINVAL;
	}
	/* What user space wrote, for the model: backends, and each VIP's Maglev table. */
	m->mode = mode;
	m->table_size = lf->fx.meta.table_size;
	m->snat = pc.snat_addr;
	m->tunnel_src = pc.tunnel_src4;
	if (encap)
		lb_fz_model_routes(m);
	memcpy(m->mac, pc.mac, 6);
	for (__u32 id = 1; id < LB_MAX_BACKENDS; id++)
		if (bpf_map_lookup_elem(lf->fx.fds.backends, &id, &m->be[id]))
			memset(&m->be[id], 0, sizeof(m->be[id]));
	for (int i = 0; i < lf->fx.cfg->nvips && m->nvips < LBM_VIPS; i++) {
		const struct lb_cfg_vip *cv = &lf->fx.cfg->vips[i];
		struct lbm_vip *v = &m->vips[m->nvips++];

		v->addr = cv->key.addr;
		v->port = cv->key.port;
		v->proto = cv->key.proto;
		v->id = cv->id;
		v->table = calloc(m->table_size, sizeof(*v->table));
		if (!v->table || lb_ring_read(&lf->fx.fds, v->id, v->table, m->table_size)) {
			lb_fz_teardown(c);
			return -EIO;
		}
	}
	for (int i = 0; i < lf->fx.cfg->nbackends && m->nbe < LBM_BACKENDS; i++)
		m->be_ids[m->nbe++] = lf->fx.cfg->backends[i].id;
	c->prog_fd = lf->fx.prog_fd;
	c->tc = false;
	return 0;
}

static int lb_fz_setup_nat(struct fuzz_ctx *c) { return lb_fz_setup(c, LB_MODE_NAT, false); }
static int lb_fz_setup_dsr(struct fuzz_ctx *c) { return lb_fz_setup(c, LB_MODE_DSR, false); }
static int lb_fz_setup_nat_encap(struct fuzz_ctx *c) { return lb_fz_setup(c, LB_MODE_NAT, true); }
static int lb_fz_setup_dsr_encap(struct fuzz_ctx *c) { return lb_fz_setup(c, LB_MODE_DSR, true); }

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
	if (lf->m->reset) {
		lb_fz_clear(lf->fx.fds.conntrack, sizeof(struct lb_flow));
		lb_fz_clear(lf->fx.fds.reverse, sizeof(struct lb_flow));
	}
}

/* The entries the last packet must have left, against the maps. */
static void lb_fz_check_state(struct lb_fuzz *lf)
{
	struct lb_model *m = lf->m;

	for (int i = 0; i < m->ncheck; i++) {
		const struct lbm_check *ck = &m->check[i];
		union { struct lb_ct ct; struct lb_rev rv; } v;
		int fd = ck->rev ? lf->fx.fds.reverse : lf->fx.fds.conntrack;
		bool there = !bpf_map_lookup_elem(fd, &ck->k, &v);

		if (there != ck->present)
			lf->state_mismatch++;
		else if (there && (ck->rev ? memcmp(&v.rv, &ck->rv, sizeof(v.rv)) :
				   memcmp(&v.ct, &ck->ct, sizeof(v.ct))))
			lf->state_mismatch++;
	}
	m->ncheck = 0;
}

static int lb_fz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct lb_fuzz *lf = c->priv;
	struct lb_model *m = lf->m;
	struct lb_counters lc;
	int err = lb_counters_read(&lf->fx.fds, &lc);

	if (err)
		return err;
	for (int i = 0; i < LBC__MAX; i++)
		v[i] = lc.c[i];
	for (int i = 0; i < m->nvips; i++) {
		struct lb_stats s;
		if ((err = lb_stats_read(lf->fx.fds.vip_stats, m->vips[i].id, &s)))
			return err;
		v[LBM_C_VIP + 3 * i] = s.packets;
		v[LBM_C_VIP + 3 * i + 1] = s.bytes;
		v[LBM_C_VIP + 3 * i + 2] = s.new_flows;
	}
	for (int i = 0; i < m->nbe; i++) {
		struct lb_stats s;
		if ((err = lb_stats_read(lf->fx.fds.backend_stats, m->be_ids[i], &s)))
			return err;
		v[LBM_C_BE + 3 * i] = s.packets;
		v[LBM_C_BE + 3 * i + 1] = s.bytes;
		v[LBM_C_BE + 3 * i + 2] = s.new_flows;
	}
	lb_fz_check_state(lf);
	v[LBM_C_STATE] = lf->state_mismatch;
	return 0;
}

/* ---- generator: what reaches a balancer, then the fuzzer's mutations ---- */

static void lb_fz_client(struct fuzz_rng *r, uint8_t *a)
{
	memcpy(a, "\x0a\x4d\x01\x00", 4);
	a[3] = fuzz_chance(r, 1, 10) ? (uint8_t)fuzz_next(r) : (uint8_t)(1 + fuzz_below(r, 8));
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

/* A request to the VIP address: a VIP's port and protocol, mostly. */
static void lb_fz_request(struct fuzz_rng *r, const struct lb_model *m, struct fuzz_tmpl *t)
{
	const struct lbm_vip *v = &m->vips[fuzz_below(r, m->nvips)];

	t->family = 4;
	lb_fz_client(r, t->src);
	memcpy(t->dst, &v->addr, 4);
	t->proto = v->proto;
	t->dport = ntohs(v->port);
	if (fuzz_chance(r, 1, 12))
		t->proto = t->proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	if (fuzz_chance(r, 1, 12))
		t->dport = (uint16_t)fuzz_next(r);
	t->sport = lb_fz_port(r);
	lb_fz_l4(r, t);
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
	t->family = 4;
	if (e) {
		memcpy(t->src, &e->k.saddr, 4);
		memcpy(t->dst, &e->k.daddr, 4);
		t->proto = e->k.proto;
		t->sport = ntohs(e->k.sport);
		t->dport = ntohs(e->k.dport);
		if (fuzz_chance(r, 1, 10))
			t->dport = lb_fz_port(r);
	} else {
		uint32_t id = m->be_ids[fuzz_below(r, m->nbe)];
		memcpy(t->src, &m->be[id].addr, 4);
		memcpy(t->dst, &m->snat, 4);
		t->proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		t->sport = ntohs(m->be[id].port);
		t->dport = lb_fz_port(r);
	}
	lb_fz_l4(r, t);
}

/* An ICMP error about a flow's reply (VIP:port -> client:port), as a router sends it to
 * the VIP; the quote is the reply's IP header and 8 or more of its bytes. */
static void lb_fz_icmp_error(struct fuzz_rng *r, const struct lb_model *m, struct fuzz_tmpl *t)
{
	static const uint8_t types[] = { 3, 3, 3, 11, 11, 0, 8, 5, 12 };
	static struct fuzz_tmpl q;
	const struct lbm_ct_e *e = NULL;
	uint8_t qb[256];
	uint32_t qn;

	if (m->nct && fuzz_chance(r, 7, 8))
		for (int n = 0; n < 64 && !e; n++) {
			const struct lbm_ct_e *c = &m->ct[fuzz_below(r, LBM_CAP)];
			if (c->used)
				e = c;
		}
	memset(&q, 0, sizeof(q));
	q.family = 4;
	q.ttl = 63;
	if (e) {
		memcpy(q.src, &e->k.daddr, 4);
		memcpy(q.dst, &e->k.saddr, 4);
		q.proto = e->k.proto;
		q.sport = ntohs(e->k.dport);
		q.dport = ntohs(e->k.sport);
	} else {
		memcpy(q.src, &m->vips[0].addr, 4);
		lb_fz_client(r, q.dst);
		q.proto = fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
		q.sport = 80;
		q.dport = lb_fz_port(r);
	}
	if (fuzz_chance(r, 1, 20))
		q.frag_off = (uint16_t)(1 + fuzz_below(r, 100));
	if (fuzz_chance(r, 1, 30))
		q.proto = IPPROTO_ICMP;
	lb_fz_l4(r, &q);
	qn = fuzz_build_ip(&q, qb, sizeof(qb));
	t->family = 4;
	memcpy(t->src, "\x0a\x4d\x02\x01", 4);
	memcpy(t->dst, e ? &e->k.daddr : &m->vips[0].addr, 4);
	t->proto = IPPROTO_ICMP;
	t->icmp_type = types[fuzz_below(r, sizeof(types))];
	t->icmp_code = (uint8_t)fuzz_below(r, 16);
	t->icmp_id = 0;
	t->icmp_seq = fuzz_chance(r, 1, 2) ? 1400 : (uint16_t)fuzz_next(r);
	t->payload_len = (int)(28 + fuzz_below(r, 40));
	if ((uint32_t)t->payload_len > qn)
		t->payload_len = (int)qn;
	memcpy(t->payload, qb, t->payload_len);
	switch (fuzz_below(r, 12)) { /* the quoted header lying */
	case 0: fuzz_put16(t->payload + 2, (uint16_t)fuzz_below(r, 40)); break;
	case 1: t->payload[0] = (uint8_t)(0x40 | fuzz_below(r, 16)); break;
	case 2: t->payload[0] = (uint8_t)(fuzz_below(r, 16) << 4 | 5); break;
	case 3: t->payload_len = (int)fuzz_below(r, 28); break;
	}
}

static void lb_fz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	const struct lb_model *m = ((struct lb_fuzz *)c->priv)->m;
	static struct fuzz_tmpl t;
	const char *kind;
	int k = fuzz_below(r, 100);

	do {
		memset(&t, 0, sizeof(t));
		if (k < 15) {
			/* anything, from the fuzzer's own templates; sometimes to the VIP */
			fuzz_tmpl_random(r, &c->env, &t);
			if (t.family == 4 && fuzz_chance(r, 1, 2))
				memcpy(t.dst, &m->vips[fuzz_below(r, m->nvips)].addr, 4);
			kind = "random";
		} else {
			memcpy(t.dst_mac, c->env.own_mac, 6);
			memcpy(t.src_mac, c->env.peer_mac, 6);
			t.ttl = 64;
			t.ip_id = (uint16_t)fuzz_next(r);
			if (k < 55) {
				lb_fz_request(r, m, &t);
				kind = "request";
				/* encap: sizes around the path MTUs (600, 1500), DF mostly */
				if (((struct lb_fuzz *)c->priv)->encap && fuzz_chance(r, 1, 4)) {
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
			if (fuzz_chance(r, 1, 25))
				t.frag_off = fuzz_chance(r, 1, 2) ? 0x2000 : (uint16_t)(1 + fuzz_below(r, 200));
			else if (fuzz_chance(r, 1, 30))
				t.frag_off = 0x4000; /* DF: a whole packet */
			if (fuzz_chance(r, 1, 25)) {
				memcpy(t.ip_opts, "\x94\x04\x00\x00", 4);
				t.ip_opts_len = 4;
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
	snprintf(p->what, sizeof(p->what), "%s", kind);
	if (fuzz_chance(r, 2, 5))
		fuzz_mutate(r, &c->env, p);
}

static const struct fuzz_target fuzz_lb_nat = {
	.name = "lb_nat", .setup = lb_fz_setup_nat, .teardown = lb_fz_teardown,
	.gen = lb_fz_gen, .model = lb_fz_model, .read_counters = lb_fz_counters,
	.ncounters = LBM_NCOUNTERS, .counter_names = lb_fz_names,
};

static const struct fuzz_target fuzz_lb_dsr = {
	.name = "lb_dsr", .setup = lb_fz_setup_dsr, .teardown = lb_fz_teardown,
	.gen = lb_fz_gen, .model = lb_fz_model, .read_counters = lb_fz_counters,
	.ncounters = LBM_NCOUNTERS, .counter_names = lb_fz_names,
};

static const struct fuzz_target fuzz_lb_nat_encap = {
	.name = "lb_nat_encap", .setup = lb_fz_setup_nat_encap, .teardown = lb_fz_teardown,
	.gen = lb_fz_gen, .model = lb_fz_model, .read_counters = lb_fz_counters,
	.ncounters = LBM_NCOUNTERS, .counter_names = lb_fz_names,
};

static const struct fuzz_target fuzz_lb_dsr_encap = {
	.name = "lb_dsr_encap", .setup = lb_fz_setup_dsr_encap, .teardown = lb_fz_teardown,
	.gen = lb_fz_gen, .model = lb_fz_model, .read_counters = lb_fz_counters,
	.ncounters = LBM_NCOUNTERS, .counter_names = lb_fz_names,
};
