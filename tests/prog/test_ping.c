// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ping_xdp and ping_tc through BPF_PROG_TEST_RUN: every verdict, the exact bytes of each
 * reply against a reference rebuilt and checksummed from scratch in plain C (pkt.c),
 * checksum edge values, VLAN/QinQ, IPv4 options, IPv6 extension headers, fragments,
 * truncation at every length, the address rules (TESTING.md bad packets 1-10), events
 * and exact counters on every CPU. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "ping.h"
#include "ping.skel.h"
#include "ping_prog.h"

static struct ping_bpf *sk_watch, *sk_drop, *sk_reply, *sk_reply_lo, *sk_tc;

static const char *OUR4 = "198.18.0.11", *OUR6 = "2001:db8:18::b";

/* This namespace as the tests see it, with prefix lengths (subnet broadcasts). */
static void local(struct ping_local *l, int family, const char *addr, int plen)
{
	memset(l, 0, sizeof(*l));
	l->v4 = family == AF_INET;
	l->plen = (__u8)plen;
	if (l->v4) {
		l->a.a[10] = l->a.a[11] = 0xff;
		inet_pton(AF_INET, addr, &l->a.a[12]);
	} else {
		inet_pton(AF_INET6, addr, l->a.a);
	}
}

/* Through ping_prog_load(), the command's own path. */
static struct ping_bpf *load(enum ping_action a, bool on_lo, bool tc)
{
	struct ping_local l[6];
	struct ping_prog_cfg cfg = { .action = a, .on_lo = on_lo, .tc = tc, .events = true,
				     .local = l, .nlocal = 6 };

	local(&l[0], AF_INET, "127.0.0.1", 8);
	local(&l[1], AF_INET6, "::1", 128);
	local(&l[2], AF_INET6, "fe80::c6ff:fe12:b", 64);
	local(&l[3], AF_INET, OUR4, 24);
	local(&l[4], AF_INET6, OUR6, 64);
	/* for test_pseudo_swap: a destination whose words carry everywhere */
	local(&l[5], AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 64);
	return ping_prog_load(&cfg);
}

/* More addresses than .rodata holds: the 17th of each family (ours) and the subnet
 * broadcasts past the 16th go to the overflow map, as in a namespace with many. */
static struct ping_bpf *load_overflow(void)
{
	struct ping_local l[2 * PING_RO_LOCAL4 + 2];
	struct ping_prog_cfg cfg = { .action = PING_REPLY, .events = true, .local = l };
	char a[64];

	for (int i = 0; i < PING_RO_LOCAL4; i++) {
		snprintf(a, sizeof(a), "10.%d.0.1", 100 + i);
		local(&l[cfg.nlocal++], AF_INET, a, 16);
		snprintf(a, sizeof(a), "2001:db8:%x::1", 0x100 + i);
		local(&l[cfg.nlocal++], AF_INET6, a, 64);
	}
	local(&l[cfg.nlocal++], AF_INET, OUR4, 24);
	local(&l[cfg.nlocal++], AF_INET6, OUR6, 64);
	return ping_prog_load(&cfg);
}

static int prog_fd(struct ping_bpf *sk)
{
	return ping_prog_fd(sk, sk == sk_tc);
}

static void stats(struct ping_bpf *sk, struct ping_stats *sum)
{
	if (ping_prog_stats(sk, sum))
		memset(sum, 0xff, sizeof(*sum)); /* fails every exact check that follows */
}

static void reset(struct ping_bpf *sk)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ping_stats zero[ncpu];
	struct ping_addr k, next;
	__u32 key = 0;
	int fd = bpf_map__fd(sk->maps.sources);

	memset(zero, 0, sizeof(zero));
	bpf_map_update_elem(bpf_map__fd(sk->maps.stats), &key, zero, BPF_ANY);
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
}

static int drain_events(struct ping_bpf *sk);
struct ev_sink {
	struct ping_event ev[64];
	int n;
};
static int drain_into(struct ping_bpf *sk, struct ev_sink *sink);
static void expect_pass(struct ping_bpf *sk, const char *what, const uint8_t *f, size_t n,
			int counter);
static void expect_refused(struct ping_bpf *sk, const char *what, const uint8_t *f, size_t n,
			   int reason);

/* One run; out gets the packet as the program left it. */
static int run(struct ping_bpf *sk, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
	       __u32 *retval)
{
	struct test_run t = { .in = in, .in_len = len, .out = out, .out_cap = PKT_MAX,
			      .repeat = 1, .cpu = -1 };
	int err = test_run_xdp(prog_fd(sk), &t);

	if (err)
		return err;
	*out_len = t.out_len;
	*retval = t.retval;
	return 0;
}

static __u32 want_pass(struct ping_bpf *sk) { return sk == sk_tc ? TC_ACT_OK : XDP_PASS; }
static __u32 want_tx(struct ping_bpf *sk) { return sk == sk_tc ? TC_ACT_REDIRECT : XDP_TX; }

/* Passed untouched: verdict pass and byte-identical. */
static bool passes_untouched(struct ping_bpf *sk, const uint8_t *pkt, size_t len)
{
	uint8_t out[PKT_MAX];
	size_t olen = 0;
	__u32 rv = 99;

	if (run(sk, pkt, len, out, &olen, &rv))
		return false;
	return rv == want_pass(sk) && olen == len && !memcmp(out, pkt, len);
}

/* ---- the reference: the reply built from scratch ---- */

static size_t l3_off(const struct pkt_spec *s)
{
	return 14 + (s->vlan[0] ? 4 : 0) + (s->vlan[1] ? 4 : 0);
}

static size_t l4_off(const struct pkt_spec *s)
{
	return l3_off(s) + (s->family == AF_INET ? 20 + s->ip_options_len : 40 + s->ext_len);
}

/* What the reply must be: addresses swapped, echo reply, TTL 64, same ID, options,
 * extension headers and payload; every checksum recomputed in full. */
static size_t reference_reply(const struct pkt_spec *req, const uint8_t *req_frame,
			      uint8_t *buf)
{
	struct pkt_spec r = *req;
	size_t n, l3 = l3_off(req);

	memcpy(r.src_mac, req->dst_mac, 6);
	memcpy(r.dst_mac, req->src_mac, 6);
	r.src4 = req->dst4;
	r.dst4 = req->src4;
	r.src6 = req->dst6;
	r.dst6 = req->src6;
	r.ttl = 64;
	n = pkt_build(&r, buf);
	buf[l4_off(req)] = req->family == AF_INET ? 0 : 129;
	if (req->family == AF_INET)
		memcpy(buf + l3 + 4, req_frame + l3 + 4, 2); /* the request's IP ID */
	pkt_fix_checksums(buf, n);
	return n;
}

