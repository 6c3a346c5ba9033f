// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* decap_xdp and decap_tc through BPF_PROG_TEST_RUN. Every expected output frame is the
 * frame the client's packet would have been had it arrived directly (built by src/lib/pkt
 * with the backend's MACs); the encapsulated input is that packet wrapped here by hand,
 * so the program's output is checked against bytes it had no part in making. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "decap_prog.h"

static struct decap_bpf *skel;
static const uint8_t own_mac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };
static const uint8_t router_mac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0xfe };

enum { V_TCP80, V_ADDR6, V_ADDR4, NVIPS };
static const char *const vip_words[NVIPS] = {
	"198.18.0.100:80/tcp", "2001:db8:18::100", "198.18.0.101",
};

/* How a packet is wrapped. */
struct wrap {
	int outer;            /* 4 or 6 */
	bool gue;             /* UDP to LB_GUE_PORT, else IPIP (4 or 41 by the inner family) */
	uint16_t gue_port;    /* 0: LB_GUE_PORT */
	int ihl;              /* 0: 5; more: options of zero (end of list) bytes */
	uint16_t frag_off;    /* outer IPv4 flags|offset */
	bool v6_frag_hdr;     /* outer IPv6 with a fragment header */
	int len_delta;        /* added to the outer length fields (lying headers) */
	bool bad_csum;        /* outer IPv4 header checksum off by one */
	uint16_t vlan;        /* a tag on the outer frame (and the expected one) */
	const uint8_t *dst_mac; /* NULL: own_mac */
	int proto_override;   /* IPIP: the outer protocol byte, if not 0 */
};

static struct in_addr lb_addr4, be_addr4;
static struct in6_addr lb_addr6, be_addr6;

/* The client's packet as it would arrive directly: frame and length. */
static size_t client_frame(int family, uint8_t proto, const char *dst, uint16_t dport,
			   uint16_t vlan, uint8_t *buf)
{
	struct pkt_spec s;

	pkt_spec_default(&s);
	memcpy(s.dst_mac, own_mac, 6);
	memcpy(s.src_mac, router_mac, 6);
	s.vlan[0] = vlan;
	s.family = family;
	s.proto = proto;
	s.sport = 40000;
	s.dport = dport;
	s.payload_len = 11;
	if (family == AF_INET) {
		inet_pton(AF_INET, "198.18.1.1", &s.src4);
		inet_pton(AF_INET, dst, &s.dst4);
	} else {
		inet_pton(AF_INET6, "2001:db8:18:1::1", &s.src6);
		inet_pton(AF_INET6, dst, &s.dst6);
	}
	return pkt_build(&s, buf);
}

