// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* steer.bpf.c (health-probe steering, lb_steer.h) through BPF_PROG_TEST_RUN, loaded
 * and configured through lb_steer_load/lb_steer_sync as `lb health` does. Every expected
 * frame is built by src/lib/pkt as the packet would have been sent to VIP:port (egress)
 * or from the backend's address (ingress), so the program's rewrite, checksums included,
 * is checked against bytes it had no part in making; an encap VIP's expected probe is
 * that packet wrapped here in the outer header docs/lb.md ("Encapsulation") describes.
 * The lying-length cases are the fuzzer's regression: they used to be rewritten. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "tap.h"
#include "util.h"
#include "pkt.h"
#include "lb.h"
#include "lb_ctl.h"
#include "lb_health.h"
#include "lb_steer.h"

#define TCX_NEXT_RET 0xffffffffu   /* TCX_NEXT (-1) as the test run's retval */

static struct lb_steer *st;
static struct lb_cfg cfg;
static struct in_addr lb4, vip4, vip4b, be1, be2, be3, be4, be5, tsrc;
static struct in6_addr lb6, vip6, be6a, be6b, be6c, tsrc6;
static struct lb_meta meta;

/* 198.18.0.100:80/tcp (checked): be1 (id 1), be2:8080 (id 2);
 * 198.18.0.100:53/udp (checked): be1 (id 3); 198.18.0.101:443/tcp (unchecked): be3 (id 4);
 * 198.18.0.101:80/tcp encap ipip (checked): be4 (id 5);
 * 198.18.0.101:53/udp encap gue (checked): be5:5353 (id 6);
 * [2001:db8:18::100]:80/tcp (checked): be6a (id 7);
 * [2001:db8:18::100]:53/udp encap gue (checked): be6b (id 8);
 * [2001:db8:18::100]:443/tcp encap ipip (checked): be6c:8443 (id 9). */
static void setup_cfg(void)
{
	struct { struct in_addr *vip; uint16_t vport; uint8_t proto; bool checked;
		 struct in_addr *be; uint16_t bport; __u32 encap; } rows[] = {
		{ &vip4, 80, IPPROTO_TCP, true, &be1, 0, 0 },
		{ &vip4, 80, IPPROTO_TCP, true, &be2, 8080, 0 },
		{ &vip4, 53, IPPROTO_UDP, true, &be1, 0, 0 },
		{ &vip4b, 443, IPPROTO_TCP, false, &be3, 0, 0 },
		{ &vip4b, 80, IPPROTO_TCP, true, &be4, 0, LB_ENCAP_IPIP },
		{ &vip4b, 53, IPPROTO_UDP, true, &be5, 5353, LB_ENCAP_GUE },
	};
	struct { uint16_t vport; uint8_t proto; struct in6_addr *be; uint16_t bport;
		 __u32 encap; } rows6[] = {
		{ 80, IPPROTO_TCP, &be6a, 0, 0 },
		{ 53, IPPROTO_UDP, &be6b, 0, LB_ENCAP_GUE },
		{ 443, IPPROTO_TCP, &be6c, 8443, LB_ENCAP_IPIP },
	};

	inet_pton(AF_INET, "198.18.0.2", &lb4);
	inet_pton(AF_INET, "198.18.0.100", &vip4);
	inet_pton(AF_INET, "198.18.0.101", &vip4b);
	inet_pton(AF_INET, "198.18.0.11", &be1);
	inet_pton(AF_INET, "198.18.0.12", &be2);
	inet_pton(AF_INET, "198.18.0.13", &be3);
	inet_pton(AF_INET, "198.18.11.11", &be4);
	inet_pton(AF_INET, "198.18.12.12", &be5);
	inet_pton(AF_INET, "198.18.2.9", &tsrc);
	inet_pton(AF_INET6, "2001:db8:18::2", &lb6);
	inet_pton(AF_INET6, "2001:db8:18::100", &vip6);
	inet_pton(AF_INET6, "2001:db8:18::b", &be6a);
	inet_pton(AF_INET6, "2001:db8:18:c::c", &be6b);
	inet_pton(AF_INET6, "2001:db8:18:d::d", &be6c);
	inet_pton(AF_INET6, "2001:db8:18:2::9", &tsrc6);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lb_vip_key k;
		struct lb_ip vip, be;
		int v;

		lb_ip4(&vip, rows[i].vip->s_addr);
		lb_ip4(&be, rows[i].be->s_addr);
		lb_vip_key_set(&k, &vip, htons(rows[i].vport), rows[i].proto);
		v = lb_cfg_find_vip(&cfg, &k);

		if (v < 0) {
			v = cfg.nvips++;
			cfg.vips[v].key = k;
			cfg.vips[v].encap = rows[i].encap;
			if (rows[i].checked)
				lb_check_init(&cfg.vips[v].check,
					      k.proto == IPPROTO_TCP ? LB_CHECK_TCP : LB_CHECK_UDP);
		}
		cfg.backends[cfg.nbackends++] = (struct lb_cfg_backend){
			.vip = k, .addr = be, .port = htons(rows[i].bport),
			.weight = 1, .id = (__u32)i + 1,
		};
	}
	for (size_t i = 0; i < sizeof(rows6) / sizeof(rows6[0]); i++) {
		struct lb_ip vip = { .family = LB_FAM6 }, be = { .family = LB_FAM6 };
		struct lb_vip_key k;
		int v;

		memcpy(vip.a.b, &vip6, 16);
		memcpy(be.a.b, rows6[i].be, 16);
		lb_vip_key_set(&k, &vip, htons(rows6[i].vport), rows6[i].proto);
		v = cfg.nvips++;
		cfg.vips[v].key = k;
		cfg.vips[v].encap = rows6[i].encap;
		lb_check_init(&cfg.vips[v].check, k.proto == IPPROTO_TCP ? LB_CHECK_TCP : LB_CHECK_UDP);
		cfg.backends[cfg.nbackends] = (struct lb_cfg_backend){
			.vip = k, .addr = be, .port = htons(rows6[i].bport), .weight = 1,
			.id = (__u32)cfg.nbackends + 1,
		};
		cfg.nbackends++;
	}
	meta.mode = LB_MODE_DSR;
	meta.tunnel_src4 = tsrc.s_addr;
	memcpy(meta.tunnel_src6.b, &tsrc6, 16);
}