/* Runs the request, expects a reply equal to the reference, byte for byte. */
static void check_reply(struct ping_bpf *sk, const char *what, const struct pkt_spec *s,
			const uint8_t *frame, size_t len)
{
	uint8_t out[PKT_MAX], ref[PKT_MAX];
	size_t olen = 0, rlen;
	__u32 rv = 99;
	struct ping_stats st;
	int err;

	reset(sk);
	rlen = reference_reply(s, frame, ref);
	if (len > rlen) /* padding after the IP packet comes back as it was */
		memcpy(ref + rlen, frame + rlen, len - rlen), rlen = len;
	err = run(sk, frame, len, out, &olen, &rv);
	stats(sk, &st);
	if (!ok(!err && rv == want_tx(sk), "%s: %s (err %d, retval %u)", what,
		sk == sk_tc ? "TC_ACT_REDIRECT" : "XDP_TX", err, rv))
		return;
	is_mem(out, olen, ref, rlen, "%s: reply bytes equal the reference", what);
	ok(pkt_checksums_ok(out, olen) && st.c[PS_REPLIED] == 1 &&
	   st.c[s->family == AF_INET ? PS_ECHO4 : PS_ECHO6] == 1,
	   "%s: checksums verify from scratch; counted replied once", what);
	drain_events(sk);
}

/* ---- fixtures ---- */

static uint8_t payload[1500];

static void spec4(struct pkt_spec *s, size_t plen)
{
	pkt_spec_default(s);
	s->payload = payload;
	s->payload_len = plen;
	s->sport = 0x4d2;
	s->dport = 7;
}

static void spec6(struct pkt_spec *s, size_t plen)
{
	spec4(s, plen);
	s->family = AF_INET6;
	s->proto = IPPROTO_ICMPV6;
}

static void test_reply_matrix(struct ping_bpf *sk, const char *hook)
{
	static const size_t lens[] = { 0, 1, 3, 56, 57, 1400 };
	static const uint8_t ttls[] = { 1, 64, 255 };
	uint8_t frame[PKT_MAX];
	char what[128];
	struct pkt_spec s;

	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
			for (int vl = 0; vl < 3; vl++) {
				fam ? spec6(&s, lens[i]) : spec4(&s, lens[i]);
				s.ttl = ttls[(i + vl) % 3];
				if (vl >= 1)
					s.vlan[0] = 100;
				if (vl == 2)
					s.vlan[1] = 200;
				size_t n = pkt_build(&s, frame);
				snprintf(what, sizeof(what), "%s %s echo, payload %zu, ttl %u%s", hook,
					 fam ? "v6" : "v4", lens[i], s.ttl,
					 vl == 0 ? "" : vl == 1 ? ", 802.1Q" : ", QinQ");
				check_reply(sk, what, &s, frame, n);
			}
		}
}

static void test_reply_options(struct ping_bpf *sk, const char *hook)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	uint8_t nops[40], frame[PKT_MAX];
	/* hop-by-hop (PadN), destination options (PadN), then ICMPv6 */
	static const uint8_t hbh_dst[16] = { IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
					     IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0 };
	/* an atomic fragment: offset 0, no M flag: a whole packet */
	static const uint8_t atomic[8] = { IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 42 };
	/* routing header type 4 (segment routing), segments left 0: we are the end */
	static const uint8_t rh0[24] = { IPPROTO_ICMPV6, 2, 4, 0, 0, 0, 0, 0,
					 0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b };
	struct pkt_spec s;
	char what[96];
	size_t n;

	memset(nops, 1, sizeof(nops));
	nops[39] = 0; /* end of options list */
	spec4(&s, 56);
	s.ip_options = ra;
	s.ip_options_len = sizeof(ra);
	s.ttl = 9;
	n = pkt_build(&s, frame);
	/* Linux does not echo most options, and must process some (RFC 1122 3.2.2.6): any
	 * option but NOP/EOL leaves the request to the kernel. */
	snprintf(what, sizeof(what), "%s v4 echo with Router Alert option (left to the kernel)", hook);
	expect_refused(sk, what, frame, n, PR_IP_OPTIONS);

	s.ip_options = nops;
	s.ip_options_len = sizeof(nops);
	s.vlan[0] = 7;
	n = pkt_build(&s, frame);
	snprintf(what, sizeof(what), "%s v4 echo, ihl 15 (40 bytes of options), VLAN", hook);
	check_reply(sk, what, &s, frame, n);

	spec6(&s, 33);
	s.ext_hdrs = hbh_dst;
	s.ext_len = sizeof(hbh_dst);
	s.ext_first = IPPROTO_HOPOPTS;
	n = pkt_build(&s, frame);
	snprintf(what, sizeof(what), "%s v6 echo behind hop-by-hop + destination options", hook);
	check_reply(sk, what, &s, frame, n);

	s.ext_hdrs = atomic;
	s.ext_len = sizeof(atomic);
	s.ext_first = IPPROTO_FRAGMENT;
	n = pkt_build(&s, frame);
	/* Issue 10: any fragment header makes it a fragment (the kernel answers it). */
	snprintf(what, sizeof(what), "%s v6 echo in an atomic fragment", hook);
	expect_pass(sk, what, frame, n, PS_FRAGMENTS);

	s.ext_hdrs = rh0;
	s.ext_len = sizeof(rh0);
	s.ext_first = IPPROTO_ROUTING;
	n = pkt_build(&s, frame);
	snprintf(what, sizeof(what), "%s v6 echo with a routing header, segments left 0", hook);
	check_reply(sk, what, &s, frame, n);
}

/* Chooses the first payload word so that the request's checksum field is `target`
 * (0xffff: the other zero, which verifies as well and which no full computation makes). */
static size_t force_icmp_csum(struct pkt_spec *s, uint8_t *frame, uint16_t target)
{
	size_t n, c = l4_off(s) + 2;
	uint16_t c0, x;
	uint32_t t;

	payload[0] = payload[1] = 0;
	n = pkt_build(s, frame);
	c0 = frame[c] << 8 | frame[c + 1];
	/* checksum = ~(S + x): S = ~c0, so x = ~target - S = ~target + c0 (one's complement). */
	t = (uint16_t)~(target == 0xffff ? 0 : target) + (uint32_t)c0;
	x = (uint16_t)((t & 0xffff) + (t >> 16));
	payload[0] = x >> 8;
	payload[1] = x & 0xff;
	n = pkt_build(s, frame);
	if (target == 0xffff) {
		frame[c] = frame[c + 1] = 0xff;
	}
	return n;
}

