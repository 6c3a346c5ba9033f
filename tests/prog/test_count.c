// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count_xdp through BPF_PROG_TEST_RUN: verdicts, exact counters on every CPU, the
 * talk's global counter, packets untouched, and the parser's contract on bad packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "count.h"
#include "count.skel.h"
#include "count_prog.h"

static struct count_bpf *skel;

static void sum_stats(struct count_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct count_stats v[ncpu];
	__u32 key = 0;

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key, v))
		return;
	for (int c = 0; c < ncpu; c++) {
		for (int i = 0; i < CP__MAX; i++) {
			sum->packets[i] += v[c].packets[i];
			sum->bytes[i] += v[c].bytes[i];
		}
		for (int i = 0; i < COUNT_ACTIONS; i++)
			sum->actions[i] += v[c].actions[i];
	}
}

static void reset(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct count_stats zero[ncpu];
	__u32 key = 0;

	memset(zero, 0, sizeof(zero));
	bpf_map_update_elem(bpf_map__fd(skel->maps.stats), &key, zero, BPF_ANY);
	skel->bss->counter = 0;
}

/* Runs one packet once; checks verdict and that it came out byte-identical. */
static int run1(const uint8_t *pkt, size_t len, __u32 *retval)
{
	uint8_t out[PKT_MAX];
	struct test_run t = { .in = pkt, .in_len = len, .out = out, .out_cap = sizeof(out),
			      .repeat = 1, .cpu = -1 };
	int err = test_run_xdp(bpf_program__fd(skel->progs.count_xdp), &t);

	if (err)
		return err;
	*retval = t.retval;
	return t.out_len == len && !memcmp(out, pkt, len) ? 0 : -EILSEQ;
}

/* One packet: expected class, verdict pass, bytes untouched, counters exact. */
static void classify(const char *what, const uint8_t *pkt, size_t len, int want1, int want2)
{
	struct count_stats s;
	__u32 rv = 0;
	int err;

	reset();
	err = run1(pkt, len, &rv);
	ok(!err && rv == XDP_PASS, "%s: XDP_PASS and byte-identical (err %d)", what, err);
	sum_stats(&s);
	for (int i = 0; i < CP__MAX; i++) {
		__u64 want = (i == want1 || i == want2) ? 1 : 0;
		if (s.packets[i] != want || s.bytes[i] != want * len) {
			ok(0, "%s: class %d counted %llu, want %llu", what, i,
			   (unsigned long long)s.packets[i], (unsigned long long)want);
			return;
		}
	}
	ok(s.actions[XDP_PASS] == 1 && skel->bss->counter == 1, "%s: counted once in the right class", what);
}

static void test_classes(void)
{
	uint8_t buf[PKT_MAX];
	struct pkt_spec s;
	size_t n;
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 }; /* Router Alert */
	static const uint8_t hbh_dst[16] = { IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
					     IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };

	pkt_spec_default(&s);
	n = pkt_build(&s, buf);
	classify("ipv4 icmp", buf, n, CP_IPV4, CP_ICMP);

	s.proto = IPPROTO_TCP;
	s.ip_options = ra;
	s.ip_options_len = sizeof(ra);
	n = pkt_build(&s, buf);
	classify("ipv4 tcp with Router Alert option", buf, n, CP_IPV4, CP_TCP);

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	s.vlan[0] = 10;
	s.vlan[1] = 20;
	n = pkt_build(&s, buf);
	classify("QinQ ipv4 udp", buf, n, CP_IPV4, CP_UDP);

	pkt_spec_default(&s);
	s.family = AF_INET6;
	s.proto = IPPROTO_TCP;
	s.ext_hdrs = hbh_dst;
	s.ext_len = sizeof(hbh_dst);
	s.ext_first = IPPROTO_HOPOPTS;
	n = pkt_build(&s, buf);
	classify("ipv6 hop-by-hop + dstopts + tcp", buf, n, CP_IPV6, CP_TCP);

	pkt_spec_default(&s);
	s.family = AF_INET6;
	s.proto = IPPROTO_ICMPV6;
	n = pkt_build(&s, buf);
	classify("ipv6 icmpv6", buf, n, CP_IPV6, CP_ICMPV6);

	/* ARP: an Ethernet header and 28 bytes of ARP. */
	memset(buf, 0, 60);
	memset(buf, 0xff, 6);
	buf[12] = 0x08;
	buf[13] = 0x06;
	classify("arp", buf, 60, CP_ARP, -1);

	pkt_spec_default(&s);
	s.proto = 47; /* GRE */
	n = pkt_build(&s, buf);
	classify("ipv4 gre", buf, n, CP_IPV4, CP_OTHER);

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	s.frag_off = 100; /* a non-first fragment: no L4 header to read */
	n = pkt_build(&s, buf);
	classify("ipv4 udp non-first fragment", buf, n, CP_IPV4, CP_UDP);
}

