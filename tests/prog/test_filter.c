// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter_xdp through BPF_PROG_TEST_RUN: rule semantics (CIDR, address+port, ICMP type,
 * TCP flags, priorities, the allow-list, the default), rate limits with their block
 * time, the generation swap, malformed packets, and the size claim: 100,000 prefixes and
 * 1,000 multi-field rules load, verify and match. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "filter.h"
#include "filter_prog.h"
#include "filter_ctl.h"
#include "filter.skel.h"
#include "syncookie.h"
#include "synproxy.h"
#include "syncookie_prog.h"

/* V(src, dst, proto, sport, dport, ...): the fields not given are 0. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static struct filter_bpf *skel;
static struct filter_fds fds;
static int prog_fd;

static int install(const char *text)
{
	struct fr_set s;
	struct fr_tables *t = calloc(1, sizeof(*t));
	char err[512];
	__u32 g;
	int e = fr_parse("test.rules", text, &s, err, sizeof(err));

	if (e) {
		tap_diag("parse: %s", err);
		free(t);
		return e;
	}
	e = fr_compile(&s, t, err, sizeof(err));
	if (e)
		tap_diag("compile: %s", err);
	else if ((e = filter_install(&fds, t, &g)))
		tap_diag("install: %s", strerror(-e));
	fr_tables_free(t);
	free(t);
	fr_set_free(&s);
	return e;
}

struct spec {
	const char *src, *dst;
	int proto;
	int sport, dport, flags, type, code;
};

static __u32 run(const struct spec *sp, __u32 *dur, int repeat)
{
	struct pkt_spec ps;
	__u8 buf[PKT_MAX];
	struct test_run tr = { .repeat = repeat ? repeat : 1, .cpu = -1 };
	size_t len;

	pkt_spec_default(&ps);
	if (strchr(sp->src, ':')) {
		ps.family = AF_INET6;
		inet_pton(AF_INET6, sp->src, &ps.src6);
		inet_pton(AF_INET6, sp->dst, &ps.dst6);
	} else {
		ps.family = AF_INET;
		inet_pton(AF_INET, sp->src, &ps.src4);
		inet_pton(AF_INET, sp->dst, &ps.dst4);
	}
	ps.proto = sp->proto;
	ps.sport = sp->sport;
	ps.dport = sp->dport;
	ps.tcp_flags = sp->flags;
	ps.icmp_type = sp->type;
	len = pkt_build(&ps, buf);
	if (sp->code && (sp->proto == IPPROTO_ICMP || sp->proto == IPPROTO_ICMPV6)) {
		/* the code byte, checksum left alone: the filter does not check it */
		size_t l4 = ps.family == AF_INET ? 14 + 20 : 14 + 40;
		buf[l4 + 1] = sp->code;
	}
	tr.in = buf;
	tr.in_len = len;
	if (test_run_xdp(prog_fd, &tr))
		return 0xdead;
	if (dur)
		*dur = tr.duration;
	return tr.retval;
}

#define V(...) run(&(struct spec){ __VA_ARGS__ }, NULL, 0)
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define ICMP IPPROTO_ICMP

static void counters(__u64 *c)
{
	struct filter_running *r = calloc(1, sizeof(*r));

	memset(c, 0, sizeof(__u64) * FS__N);
	if (r && !filter_read_running(&fds, r))
		memcpy(c, r->c, sizeof(r->c));
	free(r);
}