/* Chooses the IPv4 ID so that the request's header checksum is `target`. */
static void force_ip_csum(struct pkt_spec *s, uint8_t *frame, uint16_t target)
{
	size_t l3 = l3_off(s), hl = 20 + s->ip_options_len;
	uint16_t c0, x;
	uint32_t t;

	frame[l3 + 4] = frame[l3 + 5] = 0;
	frame[l3 + 10] = frame[l3 + 11] = 0;
	c0 = csum_fold(csum_partial(frame + l3, hl, 0));
	t = (uint16_t)~(target == 0xffff ? 0 : target) + (uint32_t)c0;
	x = (uint16_t)((t & 0xffff) + (t >> 16));
	frame[l3 + 4] = x >> 8;
	frame[l3 + 5] = x & 0xff;
	c0 = csum_fold(csum_partial(frame + l3, hl, 0));
	if (target == 0xffff)
		c0 = 0xffff;
	frame[l3 + 10] = c0 >> 8;
	frame[l3 + 11] = c0 & 0xff;
}

static void test_csum_edges(struct ping_bpf *sk, const char *hook)
{
	/* A reply checksum of 0x0000 comes from 0xf7ff in v4 (type 8 -> 0 takes 0x0800 off
	 * the sum) and from 0x0100 in v6 (128 -> 129 adds 0x0100). */
	static const uint16_t edges[] = { 0x0000, 0xffff, 0xf800, 0xf7ff, 0x0800, 0x07ff, 0x0001, 0xfffe, 0x0100 };
	uint8_t frame[PKT_MAX];
	struct pkt_spec s;
	char what[128];

	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
			fam ? spec6(&s, 57) : spec4(&s, 57);
			s.ttl = 200;
			size_t n = force_icmp_csum(&s, frame, edges[i]);
			size_t c = l4_off(&s) + 2;
			uint16_t got = frame[c] << 8 | frame[c + 1];
			if (!ok(got == edges[i] && pkt_checksums_ok(frame, n),
				"%s %s request with ICMP checksum 0x%04x is valid", hook,
				fam ? "v6" : "v4", edges[i]))
				continue;
			snprintf(what, sizeof(what), "%s %s echo, request checksum 0x%04x, odd payload",
				 hook, fam ? "v6" : "v4", edges[i]);
			check_reply(sk, what, &s, frame, n);
		}
	for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
		spec4(&s, 56);
		s.ttl = 63;
		size_t n = pkt_build(&s, frame);
		force_ip_csum(&s, frame, edges[i]);
		if (!ok(pkt_checksums_ok(frame, n), "%s v4 request with IP header checksum 0x%04x is valid",
			hook, edges[i]))
			continue;
		snprintf(what, sizeof(what), "%s v4 echo, IP header checksum 0x%04x, ttl 63 -> 64",
			 hook, edges[i]);
		check_reply(sk, what, &s, frame, n);
	}
}

/* A short frame padded to 60 bytes: lengths come from the IP header. */
static void test_padded(struct ping_bpf *sk, const char *hook)
{
	uint8_t frame[PKT_MAX];
	struct pkt_spec s;
	char what[96];
	size_t n;

	spec4(&s, 0);
	n = pkt_build(&s, frame);
	memset(frame + n, 0xaa, 60 - n);
	snprintf(what, sizeof(what), "%s v4 echo, 42 bytes padded to 60 with 0xaa", hook);
	check_reply(sk, what, &s, frame, 60);
}

/* Everything that must pass byte-identical, with the counter it must move. */
static void expect_pass(struct ping_bpf *sk, const char *what, const uint8_t *f, size_t n,
			int counter)
{
	struct ping_stats st;

	reset(sk);
	bool untouched = passes_untouched(sk, f, n);
	stats(sk, &st);
	ok(untouched && (counter < 0 || st.c[counter] == 1) && st.c[PS_REPLIED] == 0 &&
	   st.c[PS_DROPPED] == 0, "%s: passed untouched%s%s", what, counter < 0 ? "" : ", counted ",
	   counter < 0 ? "" : (const char *[PS__MAX]){ "packets", "echo_v4", "echo_v6", "passed",
		   "dropped", "replied", "refused", "fragments", "malformed", "events_lost",
		   "exthdrs", "events_suppressed" }[counter]);
	drain_events(sk);
}

/* Not answered for `reason`: passed untouched, refused and passed counted once, and the
 * one event says why. */
static void expect_refused(struct ping_bpf *sk, const char *what, const uint8_t *f, size_t n,
			   int reason)
{
	static struct ev_sink sink;
	struct ping_stats st;
	bool untouched;
	int got;

	reset(sk);
	drain_events(sk);
	untouched = passes_untouched(sk, f, n);
	stats(sk, &st);
	sink.n = 0;
	got = drain_into(sk, &sink);
	ok(untouched && st.c[PS_REFUSED] == 1 && st.c[PS_PASSED] == 1 && st.c[PS_REPLIED] == 0 &&
	   got == 1 && sink.n == 1 && sink.ev[0].refused == reason,
	   "%s: not answered (reason %d), passed untouched, counted refused", what, reason);
	if (sink.n && sink.ev[0].refused != reason)
		tap_diag("event says refused %u", sink.ev[0].refused);
}

static void test_not_echo(struct ping_bpf *sk, const char *hook)
{
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	char what[128];
	size_t n;

#define W(...) (snprintf(what, sizeof(what), __VA_ARGS__), what)
	spec4(&s, 8);
	s.icmp_type = 0; /* pkt_build: 0 means request; patch below */
	n = pkt_build(&s, f);
	f[l4_off(&s)] = 0;
	pkt_fix_checksums(f, n);
	expect_pass(sk, W("%s v4 echo reply", hook), f, n, -1);
	s.icmp_type = 3;
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v4 destination unreachable", hook), f, n, -1);
	spec6(&s, 8);
	s.icmp_type = 129;
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v6 echo reply", hook), f, n, -1);
	s.icmp_type = 135;
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v6 neighbour solicitation", hook), f, n, -1);
	spec4(&s, 8);
	s.proto = IPPROTO_UDP;
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v4 udp", hook), f, n, -1);
	s.proto = IPPROTO_TCP;
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v4 tcp", hook), f, n, -1);
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	expect_pass(sk, W("%s arp", hook), f, 60, -1);
	spec4(&s, 8);
	n = pkt_build(&s, f);
	f[l4_off(&s) + 1] = 1; /* code 1 */
	pkt_fix_checksums(f, n);
	expect_pass(sk, W("%s v4 echo with code 1", hook), f, n, PS_MALFORMED);
	spec6(&s, 8);
	n = pkt_build(&s, f);
	f[l4_off(&s) + 1] = 1;
	pkt_fix_checksums(f, n);
	expect_pass(sk, W("%s v6 echo with code 1", hook), f, n, PS_MALFORMED);
}