static void test_bad(void)
{
	uint8_t buf[PKT_MAX], copy[PKT_MAX];
	struct pkt_spec s;
	size_t n;
	int bad = 0;

	/* Every truncation of a TCP/IPv4 packet: malformed, passed, untouched. The kernel's
	 * test run refuses frames shorter than an Ethernet header, so start there. */
	pkt_spec_default(&s);
	s.proto = IPPROTO_TCP;
	n = pkt_build(&s, buf);
	for (size_t len = 14; len < n; len++) {
		struct count_stats st;
		__u32 rv;
		reset();
		if (run1(buf, len, &rv) || rv != XDP_PASS)
			bad++;
		sum_stats(&st);
		if (st.packets[CP_MALFORMED] != 1)
			bad++;
	}
	is_int(bad, 0, "every truncation 14..%zu of ipv4 tcp: passed untouched, counted malformed", n - 1);

	struct { const char *what; int off; uint8_t val; } lies[] = {
		{ "ipv4 ihl 4", 14, 0x44 },
		{ "ipv4 ihl 0", 14, 0x40 },
		{ "ipv4 version 5", 14, 0x55 },
		{ "ipv4 ihl 15 past the end", 14, 0x4f },
		{ "ipv4 tot_len below header", 17, 10 },
		{ "ipv4 tot_len past frame", 17, 200 },
		{ "tcp doff 4", 14 + 20 + 12, 0x40 },
		{ "tcp doff 15 past the end", 14 + 20 + 12, 0xf0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(lies); i++) {
		struct count_stats st;
		__u32 rv;
		memcpy(copy, buf, n);
		copy[lies[i].off] = lies[i].val;
		reset();
		int err = run1(copy, n, &rv);
		sum_stats(&st);
		ok(!err && rv == XDP_PASS && st.packets[CP_MALFORMED] == 1 && st.packets[CP_TCP] == 0,
		   "%s: passed untouched, counted malformed", lies[i].what);
	}

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	n = pkt_build(&s, buf);
	memcpy(copy, buf, n);
	copy[14 + 20 + 5] = 7; /* udp len 7 */
	{
		struct count_stats st;
		__u32 rv;
		reset();
		int err = run1(copy, n, &rv);
		sum_stats(&st);
		ok(!err && st.packets[CP_MALFORMED] == 1, "udp len 7: counted malformed");
	}

	/* Padded to 60 bytes: the IP header's length rules, not the frame's. */
	pkt_spec_default(&s);
	n = pkt_build(&s, buf);
	classify("ipv4 icmp padded to 60 bytes", buf, 60, CP_IPV4, CP_ICMP);
}

static void test_exact(void)
{
	int ncpu = libbpf_num_possible_cpus(), runs = 0;
	const int N = 100000;
	uint8_t buf[PKT_MAX];
	struct count_stats s;
	struct pkt_spec sp;
	size_t n;

	pkt_spec_default(&sp);
	n = pkt_build(&sp, buf);
	reset();
	for (int cpu = 0; cpu < ncpu && cpu < 4; cpu++) {
		struct test_run t = { .in = buf, .in_len = n, .repeat = N, .cpu = cpu };
		int err = test_run_xdp(bpf_program__fd(skel->progs.count_xdp), &t);
		ok(!err && t.retval == XDP_PASS, "%d runs on CPU %d", N, cpu);
		runs++;
	}
	sum_stats(&s);
	is_int(s.packets[CP_ICMP], (long long)N * runs, "per-CPU counters exact across %d CPUs", runs);
	is_int(s.bytes[CP_IPV4], (long long)N * runs * n, "byte counters exact");
	is_int(skel->bss->counter, (long long)N * runs, "the talk's global counter (atomic, .bss) exact");
	is_int(s.actions[XDP_PASS], (long long)N * runs, "verdict counter exact");
}

static void test_drop(void)
{
	struct count_bpf *d = count_prog_load(&(struct count_prog_cfg){ .drop = true });
	uint8_t buf[PKT_MAX];
	struct pkt_spec s;
	struct test_run t = { .repeat = 1, .cpu = -1 };

	if (!ok(d != NULL, "count with verdict XDP_DROP loads"))
		return;
	pkt_spec_default(&s);
	t.in = buf;
	t.in_len = pkt_build(&s, buf);
	ok(!test_run_xdp(bpf_program__fd(d->progs.count_xdp), &t) && t.retval == XDP_DROP,
	   "--drop returns XDP_DROP");
	count_bpf__destroy(d);
}

int main(void)
{
	if (!tap_require_bpf())
		return tap_done();
	skel = count_prog_load(&(struct count_prog_cfg){ .drop = false });
	if (!ok(skel != NULL, "count_xdp loads"))
		return tap_done();
	test_classes();
	test_bad();
	test_exact();
	test_drop();
	count_bpf__destroy(skel);
	return tap_done();
}