/* Wraps the IP packet of `inner` (a frame from client_frame) as w says. */
static size_t encap(const uint8_t *inner, size_t ilen, const struct wrap *w, uint8_t *out)
{
	size_t l2 = w->vlan ? 18 : 14, ip_len = ilen - l2, o = 0, hl;
	int inner_v = inner[l2] >> 4;
	uint8_t proto = w->gue ? IPPROTO_UDP : inner_v == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	size_t payload = ip_len + (w->gue ? 8 : 0);

	if (w->proto_override)
		proto = w->proto_override;
	memcpy(out, w->dst_mac ? w->dst_mac : own_mac, 6);
	memcpy(out + 6, router_mac, 6);
	o = 12;
	if (w->vlan) {
		out[o++] = 0x81, out[o++] = 0x00;
		out[o++] = w->vlan >> 8, out[o++] = w->vlan & 0xff;
	}
	out[o++] = w->outer == 4 ? 0x08 : 0x86;
	out[o++] = w->outer == 4 ? 0x00 : 0xdd;
	if (w->outer == 4) {
		uint8_t *ip = out + o;
		int ihl = w->ihl ? w->ihl : 5;
		hl = ihl * 4;
		memset(ip, 0, hl);
		ip[0] = 0x40 | ihl;
		ip[2] = (hl + payload + w->len_delta) >> 8;
		ip[3] = (hl + payload + w->len_delta) & 0xff;
		ip[6] = w->frag_off >> 8;
		ip[7] = w->frag_off & 0xff;
		if (!w->frag_off)
			ip[6] = 0x40; /* DF, as lb sends */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, &lb_addr4, 4);
		memcpy(ip + 16, &be_addr4, 4);
		{
			uint16_t c = csum_fold(csum_partial(ip, hl, 0));
			c += w->bad_csum;
			ip[10] = c >> 8, ip[11] = c & 0xff;
		}
		o += hl;
	} else {
		uint8_t *ip = out + o;
		size_t ext = w->v6_frag_hdr ? 8 : 0;
		memset(ip, 0, 40 + ext);
		ip[0] = 0x60;
		ip[4] = (payload + ext + w->len_delta) >> 8;
		ip[5] = (payload + ext + w->len_delta) & 0xff;
		ip[6] = w->v6_frag_hdr ? IPPROTO_FRAGMENT : proto;
		ip[7] = 64;
		memcpy(ip + 8, &lb_addr6, 16);
		memcpy(ip + 24, &be_addr6, 16);
		if (ext) {
			ip[40] = proto;
			ip[43] = 1; /* offset 0, more fragments */
		}
		o += 40 + ext;
	}
	if (w->gue) {
		uint16_t port = w->gue_port ? w->gue_port : LB_GUE_PORT;
		out[o] = 0xc0, out[o + 1] = 0x01;
		out[o + 2] = port >> 8, out[o + 3] = port & 0xff;
		out[o + 4] = (8 + ip_len) >> 8, out[o + 5] = (8 + ip_len) & 0xff;
		out[o + 6] = out[o + 7] = 0; /* zero checksum, as lb sends */
		o += 8;
	}
	memcpy(out + o, inner + l2, ip_len);
	return o + ip_len;
}

static int run(bool tc, const uint8_t *in, size_t len, uint8_t *out, __u32 *olen, __u32 *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);

	if (bpf_prog_test_run_opts(decap_prog_fd(skel, tc), &o))
		return -errno;
	*olen = o.data_size_out;
	*ret = o.retval;
	return 0;
}

/* One case: the verdict and counter it must get; out must equal want (when given) or the
 * input (pass and drop leave the frame alone). vip: whose counter moves, or -1. */
static void check(const char *what, bool tc, const uint8_t *in, size_t len, int counter,
		  const uint8_t *want, size_t wlen, int vip)
{
	uint8_t out[PKT_MAX];
	struct decap_counters c;
	struct decap_stats s[NVIPS];
	__u32 olen = 0, ret = 0;
	bool decap = counter == DC_DECAP, pass = counter < DC_DROP_NO_VIP;
	__u32 want_ret = tc ? (pass ? TC_ACT_OK : TC_ACT_SHOT) : (pass ? XDP_PASS : XDP_DROP);
	int err;

	decap_prog_zero(skel);
	err = run(tc, in, len, out, &olen, &ret);
	if (!ok(!err, "%s: test run (%s)", what, err ? strerr(err) : "ok"))
		return;
	is_int(ret, want_ret, "%s: verdict %s", what, pass ? "pass" : "drop");
	if (decap)
		is_mem(out, olen, want, wlen, "%s: the frame as if it had arrived directly", what);
	else
		is_mem(out, olen, in, len, "%s: frame untouched", what);
	decap_prog_counters(skel, &c);
	for (int i = 0; i < DC__MAX; i++)
		if (c.c[i] != (i == counter))
			ok(0, "%s: counter %s is %llu, want %d", what, decap_counter_names[i],
			   (unsigned long long)c.c[i], i == counter);
	ok(c.c[counter] == 1, "%s: counted as %s", what, decap_counter_names[counter]);
	for (int i = 0; i < NVIPS; i++) {
		decap_prog_vip_stats(skel, i, &s[i]);
		if (i == vip)
			ok(s[i].packets == 1 && s[i].bytes == wlen - (want[12] == 0x81 ? 18 : 14),
			   "%s: VIP %s counts 1 packet of %zu bytes (got %llu, %llu)", what,
			   vip_words[i], wlen - 14, (unsigned long long)s[i].packets,
			   (unsigned long long)s[i].bytes);
		else if (s[i].packets || s[i].bytes)
			ok(0, "%s: VIP %s moved", what, vip_words[i]);
	}
}