static void test_fragments(struct ping_bpf *sk, const char *hook)
{
	static const struct { const char *what; uint16_t frag_off; size_t plen; } v4[] = {
		{ "first (MF, offset 0)", 0x2000, 56 },
		{ "middle (MF, offset 185)", 0x2000 | 185, 56 },
		{ "last (offset 370)", 370, 56 },
		{ "tiny first (MF, 0 payload)", 0x2000, 0 },
	};
	uint8_t f[PKT_MAX], fh[8] = { IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 7 };
	struct pkt_spec s;
	char what[128];
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(v4); i++) {
		spec4(&s, v4[i].plen);
		s.frag_off = v4[i].frag_off;
		n = pkt_build(&s, f);
		expect_pass(sk, W("%s v4 echo fragment, %s", hook, v4[i].what), f, n, PS_FRAGMENTS);
	}
	spec6(&s, 56);
	s.ext_hdrs = fh;
	s.ext_len = sizeof(fh);
	s.ext_first = IPPROTO_FRAGMENT;
	fh[3] = 1; /* offset 0, M */
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v6 echo fragment, first", hook), f, n, PS_FRAGMENTS);
	fh[2] = 0x01;
	fh[3] = 0x70; /* offset 46 (368 bytes), last */
	n = pkt_build(&s, f);
	expect_pass(sk, W("%s v6 echo fragment, last", hook), f, n, PS_FRAGMENTS);
}

static void test_truncated(struct ping_bpf *sk, const char *hook)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	static const uint8_t hbh[8] = { IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0 };
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	int bad = 0;
	size_t n;

	for (int fam = 0; fam < 2; fam++) {
		if (fam) {
			spec6(&s, 4);
			s.ext_hdrs = hbh;
			s.ext_len = sizeof(hbh);
			s.ext_first = IPPROTO_HOPOPTS;
		} else {
			spec4(&s, 4);
			s.ip_options = ra;
			s.ip_options_len = sizeof(ra);
		}
		s.vlan[0] = 5;
		s.vlan[1] = 6;
		n = pkt_build(&s, f);
		bad = 0;
		/* The kernel's test run refuses frames shorter than an Ethernet header. */
		for (size_t len = 14; len < n; len++) {
			struct ping_stats st;
			reset(sk);
			if (!passes_untouched(sk, f, len))
				bad++;
			stats(sk, &st);
			if (st.c[PS_MALFORMED] != 1 || st.c[PS_ECHO4] + st.c[PS_ECHO6] != 0)
				bad++;
		}
		is_int(bad, 0, "%s QinQ %s echo cut at every length 14..%zu: passed untouched, "
		       "counted malformed", hook, fam ? "v6 + hop-by-hop" : "v4 + options", n - 1);
	}
}

static void test_lies(struct ping_bpf *sk, const char *hook)
{
	uint8_t f[PKT_MAX], c[PKT_MAX];
	struct pkt_spec s;
	size_t n;
	const struct { const char *what; int off; uint8_t val; } lies[] = {
		{ "ihl 0", 14, 0x40 }, { "ihl 1", 14, 0x41 }, { "ihl 2", 14, 0x42 },
		{ "ihl 3", 14, 0x43 }, { "ihl 4", 14, 0x44 }, { "ihl 15 past the end", 14, 0x4f },
		{ "version 5", 14, 0x55 }, { "version 6 in an IPv4 ethertype", 14, 0x65 },
		{ "tot_len 10 (below the header)", 17, 10 }, { "tot_len past the frame", 17, 200 },
	};

	spec4(&s, 0); /* 42 bytes: an ihl of 15 reaches past the end */
	n = pkt_build(&s, f);
	for (size_t i = 0; i < ARRAY_SIZE(lies); i++) {
		char what[96];
		memcpy(c, f, n);
		c[lies[i].off] = lies[i].val;
		snprintf(what, sizeof(what), "%s v4 echo, %s", hook, lies[i].what);
		expect_pass(sk, what, c, n, PS_MALFORMED);
	}
	spec6(&s, 56);
	n = pkt_build(&s, f);
	memcpy(c, f, n);
	c[14 + 5] = 200; /* payload_len past the frame */
	expect_pass(sk, "v6 echo, payload_len past the frame", c, n, PS_MALFORMED);
	memcpy(c, f, n);
	c[14] = 0x40;
	expect_pass(sk, "v6 echo, version 4 in an IPv6 ethertype", c, n, PS_MALFORMED);
}

