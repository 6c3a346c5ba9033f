// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* steer.bpf.c (dsr health-probe steering, lb_steer.h) through BPF_PROG_TEST_RUN, loaded
 * and configured through lb_steer_load/lb_steer_sync as `lb health` does. Every expected
 * frame is built by src/lib/pkt as the packet would have been sent to VIP:port (egress)
 * or from the backend's address (ingress), so the program's rewrite, checksums included,
 * is checked against bytes it had no part in making. The lying-length cases are the
 * fuzzer's regression: they used to be rewritten. */
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
static struct in_addr lb4, vip4, vip4b, be1, be2, be3;

/* 198.18.0.100:80/tcp (checked): be1 (id 1), be2:8080 (id 2);
 * 198.18.0.100:53/udp (checked): be1 (id 3); 198.18.0.101:443/tcp (unchecked): be3 (id 4). */
static void setup_cfg(void)
{
	struct { struct in_addr *vip; uint16_t vport; uint8_t proto; bool checked;
		 struct in_addr *be; uint16_t bport; } rows[] = {
		{ &vip4, 80, IPPROTO_TCP, true, &be1, 0 },
		{ &vip4, 80, IPPROTO_TCP, true, &be2, 8080 },
		{ &vip4, 53, IPPROTO_UDP, true, &be1, 0 },
		{ &vip4b, 443, IPPROTO_TCP, false, &be3, 0 },
	};

	inet_pton(AF_INET, "198.18.0.2", &lb4);
	inet_pton(AF_INET, "198.18.0.100", &vip4);
	inet_pton(AF_INET, "198.18.0.101", &vip4b);
	inet_pton(AF_INET, "198.18.0.11", &be1);
	inet_pton(AF_INET, "198.18.0.12", &be2);
	inet_pton(AF_INET, "198.18.0.13", &be3);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lb_vip_key k = { .addr = rows[i].vip->s_addr, .port = htons(rows[i].vport),
					.proto = rows[i].proto };
		int v = lb_cfg_find_vip(&cfg, &k);

		if (v < 0) {
			v = cfg.nvips++;
			cfg.vips[v].key = k;
			if (rows[i].checked)
				lb_check_init(&cfg.vips[v].check,
					      k.proto == IPPROTO_TCP ? LB_CHECK_TCP : LB_CHECK_UDP);
		}
		cfg.backends[cfg.nbackends++] = (struct lb_cfg_backend){
			.vip = k, .addr = rows[i].be->s_addr, .port = htons(rows[i].bport),
			.weight = 1, .id = (__u32)i + 1,
		};
	}
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

/* One case: the frame must come out as want (NULL: unchanged), the verdict TCX_NEXT, and
 * counter c (or none, -1) move by one. */