/* Every outer/inner family combination, IPIP and GUE, on XDP and tc. */
static void test_combinations(void)
{
	static const struct { int fam; uint8_t proto; const char *dst; uint16_t port; int vip; } in[] = {
		{ AF_INET, IPPROTO_TCP, "198.18.0.100", 80, V_TCP80 },
		{ AF_INET6, IPPROTO_UDP, "2001:db8:18::100", 53, V_ADDR6 },
		{ AF_INET, IPPROTO_ICMP, "198.18.0.101", 0, V_ADDR4 },
		{ AF_INET6, IPPROTO_TCP, "2001:db8:18::100", 443, V_ADDR6 },
	};
	uint8_t inner[PKT_MAX], frame[PKT_MAX];
	char what[128];

	for (int tc = 0; tc <= 1; tc++)
		for (size_t i = 0; i < ARRAY_SIZE(in); i++)
			for (int outer = 4; outer <= 6; outer += 2)
				for (int gue = 0; gue <= 1; gue++) {
					struct wrap w = { .outer = outer, .gue = gue };
					size_t il = client_frame(in[i].fam, in[i].proto, in[i].dst,
								 in[i].port, 0, inner);
					size_t fl = encap(inner, il, &w, frame);
					snprintf(what, sizeof(what), "%s: %s-in-IPv%d %s to %s", tc ? "tc" : "xdp",
						 in[i].fam == AF_INET ? "IPv4" : "IPv6", outer,
						 gue ? "GUE" : "IPIP", in[i].dst);
					check(what, tc, frame, fl, DC_DECAP, inner, il, in[i].vip);
				}
}