/* TESTING.md bad packets 10: requests never answered. */
static void test_refused(struct ping_bpf *sk, const char *hook)
{
	static const struct {
		const char *what; int fam; const char *src, *dst; int mac; int refuse;
	} cases[] = {
		{ "to broadcast MAC", 4, NULL, NULL, 1, PR_L2_MCAST },
		{ "to multicast MAC", 6, NULL, NULL, 2, PR_L2_MCAST },
		{ "to 255.255.255.255", 4, NULL, "255.255.255.255", 0, PR_DST_MCAST },
		{ "to 224.0.0.1", 4, NULL, "224.0.0.1", 0, PR_DST_MCAST },
		{ "to the subnet broadcast 198.18.0.255", 4, NULL, "198.18.0.255", 0, PR_DST_MCAST },
		{ "from the subnet broadcast 198.18.0.255", 4, "198.18.0.255", NULL, 0, PR_SRC_BAD },
		{ "from 0.1.2.3 (0/8)", 4, "0.1.2.3", NULL, 0, PR_SRC_BAD },
		{ "from 240.0.0.1 (240/4)", 4, "240.0.0.1", NULL, 0, PR_SRC_BAD },
		{ "from a broadcast source MAC", 4, NULL, NULL, 3, PR_L2_MCAST },
		{ "from a multicast source MAC", 6, NULL, NULL, 4, PR_L2_MCAST },
		{ "to an address that is not ours", 4, NULL, "198.18.0.12", 0, PR_DST_NOT_OURS },
		{ "from 0.0.0.0", 4, "0.0.0.0", NULL, 0, PR_SRC_BAD },
		{ "from 224.0.0.5", 4, "224.0.0.5", NULL, 0, PR_SRC_BAD },
		{ "from 255.255.255.255", 4, "255.255.255.255", NULL, 0, PR_SRC_BAD },
		{ "from 127.0.0.1 (not on lo)", 4, "127.0.0.1", NULL, 0, PR_LOOPBACK },
		{ "from 127.1.2.3 (not on lo)", 4, "127.1.2.3", NULL, 0, PR_LOOPBACK },
		{ "to 127.0.0.1 (not on lo)", 4, NULL, "127.0.0.1", 0, PR_LOOPBACK },
		{ "from our own address", 4, "198.18.0.11", NULL, 0, PR_SRC_OURS },
		{ "to ff02::1", 6, NULL, "ff02::1", 0, PR_DST_MCAST },
		{ "from ::", 6, "::", NULL, 0, PR_SRC_BAD },
		{ "from ff02::1", 6, "ff02::1", NULL, 0, PR_SRC_BAD },
		{ "from ::ffff:198.18.0.1", 6, "::ffff:198.18.0.1", NULL, 0, PR_SRC_BAD },
		{ "from ::1 (not on lo)", 6, "::1", NULL, 0, PR_LOOPBACK },
		{ "to ::1 (not on lo)", 6, NULL, "::1", 0, PR_LOOPBACK },
		{ "from our own address", 6, "2001:db8:18::b", NULL, 0, PR_SRC_OURS },
		{ "to an address that is not ours", 6, NULL, "2001:db8:18::c", 0, PR_DST_NOT_OURS },
	};
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	char what[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ping_stats st;
		struct ping_event ev = {};
		int got;
		cases[i].fam == 4 ? spec4(&s, 56) : spec6(&s, 56);
		if (cases[i].src)
			inet_pton(cases[i].fam == 4 ? AF_INET : AF_INET6, cases[i].src,
				  cases[i].fam == 4 ? (void *)&s.src4 : (void *)&s.src6);
		if (cases[i].dst)
			inet_pton(cases[i].fam == 4 ? AF_INET : AF_INET6, cases[i].dst,
				  cases[i].fam == 4 ? (void *)&s.dst4 : (void *)&s.dst6);
		if (cases[i].mac == 1)
			memset(s.dst_mac, 0xff, 6);
		if (cases[i].mac == 2)
			memcpy(s.dst_mac, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
		if (cases[i].mac == 3)
			memset(s.src_mac, 0xff, 6);
		if (cases[i].mac == 4)
			memcpy(s.src_mac, (uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
		size_t n = pkt_build(&s, f);
		reset(sk);
		drain_events(sk);
		bool untouched = passes_untouched(sk, f, n);
		stats(sk, &st);
		/* the event says why */
		{
			static struct ev_sink sink;
			sink.n = 0;
			got = drain_into(sk, &sink);
			if (sink.n)
				ev = sink.ev[0];
		}
		snprintf(what, sizeof(what), "%s v%d echo %s: not answered, passed untouched, "
			 "counted refused (%d)", hook, cases[i].fam, cases[i].what, cases[i].refuse);
		ok(untouched && st.c[PS_REFUSED] == 1 && st.c[PS_PASSED] == 1 &&
		   st.c[PS_REPLIED] == 0 && got == 1 && ev.refused == cases[i].refuse, "%s", what);
		if (ev.refused != cases[i].refuse)
			tap_diag("event says refused %u", ev.refused);
	}
	/* routing header with a segment left: not for us yet */
	{
		static const uint8_t rh1[24] = { IPPROTO_ICMPV6, 2, 4, 1, 0, 0, 0, 0,
						 0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c };
		struct ping_stats st;
		spec6(&s, 8);
		s.ext_hdrs = rh1;
		s.ext_len = sizeof(rh1);
		s.ext_first = IPPROTO_ROUTING;
		size_t n = pkt_build(&s, f);
		reset(sk);
		bool untouched = passes_untouched(sk, f, n);
		stats(sk, &st);
		ok(untouched && st.c[PS_REFUSED] == 1, "%s v6 echo with routing header, segments left 1: "
		   "not answered", hook);
		drain_events(sk);
	}
}

/* Issue 10: each defect the fuzzer found, as a fixture (exact verdict, bytes, counters). */
static void test_issue10(struct ping_bpf *sk, const char *hook)
{
	uint8_t f[PKT_MAX], c[PKT_MAX];
	struct pkt_spec s;
	char what[160];
	size_t n;

	/* 1. lengths from the IP header: the issue's example, tot_len 24 leaves 4 ICMP bytes
	 * (header checksum kept right, so only the length rule can refuse it). */
	static const char ex[] = "02000a4d000202000a4d0001080045bd00181cd30000400188d80a3dbfb50a4d"
				 "0002080073fbef818562";
	n = strlen(ex) / 2;
	for (size_t i = 0; i < n; i++)
		sscanf(ex + 2 * i, "%2hhx", &c[i]);
	snprintf(what, sizeof(what), "%s issue 10.1: v4 tot_len 24 (4 ICMP bytes, id/seq in padding)", hook);
	expect_pass(sk, what, c, n, PS_MALFORMED);
	spec6(&s, 0);
	n = pkt_build(&s, f);
	memcpy(c, f, n);
	c[14 + 4] = 0;
	c[14 + 5] = 4; /* payload_len 4: half an ICMPv6 header */
	snprintf(what, sizeof(what), "%s issue 10.1: v6 payload_len 4 (frame padded to 62)", hook);
	expect_pass(sk, what, c, n, PS_MALFORMED);

	/* 2. 0xffff vs 0x0000: id 0, seq 0, no payload -> the reply's data is all zero, its
	 * only valid checksum is 0xffff (the reference recomputes in full). */
	spec4(&s, 0);
	s.sport = 0;
	s.dport = 0;
	n = pkt_build(&s, f);
	snprintf(what, sizeof(what), "%s issue 10.2: v4 echo id 0 seq 0, no payload (reply checksum 0xffff)", hook);
	check_reply(sk, what, &s, f, n);
	{
		uint8_t out[PKT_MAX];
		size_t ol = 0;
		__u32 rv;
		if (!run(sk, f, n, out, &ol, &rv))
			is_int(out[l4_off(&s) + 2] << 8 | out[l4_off(&s) + 3], 0xffff,
			       "%s issue 10.2: the reply checksum is 0xffff, not 0x0000", hook);
		drain_events(sk);
	}
	/* id 0xffff: the reply's data sums to -0 but is not zero: 0x0000 is the right one */
	s.sport = 0xffff;
	n = pkt_build(&s, f);
	snprintf(what, sizeof(what), "%s issue 10.2: v4 echo id 0xffff seq 0 (reply checksum 0x0000)", hook);
	check_reply(sk, what, &s, f, n);
	/* id 0, seq 0, zero payload: telling 0x0000 from 0xffff takes the whole payload */
	memset(payload, 0, 16);
	spec4(&s, 16);
	s.sport = 0;
	s.dport = 0;
	n = pkt_build(&s, f);
	snprintf(what, sizeof(what), "%s issue 10.2: v4 echo id 0 seq 0, 16 zero bytes (left to the kernel)", hook);
	expect_refused(sk, what, f, n, PR_CSUM_ZERO);

	/* 3. IPv6 chains */
	{
		static const uint8_t two_frags[16] = { IPPROTO_FRAGMENT, 0, 0, 0, 0, 0, 0, 1,
						       IPPROTO_ICMPV6, 0, 0, 0, 0, 0, 0, 2 };
		static const uint8_t rh_rh[48] = {
			IPPROTO_ROUTING, 2, 4, 1, 0, 0, 0, 0,
			0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c,
			IPPROTO_ICMPV6, 2, 4, 0, 0, 0, 0, 0,
			0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c };
		static const uint8_t hbh_second[16] = { IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
							IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0 };
		uint8_t dsts[9 * 8];

		spec6(&s, 8);
		s.ext_hdrs = two_frags;
		s.ext_len = sizeof(two_frags);
		s.ext_first = IPPROTO_FRAGMENT;
		n = pkt_build(&s, f);
		snprintf(what, sizeof(what), "%s issue 10.3: two atomic fragment headers", hook);
		expect_pass(sk, what, f, n, PS_FRAGMENTS);
		s.ext_hdrs = rh_rh;
		s.ext_len = sizeof(rh_rh);
		s.ext_first = IPPROTO_ROUTING;
		n = pkt_build(&s, f);
		snprintf(what, sizeof(what), "%s issue 10.3: routing header, segments left 1, then another with 0", hook);
		expect_refused(sk, what, f, n, PR_ROUTED);
		s.ext_hdrs = hbh_second;
		s.ext_len = sizeof(hbh_second);
		s.ext_first = IPPROTO_DSTOPTS;
		n = pkt_build(&s, f);
		snprintf(what, sizeof(what), "%s issue 10.5: hop-by-hop after destination options (RFC 8200 4.1)", hook);
		expect_pass(sk, what, f, n, PS_MALFORMED);
		/* the bound: 8 extension headers are walked, the 9th is counted on its own */
		for (int k = 8; k <= 9; k++) {
			for (int i = 0; i < k; i++) {
				uint8_t *h = dsts + 8 * i;
				memset(h, 0, 8);
				h[0] = i + 1 < k ? IPPROTO_DSTOPTS : IPPROTO_ICMPV6;
				h[2] = 1;  /* PadN over the rest */
				h[3] = 4;
			}
			s.ext_hdrs = dsts;
			s.ext_len = 8 * k;
			n = pkt_build(&s, f);
			snprintf(what, sizeof(what), "%s issue 10.3: %d destination options headers", hook, k);
			if (k == 8)
				check_reply(sk, what, &s, f, n);
			else
				expect_pass(sk, what, f, n, PS_EXTHDRS);
		}
	}

	/* 5. what a host must not answer */
	spec4(&s, 56);
	n = pkt_build(&s, f);
	memcpy(c, f, n);
	c[14 + 10] ^= 0x01; /* header checksum off by one */
	snprintf(what, sizeof(what), "%s issue 10.5: bad IPv4 header checksum (RFC 1122 3.2.1.2)", hook);
	expect_refused(sk, what, c, n, PR_IP_CSUM);
	{
		/* LSRR with one hop still to go (pointer 4 <= length 7), padded by a NOP */
		static const uint8_t lsrr[8] = { 1, 0x83, 7, 4, 198, 18, 0, 99 };
		static const uint8_t ssrr_done[8] = { 1, 0x89, 7, 8, 198, 18, 0, 99 };
		static const uint8_t bad_len0[4] = { 0x94, 0, 0, 0 };
		static const uint8_t bad_past[4] = { 0x94, 9, 0, 0 };
		static const uint8_t bad_ptr[8] = { 1, 0x83, 7, 3, 198, 18, 0, 99 };
		static const uint8_t nops_eol[4] = { 1, 1, 0, 0x55 }; /* after EOL: ignored */
		static const struct { const char *what; const uint8_t *o; int expect; } oc[] = {
			{ "unfinished LSRR", lsrr, PR_IP_OPTIONS },
			{ "finished SSRR (the reply must reverse it)", ssrr_done, PR_IP_OPTIONS },
			{ "option length 0", bad_len0, -1 },
			{ "option length past the header", bad_past, -1 },
			{ "LSRR pointer 3", bad_ptr, -1 },
		};
		for (size_t i = 0; i < sizeof(oc) / sizeof(oc[0]); i++) {
			spec4(&s, 56);
			s.ip_options = oc[i].o;
			s.ip_options_len = oc[i].o == bad_len0 || oc[i].o == bad_past ? 4 : 8;
			n = pkt_build(&s, f);
			snprintf(what, sizeof(what), "%s issue 10.5: IPv4 options, %s", hook, oc[i].what);
			if (oc[i].expect < 0)
				expect_pass(sk, what, f, n, PS_MALFORMED);
			else
				expect_refused(sk, what, f, n, oc[i].expect);
		}
		spec4(&s, 56);
		s.ip_options = nops_eol;
		s.ip_options_len = 4;
		n = pkt_build(&s, f);
		snprintf(what, sizeof(what), "%s issue 10.5: IPv4 options NOP NOP EOL + junk: answered", hook);
		check_reply(sk, what, &s, f, n);
	}

	/* 7. counters add up: a short ICMP is malformed, never echo or anything else */
	spec4(&s, 0);
	n = pkt_build(&s, f);
	memcpy(c, f, n);
	c[14 + 3] = 20 + 7; /* tot_len: 7 ICMP bytes */
	{
		uint16_t sum;
		c[14 + 10] = c[14 + 11] = 0;
		sum = csum_fold(csum_partial(c + 14, 20, 0));
		c[14 + 10] = sum >> 8;
		c[14 + 11] = sum & 0xff;
	}
	{
		struct ping_stats st;
		reset(sk);
		bool untouched = passes_untouched(sk, c, n);
		stats(sk, &st);
		ok(untouched && st.c[PS_PACKETS] == 1 && st.c[PS_MALFORMED] == 1 &&
		   st.c[PS_ECHO4] == 0 && st.c[PS_REFUSED] == 0 && st.c[PS_PASSED] == 0,
		   "%s issue 10.7: 7-byte ICMP: malformed only, counters add up", hook);
	}
	/* The same 7 bytes as protocol 58 inside IPv4: ICMPv6's number means nothing there, so
	 * there is no ICMP header to be short of (the fuzzer found the parser insisting on one). */
	c[14 + 9] = IPPROTO_ICMPV6;
	{
		uint16_t sum;
		c[14 + 10] = c[14 + 11] = 0;
		sum = csum_fold(csum_partial(c + 14, 20, 0));
		c[14 + 10] = sum >> 8;
		c[14 + 11] = sum & 0xff;
	}
	{
		struct ping_stats st;
		reset(sk);
		bool untouched = passes_untouched(sk, c, n);
		stats(sk, &st);
		ok(untouched && st.c[PS_PACKETS] == 1 && st.c[PS_MALFORMED] == 0 &&
		   st.c[PS_ECHO4] == 0 && st.c[PS_PASSED] == 0,
		   "%s protocol 58 in IPv4, 7 bytes: not ours, passed untouched, not malformed", hook);
	}
}

/* On lo both ends are loopback: the talk's `ping 127.0.0.1` is answered. */
static void test_on_lo(void)
{
	uint8_t f[PKT_MAX];
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	spec4(&s, 56);
	memset(s.src_mac, 0, 6);
	memset(s.dst_mac, 0, 6);
	inet_pton(AF_INET, "127.0.0.1", &s.src4);
	inet_pton(AF_INET, "127.0.0.1", &s.dst4);
	size_t n = pkt_build(&s, f);
	check_reply(sk_reply_lo, "on lo: v4 127.0.0.1 -> 127.0.0.1", &s, f, n);
	inet_pton(AF_INET, "127.9.9.9", &s.dst4);
	n = pkt_build(&s, f);
	check_reply(sk_reply_lo, "on lo: v4 127.0.0.1 -> 127.9.9.9 (all of 127/8 is lo's)", &s, f, n);
	spec6(&s, 56);
	memset(s.src_mac, 0, 6);
	memset(s.dst_mac, 0, 6);
	inet_pton(AF_INET6, "::1", &s.src6);
	inet_pton(AF_INET6, "::1", &s.dst6);
	n = pkt_build(&s, f);
	check_reply(sk_reply_lo, "on lo: v6 ::1 -> ::1", &s, f, n);
	spec4(&s, 56);
	inet_pton(AF_INET, "0.0.0.0", &s.src4);
	n = pkt_build(&s, f);
	expect_pass(sk_reply_lo, "on lo: v4 from 0.0.0.0 still not answered", f, n, PS_REFUSED);
}

/* ---- events, drop, exact counters ---- */

static int ev_cb(void *ctx, void *data, size_t size)
{
	struct ev_sink *s = ctx;

	if (s->n < 64 && size >= sizeof(struct ping_event))
		memcpy(&s->ev[s->n++], data, sizeof(struct ping_event));
	return 0;
}

static int drain_into(struct ping_bpf *sk, struct ev_sink *sink)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(sk->maps.events), ev_cb, sink, NULL);
	int n;

	if (!rb)
		return -errno;
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

static int drain_events(struct ping_bpf *sk)
{
	static struct ev_sink sink;

	sink.n = 0;
	return drain_into(sk, &sink);
}

static void test_events(void)
{
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	struct ev_sink sink = {};
	struct ping_stats st;
	size_t n;
	char a[64];

	reset(sk_watch);
	drain_events(sk_watch);
	spec4(&s, 100);
	s.ttl = 33;
	s.vlan[0] = 42;
	s.sport = 0xbeef;
	s.dport = 65535;
	n = pkt_build(&s, f);
	ok(passes_untouched(sk_watch, f, n), "watch: v4 echo passes untouched");
	spec6(&s, 1);
	s.ttl = 7;
	s.sport = 1;
	s.dport = 2;
	n = pkt_build(&s, f);
	ok(passes_untouched(sk_watch, f, n), "watch: v6 echo passes untouched");
	is_int(drain_into(sk_watch, &sink), 2, "watch: two events");
	if (sink.n == 2) {
		struct ping_event *e = &sink.ev[0];
		inet_ntop(AF_INET, e->src, a, sizeof(a));
		ok(e->family == 4 && !strcmp(a, "198.18.0.1") && e->id == 0xbeef && e->seq == 65535 &&
		   e->size == 100 && e->ttl == 33 && e->vlan == 42 && e->verdict == PING_WATCH &&
		   e->refused == 0 && e->ts_ns > 0, "watch: v4 event fields exact (src %s)", a);
		inet_ntop(AF_INET, e->dst, a, sizeof(a));
		is_str(a, "198.18.0.11", "watch: v4 event destination");
		e = &sink.ev[1];
		inet_ntop(AF_INET6, e->src, a, sizeof(a));
		ok(e->family == 6 && !strcmp(a, "2001:db8:18::1") && e->id == 1 && e->seq == 2 &&
		   e->size == 1 && e->ttl == 7 && e->vlan == 0, "watch: v6 event fields exact (src %s)", a);
	}
	stats(sk_watch, &st);
	ok(st.c[PS_ECHO4] == 1 && st.c[PS_ECHO6] == 1 && st.c[PS_PASSED] == 2 && st.c[PS_PACKETS] == 2,
	   "watch: counters exact");

	/* drop */
	reset(sk_drop);
	spec4(&s, 56);
	n = pkt_build(&s, f);
	{
		uint8_t out[PKT_MAX];
		size_t ol;
		__u32 rv = 99;
		int err = run(sk_drop, f, n, out, &ol, &rv);
		spec6(&s, 56);
		n = pkt_build(&s, f);
		__u32 rv6 = 99;
		err |= run(sk_drop, f, n, out, &ol, &rv6);
		stats(sk_drop, &st);
		ok(!err && rv == XDP_DROP && rv6 == XDP_DROP && st.c[PS_DROPPED] == 2,
		   "--drop: v4 and v6 echo requests XDP_DROP, counted");
		s.proto = IPPROTO_UDP;
		s.family = AF_INET;
		n = pkt_build(&s, f);
		ok(passes_untouched(sk_drop, f, n), "--drop: everything else passes");
		sink.n = 0;
		drain_into(sk_drop, &sink);
		ok(sink.n == 2 && sink.ev[0].verdict == PING_DROP, "--drop: events say dropped");
	}
}

/* The per-source count: a run of one source is kept per CPU and added to the map when
 * another source comes; readers see both. */
static void test_sources(void)
{
	static const char *seq[] = { "198.18.0.1", "198.18.0.1", "198.18.0.7", "198.18.0.1",
				     "198.18.0.7", "198.18.0.9" };
	static const struct { const char *a; __u64 n; } want[] = {
		{ "198.18.0.1", 3 }, { "198.18.0.7", 2 }, { "198.18.0.9", 1 } };
	struct ping_source rows[8];
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	int nr, good = 0;

	reset(sk_watch);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		uint8_t out[PKT_MAX];
		size_t ol;
		__u32 rv;
		spec4(&s, 8);
		inet_pton(AF_INET, seq[i], &s.src4);
		size_t n = pkt_build(&s, f);
		run(sk_watch, f, n, out, &ol, &rv);
	}
	drain_events(sk_watch);
	nr = ping_prog_sources(sk_watch, rows, 8);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		struct ping_addr k = {};
		k.a[10] = k.a[11] = 0xff;
		inet_pton(AF_INET, want[w].a, &k.a[12]);
		for (int i = 0; i < nr; i++)
			if (!memcmp(&rows[i].a, &k, sizeof(k)) && rows[i].n == want[w].n)
				good++;
	}
	ok(nr == 3 && good == 3, "per-source counts exact with interleaved sources (%d rows, %d right)",
	   nr, good);
}

