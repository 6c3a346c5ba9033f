// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lb_xdp through BPF_PROG_TEST_RUN, configured by the same control-plane code as
 * `bpflab lb`: exact output bytes (the expected frame is built from scratch, so its
 * checksums are full recomputations) in dsr and nat mode, the NAT reply path and port
 * collisions, drained backends, the verdict and counter of every kind of bad packet, and
 * encap VIPs (IPIP, GUE) routed by the kernel's FIB in a network namespace of our own;
 * the same for IPv6 VIPs and backends beside IPv4 ones (extension headers, ICMPv6
 * errors, every outer/inner family combination, packet too big). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "lb.h"
#include "lb_ctl.h"
#include "lb_prog.h"
#include "lb_ct.h"
#include "lb.skel.h"

#define RING 65537

static const uint8_t mac_client[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01 };
static const uint8_t mac_lb[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02 };
static const uint8_t mac_a[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0c };

/* The lb_prog.h fixture (loaded and configured as `lb start` does), and short names. */
struct fixture {
	struct lb_fixture lf;
	struct lb_bpf *skel;
	struct lb_fds fds;
	struct lb_meta cfg;   /* lb_cfg_apply keeps it current */
	struct lb_cfg *st;    /* the configuration last applied */
	int prog;
};

static __be32 ip4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static int fixture_up(struct fixture *fx, __u32 mode)
{
	struct lb_prog_cfg pc = { .mode = mode, .table_size = RING, .snat_addr = ip4("198.18.0.2") };
	int err;

	memset(fx, 0, sizeof(*fx));
	memcpy(pc.mac, mac_lb, 6);
	err = lb_fixture_up(&fx->lf, &pc);
	fx->skel = fx->lf.skel;
	fx->fds = fx->lf.fds;
	fx->cfg = fx->lf.meta;
	fx->st = fx->lf.cfg;
	fx->prog = fx->lf.prog_fd;
	return err;
}

static void fixture_down(struct fixture *fx)
{
	lb_fixture_down(&fx->lf);
}

static void add_backend(struct lb_cfg *s, const char *vip, const char *addr, const uint8_t *mac,
			int weight)
{
	struct lb_cfg_backend b = { .weight = weight, .has_mac = true };
	lb_parse_vip(vip, &b.vip);
	lb_parse_addr_port(addr, &b.addr, &b.port);
	memcpy(b.mac, mac, 6);
	lb_cfg_backend_add(s, &b);
}

/* The standard configuration: a TCP VIP on :80 with a and b (b listens on 8080), a UDP
 * VIP on :53 with a, and :81 with a alone (for port collisions). */
static int configure(struct fixture *fx)
{
	struct lb_vip_key k;

	memset(fx->st, 0, sizeof(*fx->st));
	lb_parse_vip("198.18.0.100:80/tcp", &k);
	lb_cfg_vip_add(fx->st, &k);
	lb_parse_vip("198.18.0.100:53/udp", &k);
	lb_cfg_vip_add(fx->st, &k);
	lb_parse_vip("198.18.0.100:81/tcp", &k);
	lb_cfg_vip_add(fx->st, &k);
	add_backend(fx->st, "198.18.0.100:80/tcp", "198.18.0.11", mac_a, 1);
	add_backend(fx->st, "198.18.0.100:80/tcp", "198.18.0.12:8080", mac_b, 1);
	add_backend(fx->st, "198.18.0.100:53/udp", "198.18.0.11", mac_a, 1);
	add_backend(fx->st, "198.18.0.100:81/tcp", "198.18.0.11", mac_a, 1);
	return lb_cfg_apply(&fx->fds, &fx->cfg, fx->st);
}

static void counters(struct fixture *fx, struct lb_counters *c)
{
	lb_counters_read(&fx->fds, c);
}

static int run(struct fixture *fx, const uint8_t *in, size_t len, uint8_t *out, __u32 *out_len)
{
	struct test_run t = { .in = in, .in_len = len, .out = out, .out_cap = PKT_MAX, .repeat = 1,
			      .cpu = -1 };
	int err = test_run_xdp(fx->prog, &t);
	*out_len = t.out_len;
	return err ? -1 : (int)t.retval;
}

static void spec_client(struct pkt_spec *s, const char *src, __u16 sport, int proto, __u16 dport)
{
	pkt_spec_default(s);
	memcpy(s->src_mac, mac_client, 6);
	memcpy(s->dst_mac, mac_lb, 6);
	inet_pton(AF_INET, src, &s->src4);
	inet_pton(AF_INET, "198.18.0.100", &s->dst4);
	s->proto = proto;
	s->sport = sport;
	s->dport = dport;
}

/* The backend Maglev puts this flow on, by the same hash and table the program uses. */
static __u32 predict(struct fixture *fx, const struct pkt_spec *s, int vip_index)
{
	static __u32 table[RING];
	__u32 h = lb_flow_hash(s->src4.s_addr, s->dst4.s_addr, htons(s->sport), htons(s->dport),
			       s->proto);
	if (lb_ring_read(&fx->fds, fx->st->vips[vip_index].id, table, RING))
		return 0;
	return table[h % RING];
}

static const struct lb_cfg_backend *backend_by_id(struct fixture *fx, __u32 id)
{
	for (int i = 0; i < fx->st->nbackends; i++)
		if (fx->st->backends[i].id == id)
			return &fx->st->backends[i];
	return NULL;
}