static void t_basic(void)
{
	__u64 c0[FS__N], c1[FS__N];

	ok(!install("# CIDR, address+port, ICMP type\n"
		    "10 deny src 203.0.113.0/24\n"
		    "20 deny dst 198.18.0.11 proto tcp dport 22\n"
		    "30 deny proto icmp icmp-type 8\n"
		    "40 allow src 192.0.2.0/24 proto udp dport 53,5353\n"
		    "50 deny proto udp\n"
		    "60 deny src 2001:db8:bad::/48\n"
		    "70 deny proto tcp flags syn,!ack dport 1000-2000\n"),
	   "rule set installs");
	is_int(V("203.0.113.7", "198.18.0.11", TCP, 1, 80), XDP_DROP, "deny by CIDR");
	is_int(V("203.0.114.7", "198.18.0.11", TCP, 1, 80), XDP_PASS, "next /24 passes");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 1000, 22), XDP_DROP, "deny addr+port");
	is_int(V("198.18.0.1", "198.18.0.12", TCP, 1000, 22), XDP_PASS, "other addr, port 22 passes");
	is_int(V("198.18.0.1", "198.18.0.11", ICMP, .type = 8), XDP_DROP, "deny echo request");
	is_int(V("198.18.0.1", "198.18.0.11", ICMP, .type = 13), XDP_PASS, "timestamp request passes");
	is_int(V("192.0.2.9", "198.18.0.11", UDP, 999, 53), XDP_PASS, "allow before deny (prio)");
	is_int(V("192.0.2.9", "198.18.0.11", UDP, 999, 54), XDP_DROP, "udp other port denied");
	is_int(V("2001:db8:bad:1::1", "2001:db8::1", TCP, 5, 80), XDP_DROP, "IPv6 CIDR");
	is_int(V("2001:db8:bae::1", "2001:db8::1", TCP, 5, 80), XDP_PASS, "IPv6 outside");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 5, 1500, 0x02), XDP_DROP, "SYN to 1500 denied");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 5, 1500, 0x12), XDP_PASS, "SYN-ACK passes");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 5, 2001, 0x02), XDP_PASS, "SYN to 2001 passes");
	counters(c0);
	V("203.0.113.7", "198.18.0.11", TCP, 1, 80);
	counters(c1);
	is_int(c1[FS_DENIED] - c0[FS_DENIED], 1, "FS_DENIED +1");
	is_int(c1[FS_DROP] - c0[FS_DROP], 1, "FS_DROP +1");
	is_int(c1[FS_PACKETS] - c0[FS_PACKETS], 1, "FS_PACKETS +1");
}

static void t_allowlist_default(void)
{
	ok(!install("default deny\nallowlist 198.18.0.0/28,2001:db8::/64\n"
		    "10 allow proto tcp dport 80\n1 deny src 198.18.0.5\n"), "default deny set");
	is_int(V("198.18.0.5", "198.18.0.11", TCP, 1, 22), XDP_PASS,
	       "allow-list wins over a deny of priority 1");
	is_int(V("198.18.0.99", "198.18.0.11", TCP, 1, 80), XDP_PASS, "allow rule");
	is_int(V("198.18.0.99", "198.18.0.11", TCP, 1, 81), XDP_DROP, "default deny");
	is_int(V("2001:db8::9", "2001:db8::1", UDP, 1, 9), XDP_PASS, "v6 allow-list");
}

static void t_malformed(void)
{
	__u8 buf[64] = { 0 };
	struct test_run tr = { .in = buf, .in_len = 60, .repeat = 1, .cpu = -1 };
	__u64 c0[FS__N], c1[FS__N];

	install("10 deny src 203.0.113.0/24\n");
	buf[12] = 0x08; /* IPv4 with version 0 */
	counters(c0);
	ok(!test_run_xdp(prog_fd, &tr), "test run");
	counters(c1);
	is_int(tr.retval, XDP_DROP, "malformed IPv4 dropped");
	is_int(c1[FS_MALFORMED] - c0[FS_MALFORMED], 1, "and counted");
	buf[12] = 0x08;
	buf[13] = 0x06; /* ARP */
	ok(!test_run_xdp(prog_fd, &tr), "test run");
	is_int(tr.retval, XDP_PASS, "ARP passes");
}

static void t_limit(void)
{
	int pass = 0, drop = 0;

	/* 1 packet per second with a burst of 5: in a tight loop exactly 5 pass (refill
	 * is 1/s), then the 10 s block drops the rest. */
	ok(!install("10 limit src 198.18.0.0/24 rate 1pps burst 5 block 10s per /24\n"),
	   "limit rule");
	for (int i = 0; i < 20; i++) {
		__u32 v = V(i % 2 ? "198.18.0.7" : "198.18.0.8", "198.18.0.11", UDP, 1, 2);
		pass += v == XDP_PASS;
		drop += v == XDP_DROP;
	}
	is_int(pass, 5, "burst of 5 passes (one bucket for the /24)");
	is_int(drop, 15, "the rest is dropped");
	is_int(V("198.18.1.7", "198.18.0.11", UDP, 1, 2), XDP_PASS, "outside the rule passes");
	ok(!install("10 limit src 198.18.0.0/24 rate 1pps burst 5 per /24\n"), "same rule, no block");
	/* The bucket belongs to the rule's priority and survives the apply; the block time
	 * too (it is state of the source, not of the rule text). */
	is_int(V("198.18.0.7", "198.18.0.11", UDP, 1, 2), XDP_DROP, "still blocked after apply");
}