struct frame {
	uint8_t b[PKT_MAX];
	size_t len;
};

static void build(struct frame *f, uint8_t proto, struct in_addr src, uint16_t sport,
		  struct in_addr dst, uint16_t dport, uint8_t flags)
{
	static const uint8_t payload[] = "health probe";
	struct pkt_spec s;

	pkt_spec_default(&s);
	s.family = AF_INET;
	s.proto = proto;
	s.src4 = src;
	s.dst4 = dst;
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = flags;
	s.payload = payload;
	s.payload_len = sizeof(payload) - 1;
	f->len = pkt_build(&s, f->b);
}

static int run(int ingress, __u32 mark, const struct frame *in, struct frame *out, __u32 *ret)
{
	struct __sk_buff skb = { .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out->b, .data_size_out = PKT_MAX, .repeat = 1);

	if (mark) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(lb_steer_prog_fd(st, ingress), &o))
		return -errno;
	out->len = o.data_size_out;
	*ret = o.retval;
	return 0;
}

#define C(k) (1u << (k))

/* One case: the frame must come out as want (NULL: unchanged), the verdict TCX_NEXT, and
 * exactly the counters of mask cm move, by one each. */
static void check(const char *what, int ingress, __u32 mark, const struct frame *in,
		  const struct frame *want, unsigned cm)
{
	static const char *const names[LB_STEER__MAX] = {
		"steered", "restored", "malformed", "encap", "drop_encap",
	};
	__u64 before[LB_STEER__MAX], after[LB_STEER__MAX];
	struct frame out;
	__u32 ret = 0;
	bool counters_ok = true;
	char moved[96] = "";

	if (lb_steer_counters(st, before) || run(ingress, mark, in, &out, &ret) ||
	    lb_steer_counters(st, after)) {
		ok(0, "%s: test run", what);
		return;
	}
	is_int(ret, TCX_NEXT_RET, "%s: TCX_NEXT", what);
	if (!want)
		want = in;
	is_mem(out.b, out.len, want->b, want->len, "%s: %s", what,
	       want == in ? "unchanged" : "rewritten as built");
	for (int k = 0; k < LB_STEER__MAX; k++) {
		if (after[k] - before[k] != (__u64)!!(cm & C(k)))
			counters_ok = false;
		if (cm & C(k))
			snprintf(moved + strlen(moved), sizeof(moved) - strlen(moved), " %s +1",
				 names[k]);
	}
	ok(counters_ok, "%s: counter%s", what, cm ? moved : " none moved");
}