static void check(const char *what, int ingress, __u32 mark, const struct frame *in,
		  const struct frame *want, int c)
{
	__u64 before[LB_STEER__MAX], after[LB_STEER__MAX];
	struct frame out;
	__u32 ret = 0;
	bool counters_ok = true;

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
	for (int k = 0; k < LB_STEER__MAX; k++)
		if (after[k] - before[k] != (__u64)(k == c))
			counters_ok = false;
	ok(counters_ok, "%s: counter %s", what,
	   c == LB_STEER_STEERED ? "steered +1" : c == LB_STEER_RESTORED ? "restored +1" :
	   c == LB_STEER_MALFORMED ? "malformed +1" : "none moved");
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
	check("tcp probe to backend 1", 0, lb_steer_mark(1), &in, &want, LB_STEER_STEERED);
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x12);
	build(&want, IPPROTO_TCP, be1, 80, lb4, 40001, 0x12);
	check("its SYN-ACK from the VIP", 1, 0, &in, &want, LB_STEER_RESTORED);

	/* a backend on its own port: the port is steered too, both ways */
	build(&in, IPPROTO_TCP, lb4, 40002, be2, 8080, 0x02);
	build(&want, IPPROTO_TCP, lb4, 40002, vip4, 80, 0x02);
	check("tcp probe to backend 2 on :8080", 0, lb_steer_mark(2), &in, &want, LB_STEER_STEERED);
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40002, 0x12);
	build(&want, IPPROTO_TCP, be2, 8080, lb4, 40002, 0x12);
	check("its answer back to :8080", 1, 0, &in, &want, LB_STEER_RESTORED);

	/* a wrong IPv4 header checksum stays wrong: the rewrite keeps the error */
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	oc_inc(in.b + 14 + 10);
	build(&want, IPPROTO_TCP, be1, 80, lb4, 40001, 0x10);
	oc_inc(want.b + 14 + 10);
	check("answer with a wrong IP checksum", 1, 0, &in, &want, LB_STEER_RESTORED);
	ok(!pkt_checksums_ok(want.b, want.len), "(that expected frame is indeed broken)");

	/* lying lengths: left alone and counted (the fuzzer's regression) */
	build(&bad, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	bad.b[14 + 2] = 0x05;            /* total length 1280+: beyond the frame */
	check("answer whose total length lies", 1, 0, &bad, NULL, LB_STEER_MALFORMED);
	build(&bad, IPPROTO_TCP, vip4, 80, lb4, 40001, 0x10);
	bad.b[34 + 12] = 0xf0;           /* data offset 60 bytes: beyond the segment */
	check("answer whose TCP data offset lies", 1, 0, &bad, NULL, LB_STEER_MALFORMED);
	build(&bad, IPPROTO_TCP, lb4, 40003, be1, 80, 0x02);
	bad.b[14] = 0x65;                /* version 6 in an IPv4 frame */
	check("probe with IP version 6", 0, lb_steer_mark(1), &bad, NULL, LB_STEER_MALFORMED);
	build(&bad, IPPROTO_TCP, lb4, 40003, be1, 80, 0x02);
	bad.b[34 + 12] = 0x40;           /* data offset 16 bytes: shorter than a TCP header */
	check("probe with TCP data offset 4", 0, lb_steer_mark(1), &bad, NULL, LB_STEER_MALFORMED);
}

static void test_udp(void)
{
	struct frame in, want;

	build(&in, IPPROTO_UDP, lb4, 40010, be1, 53, 0);
	build(&want, IPPROTO_UDP, lb4, 40010, vip4, 53, 0);
	check("udp probe to backend 3", 0, lb_steer_mark(3), &in, &want, LB_STEER_STEERED);
	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	build(&want, IPPROTO_UDP, be1, 53, lb4, 40010, 0);
	check("its answer", 1, 0, &in, &want, LB_STEER_RESTORED);

	/* RFC 768: checksum 0 means none, and it stays none */
	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	in.b[34 + 6] = in.b[34 + 7] = 0;
	build(&want, IPPROTO_UDP, be1, 53, lb4, 40010, 0);
	want.b[34 + 6] = want.b[34 + 7] = 0;
	check("answer without a UDP checksum", 1, 0, &in, &want, LB_STEER_RESTORED);

	build(&in, IPPROTO_UDP, vip4, 53, lb4, 40010, 0);
	in.b[34 + 4] = 0x01;             /* UDP length 256+: beyond the IP payload */
	check("answer whose UDP length lies", 1, 0, &in, NULL, LB_STEER_MALFORMED);
}

static void test_untouched(void)
{
	struct frame in;

	build(&in, IPPROTO_TCP, lb4, 40020, be1, 80, 0x02);
	check("unmarked packet to a backend", 0, 0, &in, NULL, -1);
	check("another program's mark", 0, 0x12340001, &in, NULL, -1);
	check("the checker's mark, unknown id", 0, lb_steer_mark(77), &in, NULL, -1);
	check("marked for backend 2, sent to backend 1", 0, lb_steer_mark(2), &in, NULL, -1);
	build(&in, IPPROTO_UDP, lb4, 40020, be1, 80, 0);
	check("marked for backend 1, but udp", 0, lb_steer_mark(1), &in, NULL, -1);
	build(&in, IPPROTO_TCP, lb4, 40020, be3, 443, 0x02);
	check("backend of an unchecked VIP", 0, lb_steer_mark(4), &in, NULL, -1);
	build(&in, IPPROTO_TCP, vip4, 80, lb4, 40999, 0x12);
	check("from the VIP to a port no probe used", 1, 0, &in, NULL, -1);
	build(&in, IPPROTO_TCP, vip4b, 443, lb4, 40001, 0x12);
	check("from another VIP to a probe's port", 1, 0, &in, NULL, -1);
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
	lb_steer_sync(st, &cfg);
	test_tcp();
	test_udp();
	test_untouched();
	lb_steer_detach(st);
	return tap_done();
}