static void t_swap(void)
{
	__u32 g0 = 9, g1 = 9;

	install("10 deny src 203.0.113.0/24\n");
	filter_active(&fds, &g0);
	is_int(V("203.0.113.1", "198.18.0.11", TCP, 1, 80), XDP_DROP, "before swap: denied");
	install("10 deny src 198.51.100.0/24\n");
	filter_active(&fds, &g1);
	ok(g0 != g1, "apply flips the generation (%u -> %u)", g0, g1);
	is_int(V("203.0.113.1", "198.18.0.11", TCP, 1, 80), XDP_PASS, "after swap: old rule gone");
	is_int(V("198.51.100.1", "198.18.0.11", TCP, 1, 80), XDP_DROP, "after swap: new rule");
	install("");
	is_int(V("198.51.100.1", "198.18.0.11", TCP, 1, 80), XDP_PASS, "empty set passes all");
}

/* 100,000 prefixes (a block list) plus 1,000 multi-field rules. */
static void t_scale(void)
{
	char path[] = "/tmp/bpflab-filter-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	__u32 dur_bare = 0, dur = 0, v;

	ok(f && text, "temp files");
	if (!f || !text)
		return;
	/* 100,000 distinct /24s spread over 10.0.0.0/8 and 100.64.0.0/10 ... */
	for (int i = 0; i < 100000; i++) {
		__u32 a = i < 65536 ? (10u << 24) | ((__u32)i << 8) : (0x64400000u + ((__u32)(i - 65536) << 8));
		fprintf(f, "%u.%u.%u.0/24\n", a >> 24, a >> 16 & 255, a >> 8 & 255);
	}
	fclose(f);
	len += snprintf(text + len, cap - len, "5 deny src @%s\n", path);
	for (int i = 0; i < 1000; i++)
		len += snprintf(text + len, cap - len,
				"%d %s src 172.%d.%d.0/24 dst 198.18.%d.0/24 proto tcp sport 1024-65535 "
				"dport %d,%d-%d flags syn,!ack\n", 100 + i, i % 3 ? "deny" : "allow",
				16 + i % 16, i / 16, i % 200, 1000 + i, 3000 + i, 3000 + i + i % 7);
	ok(!install(text), "100,000 prefixes + 1,000 multi-field rules compile, load, swap in");
	is_int(V("10.1.2.3", "198.18.0.11", TCP, 1, 80), XDP_DROP, "block list hit (10.1.2.0/24)");
	is_int(V("100.64.5.9", "198.18.0.11", TCP, 1, 80), XDP_DROP, "block list hit (100.64.5.0/24)");
	is_int(V("100.198.159.9", "198.18.0.11", UDP, 1, 80), XDP_DROP, "the list's last /24");
	is_int(V("100.198.160.9", "198.18.0.11", UDP, 1, 80), XDP_PASS, "the next /24 passes");
	is_int(V("172.16.0.9", "198.18.0.9", TCP, 2000, 1000, 0x02), XDP_PASS,
	       "rule 100 (allow) matches");
	is_int(V("172.17.0.9", "198.18.1.9", TCP, 2000, 1001, 0x02), XDP_DROP, "rule 101 (deny)");
	is_int(V("172.17.0.9", "198.18.1.9", TCP, 2000, 1001, 0x10), XDP_PASS, "rule 101, ACK: no");
	is_int(V("172.17.0.9", "198.18.1.9", TCP, 80, 1001, 0x02), XDP_PASS, "rule 101, sport 80: no");
	is_int(V("172.22.62.9", "198.18.198.9", TCP, 5000, 4002, 0x02), XDP_DROP,
	       "rule 1098 (deny), end of its dport range");
	is_int(V("172.22.62.9", "198.18.198.9", TCP, 5000, 4003, 0x02), XDP_PASS,
	       "rule 1098, one port past it: no");
	/* The cost: a block-list hit against the same program with no rule at all. */
	v = run(&(struct spec){ "10.200.3.4", "198.18.0.11", UDP, 1, 2 }, &dur, 200000);
	is_int(v, XDP_DROP, "timed packet is dropped by the block list");
	install("");
	run(&(struct spec){ "10.200.3.4", "198.18.0.11", UDP, 1, 2 }, &dur_bare, 200000);
	tap_diag("test-run: %u ns per packet with 100,000 prefixes + 1,000 rules, %u ns with none",
		 dur, dur_bare);
	unlink(path);
	free(text);
}