/* A VIP hit in DSR: the frame leaves with only its MACs changed. */
static void test_dsr(void)
{
	static const uint8_t payload[] = "GET / HTTP/1.0\r\n\r\n";
	struct fixture fx;
	struct pkt_spec s;
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct lb_counters c;
	const struct lb_cfg_backend *be;
	struct lb_stats vs, bs;
	size_t n;
	__u32 olen, bid;
	int rv;

	if (fixture_up(&fx, LB_MODE_DSR) || configure(&fx)) {
		ok(0, "dsr: load and configure");
		fixture_down(&fx);
		return;
	}
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	bid = predict(&fx, &s, 0);
	be = backend_by_id(&fx, bid);
	ok(be != NULL, "dsr: Maglev has a backend for the flow");
	if (!be) {
		fixture_down(&fx);
		return;
	}
	memcpy(s.src_mac, mac_lb, 6);
	memcpy(s.dst_mac, be->mac, 6);
	pkt_build(&s, want);
	rv = run(&fx, in, n, out, &olen);
	is_int(rv, XDP_TX, "dsr TCP SYN to the VIP: XDP_TX");
	is_mem(out, olen, want, n, "dsr TCP SYN: only the MACs changed, to the predicted backend");

	/* Established: same flow, ACK with data; conntrack hit, no new flow. */
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	s.tcp_flags = 0x18;
	s.payload = payload;
	s.payload_len = sizeof(payload) - 1;
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	memcpy(s.src_mac, mac_lb, 6);
	memcpy(s.dst_mac, be->mac, 6);
	pkt_build(&s, want);
	is_int(rv, XDP_TX, "dsr established segment: XDP_TX");
	is_mem(out, olen, want, n, "dsr established: same backend, bytes exact");
	ok(pkt_checksums_ok(out, olen), "dsr: checksums valid");
	counters(&fx, &c);
	is_int(c.c[LBC_CT_MISS], 1, "dsr: one conntrack miss for two packets of one flow");
	lb_stats_read(fx.fds.vip_stats, fx.st->vips[0].id, &vs);
	lb_stats_read(fx.fds.backend_stats, bid, &bs);
	ok(vs.packets == 2 && vs.new_flows == 1 && vs.bytes == 54 + n, "dsr: VIP counters exact "
	   "(%llu packets, %llu flows, %llu bytes)", (unsigned long long)vs.packets,
	   (unsigned long long)vs.new_flows, (unsigned long long)vs.bytes);
	ok(bs.packets == 2 && bs.new_flows == 1, "dsr: backend counters exact");

	/* UDP */
	spec_client(&s, "198.18.0.1", 5353, IPPROTO_UDP, 53);
	s.payload = payload;
	s.payload_len = 7;
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	memcpy(s.src_mac, mac_lb, 6);
	memcpy(s.dst_mac, mac_a, 6);
	pkt_build(&s, want);
	is_int(rv, XDP_TX, "dsr UDP to the VIP: XDP_TX");
	is_mem(out, olen, want, n, "dsr UDP: only the MACs changed");

	/* Drain the flow's backend: the flow stays; a new flow avoids it. */
	for (int i = 0; i < fx.st->nbackends; i++)
		if (fx.st->backends[i].id == bid)
			fx.st->backends[i].weight = 0;
	is_int(lb_cfg_apply(&fx.fds, &fx.cfg, fx.st), 0, "dsr: drain the flow's backend");
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	ok(rv == XDP_TX && !memcmp(out, be->mac, 6), "dsr: drained backend keeps its flow");
	{
		int moved = 0, other = 0;
		for (int p = 1000; p < 1100; p++) {
			spec_client(&s, "198.18.0.7", p, IPPROTO_TCP, 80);
			n = pkt_build(&s, in);
			rv = run(&fx, in, n, out, &olen);
			moved += rv == XDP_TX;
			other += rv == XDP_TX && memcmp(out, be->mac, 6);
		}
		ok(moved == 100 && other == 100, "dsr: 100 new flows all avoid the drained backend");
	}

	/* ICMP error about a flow (fragmentation needed towards the client) -> its backend. */
	{
		uint8_t quote[28];
		struct pkt_spec q;
		uint8_t qb[PKT_MAX];
		spec_client(&q, "198.18.0.1", 40000, IPPROTO_TCP, 80);
		/* the backend's reply as the router saw it: VIP:80 -> client:40000 */
		q.src4 = s.dst4;
		inet_pton(AF_INET, "198.18.0.1", &q.dst4);
		q.sport = 80;
		q.dport = 40000;
		pkt_build(&q, qb);
		memcpy(quote, qb + 14, 28);
		spec_client(&s, "198.18.0.254", 0, IPPROTO_ICMP, 0);
		s.icmp_type = 3;
		s.payload = quote;
		s.payload_len = sizeof(quote);
		n = pkt_build(&s, in);
		counters(&fx, &c);
		rv = run(&fx, in, n, out, &olen);
		is_int(rv, XDP_TX, "dsr: ICMP error about a VIP flow: XDP_TX");
		ok(!memcmp(out, be->mac, 6) && !memcmp(out + 12, in + 12, n - 12),
		   "dsr: ICMP error goes unchanged to that flow's backend");
		{
			struct lb_counters c2;
			counters(&fx, &c2);
			is_int(c2.c[LBC_ICMP_TO_BACKEND] - c.c[LBC_ICMP_TO_BACKEND], 1,
			       "dsr: icmp_to_backend counted");
		}
	}

	/* No backend left at all. */
	for (int i = 0; i < fx.st->nbackends; i++)
		fx.st->backends[i].weight = 0;
	lb_cfg_apply(&fx.fds, &fx.cfg, fx.st);
	spec_client(&s, "198.18.0.9", 999, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	counters(&fx, &c);
	rv = run(&fx, in, n, out, &olen);
	is_int(rv, XDP_DROP, "all backends drained: a new flow is dropped");
	{
		struct lb_counters c2;
		counters(&fx, &c2);
		is_int(c2.c[LBC_DROP_NO_BACKEND] - c.c[LBC_DROP_NO_BACKEND], 1, "and counted as drop_no_backend");
	}
	fixture_down(&fx);
}

/* NAT rewrite whose correct result is a checksum edge value (RFC 1624's reason to
 * exist): a payload word is searched so that the full recomputation of the rewritten
 * frame gives `want`; the program's incremental update must give the same bytes. */
static void nat_edge(struct fixture *fx, int proto, __u16 sport, __u16 dport, uint16_t want,
		     bool on_input)
{
	const char *what = proto == IPPROTO_TCP ? "TCP" : "UDP";
	int off = 14 + 20 + (proto == IPPROTO_TCP ? 16 : 6);
	uint8_t pl[3] = { 0, 0, 0x5a }, in[PKT_MAX], out[PKT_MAX], want_b[PKT_MAX];
	uint8_t *buf = on_input ? in : want_b; /* the frame whose checksum is searched */
	struct pkt_spec s, e;
	size_t n = 0;
	__u32 olen;
	int rv, w;

	for (w = 0; w < 65536; w++) {
		pl[0] = w >> 8;
		pl[1] = w & 0xff;
		spec_client(&s, "198.18.0.1", sport, proto, dport);
		s.payload = pl;
		s.payload_len = sizeof(pl); /* odd: the end-around carry of the pad byte */
		e = s;
		memcpy(e.src_mac, mac_lb, 6);
		memcpy(e.dst_mac, mac_a, 6);
		inet_pton(AF_INET, "198.18.0.2", &e.src4);
		inet_pton(AF_INET, "198.18.0.11", &e.dst4);
		n = pkt_build(on_input ? &s : &e, buf);
		if ((buf[off] << 8 | buf[off + 1]) == want)
			break;
	}
	pkt_build(&s, in);
	pkt_build(&e, want_b);
	rv = run(fx, in, n, out, &olen);
	ok(w < 65536 && rv == XDP_TX, "nat %s: found a payload giving checksum 0x%04x on the %s",
	   what, want, on_input ? "input" : "output");
	is_mem(out, olen, want_b, n, "nat %s, checksum 0x%04x on the %s: exact bytes (out 0x%02x%02x)",
	       what, want, on_input ? "input" : "output", out[off], out[off + 1]);
}

/* NAT: request rewritten towards the backend, reply rewritten back from the VIP. */
static void test_nat(void)
{
	static const uint8_t payload[] = "hello, backend";
	struct fixture fx;
	struct pkt_spec s, e;
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const struct lb_cfg_backend *be;
	struct lb_counters c;
	size_t n;
	__u32 olen, bid;
	__u16 nat_port;
	int rv;

	if (fixture_up(&fx, LB_MODE_NAT) || configure(&fx)) {
		ok(0, "nat: load and configure");
		fixture_down(&fx);
		return;
	}
	for (int proto = 0; proto < 2; proto++) {
		int tcp = proto == 0;
		const char *what = tcp ? "TCP" : "UDP";

		/* TCP: a client port that Maglev puts on b, whose service listens on 8080. */
		for (__u16 sp = 40001; sp < 41000; sp++) {
			spec_client(&s, "198.18.0.1", sp, tcp ? IPPROTO_TCP : IPPROTO_UDP, tcp ? 80 : 53);
			bid = predict(&fx, &s, tcp ? 0 : 1);
			be = backend_by_id(&fx, bid);
			if (!tcp || (be && be->port == htons(8080)))
				break;
		}
		s.payload = payload;
		s.payload_len = sizeof(payload) - 1; /* odd length: the checksum's padding byte */
		n = pkt_build(&s, in);
		if (!ok(be != NULL, "nat %s: Maglev has a backend", what))
			break;
		rv = run(&fx, in, n, out, &olen);
		e = s;
		memcpy(e.src_mac, mac_lb, 6);
		memcpy(e.dst_mac, be->mac, 6);
		inet_pton(AF_INET, "198.18.0.2", &e.src4);
		e.dst4.s_addr = be->addr.a.v4;
		e.dport = ntohs(be->port ? be->port : htons(s.dport));
		pkt_build(&e, want);
		is_int(rv, XDP_TX, "nat %s request: XDP_TX", what);
		is_mem(out, olen, want, n, "nat %s request: LB:%u -> %s:%u, exact bytes, checksums "
		       "equal a full recomputation", what, s.sport, inet_ntoa(e.dst4), e.dport);
		ok(pkt_checksums_ok(out, olen), "nat %s request: checksums valid", what);

		/* The reply from the backend. */
		pkt_spec_default(&s);
		s.proto = e.proto;
		memcpy(s.src_mac, be->mac, 6);
		memcpy(s.dst_mac, mac_lb, 6);
		s.src4 = e.dst4;
		s.dst4 = e.src4;
		s.sport = e.dport;
		s.dport = e.sport;
		s.tcp_flags = 0x12;
		s.payload = payload;
		s.payload_len = 3;
		n = pkt_build(&s, in);
		rv = run(&fx, in, n, out, &olen);
		e = s;
		memcpy(e.src_mac, mac_lb, 6);
		memcpy(e.dst_mac, mac_client, 6);
		inet_pton(AF_INET, "198.18.0.100", &e.src4);
		inet_pton(AF_INET, "198.18.0.1", &e.dst4);
		e.sport = tcp ? 80 : 53;
		e.dport = s.dport;
		pkt_build(&e, want);
		is_int(rv, XDP_TX, "nat %s reply: XDP_TX", what);
		is_mem(out, olen, want, n, "nat %s reply: VIP -> client, exact bytes", what);
	}

	/* UDP without a checksum keeps having none. */
	spec_client(&s, "198.18.0.1", 40002, IPPROTO_UDP, 53);
	n = pkt_build(&s, in);
	in[14 + 20 + 6] = in[14 + 20 + 7] = 0;
	rv = run(&fx, in, n, out, &olen);
	ok(rv == XDP_TX && out[14 + 20 + 6] == 0 && out[14 + 20 + 7] == 0,
	   "nat UDP with checksum 0 (none) keeps 0");

	/* Checksum edge values, on the result and on the input (VIP :81 and :53 have
	 * backend a only). TCP never carries 0xffff from a full computation; UDP carries
	 * 0xffff for a computed 0. */
	nat_edge(&fx, IPPROTO_TCP, 41001, 81, 0x0000, false);
	nat_edge(&fx, IPPROTO_TCP, 41002, 81, 0x0000, true);
	nat_edge(&fx, IPPROTO_TCP, 41003, 81, 0xf800, false);
	nat_edge(&fx, IPPROTO_UDP, 41004, 53, 0xffff, false);
	nat_edge(&fx, IPPROTO_UDP, 41005, 53, 0xffff, true);
	nat_edge(&fx, IPPROTO_UDP, 41006, 53, 0x0001, false);

	/* Port collision: two clients, same source port, same one-backend VIP. */
	counters(&fx, &c);
	spec_client(&s, "198.18.0.1", 40100, IPPROTO_TCP, 81);
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	ok(rv == XDP_TX && out[14 + 20] * 256 + out[14 + 21] == 40100,
	   "nat: first client keeps its source port 40100");
	spec_client(&s, "198.18.0.3", 40100, IPPROTO_TCP, 81);
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	nat_port = out[14 + 20] * 256 + out[14 + 21];
	ok(rv == XDP_TX && nat_port != 40100 && nat_port >= LB_NAT_PORT_MIN,
	   "nat: second client with the same port gets another one (%u)", nat_port);
	ok(pkt_checksums_ok(out, olen), "nat: remapped packet's checksums valid");
	{
		struct lb_counters c2;
		counters(&fx, &c2);
		is_int(c2.c[LBC_NAT_PORT_REMAP] - c.c[LBC_NAT_PORT_REMAP], 1, "nat: nat_port_remap counted");
	}
	/* The reply to the remapped port goes back to the second client, on its own port. */
	pkt_spec_default(&s);
	s.proto = IPPROTO_TCP;
	memcpy(s.src_mac, mac_a, 6);
	memcpy(s.dst_mac, mac_lb, 6);
	inet_pton(AF_INET, "198.18.0.11", &s.src4);
	inet_pton(AF_INET, "198.18.0.2", &s.dst4);
	s.sport = 81;
	s.dport = nat_port;
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	ok(rv == XDP_TX && !memcmp(out + 14 + 16, "\xc6\x12\x00\x03", 4) &&
	   out[14 + 22] * 256 + out[14 + 23] == 40100 && pkt_checksums_ok(out, olen),
	   "nat: reply to the remapped port reaches 198.18.0.3:40100");

	/* An ICMP error about a NAT flow reaches its backend as an error about what the
	 * backend sent: backend:port -> LB:nat_port quoted, outer LB -> backend. */
	{
		struct pkt_spec q;
		uint8_t req[PKT_MAX], qb[PKT_MAX], quote[28];
		__u32 rlen;
		struct in_addr be_addr;
		__u16 be_port, nport;
		uint8_t be_mac[6];

		spec_client(&s, "198.18.0.5", 50000, IPPROTO_TCP, 80);
		n = pkt_build(&s, in);
		rv = run(&fx, in, n, req, &rlen);
		memcpy(be_mac, req, 6);
		memcpy(&be_addr, req + 14 + 16, 4);
		nport = req[14 + 20] << 8 | req[14 + 21];
		be_port = req[14 + 22] << 8 | req[14 + 23];
		/* the reply the client's router could not forward: VIP:80 -> client:50000 */
		spec_client(&q, "198.18.0.100", 80, IPPROTO_TCP, 50000);
		inet_pton(AF_INET, "198.18.0.5", &q.dst4);
		pkt_build(&q, qb);
		memcpy(quote, qb + 14, 28);
		spec_client(&s, "198.18.0.254", 0, IPPROTO_ICMP, 0);
		s.icmp_type = 3;
		s.payload = quote;
		s.payload_len = sizeof(quote);
		n = pkt_build(&s, in);
		rv = run(&fx, in, n, out, &olen);
		/* expected: the same error about backend:port -> 198.18.0.2:nport */
		q.src4 = be_addr;
		inet_pton(AF_INET, "198.18.0.2", &q.dst4);
		q.sport = be_port;
		q.dport = nport;
		pkt_build(&q, qb);
		memcpy(quote, qb + 14, 28);
		inet_pton(AF_INET, "198.18.0.2", &s.src4);
		s.dst4 = be_addr;
		memcpy(s.src_mac, mac_lb, 6);
		memcpy(s.dst_mac, be_mac, 6);
		pkt_build(&s, want);
		is_int(rv, XDP_TX, "nat: ICMP error about a VIP flow: XDP_TX");
		is_mem(out, olen, want, n, "nat: ICMP error rewritten for backend %s:%u, quote and "
		       "checksums exact", inet_ntoa(be_addr), be_port);
		ok(pkt_checksums_ok(out, olen), "nat: ICMP error checksums valid");
	}

	/* Traffic to the LB's own address that is no NAT flow passes untouched. */
	s.dport = 22;
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	ok(rv == XDP_PASS && olen == n && !memcmp(in, out, n), "nat: other traffic to the LB passes untouched");
	fixture_down(&fx);
}

struct verdict_case {
	const char *what;
	int verdict;
	int counter;
};

static void expect(struct fixture *fx, const struct verdict_case *vc, const uint8_t *in, size_t n)
{
	struct lb_counters a, b;
	uint8_t out[PKT_MAX];
	__u32 olen;
	int rv;

	counters(fx, &a);
	rv = run(fx, in, n, out, &olen);
	counters(fx, &b);
	if (vc->verdict == XDP_PASS)
		ok(rv == XDP_PASS && olen == n && !memcmp(in, out, n), "%s: XDP_PASS, byte-identical",
		   vc->what);
	else
		is_int(rv, vc->verdict, "%s: %s", vc->what, xdp_action_str(vc->verdict));
	ok(b.c[vc->counter] - a.c[vc->counter] == 1, "%s: counted as %s", vc->what,
	   lb_counter_name(vc->counter));
}

static void test_verdicts(void)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	struct fixture fx;
	struct pkt_spec s;
	uint8_t in[PKT_MAX];
	size_t n;

	if (fixture_up(&fx, LB_MODE_NAT) || configure(&fx)) {
		ok(0, "verdicts: load and configure");
		fixture_down(&fx);
		return;
	}
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	inet_pton(AF_INET, "198.18.0.11", &s.dst4);
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "TCP to a non-VIP address", XDP_PASS, LBC_PASS_NOT_VIP }, in, n);

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 443);
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "VIP address, port without a VIP", XDP_PASS, LBC_PASS_OTHER_L4 }, in, n);

	spec_client(&s, "198.18.0.1", 1, IPPROTO_ICMP, 1);
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "ICMP echo to the VIP", XDP_PASS, LBC_PASS_OTHER_L4 }, in, n);

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	s.family = AF_INET6;
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "IPv6 not to a VIP", XDP_PASS, LBC_PASS_NOT_VIP }, in, n);

	{	/* ARP who-has 198.18.0.100, unicast to the LB (a broadcast one is not for us:
		 * test_not_for_us) */
		static const uint8_t arp[42] = {
			0x02, 0x00, 0xc6, 0x12, 0x00, 0x02, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01, 0x08, 0x06,
			0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01,
			198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 100 };
		expect(&fx, &(struct verdict_case){ "ARP for the VIP", XDP_PASS, LBC_PASS_NOT_IP }, arp, sizeof(arp));
	}

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	s.ip_options = ra;
	s.ip_options_len = sizeof(ra);
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "VIP TCP with IPv4 options (Router Alert)", XDP_DROP, LBC_DROP_IP_OPTIONS }, in, n);

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_UDP, 53);
	s.frag_off = 0x2000; /* MF, offset 0 */
	s.payload = (const uint8_t *)"0123456789abcdef";
	s.payload_len = 16;
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "VIP UDP first fragment", XDP_DROP, LBC_DROP_FRAGMENT }, in, n);
	s.frag_off = 0x0003; /* offset 24, last */
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "VIP later fragment", XDP_DROP, LBC_DROP_FRAGMENT }, in, n);

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	in[14] = 0x44; /* ihl 4 */
	expect(&fx, &(struct verdict_case){ "VIP IPv4 ihl 4", XDP_DROP, LBC_DROP_MALFORMED }, in, n);
	n = pkt_build(&s, in);
	in[14 + 20 + 12] = 0x40; /* doff 4 */
	expect(&fx, &(struct verdict_case){ "VIP TCP doff 4", XDP_DROP, LBC_DROP_MALFORMED }, in, n);
	n = pkt_build(&s, in);
	expect(&fx, &(struct verdict_case){ "VIP TCP header cut short", XDP_DROP, LBC_DROP_MALFORMED }, in, 14 + 20 + 10);
	n = pkt_build(&s, in);
	in[16] = 0x10; /* tot_len 4096: past the frame */
	expect(&fx, &(struct verdict_case){ "VIP tot_len past the frame", XDP_DROP, LBC_DROP_MALFORMED }, in, n);

	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	inet_pton(AF_INET, "198.18.0.11", &s.dst4);
	n = pkt_build(&s, in);
	in[14] = 0x44;
	expect(&fx, &(struct verdict_case){ "non-VIP malformed", XDP_PASS, LBC_PASS_NOT_VIP }, in, n);
	expect(&fx, &(struct verdict_case){ "IPv4 header cut short", XDP_PASS, LBC_PASS_NOT_VIP }, in, 14 + 12);
	fixture_down(&fx);
}

/* Bad input to the control plane changes nothing. */
static void test_parse(void)
{
	struct lb_vip_key k;
	struct lb_ip a;
	__be16 p;
	__u8 mac[6];

	ok(!lb_parse_vip("198.18.0.100:80/tcp", &k) && k.port == htons(80) && k.proto == IPPROTO_TCP,
	   "parse VIP 198.18.0.100:80/tcp");
	ok(lb_parse_vip("198.18.0.100:0/tcp", &k), "VIP port 0 refused");
	ok(lb_parse_vip("198.18.0.100:65536/tcp", &k), "VIP port 65536 refused");
	ok(lb_parse_vip("198.18.0.100:80/sctp", &k), "VIP protocol sctp refused");
	ok(lb_parse_vip("198.18.0.100/tcp", &k), "VIP without port refused");
	ok(lb_parse_vip("010.0.0.1:80/tcp", &k), "VIP 010.0.0.1 (octal?) refused");
	ok(lb_parse_vip("224.0.0.1:80/udp", &k), "multicast VIP refused");
	ok(lb_parse_addr_port("198.18.0.11:80x", &a, &p), "backend port 80x refused");
	ok(!lb_parse_addr_port("198.18.0.11", &a, &p) && p == 0, "backend without port");
	ok(!lb_parse_mac("02:00:c6:12:00:0b", mac) && mac[5] == 0x0b, "parse MAC");
	ok(lb_parse_mac("ff:ff:ff:ff:ff:ff", mac), "broadcast MAC refused");
	ok(lb_parse_mac("02:00:c6:12:00:0", mac), "short MAC refused");
}

/* ---- Issue 10: frames not for the LB's MAC, source port 0, ICMP errors whose quote
 * lies past the IP end, verdict counters that add up. Each packet is checked for its
 * exact verdict, its bytes, and that exactly one verdict counter moved, by one. ---- */

static const uint8_t mac_other[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x99 };

static unsigned long long a2_packets; /* packets run by exact(): the verdict counters' sum */

static __u64 verdict_sum(const struct lb_counters *c)
{
	__u64 n = 0;

	for (int i = 0; i < LBC__VERDICTS; i++)
		n += c->c[i];
	return n;
}

/* Runs one packet: `verdict`, bytes unchanged unless XDP_TX (then equal to want when
 * given), and `counter` the one verdict counter that moved, by 1. */