static void test_edges(void)
{
	uint8_t inner[PKT_MAX], frame[PKT_MAX], other_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	size_t il, fl;
	struct wrap w;

	/* Outer IPv4 options: stripped with the header (ihl*4, not 20). */
	il = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 80, 0, inner);
	w = (struct wrap){ .outer = 4, .ihl = 7 };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 with 8 bytes of options (ihl 7)", false, frame, fl, DC_DECAP, inner, il, V_TCP80);
	w = (struct wrap){ .outer = 4, .ihl = 15, .gue = true };
	fl = encap(inner, il, &w, frame);
	check("GUE, outer ihl 15", false, frame, fl, DC_DECAP, inner, il, V_TCP80);

	/* A VLAN tag stays on the frame. */
	il = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 80, 7, inner);
	w = (struct wrap){ .outer = 6, .vlan = 7 };
	fl = encap(inner, il, &w, frame);
	check("VLAN 7, IPv4-in-IPv6: the tag is kept", false, frame, fl, DC_DECAP, inner, il, V_TCP80);
	check("tc leaves an in-band VLAN tag to XDP", true, frame, fl, DC_PASS_NOT_ENCAP, NULL, 0, -1);

	il = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 80, 0, inner);
	/* Wrong VIPs: another address, another port, another protocol. */
	{
		uint8_t i2[PKT_MAX];
		size_t l2 = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.102", 80, 0, i2);
		w = (struct wrap){ .outer = 4 };
		fl = encap(i2, l2, &w, frame);
		check("inner to 198.18.0.102: no such VIP", false, frame, fl, DC_DROP_NO_VIP, NULL, 0, -1);
		l2 = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 81, 0, i2);
		fl = encap(i2, l2, &w, frame);
		check("inner to 198.18.0.100:81/tcp: no such VIP", false, frame, fl, DC_DROP_NO_VIP, NULL, 0, -1);
		l2 = client_frame(AF_INET, IPPROTO_UDP, "198.18.0.100", 80, 0, i2);
		fl = encap(i2, l2, &w, frame);
		check("inner to 198.18.0.100:80/udp: no such VIP", false, frame, fl, DC_DROP_NO_VIP, NULL, 0, -1);
		l2 = client_frame(AF_INET6, IPPROTO_TCP, "2001:db8:18::101", 80, 0, i2);
		w = (struct wrap){ .outer = 6, .gue = true };
		fl = encap(i2, l2, &w, frame);
		check("inner to 2001:db8:18::101: no such VIP", true, frame, fl, DC_DROP_NO_VIP, NULL, 0, -1);
	}

	/* Fragments of the outer packet: dropped and counted. */
	w = (struct wrap){ .outer = 4, .frag_off = 0x2000 };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 first fragment (MF)", false, frame, fl, DC_DROP_OUTER_FRAGMENT, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .frag_off = 0x0010 };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 later fragment (IPIP)", false, frame, fl, DC_DROP_OUTER_FRAGMENT, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .frag_off = 0x2000, .gue = true };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 first fragment (GUE)", false, frame, fl, DC_DROP_OUTER_FRAGMENT, NULL, 0, -1);
	w = (struct wrap){ .outer = 6, .v6_frag_hdr = true };
	fl = encap(inner, il, &w, frame);
	check("outer IPv6 with a fragment header", false, frame, fl, DC_DROP_OUTER_FRAGMENT, NULL, 0, -1);

	/* Broken outer headers. */
	w = (struct wrap){ .outer = 4, .bad_csum = true };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 header checksum wrong", false, frame, fl, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .len_delta = 1 };
	fl = encap(inner, il, &w, frame);
	check("outer tot_len past the frame", false, frame, fl, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 6, .len_delta = 1 };
	fl = encap(inner, il, &w, frame);
	check("outer payload_len past the frame", false, frame, fl, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .ihl = 7 };
	fl = encap(inner, il, &w, frame);
	check("outer IPv4 cut inside its options", false, frame, 14 + 24, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 4 };
	fl = encap(inner, il, &w, frame);
	check("frame cut inside the outer fixed header", false, frame, 14 + 12, DC_PASS_NOT_ENCAP, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .gue = true };
	fl = encap(inner, il, &w, frame);
	check("GUE cut after the UDP ports", false, frame, 14 + 20 + 4, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);

	/* Broken inner packets. */
	w = (struct wrap){ .outer = 4, .len_delta = -1 };
	fl = encap(inner, il, &w, frame);
	check("outer length one short of the inner packet", false, frame, fl - 1, DC_DROP_INNER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 6, .proto_override = IPPROTO_IPV6 };
	fl = encap(inner, il, &w, frame);
	check("protocol 41 around an IPv4 packet", false, frame, fl, DC_DROP_INNER_MALFORMED, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .gue = true };
	fl = encap(inner, il, &w, frame);
	frame[14 + 20 + 8] = 0x05; /* GUE variant 0, a header we do not read */
	check("GUE variant 0", false, frame, fl, DC_DROP_INNER_MALFORMED, NULL, 0, -1);
	fl = encap(inner, il, &w, frame);
	frame[14 + 20 + 8] = 0x44; /* inner ihl 4 */
	check("inner IPv4 ihl 4", false, frame, fl, DC_DROP_INNER_MALFORMED, NULL, 0, -1);
	fl = encap(inner, il, &w, frame);
	check("inner TCP header cut", false, frame, 14 + 20 + 8 + 20 + 10, DC_DROP_OUTER_MALFORMED, NULL, 0, -1);
	{
		uint8_t i2[PKT_MAX];
		struct pkt_spec s;
		size_t l2;
		pkt_spec_default(&s);
		memcpy(s.dst_mac, own_mac, 6);
		inet_pton(AF_INET, "198.18.0.100", &s.dst4);
		s.proto = IPPROTO_TCP;
		s.dport = 80;
		s.frag_off = 0x2000;
		l2 = pkt_build(&s, i2);
		w = (struct wrap){ .outer = 4 };
		fl = encap(i2, l2, &w, frame);
		check("inner IPv4 fragment", false, frame, fl, DC_DROP_INNER_FRAGMENT, NULL, 0, -1);
	}

	/* Not ours: passed untouched. */
	w = (struct wrap){ .outer = 4, .gue = true, .gue_port = 6081 };
	fl = encap(inner, il, &w, frame);
	check("UDP to 6081 (Geneve, not GUE)", false, frame, fl, DC_PASS_NOT_ENCAP, NULL, 0, -1);
	check("a 14-byte frame of EtherType IPv4", false, frame, 14, DC_PASS_NOT_ENCAP, NULL, 0, -1);
	check("plain TCP to the VIP", false, inner, il, DC_PASS_NOT_ENCAP, NULL, 0, -1);
	w = (struct wrap){ .outer = 4, .dst_mac = other_mac };
	fl = encap(inner, il, &w, frame);
	check("IPIP to another host's MAC", false, frame, fl, DC_PASS_NOT_FOR_US, NULL, 0, -1);
	{
		uint8_t arp[60] = { 0 };
		memcpy(arp, own_mac, 6);
		arp[12] = 0x08, arp[13] = 0x06;
		check("ARP", false, arp, sizeof(arp), DC_PASS_NOT_ENCAP, NULL, 0, -1);
	}
	/* Ethernet padding after the outer packet: the output keeps it (the stack trims it). */
	w = (struct wrap){ .outer = 4 };
	il = client_frame(AF_INET, IPPROTO_ICMP, "198.18.0.101", 0, 0, inner);
	fl = encap(inner, il, &w, frame);
	if (fl < 60) {
		memset(frame + fl, 0, 60 - fl);
		memset(inner + il, 0, 60 - fl);
		check("short outer frame padded to 60", false, frame, 60, DC_DECAP, inner,
		      il + 60 - fl, V_ADDR4);
	}
}