/* --synproxy inside the filter: a SYN the rules accept is answered from XDP (the reply's
 * bytes are tests/prog/test_syncookie.c's business; here only that the filter reaches the
 * responder, after its rules and not instead of them). */
static void t_synproxy(void)
{
	struct synproxy_cfg syn = { .ifname = "lo" };
	struct filter_bpf *s2;
	struct filter_fds keep = fds;
	int keep_fd = prog_fd;
	__u64 c0[FS__N], c1[FS__N], st0[SYN_STAT_MAX], st1[SYN_STAT_MAX];
	char err[128];

	ok(!synproxy_parse_ports("80,8000-8010", &syn, err, sizeof(err)), "port list parses");
	s2 = filter_prog_load(&(struct filter_prog_cfg){ .no_event_limit = true, .syn = &syn });
	if (!ok(s2 != NULL, "filter program with --synproxy loads and verifies"))
		return;
	filter_fds_from_skel(s2, &fds);
	prog_fd = filter_prog_fd(s2);
	ok(!install("10 deny src 203.0.113.0/24\n"), "rule set installs");
	counters(c0);
	syncookie_read_stats(filter_prog_syn_stats_fd(s2), st0);
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 1000, 80, 0x02), XDP_TX,
	       "SYN to port 80: answered (XDP_TX)");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 1000, 8005, 0x02), XDP_TX,
	       "SYN to port 8005: answered");
	is_int(V("2001:db8::9", "2001:db8::1", TCP, 1000, 80, 0x02), XDP_TX,
	       "v6 SYN to port 80: answered");
	is_int(V("198.18.0.1", "198.18.0.11", TCP, 1000, 22, 0x02), XDP_PASS,
	       "SYN to port 22: not the responder's, passes");
	is_int(V("203.0.113.5", "198.18.0.11", TCP, 1000, 80, 0x02), XDP_DROP,
	       "SYN from a denied source: the rule drops it first");
	is_int(V("198.18.0.1", "198.18.0.11", UDP, 1000, 80), XDP_PASS, "UDP to port 80 passes");
	counters(c1);
	syncookie_read_stats(filter_prog_syn_stats_fd(s2), st1);
	is_int(c1[FS_SYNPROXY] - c0[FS_SYNPROXY], 3, "FS_SYNPROXY +3");
	is_int(c1[FS_PASS] - c0[FS_PASS], 2, "FS_PASS +2");
	is_int(c1[FS_DENIED] - c0[FS_DENIED], 1, "FS_DENIED +1");
	is_int(st1[SYN_SYNACK] - st0[SYN_SYNACK], 3, "syn_stats: 3 SYN-ACKs");
	filter_prog_destroy(s2);
	fds = keep;
	prog_fd = keep_fd;
}

int main(void)
{
	if (!tap_require_bpf())
		return tap_done();
	bpflab_libbpf_init();
	skel = filter_prog_load(&(struct filter_prog_cfg){ 0 });
	ok(skel != NULL, "filter program loads and verifies");
	if (!skel)
		return tap_done();
	filter_fds_from_skel(skel, &fds);
	prog_fd = filter_prog_fd(skel);
	t_basic();
	t_allowlist_default();
	t_malformed();
	t_limit();
	t_swap();
	t_scale();
	t_synproxy();
	filter_prog_destroy(skel);
	return tap_done();
}