/* Adds 1 to a checksum field in one's complement: an error of +1, which an incremental
 * update (RFC 1624 eqn. 3) carries into the rewritten field unchanged. */
static void oc_inc(uint8_t *p)
{
	uint32_t v = ((uint32_t)p[0] << 8 | p[1]) + 1;

	v = (v & 0xffff) + (v >> 16);
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void test_tcp(void)
{
	struct frame in, want, bad;

	build(&in, IPPROTO_TCP, lb4, 40001, be1, 80, 0x02);
	build(&want, IPPROTO_TCP, lb4, 40001, vip4, 80, 0x02);
	check("tcp probe to backend 1", 0, lb_steer_mark(1), &in, &want, C(LB_STEER_STEERED));
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x12);
	build(&want, IPPROTO_TCP, be1, 80, lb4, 40001, 0x12);
	check("its SYN-ACK from the VIP", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* a backend on its own port: the port is steered too, both ways */
	build(&in, IPPROTO_TCP, lb4, 40002, be2, 8080, 0x02);
	build(&want, IPPROTO_TCP, lb4, 40002, vip4, 80, 0x02);
	check("tcp probe to backend 2 on :8080", 0, lb_steer_mark(2), &in, &want, C(LB_STEER_STEERED));
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40002, 0x12);
	build(&want, IPPROTO_TCP, be2, 8080, lb4, 40002, 0x12);
	check("its answer back to :8080", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* a wrong IPv4 header checksum stays wrong: the rewrite keeps the error */
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	oc_inc(in.b + 14 + 10);
	build(&want, IPPROTO_TCP, be1, 80, lb4, 40001, 0x10);
	oc_inc(want.b + 14 + 10);
	check("answer with a wrong IP checksum", 1, 0, &in, &want, C(LB_STEER_RESTORED));
	ok(!pkt_checksums_ok(want.b, want.len), "(that expected frame is indeed broken)");

	/* lying lengths: left alone and counted (the fuzzer's regression) */
	build(&bad, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	bad.b[14 + 2] = 0x05;            /* total length 1280+: beyond the frame */
	check("answer whose total length lies", 1, 0, &bad, NULL, C(LB_STEER_MALFORMED));
	build(&bad, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	bad.b[34 + 12] = 0xf0;           /* data offset 60 bytes: beyond the segment */
	check("answer whose TCP data offset lies", 1, 0, &bad, NULL, C(LB_STEER_MALFORMED));
	build(&bad, IPPROTO_TCP, lb4, 40003, be1, 80, 0x02);
	bad.b[14] = 0x65;                /* version 6 in an IPv4 frame */
	check("probe with IP version 6", 0, lb_steer_mark(1), &bad, NULL, C(LB_STEER_MALFORMED));
	build(&bad, IPPROTO_TCP, lb4, 40003, be1, 80, 0x02);
	bad.b[34 + 12] = 0x40;           /* data offset 16 bytes: shorter than a TCP header */
	check("probe with TCP data offset 4", 0, lb_steer_mark(1), &bad, NULL, C(LB_STEER_MALFORMED));
}

static void test_udp(void)
{
	struct frame in, want;

	build(&in, IPPROTO_UDP, lb4, 40010, be1, 53, 0);
	build(&want, IPPROTO_UDP, lb4, 40010, vip4, 53, 0);
	check("udp probe to backend 3", 0, lb_steer_mark(3), &in, &want, C(LB_STEER_STEERED));
	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	build(&want, IPPROTO_UDP, be1, 53, lb4, 40010, 0);
	check("its answer", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* RFC 768: checksum 0 means none, and it stays none */
	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	in.b[34 + 6] = in.b[34 + 7] = 0;
	build(&want, IPPROTO_UDP, be1, 53, lb4, 40010, 0);
	want.b[34 + 6] = want.b[34 + 7] = 0;
	check("answer without a UDP checksum", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	in.b[34 + 4] = 0x01;             /* UDP length 256+: beyond the IP payload */
	check("answer whose UDP length lies", 1, 0, &in, NULL, C(LB_STEER_MALFORMED));
}

/* The frame in, its IPv4 packet (and whatever follows it) inside the tunnel docs/lb.md
 * describes for lb's encap VIPs: outer IPv4 tsrc -> dst, DF, TTL 64, id 0, the inner tos,
 * protocol 4; GUE: protocol 17 and UDP sport -> 6080, checksum 0. */
static void wrap(const struct frame *in, struct in_addr dst, bool gue, uint16_t sport,
		 struct frame *out)
{
	uint8_t *o = out->b + 14, *u = o + 20;
	uint16_t ilen = (uint16_t)(in->b[16] << 8 | in->b[17]), olen = (gue ? 28 : 20) + ilen;

	memcpy(out->b, in->b, 14);
	memset(o, 0, 28);
	o[0] = 0x45;
	o[1] = in->b[15];
	o[2] = olen >> 8;
	o[3] = olen & 0xff;
	o[6] = 0x40;
	o[8] = 64;
	o[9] = gue ? IPPROTO_UDP : 4;
	memcpy(o + 12, &tsrc, 4);
	memcpy(o + 16, &dst, 4);
	uint16_t c = csum_fold(csum_partial(o, 20, 0));
	o[10] = c >> 8;
	o[11] = c & 0xff;
	if (gue) {
		u[0] = sport >> 8;
		u[1] = sport & 0xff;
		u[2] = 6080 >> 8;
		u[3] = 6080 & 0xff;
		u[4] = (8 + ilen) >> 8;
		u[5] = (8 + ilen) & 0xff;
	}
	memcpy(o + (gue ? 28 : 20), in->b + 14, in->len - 14);
	out->len = in->len + (gue ? 28 : 20);
}

static void test_encap(void)
{
	struct frame in, inner, want;

	/* IPIP, TCP: SYN to be4 leaves as SYN to the VIP inside IPIP to be4 */
	build(&in, IPPROTO_TCP, lb4, 40030, be4, 80, 0x02);
	build(&inner, IPPROTO_TCP, lb4, 40030, vip4b, 80, 0x02);
	wrap(&inner, be4, false, 0, &want);
	check("ipip: tcp probe to backend 5", 0, lb_steer_mark(5), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));
	ok(pkt_checksums_ok(want.b, want.len), "(the expected outer header's checksum holds)");
	/* the answer comes back bare, from the VIP, as to any client */
	build(&in, IPPROTO_TCP, vip4b, 80, lb4, 40030, 0x12);
	build(&want, IPPROTO_TCP, be4, 80, lb4, 40030, 0x12);
	check("ipip: its SYN-ACK from the VIP", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* the inner tos is the outer tos (DSCP/ECN kept) */
	build(&in, IPPROTO_TCP, lb4, 40032, be4, 80, 0x10);
	in.b[15] = 0xb8;
	pkt_fix_checksums(in.b, in.len);
	build(&inner, IPPROTO_TCP, lb4, 40032, vip4b, 80, 0x10);
	inner.b[15] = 0xb8;
	pkt_fix_checksums(inner.b, inner.len);
	wrap(&inner, be4, false, 0, &want);
	check("ipip: tos 0xb8 kept outside", 0, lb_steer_mark(5), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));

	/* GUE, UDP, backend on its own port: outer source port from the probe's */
	build(&in, IPPROTO_UDP, lb4, 40031, be5, 5353, 0);
	build(&inner, IPPROTO_UDP, lb4, 40031, vip4b, 53, 0);
	wrap(&inner, be5, true, 49152 | (40031 & 0x3fff), &want);
	check("gue: udp probe to backend 6 on :5353", 0, lb_steer_mark(6), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));
	build(&in, IPPROTO_UDP, vip4b, 53, lb4, 40031, 0);
	build(&want, IPPROTO_UDP, be5, 5353, lb4, 40031, 0);
	check("gue: its answer", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* bytes after the IP packet stay after it, outside the outer length */
	build(&in, IPPROTO_UDP, lb4, 40033, be5, 5353, 0);
	memset(in.b + in.len, 0xee, 6);
	in.len += 6;
	build(&inner, IPPROTO_UDP, lb4, 40033, vip4b, 53, 0);
	memset(inner.b + inner.len, 0xee, 6);
	inner.len += 6;
	wrap(&inner, be5, true, 49152 | (40033 & 0x3fff), &want);
	check("gue: trailing bytes after the packet", 0, lb_steer_mark(6), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));

	/* lying lengths: left alone, as on L2 */
	build(&in, IPPROTO_TCP, lb4, 40034, be4, 80, 0x02);
	in.b[14 + 2] = 0x05;
	check("ipip: probe whose total length lies", 0, lb_steer_mark(5), &in, NULL,
	      C(LB_STEER_MALFORMED));

	/* nat mode: only encap VIPs are steered; dsr-style backends are probed as they are */
	meta.mode = LB_MODE_NAT;
	lb_steer_sync(st, &cfg, &meta);
	build(&in, IPPROTO_TCP, lb4, 40035, be1, 80, 0x02);
	check("nat: probe of a plain VIP's backend", 0, lb_steer_mark(1), &in, NULL, 0);
	build(&in, IPPROTO_TCP, lb4, 40035, be4, 80, 0x02);
	build(&inner, IPPROTO_TCP, lb4, 40035, vip4b, 80, 0x02);
	wrap(&inner, be4, false, 0, &want);
	check("nat: probe of an encap VIP's backend", 0, lb_steer_mark(5), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));
	meta.mode = LB_MODE_DSR;
	lb_steer_sync(st, &cfg, &meta);
}

static void build6(struct frame *f, uint8_t proto, const struct in6_addr *src, uint16_t sport,
		   const struct in6_addr *dst, uint16_t dport, uint8_t flags)
{
	static const uint8_t payload[] = "health probe, v6";
	struct pkt_spec s;

	pkt_spec_default(&s);
	s.family = AF_INET6;
	s.proto = proto;
	s.src6 = *src;
	s.dst6 = *dst;
	s.sport = sport;
	s.dport = dport;
	s.tcp_flags = flags;
	s.payload = payload;
	s.payload_len = sizeof(payload) - 1;
	f->len = pkt_build(&s, f->b);
}

/* The IPv6 frame in inside an outer IPv6 header to dst as docs/lb.md and lb_steer.h say:
 * the inner traffic class, flow label = sport of the probe, hop limit 64, next header 41
 * (IPIP) or 17 (GUE, UDP psport -> 6080, checksum 0), from tsrc6. */
static void wrap6(const struct frame *in, const struct in6_addr *dst, bool gue,
		  uint16_t probe_sport, struct frame *out)
{
	uint8_t *o = out->b + 14, *u = o + 40;
	const uint8_t *i6 = in->b + 14;
	uint16_t ilen = (uint16_t)(40 + (i6[4] << 8 | i6[5])), plen = (gue ? 8 : 0) + ilen;
	uint8_t tc = (uint8_t)((i6[0] & 0xf) << 4 | i6[1] >> 4);

	memcpy(out->b, in->b, 14);
	memset(o, 0, 48);
	o[0] = 0x60 | tc >> 4;
	o[1] = (uint8_t)((tc & 0xf) << 4);
	o[2] = probe_sport >> 8;
	o[3] = probe_sport & 0xff;
	o[4] = plen >> 8;
	o[5] = plen & 0xff;
	o[6] = gue ? IPPROTO_UDP : 41;
	o[7] = 64;
	memcpy(o + 8, &tsrc6, 16);
	memcpy(o + 24, dst, 16);
	if (gue) {
		uint16_t sp = 49152 | (probe_sport & 0x3fff);
		u[0] = sp >> 8;
		u[1] = sp & 0xff;
		u[2] = 6080 >> 8;
		u[3] = 6080 & 0xff;
		u[4] = (8 + ilen) >> 8;
		u[5] = (8 + ilen) & 0xff;
	}
	memcpy(o + (gue ? 48 : 40), in->b + 14, in->len - 14);
	out->len = in->len + (gue ? 48 : 40);
}

static void test_v6(void)
{
	struct frame in, inner, want;

	/* dsr on L2: only the address and port change; the MAC is the neighbour's */
	build6(&in, IPPROTO_TCP, &lb6, 40040, &be6a, 80, 0x02);
	build6(&want, IPPROTO_TCP, &lb6, 40040, &vip6, 80, 0x02);
	check("v6 dsr: tcp probe to backend 7", 0, lb_steer_mark(7), &in, &want, C(LB_STEER_STEERED));
	build6(&in, IPPROTO_TCP, &vip6, 80, &lb6, 40040, 0x12);
	build6(&want, IPPROTO_TCP, &be6a, 80, &lb6, 40040, 0x12);
	check("v6 dsr: its SYN-ACK from the VIP", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* GUE in IPv6 */
	build6(&in, IPPROTO_UDP, &lb6, 40041, &be6b, 53, 0);
	build6(&inner, IPPROTO_UDP, &lb6, 40041, &vip6, 53, 0);
	wrap6(&inner, &be6b, true, 40041, &want);
	check("v6 gue: udp probe to backend 8", 0, lb_steer_mark(8), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));
	build6(&in, IPPROTO_UDP, &vip6, 53, &lb6, 40041, 0);
	build6(&want, IPPROTO_UDP, &be6b, 53, &lb6, 40041, 0);
	check("v6 gue: its answer", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* IPv6 in IPv6 (next header 41), a backend on its own port, traffic class kept */
	build6(&in, IPPROTO_TCP, &lb6, 40042, &be6c, 8443, 0x10);
	in.b[14] = 0x6b;
	in.b[15] = 0x80;   /* traffic class 0xb8 */
	build6(&inner, IPPROTO_TCP, &lb6, 40042, &vip6, 443, 0x10);
	inner.b[14] = 0x6b;
	inner.b[15] = 0x80;
	wrap6(&inner, &be6c, false, 40042, &want);
	check("v6 ipip: tcp probe to backend 9 on :8443", 0, lb_steer_mark(9), &in, &want,
	      C(LB_STEER_STEERED) | C(LB_STEER_ENCAP));
	build6(&in, IPPROTO_TCP, &vip6, 443, &lb6, 40042, 0x10);
	build6(&want, IPPROTO_TCP, &be6c, 8443, &lb6, 40042, 0x10);
	check("v6 ipip: its answer back to :8443", 1, 0, &in, &want, C(LB_STEER_RESTORED));

	/* lying: payload length past the frame; a v4 mark on a v6 frame; an ext header */
	build6(&in, IPPROTO_TCP, &lb6, 40043, &be6a, 80, 0x02);
	in.b[14 + 4] = 0x05;
	check("v6: probe whose payload length lies", 0, lb_steer_mark(7), &in, NULL,
	      C(LB_STEER_MALFORMED));
	build6(&in, IPPROTO_TCP, &lb6, 40043, &be6a, 80, 0x02);
	check("v6 frame marked for a v4 backend", 0, lb_steer_mark(1), &in, NULL, 0);
	{
		static const uint8_t hbh[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
		struct pkt_spec sp;

		pkt_spec_default(&sp);
		sp.family = AF_INET6;
		sp.proto = IPPROTO_TCP;
		sp.src6 = lb6;
		sp.dst6 = be6a;
		sp.sport = 40044;
		sp.dport = 80;
		sp.ext_hdrs = hbh;
		sp.ext_len = sizeof(hbh);
		sp.ext_first = 0;
		in.len = pkt_build(&sp, in.b);
		check("v6 probe with a hop-by-hop header: not ours", 0, lb_steer_mark(7), &in, NULL, 0);
	}
}

static void test_untouched(void)
{
	struct frame in;

	build(&in, IPPROTO_TCP, lb4, 40020, be1, 80, 0x02);
	check("unmarked packet to a backend", 0, 0, &in, NULL, 0);
	check("another program's mark", 0, 0x12340001, &in, NULL, 0);
	check("the checker's mark, unknown id", 0, lb_steer_mark(77), &in, NULL, 0);
	check("marked for backend 2, sent to backend 1", 0, lb_steer_mark(2), &in, NULL, 0);
	build(&in, IPPROTO_UDP, lb4, 40020, be1, 80, 0);
	check("marked for backend 1, but udp", 0, lb_steer_mark(1), &in, NULL, 0);
	build(&in, IPPROTO_TCP, lb4, 40020, be3, 443, 0x02);
	check("backend of an unchecked VIP", 0, lb_steer_mark(4), &in, NULL, 0);
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40999, 0x12);
	check("from the VIP to a port no probe used", 1, 0, &in, NULL, 0);
	build(&in, IPPROTO_TCP, vip4b, 443, lb4, 40001, 0x12);
	check("from another VIP to a probe's port", 1, 0, &in, NULL, 0);
}

int main(void)
{
	int err;

	if (!tap_require_bpf())
		return tap_done();
	setup_cfg();
	err = lb_steer_load(&st);
	if (!ok(!err, "steer.bpf.c loads through lb_steer_load (%s)", err ? strerror(-err) : "ok"))
		return tap_done();
	lb_steer_sync(st, &cfg, &meta);
	test_tcp();
	test_udp();
	test_encap();
	test_v6();
	test_untouched();
	lb_steer_detach(st);
	return tap_done();
}