/* Counters stay exact over many packets. (One run each: a repeated XDP test run keeps the
 * frame the previous repetition left, so from the second on it would see the inner packet.) */
static void test_many(void)
{
	uint8_t inner[PKT_MAX], frame[PKT_MAX], out[PKT_MAX];
	size_t il = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 80, 0, inner);
	struct wrap w = { .outer = 4, .gue = true };
	size_t fl = encap(inner, il, &w, frame);
	struct decap_counters c;
	struct decap_stats s;
	__u32 olen, ret;
	int bad = 0;

	decap_prog_zero(skel);
	for (int i = 0; i < 1000; i++)
		bad += run(false, frame, fl, out, &olen, &ret) || ret != XDP_PASS;
	is_int(bad, 0, "1000 GUE packets pass");
	decap_prog_counters(skel, &c);
	decap_prog_vip_stats(skel, V_TCP80, &s);
	is_int(c.c[DC_DECAP], 1000, "decap counted 1000 times");
	is_int(s.packets, 1000, "the VIP counted 1000 packets");
	is_int(s.bytes, 1000 * (il - 14), "and their inner bytes");
}

/* What one packet costs: the mean of single test runs (a repeated run would see, from the
 * second repetition on, the frame the first one left). Printed, not asserted: the machine
 * is shared. */
static int cmp_u32(const void *a, const void *b)
{
	return (int)(*(const __u32 *)a > *(const __u32 *)b) - (int)(*(const __u32 *)a < *(const __u32 *)b);
}

/* The median of single runs: the machine is shared, and a mean takes every stall in. */
static double median_ns(int fd, const uint8_t *frame, size_t len, int *n)
{
	static __u32 d[2000];

	*n = 0;
	for (int i = 0; i < 2000; i++) {
		struct test_run t = { .in = frame, .in_len = len, .repeat = 1, .cpu = -1 };
		if (!test_run_xdp(fd, &t))
			d[(*n)++] = t.duration;
	}
	qsort(d, *n, sizeof(d[0]), cmp_u32);
	return *n ? d[*n / 2] : 0;
}