static void test_exact(void)
{
	int ncpu = libbpf_num_possible_cpus(), runs = 0;
	const int N = 20000;
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	struct ping_stats st;
	struct ping_addr k = {};
	int ncpu_ = libbpf_num_possible_cpus();
	__u64 per_cpu[ncpu_], per_src = 0;
	size_t n;

	reset(sk_watch);
	drain_events(sk_watch);
	spec4(&s, 56);
	n = pkt_build(&s, f);
	for (int cpu = 0; cpu < ncpu && cpu < 4; cpu++) {
		struct test_run t = { .in = f, .in_len = n, .repeat = N, .cpu = cpu };
		int err = test_run_xdp(prog_fd(sk_watch), &t);
		ok(!err && t.retval == XDP_PASS, "watch: %d runs on CPU %d", N, cpu);
		runs++;
	}
	stats(sk_watch, &st);
	is_int(st.c[PS_ECHO4], (long long)N * runs, "echo counter exact across %d CPUs", runs);
	k.a[10] = k.a[11] = 0xff;
	inet_pton(AF_INET, "198.18.0.1", &k.a[12]);
	{
		struct ping_source rows[8];
		int nr = ping_prog_sources(sk_watch, rows, 8);
		for (int i = 0; i < nr; i++)
			if (!memcmp(&rows[i].a, &k, sizeof(k)))
				per_src += rows[i].n;
		(void)per_cpu;
	}
	is_int(per_src, (long long)N * runs, "per-source counter exact (per-CPU LRU hash + each "
	       "CPU's pending count, summed)");
	{
		int got = drain_events(sk_watch);
		is_int(got + st.c[PS_EVENTS_LOST] + st.c[PS_SUPPRESSED], (long long)N * runs,
		       "events delivered + lost + suppressed == requests (%d + %llu + %llu)", got,
		       (unsigned long long)st.c[PS_EVENTS_LOST],
		       (unsigned long long)st.c[PS_SUPPRESSED]);
		/* A flood: the rate limit, not the ring, takes the excess. */
		ok(st.c[PS_SUPPRESSED] > 0 && got <= runs * (PING_EVENT_BURST + 1) + 64,
		   "a flood is rate limited: %d events sent, %llu suppressed", got,
		   (unsigned long long)st.c[PS_SUPPRESSED]);
	}
}