static void exact(struct fixture *fx, const char *what, int verdict, int counter,
		  const uint8_t *in, size_t n, const uint8_t *want)
{
	struct lb_counters a, b;
	uint8_t out[PKT_MAX];
	__u32 olen = 0;
	int rv, moved = 0, others = 0;

	counters(fx, &a);
	rv = run(fx, in, n, out, &olen);
	counters(fx, &b);
	a2_packets++;
	is_int(rv, verdict, "%s: %s", what, xdp_action_str(verdict));
	if (verdict != XDP_TX)
		ok(olen == n && !memcmp(in, out, n), "%s: bytes unchanged", what);
	else if (want)
		is_mem(out, olen, want, n, "%s: exact bytes", what);
	for (int i = 0; i < LBC__VERDICTS; i++) {
		__u64 d = b.c[i] - a.c[i];
		if (i == counter)
			moved = d == 1;
		else
			others += d != 0;
	}
	ok(moved && !others, "%s: counted once, as %s", what, lb_counter_name(counter));
}

/* Entries of a hash map (reverse, reverse6). */
static int map_entries(int fd)
{
	uint8_t k[64], next[64]; /* larger than any key of the lb's maps */
	int n = 0;

	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, next); prev = k, n++)
		memcpy(k, next, sizeof(k));
	return n;
}

/* Flows in a conntrack table: its non-empty slots (an array has every key). */
static long long ct_flows(struct fixture *fx, int fam)
{
	return lb_ct_count(fam == LB_FAM6 ? fx->fds.conntrack6 : fx->fds.conntrack, fam);
}

/* Runs body on a configured balancer in nat, then in dsr: a fixture that cannot be set up
 * fails the test instead of skipping the mode. */
static void in_both_modes(const char *what,
			  void (*body)(struct fixture *fx, __u32 mode, const char *ms))
{
	for (int m = 0; m < 2; m++) {
		__u32 mode = m ? LB_MODE_DSR : LB_MODE_NAT;
		const char *ms = lb_mode_str(mode);
		struct fixture fx;

		if (fixture_up(&fx, mode) || configure(&fx))
			ok(0, "%s %s: load and configure", ms, what);
		else
			body(&fx, mode, ms);
		fixture_down(&fx);
	}
}

/* Broadcast, multicast, another host's MAC: passed untouched, no flow recorded; the
 * same frame to the LB's MAC is balanced. Both modes. */
static void not_for_us_in(struct fixture *fxp, __u32 mode, const char *ms)
{
	static const uint8_t dst[][6] = {
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x99 },
		{ 0x02, 0x00, 0xc6, 0x12, 0x01, 0x02 }, /* differs from ours in byte 4 only */
		{ 0x03, 0x00, 0xc6, 0x12, 0x00, 0x02 }, /* ... byte 0 only (and multicast) */
	};
	static const char *const name[] = { "broadcast", "IPv4 multicast", "IPv6 multicast",
					     "another host", "ours but byte 4", "ours but byte 0" };

	struct pkt_spec s;
	uint8_t in[PKT_MAX];
	char what[128];
	size_t n;

	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
		memcpy(s.dst_mac, dst[i], 6);
		n = pkt_build(&s, in);
		snprintf(what, sizeof(what), "%s: VIP SYN to a %s MAC", ms, name[i]);
		exact(fxp, what, XDP_PASS, LBC_PASS_NOT_FOR_US, in, n, NULL);
		spec_client(&s, "198.18.0.1", 5353, IPPROTO_UDP, 53);
		memcpy(s.dst_mac, dst[i], 6);
		n = pkt_build(&s, in);
		snprintf(what, sizeof(what), "%s: VIP UDP to a %s MAC", ms, name[i]);
		exact(fxp, what, XDP_PASS, LBC_PASS_NOT_FOR_US, in, n, NULL);
	}
	{	/* ARP broadcast for the VIP: not for our MAC either */
		static const uint8_t arp[42] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01,
			0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x02, 0x00, 0xc6,
			0x12, 0x00, 0x01, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 100 };
		snprintf(what, sizeof(what), "%s: ARP broadcast", ms);
		exact(fxp, what, XDP_PASS, LBC_PASS_NOT_FOR_US, arp, sizeof(arp), NULL);
	}
	is_int(ct_flows(fxp, LB_FAM4), 0, "%s: frames not for us left no flow", ms);
	is_int(map_entries(fxp->fds.reverse), 0, "%s: ... and no reverse entry", ms);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	snprintf(what, sizeof(what), "%s: the same SYN to the LB's MAC", ms);
	exact(fxp, what, XDP_TX, LBC_TX_BACKEND, in, n, NULL);
}

static void test_not_for_us(void)
{
	in_both_modes("not-for-us", not_for_us_in);
}

/* Source port 0: dropped and counted before any state; in nat no reverse entry for
 * LB:0 is left behind, so a backend's packet to LB:0 is nobody's reply. */