static int bare_fd = -1;

static void measure(const char *what, const uint8_t *frame, size_t len)
{
	int n, nb;
	double ns = median_ns(decap_prog_fd(skel, false), frame, len, &n);
	double bare = median_ns(bare_fd, frame, len, &nb);

	ok(n == 2000 && nb == 2000, "%s: %.0f ns per packet, +%.0f ns over a bare XDP_PASS "
	   "(medians of %d single runs)", what, ns, ns - bare, n);
}

static void test_cost(void)
{
	struct bpf_insn pass[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint8_t inner[PKT_MAX], frame[PKT_MAX];
	size_t il = client_frame(AF_INET, IPPROTO_TCP, "198.18.0.100", 80, 0, inner), fl;
	struct wrap w = { .outer = 4, .gue = true };

	bare_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bare_pass", "GPL", pass, 2, NULL);
	if (!ok(bare_fd >= 0, "a bare XDP_PASS loads, to measure against"))
		return;
	fl = encap(inner, il, &w, frame);
	measure("cost: GUE IPv4-in-IPv4 decap", frame, fl);
	w = (struct wrap){ .outer = 4 };
	fl = encap(inner, il, &w, frame);
	measure("cost: IPIP IPv4-in-IPv4 decap", frame, fl);
	il = client_frame(AF_INET6, IPPROTO_TCP, "2001:db8:18::100", 80, 0, inner);
	w = (struct wrap){ .outer = 6 };
	fl = encap(inner, il, &w, frame);
	measure("cost: IPIP IPv6-in-IPv6 decap", frame, fl);
	measure("cost: plain IPv6 TCP, passed untouched", inner, il);
	close(bare_fd);
}

static void test_parse_vip(void)
{
	static const char *const bad[] = {
		"010.0.0.1", "1.2.3.4:0/tcp", "1.2.3.4:65536/tcp", "1.2.3.4:80", "1.2.3.4:80/sctp",
		"::ffff:1.2.3.4", "[2001:db8::1]", "0.0.0.0", "224.0.0.1", "1.2.3.4/32", "", "[::1",
	};
	struct decap_vip_key k;
	char why[128], buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(decap_parse_vip(bad[i], &k, why, sizeof(why)) == -EINVAL, "VIP '%s' refused (%s)",
		   bad[i], why);
	ok(!decap_parse_vip("[2001:db8::1]:443/udp", &k, why, sizeof(why)) && k.family == 6 &&
	   k.port == htons(443) && k.proto == IPPROTO_UDP, "[2001:db8::1]:443/udp parses");
	decap_fmt_vip(&k, buf, sizeof(buf));
	is_str(buf, "[2001:db8::1]:443/udp", "and prints back the same");
}

int main(void)
{
	struct decap_prog_cfg pc;

	test_parse_vip();
	if (!tap_require_bpf())
		return tap_done();
	inet_pton(AF_INET, "198.18.2.2", &lb_addr4);
	inet_pton(AF_INET, "198.18.11.11", &be_addr4);
	inet_pton(AF_INET6, "2001:db8:18:2::2", &lb_addr6);
	inet_pton(AF_INET6, "2001:db8:18:11::11", &be_addr6);
	memcpy(pc.mac, own_mac, 6);
	skel = decap_prog_load(&pc);
	if (!ok(skel != NULL, "decap loads"))
		return tap_done();
	for (int i = 0; i < NVIPS; i++) {
		struct decap_vip_key k;
		char why[128];
		ok(!decap_parse_vip(vip_words[i], &k, why, sizeof(why)) &&
		   !decap_prog_add_vip(skel, &k, i), "VIP %s added", vip_words[i]);
	}
	test_combinations();
	test_edges();
	test_many();
	test_cost();
	decap_prog_destroy(skel);
	return tap_done();
}