/* The pseudo-header sum does not change when source and destination swap: check it on
 * addresses whose 16-bit words differ everywhere, with the reference from scratch. */
static void test_pseudo_swap(struct ping_bpf *sk, const char *hook)
{
	uint8_t f[PKT_MAX];
	struct pkt_spec s;
	char what[128];

	spec6(&s, 57);
	inet_pton(AF_INET6, "fe80:1234:ffff:0:8000:7fff:1:fffe", &s.src6);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &s.dst6);
	size_t n = pkt_build(&s, f);
	snprintf(what, sizeof(what), "%s v6 echo, addresses with carries everywhere", hook);
	check_reply(sk, what, &s, f, n);
}

int main(void)
{
	if (!tap_require_bpf())
		return tap_done();
	sk_watch = load(PING_WATCH, false, false);
	sk_drop = load(PING_DROP, false, false);
	sk_reply = load(PING_REPLY, false, false);
	sk_reply_lo = load(PING_REPLY, true, false);
	sk_tc = load(PING_REPLY, false, true);
	if (!ok(sk_watch && sk_drop && sk_reply && sk_reply_lo && sk_tc,
		"ping_xdp (watch, drop, reply, reply on lo) and ping_tc load"))
		return tap_done();

	struct { struct ping_bpf *sk; const char *hook; } hooks[] = {
		{ sk_reply, "xdp:" }, { sk_tc, "tc:" },
	};
	for (size_t h = 0; h < ARRAY_SIZE(hooks); h++) {
		test_reply_matrix(hooks[h].sk, hooks[h].hook);
		test_reply_options(hooks[h].sk, hooks[h].hook);
		test_csum_edges(hooks[h].sk, hooks[h].hook);
		test_pseudo_swap(hooks[h].sk, hooks[h].hook);
		test_padded(hooks[h].sk, hooks[h].hook);
		test_not_echo(hooks[h].sk, hooks[h].hook);
		test_fragments(hooks[h].sk, hooks[h].hook);
		test_truncated(hooks[h].sk, hooks[h].hook);
		test_refused(hooks[h].sk, hooks[h].hook);
		test_issue10(hooks[h].sk, hooks[h].hook);
	}
	test_lies(sk_reply, "xdp:");
	{
		struct ping_bpf *sk = load_overflow();
		uint8_t f[PKT_MAX];
		struct pkt_spec s;
		if (ok(sk != NULL, "reply with local addresses only in the overflow map loads")) {
			spec4(&s, 56);
			check_reply(sk, "overflow map: v4 echo to a local address", &s, f, pkt_build(&s, f));
			spec6(&s, 56);
			check_reply(sk, "overflow map: v6 echo to a local address", &s, f, pkt_build(&s, f));
			spec4(&s, 56);
			inet_pton(AF_INET, OUR4, &s.src4);
			expect_pass(sk, "overflow map: v4 echo from our own address", f, pkt_build(&s, f),
				    PS_REFUSED);
			ping_bpf__destroy(sk);
		}
	}
	test_on_lo();
	test_events();
	test_sources();
	test_exact();

	ping_bpf__destroy(sk_watch);
	ping_bpf__destroy(sk_drop);
	ping_bpf__destroy(sk_reply);
	ping_bpf__destroy(sk_reply_lo);
	ping_bpf__destroy(sk_tc);
	return tap_done();
}