static void port_zero_in(struct fixture *fxp, __u32 mode, const char *ms)
{
	struct pkt_spec s;
	uint8_t in[PKT_MAX];
	char what[128];
	size_t n;

	for (int i = 0; i < 3; i++) {
		int udp = i == 1;
		spec_client(&s, i == 2 ? "198.18.0.3" : "198.18.0.1", 0,
			    udp ? IPPROTO_UDP : IPPROTO_TCP, udp ? 53 : i == 2 ? 81 : 80);
		n = pkt_build(&s, in);
		snprintf(what, sizeof(what), "%s: %s from port 0 to :%u", ms, udp ? "UDP" : "TCP",
			 s.dport);
		exact(fxp, what, XDP_DROP, LBC_DROP_PORT_ZERO, in, n, NULL);
	}
	is_int(ct_flows(fxp, LB_FAM4), 0, "%s: port 0 left no flow", ms);
	is_int(map_entries(fxp->fds.reverse), 0, "%s: port 0 left no reverse entry", ms);
	/* What the bug let through: the backend's packet to LB:0 (a serves :81 alone,
	 * on port 81, so the flow from 198.18.0.3:0 above went there). */
	pkt_spec_default(&s);
	s.proto = IPPROTO_TCP;
	memcpy(s.src_mac, mac_a, 6);
	memcpy(s.dst_mac, mac_lb, 6);
	inet_pton(AF_INET, "198.18.0.11", &s.src4);
	inet_pton(AF_INET, "198.18.0.2", &s.dst4);
	s.sport = 81;
	s.dport = 0;
	s.tcp_flags = 0x12;
	n = pkt_build(&s, in);
	snprintf(what, sizeof(what), "%s: backend to LB:0 is no NAT reply", ms);
	exact(fxp, what, XDP_PASS, LBC_PASS_NOT_VIP, in, n, NULL);
	/* Port 1 is a port: balanced. */
	spec_client(&s, "198.18.0.1", 1, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	snprintf(what, sizeof(what), "%s: TCP from port 1", ms);
	exact(fxp, what, XDP_TX, LBC_TX_BACKEND, in, n, NULL);
}

static void test_port_zero(void)
{
	in_both_modes("port 0", port_zero_in);
}

/* The ICMP error of the nat/dsr tests (the reply VIP:80 -> client:50000 could not be
 * forwarded) about a flow just made; quote_len bytes of the quoted datagram. */
static size_t icmp_error(uint8_t *in, uint16_t quote_tot_len, int quote_frag)
{
	struct pkt_spec q, s;
	uint8_t qb[PKT_MAX], quote[28];
	size_t n;

	spec_client(&q, "198.18.0.100", 80, IPPROTO_TCP, 50000);
	inet_pton(AF_INET, "198.18.0.5", &q.dst4);
	q.frag_off = quote_frag;
	pkt_build(&q, qb);
	memcpy(quote, qb + 14, 28);
	if (quote_tot_len) {
		quote[2] = quote_tot_len >> 8;
		quote[3] = quote_tot_len & 0xff;
	}
	spec_client(&s, "198.18.0.254", 0, IPPROTO_ICMP, 0);
	s.icmp_type = 3;
	s.payload = quote;
	s.payload_len = sizeof(quote);
	n = pkt_build(&s, in);
	return n;
}

/* Sets the outer tot_len to leave icmp_len ICMP bytes and recomputes both checksums,
 * so the packet is self-consistent: only the frame beyond the IP end (padding, as the
 * wire has it) still holds the rest of the quote. */
static void cut_icmp(uint8_t *in, size_t n, int icmp_len)
{
	int tot = 20 + icmp_len;

	in[16] = tot >> 8;
	in[17] = tot & 0xff;
	pkt_fix_checksums(in, n);
}

static void icmp_bounds_in(struct fixture *fxp, __u32 mode, const char *ms)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s;
	char what[160];
	__u32 olen;
	size_t n;

	spec_client(&s, "198.18.0.5", 50000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	exact(fxp, "flow for the ICMP errors", XDP_TX, LBC_TX_BACKEND, in, n, NULL);

	n = icmp_error(in, 0, 0);
	snprintf(what, sizeof(what), "%s: ICMP error quoting IP header + 8 bytes (36)", ms);
	exact(fxp, what, XDP_TX, LBC_ICMP_TO_BACKEND, in, n, NULL);
	if (mode == LB_MODE_NAT) {
		/* the rewritten quote is inside the checksummed message: still valid */
		run(fxp, in, n, out, &olen);
		ok(pkt_checksums_ok(out, olen), "%s: its rewrite keeps the checksums", ms);
	}
	/* Quoted ports (or part of them, or of the quoted header) past the IP end. */
	for (int len = 35; len >= 4; len--) {
		if (len != 35 && len != 32 && len != 28 && len != 27 && len != 8 && len != 4)
			continue;
		n = icmp_error(in, 0, 0);
		cut_icmp(in, n, len);
		snprintf(what, sizeof(what), "%s: ICMP error of %d bytes, the rest of the quote "
			 "in the padding", ms, len);
		exact(fxp, what, XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	}
	{	/* the example: tot_len 24, a 4-byte ICMP "header" */
		n = icmp_error(in, 0, 0);
		cut_icmp(in, n, 4);
		in[14 + 20] = 8; /* echo request, id/seq in the padding */
		snprintf(what, sizeof(what), "%s: 4-byte ICMP echo to the VIP", ms);
		exact(fxp, what, XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	}
	n = icmp_error(in, 27, 0);
	pkt_fix_checksums(in, n);
	snprintf(what, sizeof(what), "%s: quoted tot_len 27, too short for its ports", ms);
	exact(fxp, what, XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	n = icmp_error(in, 0, 0);
	in[14 + 20 + 8] = 0x65; /* quoted version 6 */
	pkt_fix_checksums(in, n);
	snprintf(what, sizeof(what), "%s: quoted header version 6", ms);
	exact(fxp, what, XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	n = icmp_error(in, 0, 0);
	in[14 + 20 + 8] = 0x44; /* quoted ihl 4 */
	pkt_fix_checksums(in, n);
	snprintf(what, sizeof(what), "%s: quoted ihl 4", ms);
	exact(fxp, what, XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	n = icmp_error(in, 0, 0x0003);
	snprintf(what, sizeof(what), "%s: error about a later fragment (no ports quoted)", ms);
	exact(fxp, what, XDP_PASS, LBC_PASS_OTHER_L4, in, n, NULL);
	n = icmp_error(in, 28, 0);
	pkt_fix_checksums(in, n);
	snprintf(what, sizeof(what), "%s: quoted tot_len 28 holds the ports", ms);
	exact(fxp, what, XDP_TX, LBC_ICMP_TO_BACKEND, in, n, NULL);
}

static void test_icmp_bounds(void)
{
	in_both_modes("ICMP bounds", icmp_bounds_in);
}

/* Every verdict once, in one fixture: the verdict counters sum to the packets run. */
static void test_counters_add_up(void)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	struct lb_counters c;
	struct fixture fx;
	struct pkt_spec s;
	uint8_t in[PKT_MAX];
	size_t n;

	if (fixture_up(&fx, LB_MODE_NAT) || configure(&fx)) {
		ok(0, "counters add up: load and configure");
		fixture_down(&fx);
		return;
	}
	a2_packets = 0;
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	memcpy(s.dst_mac, mac_other, 6);
	n = pkt_build(&s, in);
	exact(&fx, "sum: another host's MAC", XDP_PASS, LBC_PASS_NOT_FOR_US, in, n, NULL);
	s.family = AF_INET6;
	memcpy(s.dst_mac, mac_lb, 6);
	n = pkt_build(&s, in);
	exact(&fx, "sum: IPv6 not to a VIP", XDP_PASS, LBC_PASS_NOT_VIP, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	inet_pton(AF_INET, "198.18.0.11", &s.dst4);
	n = pkt_build(&s, in);
	exact(&fx, "sum: not a VIP", XDP_PASS, LBC_PASS_NOT_VIP, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 443);
	n = pkt_build(&s, in);
	exact(&fx, "sum: VIP address, other port", XDP_PASS, LBC_PASS_OTHER_L4, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	in[14] = 0x44;
	exact(&fx, "sum: malformed", XDP_DROP, LBC_DROP_MALFORMED, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_UDP, 53);
	s.frag_off = 0x2000;
	n = pkt_build(&s, in);
	exact(&fx, "sum: fragment", XDP_DROP, LBC_DROP_FRAGMENT, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	s.ip_options = ra;
	s.ip_options_len = sizeof(ra);
	n = pkt_build(&s, in);
	exact(&fx, "sum: IP options", XDP_DROP, LBC_DROP_IP_OPTIONS, in, n, NULL);
	spec_client(&s, "198.18.0.1", 0, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	exact(&fx, "sum: port 0", XDP_DROP, LBC_DROP_PORT_ZERO, in, n, NULL);
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	exact(&fx, "sum: new flow", XDP_TX, LBC_TX_BACKEND, in, n, NULL);
	exact(&fx, "sum: known flow", XDP_TX, LBC_TX_BACKEND, in, n, NULL);
	{	/* its reply, from whichever backend took it */
		uint8_t out[PKT_MAX];
		__u32 olen;
		struct pkt_spec r;

		spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
		n = pkt_build(&s, in);
		run(&fx, in, n, out, &olen);
		a2_packets++;
		pkt_spec_default(&r);
		r.proto = IPPROTO_TCP;
		memcpy(r.src_mac, out, 6);
		memcpy(r.dst_mac, mac_lb, 6);
		memcpy(&r.src4, out + 14 + 16, 4);
		inet_pton(AF_INET, "198.18.0.2", &r.dst4);
		r.sport = out[14 + 22] << 8 | out[14 + 23];
		r.dport = out[14 + 20] << 8 | out[14 + 21];
		r.tcp_flags = 0x12;
		n = pkt_build(&r, in);
		exact(&fx, "sum: NAT reply", XDP_TX, LBC_REPLY, in, n, NULL);
	}
	spec_client(&s, "198.18.0.5", 50000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	exact(&fx, "sum: flow for an ICMP error", XDP_TX, LBC_TX_BACKEND, in, n, NULL);
	n = icmp_error(in, 0, 0);
	exact(&fx, "sum: ICMP error", XDP_TX, LBC_ICMP_TO_BACKEND, in, n, NULL);
	/* No backend: drain all. */
	for (int i = 0; i < fx.st->nbackends; i++)
		fx.st->backends[i].weight = 0;
	lb_cfg_apply(&fx.fds, &fx.cfg, fx.st);
	spec_client(&s, "198.18.0.9", 999, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	exact(&fx, "sum: no backend", XDP_DROP, LBC_DROP_NO_BACKEND, in, n, NULL);
	counters(&fx, &c);
	ok(verdict_sum(&c) == a2_packets, "verdict counters sum to the %llu packets run (%llu)",
	   a2_packets, (unsigned long long)verdict_sum(&c));
	fixture_down(&fx);
}

/* ---- IPv6: VIPs and backends of either family in one configuration ---- */
#define VIP6 "2001:db8:18::100"
#define SNAT6 "2001:db8:18::2"

static union lb_addr a6(const char *s)
{
	union lb_addr a = { 0 };

	inet_pton(AF_INET6, s, a.b);
	return a;
}

static int fixture_up6(struct fixture *fx, __u32 mode)
{
	struct lb_prog_cfg pc = { .mode = mode, .table_size = RING, .snat_addr = ip4("198.18.0.2"),
				  .snat6 = a6(SNAT6) };
	int err;

	memset(fx, 0, sizeof(*fx));
	memcpy(pc.mac, mac_lb, 6);
	err = lb_fixture_up(&fx->lf, &pc);
	fx->skel = fx->lf.skel;
	fx->fds = fx->lf.fds;
	fx->st = fx->lf.cfg;
	fx->prog = fx->lf.prog_fd;
	if (err)
		return err;
	/* Mixed: two IPv6 VIPs and an IPv4 one on the same balancer. */
	memset(fx->st, 0, sizeof(*fx->st));
	{
		static const char *const vips[] = { "[" VIP6 "]:80/tcp", "[" VIP6 "]:53/udp",
						    "198.18.0.100:80/tcp" };
		struct lb_vip_key k;

		for (size_t i = 0; i < ARRAY_SIZE(vips); i++) {
			if (lb_parse_vip(vips[i], &k) || lb_cfg_vip_add(fx->st, &k)) {
				tap_diag("cannot add VIP %s", vips[i]);
				return -EINVAL;
			}
		}
	}
	add_backend(fx->st, "[" VIP6 "]:80/tcp", "2001:db8:18::11", mac_a, 1);
	add_backend(fx->st, "[" VIP6 "]:80/tcp", "[2001:db8:18::12]:8080", mac_b, 1);
	add_backend(fx->st, "[" VIP6 "]:53/udp", "2001:db8:18::11", mac_a, 1);
	add_backend(fx->st, "198.18.0.100:80/tcp", "198.18.0.11", mac_a, 1);
	if (fx->st->nbackends != 4) {
		tap_diag("IPv6 backends refused (%d of 4 added)", fx->st->nbackends);
		return -EINVAL;
	}
	err = lb_cfg_apply(&fx->fds, &fx->lf.meta, fx->st);
	fx->cfg = fx->lf.meta;
	return err;
}

static void spec_client6(struct pkt_spec *s, const char *src, __u16 sport, int proto,
			 __u16 dport)
{
	pkt_spec_default(s);
	memcpy(s->src_mac, mac_client, 6);
	memcpy(s->dst_mac, mac_lb, 6);
	s->family = AF_INET6;
	inet_pton(AF_INET6, src, &s->src6);
	inet_pton(AF_INET6, VIP6, &s->dst6);
	s->proto = proto;
	s->sport = sport;
	s->dport = dport;
}

static const struct lb_cfg_backend *predict6(struct fixture *fx, const struct pkt_spec *s,
					     int vip_index)
{
	static __u32 table[RING];
	union lb_addr sa = { 0 }, da = { 0 };
	__u32 h;

	memcpy(sa.b, &s->src6, 16);
	memcpy(da.b, &s->dst6, 16);
	h = lb_flow_hash_addr(&sa, &da, htons(s->sport), htons(s->dport), s->proto);
	if (lb_ring_read(&fx->fds, fx->st->vips[vip_index].id, table, RING))
		return NULL;
	return backend_by_id(fx, table[h % RING]);
}

/* One packet, its verdict and the one verdict counter it moved; out/olen get the frame. */
static int run_counted(struct fixture *fx, const uint8_t *in, size_t n, uint8_t *out,
		       __u32 *olen, int counter, const char *what)
{
	struct lb_counters a, b;
	int rv, others = 0;

	counters(fx, &a);
	rv = run(fx, in, n, out, olen);
	counters(fx, &b);
	for (int i = 0; i < LBC__VERDICTS; i++)
		if (i != counter)
			others += b.c[i] != a.c[i];
	ok(b.c[counter] - a.c[counter] == 1 && !others, "%s: counted once, as %s", what,
	   lb_counter_name(counter));
	return rv;
}

static void v6_dsr_nat(__u32 mode)
{
	static const uint8_t payload[] = "GET / HTTP/1.0\r\n\r\n!";
	const char *ms = lb_mode_str(mode);
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], out2[PKT_MAX];
	struct fixture fx;
	struct pkt_spec s, e;
	__u32 olen, olen2;
	size_t n;
	int rv;

	if (fixture_up6(&fx, mode)) {
		ok(0, "v6 %s: load and configure a mixed IPv4/IPv6 balancer", ms);
		fixture_down(&fx);
		return;
	}
	for (int proto = 0; proto < 2; proto++) {
		int tcp = proto == 0;
		const char *ps = tcp ? "TCP" : "UDP";
		const struct lb_cfg_backend *be;
		__u16 sport = tcp ? 40000 : 40001;

		spec_client6(&s, "2001:db8:18::1", sport, tcp ? IPPROTO_TCP : IPPROTO_UDP,
			     tcp ? 80 : 53);
		s.payload = payload;
		s.payload_len = sizeof(payload) - 1; /* odd length */
		/* Both TCP backends must be seen over the loop's clients: try a few ports. */
		n = pkt_build(&s, in);
		be = predict6(&fx, &s, tcp ? 0 : 1);
		if (!ok(be != NULL && be->addr.family == LB_FAM6, "v6 %s %s: Maglev names an IPv6 backend", ms, ps))
			break;
		rv = run_counted(&fx, in, n, out, &olen, LBC_TX_BACKEND, "v6 request");
		is_int(rv, XDP_TX, "v6 %s %s request: XDP_TX", ms, ps);
		e = s;
		memcpy(e.src_mac, mac_lb, 6);
		memcpy(e.dst_mac, be->mac, 6);
		if (mode == LB_MODE_NAT) {
			inet_pton(AF_INET6, SNAT6, &e.src6);
			memcpy(&e.dst6, be->addr.a.b, 16);
			e.dport = ntohs(lb_be_port(be));
		}
		pkt_build(&e, want);
		is_mem(out, olen, want, n, "v6 %s %s request: exact bytes%s", ms, ps,
		       mode == LB_MODE_NAT ? " (LB -> backend, checksum = full recomputation)" : " (MACs only)");
		ok(pkt_checksums_ok(out, olen), "v6 %s %s request: checksums valid", ms, ps);
		rv = run(&fx, in, n, out2, &olen2);
		ok(rv == XDP_TX && olen2 == olen && !memcmp(out, out2, olen),
		   "v6 %s %s: the second packet goes the same way (conntrack6)", ms, ps);
		if (mode == LB_MODE_NAT) {
			struct pkt_spec r = e, w = s;

			/* The backend answers LB:port; it must reach the client from the VIP. */
			memcpy(r.src_mac, be->mac, 6);
			memcpy(r.dst_mac, mac_lb, 6);
			r.src6 = e.dst6;
			r.dst6 = e.src6;
			r.sport = e.dport;
			r.dport = e.sport;
			r.tcp_flags = 0x12;
			n = pkt_build(&r, in);
			w.src6 = s.dst6;
			w.dst6 = s.src6;
			w.sport = s.dport;
			w.dport = s.sport;
			w.tcp_flags = 0x12;
			memcpy(w.src_mac, mac_lb, 6);
			memcpy(w.dst_mac, mac_client, 6);
			pkt_build(&w, want);
			rv = run_counted(&fx, in, n, out, &olen, LBC_REPLY, "v6 nat reply");
			is_int(rv, XDP_TX, "v6 nat %s reply: XDP_TX", ps);
			is_mem(out, olen, want, n, "v6 nat %s reply: VIP -> client, exact bytes", ps);
			if (!tcp) {
				/* The same reply over the other protocol is no reply. */
				r.proto = IPPROTO_TCP;
				n = pkt_build(&r, in);
				rv = run_counted(&fx, in, n, out, &olen, LBC_PASS_NOT_VIP,
						 "v6 nat reply of the other protocol");
				is_int(rv, XDP_PASS, "v6 nat: a TCP packet to a UDP flow's NAT port passes");
			}
		}
	}
	if (mode == LB_MODE_NAT) {
		/* UDP checksum 0 (invalid over IPv6) stays 0: the backend drops it, as it would. */
		spec_client6(&s, "2001:db8:18::7", 40007, IPPROTO_UDP, 53);
		n = pkt_build(&s, in);
		in[14 + 40 + 6] = in[14 + 40 + 7] = 0;
		rv = run(&fx, in, n, out, &olen);
		ok(rv == XDP_TX && out[14 + 40 + 6] == 0 && out[14 + 40 + 7] == 0,
		   "v6 nat: a UDP checksum of 0 stays 0");
		is_int(map_entries(fx.fds.reverse6), 3, "v6 nat: 3 reverse6 entries (TCP, UDP x2)");
		is_int(map_entries(fx.fds.reverse), 0, "v6 nat: no IPv4 reverse entry");
	}
	is_int(ct_flows(&fx, LB_FAM6), mode == LB_MODE_NAT ? 3 : 2, "v6 %s: flows in conntrack6", ms);
	is_int(ct_flows(&fx, LB_FAM4), 0, "v6 %s: none in the IPv4 conntrack", ms);
	/* The IPv4 VIP of the same configuration still works. */
	spec_client(&s, "198.18.0.1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	rv = run_counted(&fx, in, n, out, &olen, LBC_TX_BACKEND, "v6 fixture, IPv4 VIP");
	ok(rv == XDP_TX && !memcmp(out, mac_a, 6), "v6 %s: IPv4 VIP beside the IPv6 ones: to its backend", ms);
	is_int(ct_flows(&fx, LB_FAM4), 1, "v6 %s: IPv4 flow in the IPv4 conntrack", ms);
	{
		/* conntrack6 entries: client address, port, VIP id; created is now-ish. */
		struct lb_ct6_key k;
		struct lb_ct ct = { 0 };
		struct timespec ts;
		__u32 created;
		int found = 0;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		memset(&k, 0, sizeof(k));
		k.saddr = a6("2001:db8:18::1");
		k.sport = htons(40000);
		k.vip_id = fx.st->vips[0].id;
		found = !lb_ct6_lookup(fx.fds.conntrack6, &fx.cfg, &k, &ct);
		created = ct.stamp & ~LB_CT_REF;
		ok(found && ct.backend_id != 0 && (long)created <= ts.tv_sec &&
		   (long)created >= ts.tv_sec - 5,
		   "v6 %s: conntrack6 entry by (client, port, VIP id), created %u s (now %ld)", ms,
		   found ? created : 0, (long)ts.tv_sec);
		ok(found && (mode == LB_MODE_NAT ? ct.nat_port == htons(40000) : ct.nat_port == 0),
		   "v6 %s: NAT port %u", ms, found ? ntohs(ct.nat_port) : 0);
	}
	fixture_down(&fx);
}

static void test_v6(void)
{
	v6_dsr_nat(LB_MODE_DSR);
	v6_dsr_nat(LB_MODE_NAT);
}

/* Raw extension headers: n of type t (each 8 bytes, PadN), the last pointing at last. */
static size_t ext_chain(uint8_t *b, int n, uint8_t t, uint8_t last)
{
	for (int i = 0; i < n; i++) {
		uint8_t *h = b + 8 * i;

		memset(h, 0, 8);
		h[0] = i == n - 1 ? last : t;
		h[2] = 1; /* PadN, 4 bytes */
		h[3] = 4;
	}
	return 8 * n;
}

static void test_v6_verdicts(void)
{
	uint8_t in[PKT_MAX], ext[256];
	struct fixture fx;
	struct pkt_spec s;
	size_t n;

	if (fixture_up6(&fx, LB_MODE_NAT)) {
		ok(0, "v6 verdicts: load and configure");
		fixture_down(&fx);
		return;
	}
#define V6(what, verdict, counter) \
	expect(&fx, &(struct verdict_case){ "v6 " what, verdict, counter }, in, n)
	spec_client6(&s, "2001:db8:18::1", 40000, IPPROTO_TCP, 80);
	inet_pton(AF_INET6, "2001:db8:18::11", &s.dst6);
	n = pkt_build(&s, in);
	V6("TCP to a non-VIP address", XDP_PASS, LBC_PASS_NOT_VIP);
	in[14] = 0x40; /* version 4 inside 0x86DD */
	V6("malformed, not to a VIP", XDP_PASS, LBC_PASS_NOT_VIP);
	spec_client6(&s, "2001:db8:18::1", 40000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	in[14] = 0x40;
	V6("version 4 in an IPv6 frame, to the VIP", XDP_DROP, LBC_DROP_MALFORMED);
	n = pkt_build(&s, in);
	in[18] = 0x10; /* payload_len 4096 + : past the frame */
	V6("payload_len past the frame", XDP_DROP, LBC_DROP_MALFORMED);
	n = pkt_build(&s, in);
	in[14 + 40 + 12] = 0x40; /* doff 4 */
	V6("TCP doff 4", XDP_DROP, LBC_DROP_MALFORMED);
	n = 14 + 30;
	V6("IPv6 header cut short", XDP_PASS, LBC_PASS_NOT_VIP);
	spec_client6(&s, "2001:db8:18::1", 40000, IPPROTO_TCP, 443);
	n = pkt_build(&s, in);
	V6("VIP address, port without a VIP", XDP_PASS, LBC_PASS_OTHER_L4);
	spec_client6(&s, "2001:db8:18::1", 1, IPPROTO_ICMPV6, 1);
	n = pkt_build(&s, in);
	V6("ICMPv6 echo to the VIP", XDP_PASS, LBC_PASS_OTHER_L4);
	s.icmp_type = 135; /* neighbour solicitation, unicast to the LB's MAC */
	n = pkt_build(&s, in);
	V6("neighbour solicitation for the VIP", XDP_PASS, LBC_PASS_OTHER_L4);
	spec_client6(&s, "2001:db8:18::1", 0, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	V6("TCP source port 0", XDP_DROP, LBC_DROP_PORT_ZERO);

	/* Extension headers (parse.h walks them). */
	spec_client6(&s, "2001:db8:18::1", 40010, IPPROTO_UDP, 53);
	s.ext_hdrs = ext;
	memset(ext, 0, 8);
	ext[0] = IPPROTO_UDP;
	ext[3] = 1; /* offset 0, M */
	s.ext_len = 8;
	s.ext_first = IPPROTO_FRAGMENT;
	n = pkt_build(&s, in);
	V6("first fragment (fragment header, M)", XDP_DROP, LBC_DROP_FRAGMENT);
	ext[3] = 0; /* offset 0, no M: an atomic fragment is a fragment header too */
	n = pkt_build(&s, in);
	V6("atomic fragment", XDP_DROP, LBC_DROP_FRAGMENT);
	ext[2] = 0x01; /* offset 32 */
	n = pkt_build(&s, in);
	V6("later fragment", XDP_DROP, LBC_DROP_FRAGMENT);
	memset(ext, 0, 24);
	ext[0] = IPPROTO_UDP;
	ext[1] = 2; /* 24 bytes: one address */
	ext[3] = 1; /* segments left */
	s.ext_len = 24;
	s.ext_first = IPPROTO_ROUTING;
	n = pkt_build(&s, in);
	V6("routing header, 1 segment left", XDP_DROP, LBC_DROP_IP_OPTIONS);
	ext[3] = 0;
	n = pkt_build(&s, in);
	V6("routing header, 0 segments left: balanced", XDP_TX, LBC_TX_BACKEND);
	s.ext_len = ext_chain(ext, 1, IPPROTO_DSTOPTS, IPPROTO_UDP);
	s.ext_first = IPPROTO_HOPOPTS;
	n = pkt_build(&s, in);
	V6("hop-by-hop options: balanced", XDP_TX, LBC_TX_BACKEND);
	s.ext_len = ext_chain(ext, 8, IPPROTO_DSTOPTS, IPPROTO_UDP);
	s.ext_first = IPPROTO_DSTOPTS;
	n = pkt_build(&s, in);
	V6("8 destination options headers: balanced", XDP_TX, LBC_TX_BACKEND);
	s.ext_len = ext_chain(ext, 9, IPPROTO_DSTOPTS, IPPROTO_UDP);
	n = pkt_build(&s, in);
	V6("9 extension headers: more than parse.h walks", XDP_DROP, LBC_DROP_IP_OPTIONS);
	s.ext_len = ext_chain(ext, 2, IPPROTO_HOPOPTS, IPPROTO_UDP);
	s.ext_first = IPPROTO_DSTOPTS;
	n = pkt_build(&s, in);
	V6("hop-by-hop not first", XDP_DROP, LBC_DROP_MALFORMED);
#undef V6
	{
		/* The balanced packet with a hop-by-hop header, in nat: rewritten around it. */
		uint8_t out[PKT_MAX];
		__u32 olen;

		s.ext_len = ext_chain(ext, 1, IPPROTO_DSTOPTS, IPPROTO_TCP);
		s.ext_first = IPPROTO_HOPOPTS;
		s.proto = IPPROTO_TCP;
		s.dport = 80;
		n = pkt_build(&s, in);
		ok(run(&fx, in, n, out, &olen) == XDP_TX && pkt_checksums_ok(out, olen) &&
		   !memcmp(out + 14 + 40, ext, 8),
		   "v6 nat with hop-by-hop: XDP_TX, header kept, TCP checksum valid");
	}
	fixture_down(&fx);
}

/* An ICMPv6 error from a router about VIP:port -> client:cport (a reply that could not
 * go on), quote_len bytes of it quoted. */
static size_t icmp6_error(uint8_t *in, uint8_t type, const char *client, __u16 cport,
			  size_t quote_len)
{
	struct pkt_spec q, s;
	uint8_t qb[PKT_MAX];
	static uint8_t quote[PKT_MAX];

	spec_client6(&q, VIP6, 80, IPPROTO_TCP, cport);
	inet_pton(AF_INET6, client, &q.dst6);
	q.tcp_flags = 0x12;
	pkt_build(&q, qb);
	memcpy(quote, qb + 14, quote_len);
	spec_client6(&s, "2001:db8:18::fe", 0, IPPROTO_ICMPV6, type == 2 ? 1280 : 0);
	s.icmp_type = type;
	s.payload = quote;
	s.payload_len = quote_len;
	return pkt_build(&s, in);
}

static void v6_icmp_in(__u32 mode)
{
	const char *ms = lb_mode_str(mode);
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const struct lb_cfg_backend *be;
	struct fixture fx;
	struct pkt_spec s;
	__u32 olen;
	size_t n;
	int rv;

	if (fixture_up6(&fx, mode)) {
		ok(0, "v6 %s ICMPv6: load and configure", ms);
		fixture_down(&fx);
		return;
	}
	spec_client6(&s, "2001:db8:18::5", 50000, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	be = predict6(&fx, &s, 0);
	rv = run(&fx, in, n, out, &olen);
	if (!ok(rv == XDP_TX && be, "v6 %s: a flow for the ICMPv6 errors", ms)) {
		fixture_down(&fx);
		return;
	}
	for (int t = 1; t <= 3; t++) {
		n = icmp6_error(in, t, "2001:db8:18::5", 50000, 48 + 20);
		rv = run_counted(&fx, in, n, out, &olen, LBC_ICMP_TO_BACKEND, "v6 ICMPv6 error");
		is_int(rv, XDP_TX, "v6 %s ICMPv6 type %d about a VIP flow: XDP_TX", ms, t);
		memcpy(want, in, n);
		memcpy(want, be->mac, 6);
		memcpy(want + 6, mac_lb, 6);
		if (mode == LB_MODE_NAT) {
			/* An error about what the backend sent: backend:port -> LB:NAT port. */
			uint8_t *ip = want + 14, *q = ip + 48;

			inet_pton(AF_INET6, SNAT6, ip + 8);
			memcpy(ip + 24, be->addr.a.b, 16);
			memcpy(q + 8, be->addr.a.b, 16);
			inet_pton(AF_INET6, SNAT6, q + 24);
			q[40] = ntohs(lb_be_port(be)) >> 8;
			q[41] = ntohs(lb_be_port(be)) & 0xff;
			q[42] = 50000 >> 8;
			q[43] = 50000 & 0xff;
			pkt_fix_checksums(want, n); /* the ICMPv6 checksum from scratch */
		}
		is_mem(out, olen, want, n, "v6 %s ICMPv6 type %d: exact bytes to the backend%s", ms, t,
		       mode == LB_MODE_NAT ? " (rewritten, checksum = full recomputation)" : " (unchanged)");
	}
	n = icmp6_error(in, 2, "2001:db8:18::6", 50000, 48);
	rv = run_counted(&fx, in, n, out, &olen, LBC_PASS_OTHER_L4, "v6 ICMPv6 error, no flow");
	ok(rv == XDP_PASS && olen == n && !memcmp(in, out, n), "v6 %s: ICMPv6 error about no flow passes untouched", ms);
	n = icmp6_error(in, 2, "2001:db8:18::5", 50000, 47);
	rv = run_counted(&fx, in, n, out, &olen, LBC_DROP_MALFORMED, "v6 ICMPv6 error, short quote");
	is_int(rv, XDP_DROP, "v6 %s: ICMPv6 error quoting 47 bytes dropped", ms);
	n = icmp6_error(in, 2, "2001:db8:18::5", 50000, 48);
	in[14 + 48 + 4] = 0; /* quoted payload_len 7 */
	in[14 + 48 + 5] = 7;
	pkt_fix_checksums(in, n);
	rv = run_counted(&fx, in, n, out, &olen, LBC_DROP_MALFORMED, "v6 ICMPv6 error, quoted payload_len 7");
	is_int(rv, XDP_DROP, "v6 %s: quoted payload_len 7 dropped", ms);
	n = icmp6_error(in, 4, "2001:db8:18::5", 50000, 48);
	rv = run_counted(&fx, in, n, out, &olen, LBC_PASS_OTHER_L4, "v6 ICMPv6 parameter problem");
	is_int(rv, XDP_PASS, "v6 %s: ICMPv6 type 4 is not forwarded", ms);
	fixture_down(&fx);
}

static void test_v6_icmp(void)
{
	v6_icmp_in(LB_MODE_DSR);
	v6_icmp_in(LB_MODE_NAT);
}

/* Memory per tracked flow: the kernel's memlock of each table over its capacity in flows
 * (conntrack: an array of buckets; reverse: a preallocated LRU hash). Issue 13's targets:
 * at most 64 B per IPv4 flow in dsr, 128 B in nat (layout 4 had 96 and 208). */
static unsigned long long fd_memlock(int fd)
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

static void test_memory(void)
{
	struct fixture fx;
	double ct4, ct6, rev4, rev6;

	if (fixture_up6(&fx, LB_MODE_NAT)) {
		ok(0, "memory: load");
		fixture_down(&fx);
		return;
	}
	ct4 = (double)fd_memlock(fx.fds.conntrack) / LB_CT_DEFAULT;
	ct6 = (double)fd_memlock(fx.fds.conntrack6) / LB_CT_DEFAULT;
	rev4 = (double)fd_memlock(fx.fds.reverse) / LB_CT_DEFAULT;
	rev6 = (double)fd_memlock(fx.fds.reverse6) / LB_CT_DEFAULT;
	tap_diag("memory per tracked flow (memlock / %d entries): IPv4 dsr %.1f B, nat %.1f B; "
		 "IPv6 dsr %.1f B, nat %.1f B", LB_CT_DEFAULT, ct4, ct4 + rev4, ct6, ct6 + rev6);
	ok(ct4 > 0 && ct4 <= 64, "IPv4 dsr: %.1f B per flow, at most 64", ct4);
	ok(rev4 > 0 && ct4 + rev4 <= 128, "IPv4 nat: %.1f B per flow, at most 128", ct4 + rev4);
	/* The tables as lb.h says: a bucket of LB_CT_WAYS slots per array entry. */
	ok(ct4 >= sizeof(struct lb_ct4_slot) && ct6 >= sizeof(struct lb_ct6_slot) && ct6 > ct4,
	   "slots of %zu (IPv4) and %zu (IPv6) bytes: the array's memlock covers them",
	   sizeof(struct lb_ct4_slot), sizeof(struct lb_ct6_slot));
	fixture_down(&fx);
}

/* ---- conntrack buckets (lb.h, "The conntrack tables") ---- */

/* A flow's key in either family, the bucket it lands in, and a packet of it. */
struct ct_flow {
	int fam;
	struct lb_ct4_key k4;
	struct lb_ct6_key k6;
	struct pkt_spec s;
};

static __u32 ct_bucket(const struct fixture *fx, const struct ct_flow *f)
{
	__u32 mask = fx->cfg.ct_size / LB_CT_WAYS - 1;

	return f->fam == LB_FAM6 ? lb_ct6_index(&f->k6, fx->cfg.ct_seed, mask) :
				   lb_ct4_index(&f->k4, fx->cfg.ct_seed, mask);
}

/* Client i (an address of 198.18.1.0/24 or 2001:db8:19::/64 from i / 60000, a port from
 * the rest) to the first VIP of the fixture (TCP :80, id vip_id). */
static void ct_flow_make(struct ct_flow *f, int fam, unsigned i, __u16 vip_id)
{
	char a[64];
	__u16 sport = (__u16)(1024 + i % 60000);

	memset(f, 0, sizeof(*f));
	f->fam = fam;
	if (fam == LB_FAM6) {
		snprintf(a, sizeof(a), "2001:db8:19::%x", 1 + i / 60000);
		spec_client6(&f->s, a, sport, IPPROTO_TCP, 80);
		memcpy(f->k6.saddr.b, &f->s.src6, 16);
		f->k6.sport = htons(sport);
		f->k6.vip_id = vip_id;
	} else {
		snprintf(a, sizeof(a), "198.18.1.%u", 1 + i / 60000);
		spec_client(&f->s, a, sport, IPPROTO_TCP, 80);
		f->k4.saddr = f->s.src4.s_addr;
		f->k4.sport = htons(sport);
		f->k4.vip_id = vip_id;
	}
	f->s.tcp_flags = 0x10; /* ACK: a flow the balancer has not seen is new whatever its flags */
}

/* n flows that share one bucket, found by the hash and the fixture's seed as the program
 * computes them. 0, or -1 when the search space ran out (it cannot, by far). */
static int ct_same_bucket(const struct fixture *fx, int fam, __u16 vip_id, struct ct_flow *f,
			  int n)
{
	__u32 want;
	int got = 1;

	ct_flow_make(&f[0], fam, 0, vip_id);
	want = ct_bucket(fx, &f[0]);
	for (unsigned i = 1; got < n && i < 200u * 60000u; i++) {
		ct_flow_make(&f[got], fam, i, vip_id);
		if (ct_bucket(fx, &f[got]) == want)
			got++;
	}
	return got == n ? 0 : -1;
}

/* The flow's value as the table holds it: 0, or -ENOENT when not tracked. */
static int ct_get(struct fixture *fx, const struct ct_flow *f, struct lb_ct *v)
{
	memset(v, 0, sizeof(*v));
	return f->fam == LB_FAM6 ? lb_ct6_lookup(fx->fds.conntrack6, &fx->cfg, &f->k6, v) :
				   lb_ct4_lookup(fx->fds.conntrack, &fx->cfg, &f->k4, v);
}

static int ct_send(struct fixture *fx, const struct ct_flow *f)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t n = pkt_build(&f->s, in);
	__u32 olen;

	return run(fx, in, n, out, &olen);
}

/* How many slots of the flow's bucket are in use. */
static int ct_bucket_used(struct fixture *fx, const struct ct_flow *f)
{
	__u32 idx = ct_bucket(fx, f);
	int used = 0;

	if (f->fam == LB_FAM6) {
		struct lb_ct6_bucket b;

		if (bpf_map_lookup_elem(fx->fds.conntrack6, &idx, &b))
			return -1;
		for (int i = 0; i < LB_CT_WAYS; i++)
			used += b.s[i].v.backend_id != 0;
	} else {
		struct lb_ct4_bucket b;

		if (bpf_map_lookup_elem(fx->fds.conntrack, &idx, &b))
			return -1;
		for (int i = 0; i < LB_CT_WAYS; i++)
			used += b.s[i].v.backend_id != 0;
	}
	return used;
}

/* LB_CT_WAYS + 2 flows in one bucket: a new flow in a full bucket takes the slot of one
 * not hit since the bucket's last eviction, the hit ones stay; when every slot was hit,
 * one goes and the others start a new round unreferenced. Each eviction is counted. */
static void ct_full_bucket(__u32 mode, int fam)
{
	const char *ms = lb_mode_str(mode), *fs = fam == LB_FAM6 ? "v6" : "v4";
	struct ct_flow f[LB_CT_WAYS + 2];
	struct lb_ct v[LB_CT_WAYS + 2], w;
	struct lb_counters c0, c1;
	struct fixture fx;
	int vi, tx = 0, kept = 0, refs = 0, gone = 0;

	if (fam == LB_FAM6 ? fixture_up6(&fx, mode) : (fixture_up(&fx, mode) || configure(&fx))) {
		ok(0, "%s %s full bucket: load and configure", fs, ms);
		fixture_down(&fx);
		return;
	}
	vi = 0; /* the first VIP is TCP :80 of the family in both fixtures */
	if (!ok(!ct_same_bucket(&fx, fam, (__u16)fx.st->vips[vi].id, f, LB_CT_WAYS + 2),
		"%s %s: %d flows of one bucket found (seed %#x)", fs, ms, LB_CT_WAYS + 2,
		fx.cfg.ct_seed)) {
		fixture_down(&fx);
		return;
	}
	counters(&fx, &c0);
	/* Fill the bucket, then hit all but the last: only that one is unreferenced. */
	for (int i = 0; i < LB_CT_WAYS; i++)
		tx += ct_send(&fx, &f[i]) == XDP_TX;
	for (int i = 0; i < LB_CT_WAYS - 1; i++)
		tx += ct_send(&fx, &f[i]) == XDP_TX;
	for (int i = 0; i < LB_CT_WAYS; i++) {
		kept += !ct_get(&fx, &f[i], &v[i]);
		refs += !!(v[i].stamp & LB_CT_REF);
	}
	is_int(tx, 2 * LB_CT_WAYS - 1, "%s %s: the bucket's flows are balanced", fs, ms);
	is_int(kept, LB_CT_WAYS, "%s %s: %d flows fill one bucket", fs, ms, LB_CT_WAYS);
	is_int(refs, LB_CT_WAYS - 1, "%s %s: the flows hit again are marked referenced", fs, ms);
	counters(&fx, &c1);
	is_int(c1.c[LBC_CT_EVICT] - c0.c[LBC_CT_EVICT], 0, "%s %s: no eviction yet", fs, ms);

	/* One more: the unreferenced flow goes, the referenced ones keep their values. */
	is_int(ct_send(&fx, &f[LB_CT_WAYS]), XDP_TX, "%s %s: a new flow in a full bucket is balanced",
	       fs, ms);
	counters(&fx, &c1);
	is_int(c1.c[LBC_CT_EVICT] - c0.c[LBC_CT_EVICT], 1, "%s %s: one eviction counted (%s)", fs, ms,
	       lb_counter_name(LBC_CT_EVICT));
	ok(ct_get(&fx, &f[LB_CT_WAYS - 1], &w) == -ENOENT,
	   "%s %s: the flow not hit since it was placed was evicted", fs, ms);
	kept = 0;
	for (int i = 0; i < LB_CT_WAYS - 1; i++)
		kept += !ct_get(&fx, &f[i], &w) && w.backend_id == v[i].backend_id &&
			w.nat_port == v[i].nat_port && w.stamp == v[i].stamp;
	is_int(kept, LB_CT_WAYS - 1, "%s %s: the hit flows stay, values unchanged", fs, ms);
	ok(!ct_get(&fx, &f[LB_CT_WAYS], &w) && !(w.stamp & LB_CT_REF),
	   "%s %s: the new flow is tracked, unreferenced", fs, ms);
	is_int(ct_bucket_used(&fx, &f[0]), LB_CT_WAYS, "%s %s: the bucket stays full", fs, ms);

	/* Every slot hit: the next new flow evicts one and the survivors lose their mark. */
	ct_send(&fx, &f[LB_CT_WAYS]);
	counters(&fx, &c0);
	is_int(ct_send(&fx, &f[LB_CT_WAYS + 1]), XDP_TX, "%s %s: a new flow when all were hit", fs, ms);
	counters(&fx, &c1);
	is_int(c1.c[LBC_CT_EVICT] - c0.c[LBC_CT_EVICT], 1, "%s %s: ... one more eviction", fs, ms);
	kept = refs = gone = 0;
	for (int i = 0; i <= LB_CT_WAYS; i++) {
		if (i == LB_CT_WAYS - 1)
			continue; /* evicted before */
		if (ct_get(&fx, &f[i], &w)) {
			gone++;
			continue;
		}
		kept++;
		refs += !!(w.stamp & LB_CT_REF);
	}
	ok(gone == 1 && kept == LB_CT_WAYS - 1 && refs == 0,
	   "%s %s: one of the hit flows went, %d stay, %d still referenced (want 1, %d, 0)", fs, ms,
	   kept, refs, LB_CT_WAYS - 1);
	ok(!ct_get(&fx, &f[LB_CT_WAYS + 1], &w), "%s %s: the newest flow is tracked", fs, ms);
	fixture_down(&fx);
}

/* A flow's slot: its key, the backend Maglev chose, nat's source port, the time it was
 * placed (CLOCK_MONOTONIC seconds) and no reference mark until its second packet. */
static void ct_slot(__u32 mode, int fam)
{
	const char *ms = lb_mode_str(mode), *fs = fam == LB_FAM6 ? "v6" : "v4";
	const struct lb_cfg_backend *be;
	struct timespec ts;
	struct ct_flow f;
	struct fixture fx;
	struct lb_ct v;
	__u32 created, want_id;

	if (fam == LB_FAM6 ? fixture_up6(&fx, mode) : (fixture_up(&fx, mode) || configure(&fx))) {
		ok(0, "%s %s slot: load and configure", fs, ms);
		fixture_down(&fx);
		return;
	}
	ct_flow_make(&f, fam, 4242, (__u16)fx.st->vips[0].id);
	if (fam == LB_FAM6) {
		be = predict6(&fx, &f.s, 0);
		want_id = be ? be->id : 0;
	} else {
		want_id = predict(&fx, &f.s, 0);
	}
	is_int(ct_get(&fx, &f, &v), -ENOENT, "%s %s: a flow not seen is not tracked", fs, ms);
	is_int(ct_send(&fx, &f), XDP_TX, "%s %s: first packet balanced", fs, ms);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	is_int(ct_get(&fx, &f, &v), 0, "%s %s: found by its key in bucket %u", fs, ms,
	       ct_bucket(&fx, &f));
	created = v.stamp & ~LB_CT_REF;
	ok(want_id && v.backend_id == want_id, "%s %s: slot names Maglev's backend (%u, want %u)", fs,
	   ms, v.backend_id, want_id);
	ok(mode == LB_MODE_NAT ? v.nat_port == htons(f.s.sport) : v.nat_port == 0,
	   "%s %s: nat port %u (nat: the client's, free; dsr: none)", fs, ms, ntohs(v.nat_port));
	ok((long)created <= ts.tv_sec && (long)created >= ts.tv_sec - 2,
	   "%s %s: created %u s, now %ld (CLOCK_MONOTONIC)", fs, ms, created, (long)ts.tv_sec);
	ok(!(v.stamp & LB_CT_REF), "%s %s: unreferenced after its first packet", fs, ms);
	is_int(ct_bucket_used(&fx, &f), 1, "%s %s: one slot of the bucket used", fs, ms);
	is_int(ct_flows(&fx, fam), 1, "%s %s: one flow tracked in the table", fs, ms);
	is_int(ct_send(&fx, &f), XDP_TX, "%s %s: second packet balanced", fs, ms);
	ok(!ct_get(&fx, &f, &v) && (v.stamp & LB_CT_REF) && (v.stamp & ~LB_CT_REF) == created,
	   "%s %s: referenced after its second packet, created unchanged", fs, ms);
	fixture_down(&fx);
}

/* --ct-size: rounded up to a power of two within [LB_CT_MIN, LB_CT_MAX]; the tables
 * are made of that size (conntrack in buckets, reverse in entries); outside, refused. */
static void test_ct_size(void)
{
	static const struct { __u64 n, want; } r[] = {
		{ 0, 0 }, { 1, 0 }, { LB_CT_MIN - 1, 0 }, { LB_CT_MIN, LB_CT_MIN },
		{ LB_CT_MIN + 1, 2 * LB_CT_MIN }, { 1000, 1024 }, { 100000, 131072 },
		{ LB_CT_DEFAULT, LB_CT_DEFAULT }, { LB_CT_MAX - 1, LB_CT_MAX }, { LB_CT_MAX, LB_CT_MAX },
		{ (__u64)LB_CT_MAX + 1, 0 }, { 1ull << 40, 0 },
	};
	struct lb_prog_cfg pc = { .mode = LB_MODE_NAT, .table_size = RING, .ct_size = 1000 };
	struct lb_fixture lf;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		is_int(lb_ct_size_round(r[i].n), r[i].want, "ct size %llu -> %llu",
		       (unsigned long long)r[i].n, (unsigned long long)r[i].want);
	memcpy(pc.mac, mac_lb, 6);
	err = lb_fixture_up(&lf, &pc);
	if (ok(!err, "ct size 1000: loads")) {
		struct bpf_map_info ci = {}, ri = {}, c6 = {}, r6 = {};
		__u32 len = sizeof(ci);

		bpf_obj_get_info_by_fd(lf.fds.conntrack, &ci, &len);
		len = sizeof(ri);
		bpf_obj_get_info_by_fd(lf.fds.reverse, &ri, &len);
		len = sizeof(c6);
		bpf_obj_get_info_by_fd(lf.fds.conntrack6, &c6, &len);
		len = sizeof(r6);
		bpf_obj_get_info_by_fd(lf.fds.reverse6, &r6, &len);
		ok(lf.meta.ct_size == 1024 && ci.max_entries == 1024 / LB_CT_WAYS &&
		   c6.max_entries == 1024 / LB_CT_WAYS && ri.max_entries == 1024 && r6.max_entries == 1024,
		   "ct size 1000: capacity %u; buckets %u + %u, reverse %u + %u", lf.meta.ct_size,
		   ci.max_entries, c6.max_entries, ri.max_entries, r6.max_entries);
		ok(lf.meta.ct_seed != 0, "a fresh fixture gets a random seed (%#x)", lf.meta.ct_seed);
	}
	lb_fixture_down(&lf);
	pc.ct_size = LB_CT_MIN / 2;
	err = lb_fixture_up(&lf, &pc);
	is_int(err, -EINVAL, "ct size %u: refused", LB_CT_MIN / 2);
	lb_fixture_down(&lf);
}

/* --new-flow-limit: per CPU and second, dsr records the first N new flows and sends the
 * rest where Maglev says without a slot; nat needs its state and records them all. The
 * process stays on one CPU: the limit is per CPU. */
static void ct_guard(__u32 mode)
{
	struct lb_prog_cfg pc = { .mode = mode, .table_size = RING, .snat_addr = ip4("198.18.0.2"),
				  .new_flow_limit = 3 };
	const char *ms = lb_mode_str(mode);
	int n = 6, placed = 0, want_rec = mode == LB_MODE_DSR ? 3 : 6;
	struct lb_counters c0, c1;
	struct fixture fx;
	cpu_set_t one, was;
	struct ct_flow f;

	memset(&fx, 0, sizeof(fx));
	memcpy(pc.mac, mac_lb, 6);
	if (lb_fixture_up(&fx.lf, &pc)) {
		ok(0, "%s guard: load", ms);
		lb_fixture_down(&fx.lf);
		return;
	}
	fx.skel = fx.lf.skel;
	fx.fds = fx.lf.fds;
	fx.cfg = fx.lf.meta;
	fx.st = fx.lf.cfg;
	fx.prog = fx.lf.prog_fd;
	if (configure(&fx)) {
		ok(0, "%s guard: configure", ms);
		fixture_down(&fx);
		return;
	}
	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	counters(&fx, &c0);
	for (int i = 0; i < n; i++) {
		uint8_t in[PKT_MAX], out[PKT_MAX];
		const struct lb_cfg_backend *be;
		size_t len;
		__u32 olen;

		ct_flow_make(&f, LB_FAM4, 100 + i, (__u16)fx.st->vips[0].id);
		len = pkt_build(&f.s, in);
		be = backend_by_id(&fx, predict(&fx, &f.s, 0));
		for (int k = 0; k < 2; k++)
			placed += run(&fx, in, len, out, &olen) == XDP_TX && be &&
				  !memcmp(out, be->mac, 6);
	}
	counters(&fx, &c1);
	sched_setaffinity(0, sizeof(was), &was);
	is_int(placed, 2 * n, "%s guard: every packet of %d new flows went to Maglev's backend", ms, n);
	is_int(ct_flows(&fx, LB_FAM4), want_rec, "%s guard, limit 3/s: %d of %d flows recorded", ms,
	       want_rec, n);
	is_int(c1.c[LBC_CT_GUARDED] - c0.c[LBC_CT_GUARDED], 2 * (n - want_rec),
	       "%s guard: conntrack_guarded counts each unrecorded packet", ms);
	fixture_down(&fx);
}

static void test_ct(void)
{
	for (int m = 0; m < 2; m++) {
		__u32 mode = m ? LB_MODE_DSR : LB_MODE_NAT;

		ct_slot(mode, LB_FAM4);
		ct_slot(mode, LB_FAM6);
		ct_full_bucket(mode, LB_FAM4);
		ct_full_bucket(mode, LB_FAM6);
		ct_guard(mode);
	}
	test_ct_size();
}

/* ---- encap: a namespace of our own, so the FIB the program asks is one we built ---- */
static const uint8_t mac_gw[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0xfe };

/* lbe0 (the LB's port, 198.18.0.2/24, MAC mac_lb) with: 203.0.113.0/24 via a gateway
 * whose MAC is known, 192.0.2.0/24 via it with a path MTU of 600, 198.51.100.0/24 via a
 * gateway that never answered (no neighbour), 100.64.0.0/24 unreachable, and
 * 100.65.0.0/24 out of another port (lbe2). No default route. */
static int encap_netns(int *ifindex)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add lbe0 address 02:00:c6:12:00:02 type veth peer name lbe1",
		"ip link add lbe2 type veth peer name lbe3",
		"ip link set lbe0 up", "ip link set lbe1 up", "ip link set lbe2 up", "ip link set lbe3 up",
		"ip addr add 198.18.0.2/24 dev lbe0", "ip addr add 10.9.0.2/24 dev lbe2",
		"sysctl -qw net.ipv4.conf.all.forwarding=1",
		"ip neigh add 198.18.0.254 lladdr 02:00:c6:12:00:fe dev lbe0 nud permanent",
		"ip neigh add 10.9.0.254 lladdr 02:00:c6:12:00:fd dev lbe2 nud permanent",
		"ip route add 203.0.113.0/24 via 198.18.0.254",
		"ip route add 192.0.2.0/24 via 198.18.0.254 mtu lock 600",
		"ip route add 198.51.100.0/24 via 198.18.0.253",
		"ip route add unreachable 100.64.0.0/24",
		"ip route add 100.65.0.0/24 via 10.9.0.254",
		/* IPv6: 2001:db8:77::/64 via the gateway, 2001:db8:78::/64 with a path MTU of 1280 */
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip -6 addr add 2001:db8:18::2/64 dev lbe0 nodad",
		"ip -6 neigh add 2001:db8:18::fe lladdr 02:00:c6:12:00:fe dev lbe0 nud permanent",
		"ip -6 route add 2001:db8:77::/64 via 2001:db8:18::fe",
		"ip -6 route add 2001:db8:78::/64 via 2001:db8:18::fe mtu lock 1280",
	};
	char cmd[256];

	if (unshare(CLONE_NEWNET))
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", cmds[i]);
		if (system(cmd)) {
			tap_diag("encap setup failed: %s", cmds[i]);
			return -EIO;
		}
	}
	*ifindex = if_nametoindex("lbe0");
	return *ifindex ? 0 : -ENODEV;
}

static uint16_t ip_sum(const uint8_t *h, size_t n)
{
	return csum_fold(csum_partial(h, n, 0));
}

/* What the LB must send: Ethernet to the gateway, outer IPv4 (and UDP), the client's IP
 * packet byte for byte. Built from the wire format in docs/lb.md, not from lb.bpf.c. */
static size_t encap_want(uint8_t *w, const uint8_t *in, size_t n, int gue, __be32 dst,
			 __u16 sport)
{
	size_t inner = n - 14, hl = gue ? 28 : 20;
	uint8_t *ip = w + 14;

	memcpy(w, mac_gw, 6);
	memcpy(w + 6, mac_lb, 6);
	w[12] = 0x08;
	w[13] = 0x00;
	memset(ip, 0, hl);
	ip[0] = 0x45;
	ip[1] = in[15];
	ip[2] = (inner + hl) >> 8;
	ip[3] = (inner + hl) & 0xff;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = gue ? IPPROTO_UDP : 4;
	memcpy(ip + 12, &(__be32){ ip4("198.18.0.2") }, 4);
	memcpy(ip + 16, &dst, 4);
	{
		uint16_t c = ip_sum(ip, 20);
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	}
	if (gue) {
		uint8_t *u = ip + 20;
		u[0] = sport >> 8;
		u[1] = sport & 0xff;
		u[2] = LB_GUE_PORT >> 8;
		u[3] = LB_GUE_PORT & 0xff;
		u[4] = (inner + 8) >> 8;
		u[5] = (inner + 8) & 0xff;
	}
	memcpy(w + 14 + hl, in + 14, inner);
	return 14 + hl + inner;
}

static int encap_fixture(struct fixture *fx, __u32 mode, int ifindex, const char *vip,
			 __u32 encap, const char *backend)
{
	struct lb_prog_cfg pc = { .mode = mode, .table_size = RING, .snat_addr = ip4("198.18.0.2"),
				  .tunnel_src4 = ip4("198.18.0.2"), .ifindex = ifindex,
				  .snat6 = a6(SNAT6), .tunnel_src6 = a6(SNAT6) };
	struct lb_edit e = { .op = LB_VIP_ADD, .vip_encap = encap };
	struct lb_cfg_backend b = { .weight = 1 };
	int err;

	memset(fx, 0, sizeof(*fx));
	memcpy(pc.mac, mac_lb, 6);
	err = lb_fixture_up(&fx->lf, &pc);
	fx->skel = fx->lf.skel;
	fx->fds = fx->lf.fds;
	fx->prog = fx->lf.prog_fd;
	fx->st = fx->lf.cfg;
	if (err)
		return err;
	lb_parse_vip(vip, &e.vip);
	memset(fx->st, 0, sizeof(*fx->st));
	if ((err = lb_cfg_edit(fx->st, &e)))
		return err;
	b.vip = e.vip;
	lb_parse_addr_port(backend, &b.addr, &b.port);
	if ((err = lb_cfg_backend_add(fx->st, &b)))
		return err;
	err = lb_cfg_apply(&fx->fds, &fx->lf.meta, fx->st);
	fx->cfg = fx->lf.meta;
	return err;
}

/* One client packet to an encap VIP whose one backend is `backend`: the verdict, the
 * counter it must add to, and (for XDP_TX) the exact frame. */
static void encap_case(int ifindex, __u32 mode, __u32 encap, const char *backend, int proto,
		       size_t payload, uint16_t frag_off, int verdict, int counter, const char *what)
{
	static uint8_t pl[1400];
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const char *ms = mode == LB_MODE_NAT ? "nat" : "dsr";
	const char *es = encap == LB_ENCAP_GUE ? "gue" : "ipip";
	struct fixture fx;
	struct lb_counters c;
	struct pkt_spec s;
	__u32 olen;
	size_t n, wn;
	int rv;

	if (encap_fixture(&fx, mode, ifindex, proto == IPPROTO_TCP ? "198.18.0.100:80/tcp" :
			  "198.18.0.100:53/udp", encap, backend)) {
		ok(0, "%s %s %s: load and configure", ms, es, what);
		fixture_down(&fx);
		return;
	}
	spec_client(&s, "198.18.0.1", 40001, proto, proto == IPPROTO_TCP ? 80 : 53);
	s.payload = pl;
	s.payload_len = payload;
	s.frag_off = frag_off;
	n = pkt_build(&s, in);
	rv = run(&fx, in, n, out, &olen);
	counters(&fx, &c);
	is_int(rv, verdict, "%s %s %s: %s", ms, es, what, xdp_action_str(verdict));
	is_int(c.c[counter], 1, "%s %s %s: counted as %s", ms, es, what, lb_counter_name(counter));
	ok(verdict_sum(&c) == 1, "%s %s %s: one verdict for one packet", ms, es, what);
	if (verdict == XDP_TX && counter == LBC_TX_ENCAP) {
		__u32 h = lb_flow_hash(s.src4.s_addr, s.dst4.s_addr, htons(s.sport), htons(s.dport),
				       s.proto);
		wn = encap_want(want, in, n, encap == LB_ENCAP_GUE, ip4(backend),
				LB_GUE_SPORT_MIN | (h & 0x3fff));
		is_mem(out, olen, want, wn, "%s %s %s: exact outer headers, inner packet unchanged",
		       ms, es, what);
		is_int(map_entries(fx.fds.reverse), 0, "%s %s %s: no NAT state", ms, es, what);
		is_int(ct_flows(&fx, LB_FAM4), 1, "%s %s %s: the flow is tracked", ms, es, what);
	}
	if (counter == LBC_ICMP_TOO_BIG) {
		/* ICMP frag needed from the VIP to the client, MTU 600 - outer headers, quoting
		 * the client's IP header and 8 bytes. */
		size_t hl = encap == LB_ENCAP_GUE ? 28 : 20;
		uint8_t *ip = out + 14, *ic = ip + 20;
		ok(olen == 14 + 56 && !memcmp(out, mac_client, 6) && !memcmp(out + 6, mac_lb, 6),
		   "%s %s %s: 70-byte reply to the client's MAC (%u)", ms, es, what, olen);
		if (olen == 70) {
			ok(!memcmp(ip + 12, in + 30, 4) && !memcmp(ip + 16, in + 26, 4) && ip[9] == 1,
			   "%s %s %s: ICMP from the VIP to the client", ms, es, what);
			ok(ic[0] == 3 && ic[1] == 4 && (size_t)(ic[6] << 8 | ic[7]) == 600 - hl,
			   "%s %s %s: fragmentation needed, next-hop MTU %zu (%u)", ms, es, what,
			   600 - hl, ic[6] << 8 | ic[7]);
			ok(!memcmp(ic + 8, in + 14, 28), "%s %s %s: quotes the IP header + 8 bytes",
			   ms, es, what);
			ok(ip_sum(ip, 20) == 0 && ip_sum(ic, 36) == 0, "%s %s %s: checksums valid",
			   ms, es, what);
		}
	}
	fixture_down(&fx);
}

/* Encap with IPv6 on either side: every combination of client (VIP) family and backend
 * (outer) family. The expected frame is built from the wire format in docs/lb.md. */
static size_t encap_want6(uint8_t *w, const uint8_t *in, size_t n, int gue,
			  const struct lb_ip *dst, __u32 hash)
{
	int in6 = in[12] == 0x86, out6 = dst->family == LB_FAM6;
	size_t inner = n - 14, hl = (out6 ? 40 : 20) + (gue ? 8 : 0);
	uint8_t tos = in6 ? (uint8_t)((in[14] << 4) | (in[15] >> 4)) : in[15];
	uint8_t proto = gue ? IPPROTO_UDP : in6 ? 41 : 4;
	uint8_t *ip = w + 14, *u;

	memcpy(w, mac_gw, 6);
	memcpy(w + 6, mac_lb, 6);
	w[12] = out6 ? 0x86 : 0x08;
	w[13] = out6 ? 0xdd : 0x00;
	memset(ip, 0, hl);
	if (out6) {
		__u32 vtf = 6u << 28 | (__u32)tos << 20 | (hash & 0xfffff);

		ip[0] = vtf >> 24;
		ip[1] = vtf >> 16;
		ip[2] = vtf >> 8;
		ip[3] = vtf;
		ip[4] = (inner + hl - 40) >> 8;
		ip[5] = (inner + hl - 40) & 0xff;
		ip[6] = proto;
		ip[7] = 64;
		inet_pton(AF_INET6, SNAT6, ip + 8);
		memcpy(ip + 24, dst->a.b, 16);
		u = ip + 40;
	} else {
		uint16_t c;

		ip[0] = 0x45;
		ip[1] = tos;
		ip[2] = (inner + hl) >> 8;
		ip[3] = (inner + hl) & 0xff;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, &(__be32){ ip4("198.18.0.2") }, 4);
		memcpy(ip + 16, &dst->a.v4, 4);
		c = ip_sum(ip, 20);
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
		u = ip + 20;
	}
	if (gue) {
		__u16 sport = LB_GUE_SPORT_MIN | (hash & 0x3fff);

		u[0] = sport >> 8;
		u[1] = sport & 0xff;
		u[2] = LB_GUE_PORT >> 8;
		u[3] = LB_GUE_PORT & 0xff;
		u[4] = (inner + 8) >> 8;
		u[5] = (inner + 8) & 0xff;
	}
	memcpy(w + 14 + hl, in + 14, inner);
	return 14 + hl + inner;
}

static void encap6_case(int ifindex, __u32 mode, __u32 encap, int client6, const char *backend,
			size_t payload, int verdict, int counter, const char *what)
{
	static uint8_t pl[1400];
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const char *ms = lb_mode_str(mode);
	const char *es = encap == LB_ENCAP_GUE ? "gue" : "ipip";
	struct lb_ip be = { 0 };
	struct fixture fx;
	struct lb_counters c;
	struct pkt_spec s;
	__be16 bport;
	__u32 olen, h, pmtu;
	int rv;
	size_t n, wn;

	lb_parse_addr_port(backend, &be, &bport);
	if (encap_fixture(&fx, mode, ifindex, client6 ? "[" VIP6 "]:53/udp" : "198.18.0.100:53/udp",
			  encap, backend)) {
		ok(0, "%s %s %s: load and configure", ms, es, what);
		fixture_down(&fx);
		return;
	}
	if (client6)
		spec_client6(&s, "2001:db8:18::1", 40001, IPPROTO_UDP, 53);
	else
		spec_client(&s, "198.18.0.1", 40001, IPPROTO_UDP, 53);
	s.payload = pl;
	s.payload_len = payload;
	s.frag_off = 0x4000;
	n = pkt_build(&s, in);
	if (client6) {
		union lb_addr sa = { 0 }, da = { 0 };

		memcpy(sa.b, &s.src6, 16);
		memcpy(da.b, &s.dst6, 16);
		h = lb_flow_hash_addr(&sa, &da, htons(s.sport), htons(s.dport), s.proto);
	} else {
		h = lb_flow_hash(s.src4.s_addr, s.dst4.s_addr, htons(s.sport), htons(s.dport), s.proto);
	}
	rv = run(&fx, in, n, out, &olen);
	counters(&fx, &c);
	is_int(rv, verdict, "%s %s %s: %s", ms, es, what, xdp_action_str(verdict));
	is_int(c.c[counter], 1, "%s %s %s: counted as %s", ms, es, what, lb_counter_name(counter));
	ok(verdict_sum(&c) == 1, "%s %s %s: one verdict for one packet", ms, es, what);
	if (counter == LBC_TX_ENCAP) {
		wn = encap_want6(want, in, n, encap == LB_ENCAP_GUE, &be, h);
		is_mem(out, olen, want, wn, "%s %s %s: exact outer headers, inner packet unchanged",
		       ms, es, what);
		is_int(map_entries(fx.fds.reverse) + map_entries(fx.fds.reverse6), 0,
		       "%s %s %s: no NAT state", ms, es, what);
		is_int(ct_flows(&fx, client6 ? LB_FAM6 : LB_FAM4), 1,
		       "%s %s %s: the flow is tracked", ms, es, what);
	}
	pmtu = be.family == LB_FAM4 ? 600 : 1280; /* the routes' locked MTUs (encap_netns) */
	if (counter == LBC_ICMP_TOO_BIG && client6) {
		/* ICMPv6 packet too big from the VIP, MTU 1280 - outer headers, quoting 48 bytes. */
		size_t hl = (be.family == LB_FAM6 ? 40 : 20) + (encap == LB_ENCAP_GUE ? 8 : 0);
		uint8_t *ip = out + 14, *ic = ip + 40;
		__u32 mtu;

		ok(olen == 14 + 96 && !memcmp(out, mac_client, 6) && !memcmp(out + 6, mac_lb, 6),
		   "%s %s %s: 110-byte reply to the client's MAC (%u)", ms, es, what, olen);
		if (olen == 110) {
			mtu = (__u32)ic[4] << 24 | ic[5] << 16 | ic[6] << 8 | ic[7];
			ok(ip[0] == 0x60 && ip[1] == 0 && ip[4] == 0 && ip[5] == 56 && ip[6] == 58 &&
			   ip[7] == 64 && !memcmp(ip + 8, in + 14 + 24, 16) &&
			   !memcmp(ip + 24, in + 14 + 8, 16),
			   "%s %s %s: IPv6 from the VIP to the client, next header 58", ms, es, what);
			ok(ic[0] == 2 && ic[1] == 0 && mtu == pmtu - hl,
			   "%s %s %s: packet too big, MTU %zu (%u)", ms, es, what, pmtu - hl, mtu);
			ok(!memcmp(ic + 8, in + 14, 48), "%s %s %s: quotes the IPv6 header + 8 bytes",
			   ms, es, what);
			ok(pkt_checksums_ok(out, olen), "%s %s %s: ICMPv6 checksum valid", ms, es, what);
		}
	}
	if (counter == LBC_ICMP_TOO_BIG && !client6) {
		size_t hl = (be.family == LB_FAM6 ? 40 : 20) + (encap == LB_ENCAP_GUE ? 8 : 0);
		uint8_t *ic = out + 14 + 20;

		ok(olen == 70 && ic[0] == 3 && ic[1] == 4 && (size_t)(ic[6] << 8 | ic[7]) == pmtu - hl &&
		   pkt_checksums_ok(out, olen),
		   "%s %s %s: ICMP fragmentation needed, MTU %zu, checksums valid", ms, es, what,
		   pmtu - hl);
	}
	fixture_down(&fx);
}

static void test_encap6(int ifindex)
{
	for (__u32 mode = LB_MODE_NAT; mode <= LB_MODE_DSR; mode++) {
		for (__u32 e = LB_ENCAP_IPIP; e <= LB_ENCAP_GUE; e++) {
			size_t o6 = e == LB_ENCAP_GUE ? 48 : 40, o4 = e == LB_ENCAP_GUE ? 28 : 20;

			encap6_case(ifindex, mode, e, 1, "2001:db8:77::7", 100, XDP_TX, LBC_TX_ENCAP,
				    "v6-in-v6 via the gateway");
			encap6_case(ifindex, mode, e, 1, "203.0.113.7", 100, XDP_TX, LBC_TX_ENCAP,
				    "v6-in-v4 via the gateway");
			encap6_case(ifindex, mode, e, 0, "2001:db8:77::7", 100, XDP_TX, LBC_TX_ENCAP,
				    "v4-in-v6 via the gateway");
			encap6_case(ifindex, mode, e, 1, "2001:db8:78::9", 1280 - o6 - 48, XDP_TX,
				    LBC_TX_ENCAP, "v6-in-v6 exactly the path MTU");
			encap6_case(ifindex, mode, e, 1, "2001:db8:78::9", 1280 - o6 - 48 + 1, XDP_TX,
				    LBC_ICMP_TOO_BIG, "v6-in-v6 1 byte over the path MTU");
			encap6_case(ifindex, mode, e, 0, "2001:db8:78::9", 1280 - o6 - 28 + 1, XDP_TX,
				    LBC_ICMP_TOO_BIG, "v4-in-v6 1 byte over, DF");
			encap6_case(ifindex, mode, e, 1, "192.0.2.9", 600 - o4 - 48 + 1, XDP_TX,
				    LBC_ICMP_TOO_BIG, "v6-in-v4 1 byte over a 600-byte path");
			encap6_case(ifindex, mode, e, 1, "2001:db8:79::5", 0, XDP_DROP,
				    LBC_DROP_NO_ROUTE, "v6 backend without a route");
		}
	}
}

static void test_encap(void)
{
	int ifindex;

	if (encap_netns(&ifindex)) {
		ok(0, "encap: a network namespace with veth ports and routes");
		return;
	}
	test_encap6(ifindex);
	for (__u32 mode = LB_MODE_NAT; mode <= LB_MODE_DSR; mode++) {
		for (__u32 e = LB_ENCAP_IPIP; e <= LB_ENCAP_GUE; e++) {
			encap_case(ifindex, mode, e, "203.0.113.7", IPPROTO_TCP, 0, 0, XDP_TX,
				   LBC_TX_ENCAP, "TCP SYN via the gateway");
			encap_case(ifindex, mode, e, "203.0.113.7", IPPROTO_UDP, 100, 0x4000, XDP_TX,
				   LBC_TX_ENCAP, "UDP via the gateway");
			size_t fit = 600 - 28 - (e == LB_ENCAP_GUE ? 28 : 20);

			encap_case(ifindex, mode, e, "192.0.2.9", IPPROTO_UDP, fit, 0x4000, XDP_TX,
				   LBC_TX_ENCAP, "exactly the path MTU");
			encap_case(ifindex, mode, e, "192.0.2.9", IPPROTO_UDP, fit + 1, 0x4000, XDP_TX,
				   LBC_ICMP_TOO_BIG, "1 byte over the path MTU, DF");
			encap_case(ifindex, mode, e, "192.0.2.9", IPPROTO_TCP, 1000, 0x4000, XDP_TX,
				   LBC_ICMP_TOO_BIG, "TCP over the path MTU, DF");
			encap_case(ifindex, mode, e, "192.0.2.9", IPPROTO_UDP, 600, 0, XDP_DROP,
				   LBC_DROP_TOO_BIG, "over the path MTU, no DF");
			encap_case(ifindex, mode, e, "198.51.100.5", IPPROTO_TCP, 0, 0, XDP_DROP,
				   LBC_DROP_NO_NEIGH, "next hop without a MAC");
			encap_case(ifindex, mode, e, "100.64.0.5", IPPROTO_TCP, 0, 0, XDP_DROP,
				   LBC_DROP_NO_ROUTE, "unreachable route");
			encap_case(ifindex, mode, e, "100.66.0.5", IPPROTO_TCP, 0, 0, XDP_DROP,
				   LBC_DROP_NO_ROUTE, "no route at all");
			encap_case(ifindex, mode, e, "100.65.0.5", IPPROTO_TCP, 0, 0, XDP_REDIRECT,
				   LBC_TX_ENCAP, "route out of another port");
		}
	}
}

/* The VIP index (lb.h, "The VIP index") of a fixture: its head, and how many slots of a
 * half hold a VIP (misplaced: how many are not where the half's seed puts them). */
static struct lb_vix_head vix_head_of(struct fixture *fx)
{
	struct lb_vix_head hd = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(fx->fds.vix_head, &zero, &hd);
	return hd;
}

static int vix_used(struct fixture *fx, __u32 half, __u32 seed, int *misplaced)
{
	int n = 0;

	*misplaced = 0;
	for (__u32 i = 0; i < LB_VIX_SLOTS; i++) {
		__u32 k = half * LB_VIX_SLOTS + i;
		struct lb_vix_slot sl;

		if (bpf_map_lookup_elem(fx->fds.vix, &k, &sl) || !sl.key.family)
			continue;
		n++;
		*misplaced += lb_vix_index(&sl.key, seed) != i;
	}
	return n;
}

static int vip_syn(struct fixture *fx, __u16 sport)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s;
	__u32 olen;
	size_t n;

	spec_client(&s, "198.18.0.1", sport, IPPROTO_TCP, 80);
	n = pkt_build(&s, in);
	return run(fx, in, n, out, &olen);
}

/* What lb_cfg_apply writes into the index; that the program finds its VIPs there (a VIP
 * taken out of a ready half is not balanced), asks the hash map when the half is not
 * ready, and sees a change only once the head turned; 64 VIPs of both families placed. */
static void test_vix(void)
{
	struct fixture fx;
	struct lb_vix_head hd;
	struct lb_vip_key k;
	struct lb_vix_slot empty = {};
	__u32 half, slot, zero = 0;
	int bad, n;

	if (fixture_up(&fx, LB_MODE_DSR) || configure(&fx)) {
		ok(0, "vix: load and configure");
		fixture_down(&fx);
		return;
	}
	hd = vix_head_of(&fx);
	half = hd.half & 1;
	ok(hd.ready[half], "vix: the half packets read is ready after an apply");
	n = vix_used(&fx, half, hd.seed[half], &bad);
	is_int(n, fx.st->nvips, "vix: it holds every VIP, once");
	is_int(bad, 0, "vix: each where its seed puts it");
	is_int(vip_syn(&fx, 41000), XDP_TX, "vix: a SYN to a VIP is balanced");

	lb_parse_vip("198.18.0.100:80/tcp", &k);
	slot = half * LB_VIX_SLOTS + lb_vix_index(&k, hd.seed[half]);
	bpf_map_update_elem(fx.fds.vix, &slot, &empty, BPF_ANY);
	is_int(vip_syn(&fx, 41001), XDP_PASS,
	       "vix: a VIP missing from a ready half is not one (the program reads the index)");
	hd.ready[half] = 0;
	bpf_map_update_elem(fx.fds.vix_head, &zero, &hd, BPF_ANY);
	is_int(vip_syn(&fx, 41002), XDP_TX, "vix: a half not ready: the hash map answers");

	ok(!lb_cfg_apply(&fx.fds, &fx.cfg, fx.st), "vix: apply again");
	hd = vix_head_of(&fx);
	is_int(hd.half & 1, !half, "vix: a rebuild fills the other half and turns the head");
	ok(hd.ready[!half], "vix: that half is ready");
	is_int(vip_syn(&fx, 41003), XDP_TX, "vix: the rebuilt index finds the VIP again");

	lb_cfg_vip_del(fx.st, &k);
	ok(!lb_cfg_apply(&fx.fds, &fx.cfg, fx.st), "vix: apply without :80");
	hd = vix_head_of(&fx);
	n = vix_used(&fx, hd.half & 1, hd.seed[hd.half & 1], &bad);
	is_int(n, fx.st->nvips, "vix: a removed VIP leaves the index");
	is_int(vip_syn(&fx, 41004), XDP_PASS, "vix: and its packets are not balanced");

	/* Emptied first: ids of gone VIPs are not reused within the apply that removes them. */
	memset(fx.st, 0, sizeof(*fx.st));
	ok(!lb_cfg_apply(&fx.fds, &fx.cfg, fx.st), "vix: apply no VIP");
	hd = vix_head_of(&fx);
	is_int(vix_used(&fx, hd.half & 1, hd.seed[hd.half & 1], &bad), 0, "vix: none indexed");
	is_int(vip_syn(&fx, 41005), XDP_PASS, "vix: nothing balanced");
	for (int i = 0; i < LB_MAX_VIPS; i++) {
		char v[64];

		if (i % 2)
			snprintf(v, sizeof(v), "[2001:db8::%x]:%d/tcp", 0x100 + i / 8, 80 + i % 8);
		else
			snprintf(v, sizeof(v), "198.18.%d.%d:%d/udp", i / 8, 100 + i % 8, 53 + i);
		if (lb_parse_vip(v, &k) || lb_cfg_vip_add(fx.st, &k))
			ok(0, "vix: VIP %s", v);
	}
	ok(!lb_cfg_apply(&fx.fds, &fx.cfg, fx.st), "vix: %d VIPs of both families applied",
	   LB_MAX_VIPS);
	hd = vix_head_of(&fx);
	ok(hd.ready[hd.half & 1], "vix: %d VIPs placed without a clash (seed %u)", LB_MAX_VIPS,
	   hd.seed[hd.half & 1]);
	n = vix_used(&fx, hd.half & 1, hd.seed[hd.half & 1], &bad);
	is_int(n, LB_MAX_VIPS, "vix: all %d in the index", LB_MAX_VIPS);
	is_int(bad, 0, "vix: each where the seed puts it");
	fixture_down(&fx);
}

/* Packets to one VIP from another thread while the index is rebuilt again and again
 * with other VIPs coming and going: a rebuild that touched the half packets read, or a
 * head that paired a half with the wrong seed, would make some of them miss it. */
struct vix_race {
	struct fixture *fx;
	atomic_bool stop;
	long sent, missed;
};

static void *vix_race_packets(void *arg)
{
	struct vix_race *r = arg;
	time_t end = time(NULL) + 10;

	for (__u16 sp = 1024; !atomic_load(&r->stop) && time(NULL) < end; sp = sp == 65535 ? 1024 : sp + 1) {
		r->sent++;
		r->missed += vip_syn(r->fx, sp) != XDP_TX;
	}
	return NULL;
}

static void test_vix_race(void)
{
	struct vix_race r = { 0 };
	struct fixture fx;
	struct lb_vip_key k;
	pthread_t t;
	int applied = 0;
	time_t t0 = time(NULL);

	if (fixture_up(&fx, LB_MODE_DSR) || configure(&fx)) {
		ok(0, "vix race: load and configure");
		fixture_down(&fx);
		return;
	}
	r.fx = &fx;
	if (pthread_create(&t, NULL, vix_race_packets, &r)) {
		ok(0, "vix race: a thread");
		fixture_down(&fx);
		return;
	}
	for (int i = 0; i < 30; i++) {
		/* 0..5 more VIPs each time: the seed, and so every slot, changes */
		for (int j = 0; j < 6; j++) {
			char v[48];

			snprintf(v, sizeof(v), "198.18.1.%d:%d/tcp", 1 + j, 1000 + i);
			lb_parse_vip(v, &k);
			if (j < i % 6)
				lb_cfg_vip_add(fx.st, &k);
			snprintf(v, sizeof(v), "198.18.1.%d:%d/tcp", 1 + j, 999 + i);
			lb_parse_vip(v, &k);
			lb_cfg_vip_del(fx.st, &k);
		}
		applied += !lb_cfg_apply(&fx.fds, &fx.cfg, fx.st);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	tap_diag("vix race: 30 applies in %.0f s", (double)(time(NULL) - t0));
	is_int(applied, 30, "vix race: 30 applies");
	ok(r.sent > 1000, "vix race: %ld packets sent meanwhile", r.sent);
	is_int(r.missed, 0, "vix race: none of them missed its VIP");
	fixture_down(&fx);
}

int main(void)
{
	test_parse();
	if (!tap_require_bpf())
		return tap_done();
	bpflab_libbpf_init();
	test_dsr();
	test_nat();
	test_verdicts();
	test_not_for_us();
	test_port_zero();
	test_icmp_bounds();
	test_counters_add_up();
	test_v6();
	test_v6_verdicts();
	test_v6_icmp();
	test_memory();
	test_ct();
	test_vix();
	test_vix_race();
	test_encap(); /* last: it moves this process into a namespace of its own */
	return tap_done();
}
