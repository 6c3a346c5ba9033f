// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The XDP SYN-cookie responder (src/filter/syncookie.bpf.h) through BPF_PROG_TEST_RUN:
 * the SYN-ACK's every byte checked against what RFC 9293/7323 and the kernel's SYNPROXY
 * expect (written here, not taken from the BPF code), checksums by full recomputation, the
 * cookie validated by the kernel (the ACK a client would send passes, one with any other
 * cookie or 4-tuple is dropped), and one exact counter per outcome. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "tap.h"
#include "bpfutil.h"
#include "util.h"
#include "pkt.h"
#include "syncookie.h"
#include "syncookie_prog.h"

static struct syncookie_bpf *skel;
static __u64 before[SYN_STAT_MAX];

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/* Offsets of a frame's IP and TCP headers, walked here on their own. */
struct offs { size_t l3, l4; int v6; };
static int walk(const uint8_t *f, size_t len, struct offs *o)
{
	size_t off = 12;
	uint16_t et = get16(f + off);

	while (et == 0x8100 || et == 0x88a8) {
		off += 4;
		et = get16(f + off);
	}
	o->l3 = off + 2;
	o->v6 = et == 0x86dd;
	if (et == 0x0800)
		o->l4 = o->l3 + (f[o->l3] & 0xf) * 4;
	else if (et == 0x86dd)
		o->l4 = o->l3 + 40; /* tests build no extension header in front of TCP here */
	else
		return -1;
	return o->l4 + 20 <= len ? 0 : -1;
}

/* A SYN (or any flags) with these options; every checksum right. */
static size_t build(struct pkt_spec *s, const uint8_t *opts, size_t optlen, uint8_t *buf)
{
	struct offs o;
	size_t len;

	s->proto = IPPROTO_TCP;
	s->payload = opts;
	s->payload_len = optlen;
	len = pkt_build(s, buf);
	if (walk(buf, len, &o))
		return 0;
	buf[o.l4 + 12] = (uint8_t)((5 + optlen / 4) << 4);
	pkt_fix_checksums(buf, len);
	return len;
}

static int run(const uint8_t *in, size_t len, uint8_t *out, __u32 *out_len, __u32 *act)
{
	struct test_run t = { .in = in, .in_len = len, .out = out, .out_cap = PKT_MAX,
			      .repeat = 1, .cpu = -1 };
	int err = test_run_xdp(syncookie_prog_fd(skel), &t);

	*out_len = t.out_len;
	*act = t.retval;
	return err;
}

static void snap(void)
{
	syncookie_read_stats(syncookie_prog_stats_fd(skel), before);
}

/* Exactly counter `which` moved, by n. */
static void counted(int which, __u64 n, const char *what)
{
	__u64 now[SYN_STAT_MAX];
	int others = 0;

	syncookie_read_stats(syncookie_prog_stats_fd(skel), now);
	for (int i = 0; i < SYN_STAT_MAX; i++)
		if (i != which && now[i] != before[i])
			others++;
	ok(which < 0 ? 1 : now[which] - before[which] == n,
	   "%s: counter %s +%llu", what, which < 0 ? "-" : syncookie_stat_name(which),
	   (unsigned long long)n);
	is_int(others, 0, "%s: no other counter moved", what);
}

/* The packet goes on untouched and no counter moves. */
static void untouched(const uint8_t *in, size_t len, const char *what)
{
	uint8_t out[PKT_MAX];
	__u32 olen, act;

	snap();
	ok(!run(in, len, out, &olen, &act), "%s: test run", what);
	is_int(act, XDP_PASS, "%s: XDP_PASS", what);
	is_mem(out, olen, in, len, "%s: byte-identical", what);
	counted(-1, 0, what);
}

static void verdict(const uint8_t *in, size_t len, __u32 want, int which, const char *what)
{
	uint8_t out[PKT_MAX];
	__u32 olen, act;

	snap();
	ok(!run(in, len, out, &olen, &act), "%s: test run", what);
	is_int(act, want, "%s: %s", what, xdp_action_str(want));
	counted(which, 1, what);
}

static uint32_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000ull + ts.tv_nsec / 1000000);
}

struct want {
	uint16_t mss;
	int ts, sack, ecn;
	int cwscale;         /* the client's window scale, -1: none */
	uint32_t ctsval;     /* the client's TSval */
};

/* Checks a SYN-ACK against the SYN it answers; returns its cookie (its seq). */
static uint32_t check_synack(const uint8_t *syn, size_t synlen, const uint8_t *r, size_t rlen,
			     const struct want *w, const char *what)
{
	struct offs so, ro;
	size_t optlen = 4 + (w->ts ? 12 + (w->cwscale >= 0 ? 4 : 0) : 0);
	uint8_t opt[20];
	size_t i = 0;

	if (!ok(!walk(syn, synlen, &so) && !walk(r, rlen, &ro), "%s: reply walks", what))
		return 0;
	is_int(rlen, ro.l3 + (so.v6 ? 40 : 20) + 20 + optlen, "%s: frame length", what);
	is_mem(r, 6, syn + 6, 6, "%s: destination MAC is the SYN's source", what);
	is_mem(r + 6, 6, syn, 6, "%s: source MAC is the SYN's destination", what);
	is_mem(r + 12, ro.l3 - 12, syn + 12, so.l3 - 12, "%s: VLAN tags and EtherType kept", what);
	ok(pkt_checksums_ok(r, rlen), "%s: IP and TCP checksums right (full recomputation)", what);
	if (!so.v6) {
		const uint8_t *ip = r + ro.l3, *sip = syn + so.l3;
		is_int(ip[0], 0x45, "%s: IPv4, no options", what);
		is_int(get16(ip + 2), 20 + 20 + optlen, "%s: tot_len", what);
		is_int(get16(ip + 6), 0x4000, "%s: DF, no fragment", what);
		is_int(ip[8], 64, "%s: TTL 64", what);
		is_int(ip[9], IPPROTO_TCP, "%s: TCP", what);
		is_mem(ip + 12, 4, sip + 16, 4, "%s: source is the SYN's destination", what);
		is_mem(ip + 16, 4, sip + 12, 4, "%s: destination is the SYN's source", what);
	} else {
		const uint8_t *ip = r + ro.l3, *sip = syn + so.l3;
		is_int(get32(ip), 0x60000000, "%s: IPv6, no traffic class or flow label", what);
		is_int(get16(ip + 4), 20 + optlen, "%s: payload_len", what);
		is_int(ip[6], IPPROTO_TCP, "%s: next header TCP", what);
		is_int(ip[7], 64, "%s: hop limit 64", what);
		is_mem(ip + 8, 16, sip + 24, 16, "%s: source is the SYN's destination", what);
		is_mem(ip + 24, 16, sip + 8, 16, "%s: destination is the SYN's source", what);
	}
	const uint8_t *t = r + ro.l4, *st = syn + so.l4;
	is_int(get16(t), get16(st + 2), "%s: source port", what);
	is_int(get16(t + 2), get16(st), "%s: destination port", what);
	is_int(get32(t + 8), get32(st + 4) + 1, "%s: acknowledges the SYN", what);
	is_int(t[12] >> 4, 5 + optlen / 4, "%s: data offset", what);
	is_int(t[13], 0x12 | (w->ecn ? 0x40 : 0), "%s: flags SYN|ACK%s", what, w->ecn ? "|ECE" : "");
	is_int(get16(t + 14), 0, "%s: window 0 (the SYNPROXY's: no data before the server)", what);
	is_int(get16(t + 18), 0, "%s: urgent pointer 0", what);
	/* options as the kernel's SYNPROXY lays them out */
	opt[i++] = 2; opt[i++] = 4; put16(opt + i, w->mss); i += 2;
	if (w->ts) {
		opt[i++] = w->sack ? 4 : 1; opt[i++] = w->sack ? 2 : 1;
		opt[i++] = 8; opt[i++] = 10;
		i += 4; /* TSval: checked below */
		put32(opt + i, w->ctsval); i += 4;
		if (w->cwscale >= 0) {
			opt[i++] = 1; opt[i++] = 3; opt[i++] = 3; opt[i++] = 7;
		}
		memcpy(opt + 8, t + 28, 4);
	}
	is_mem(t + 20, optlen, opt, i, "%s: options", what);
	if (w->ts) {
		uint32_t tsval = get32(t + 28), now = mono_ms();
		uint32_t low = (uint32_t)(w->cwscale >= 0 ? w->cwscale : 0xf) |
			       (w->sack ? 0x10 : 0) | (w->ecn ? 0x20 : 0);
		is_int(tsval & 0x3f, low, "%s: TSval's low bits keep wscale/SACK/ECN", what);
		ok((int32_t)(now - (tsval & ~0x3fu)) >= 0 && now - (tsval & ~0x3fu) < 2000,
		   "%s: TSval is the monotonic clock in ms (%u vs %u)", what, tsval, now);
	}
	return get32(t + 4);
}

/* The ACK the client sends for a SYN-ACK with `cookie`: checksums right. */
static size_t build_ack(struct pkt_spec s, uint32_t cookie, uint8_t *buf)
{
	struct offs o;
	size_t len;

	s.tcp_flags = 0x10;
	len = build(&s, NULL, 0, buf);
	walk(buf, len, &o);
	put32(buf + o.l4 + 4, 0x01020304 + 1);
	put32(buf + o.l4 + 8, cookie + 1);
	pkt_fix_checksums(buf, len);
	return len;
}

static const uint8_t full_opts[20] = { 2, 4, 0x05, 0x78,             /* MSS 1400 */
				       4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, /* SACK, TS */
				       1, 3, 3, 8 };                        /* NOP, WS 8 */

static void handshake(struct pkt_spec *s, const uint8_t *opts, size_t optlen,
		      const struct want *w, const char *what)
{
	uint8_t syn[PKT_MAX], out[PKT_MAX], ack[PKT_MAX];
	size_t len = build(s, opts, optlen, syn), alen;
	__u32 olen, act;
	uint32_t cookie;
	char buf[128];

	snap();
	ok(!run(syn, len, out, &olen, &act), "%s: test run", what);
	if (!is_int(act, XDP_TX, "%s: XDP_TX", what))
		return;
	counted(SYN_SYNACK, 1, what);
	cookie = check_synack(syn, len, out, olen, w, what);

	alen = build_ack(*s, cookie, ack);
	snprintf(buf, sizeof(buf), "%s: the client's ACK", what);
	verdict(ack, alen, XDP_PASS, SYN_ACK_OK, buf);
	/* bit 23: inside the hash part (the low bits are the MSS index: cookie + 1 may be
	 * another valid MSS; the top byte the minute counter: +-1 may still be in age) */
	alen = build_ack(*s, cookie ^ 0x00800000, ack);
	snprintf(buf, sizeof(buf), "%s: an ACK with another cookie", what);
	verdict(ack, alen, XDP_DROP, SYN_ACK_BAD, buf);
	struct pkt_spec other = *s;
	other.sport++;
	alen = build_ack(other, cookie, ack);
	snprintf(buf, sizeof(buf), "%s: the cookie from another port", what);
	verdict(ack, alen, XDP_DROP, SYN_ACK_BAD, buf);
}

int main(void)
{
	static const __u16 ports[] = { 80, 443 };
	struct syncookie_prog_cfg cfg = { .ports = ports, .nports = 2 };
	struct pkt_spec s;
	uint8_t f[PKT_MAX];
	size_t len;

	if (!tap_require_bpf())
		return tap_done();
	skel = syncookie_prog_load(&cfg);
	if (!ok(skel, "the syncookie program loads and verifies"))
		return tap_done();

	pkt_spec_default(&s);
	s.dport = 80;
	handshake(&s, full_opts, sizeof(full_opts),
		  &(struct want){ .mss = 1460, .ts = 1, .sack = 1, .cwscale = 8,
				  .ctsval = 0x11223344 }, "v4 SYN, MSS+SACK+TS+WS");
	handshake(&s, full_opts, 4, &(struct want){ .mss = 1460, .cwscale = -1 },
		  "v4 SYN, MSS only: no cookie room for more");
	handshake(&s, NULL, 0, &(struct want){ .mss = 1460, .cwscale = -1 }, "v4 SYN, no options");
	{
		/* TS without SACK or WS: NOP NOP TS, and 0xf for "no window scale" */
		static const uint8_t o[] = { 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0 };
		handshake(&s, o, sizeof(o), &(struct want){ .mss = 1460, .ts = 1, .cwscale = -1,
							   .ctsval = 9 }, "v4 SYN, TS only");
	}
	{
		/* ECN setup SYN (RFC 3168 6.1.1): ECE|CWR|SYN gets ECE back */
		struct pkt_spec e = s;
		e.tcp_flags = 0xc2;
		handshake(&e, full_opts, sizeof(full_opts),
			  &(struct want){ .mss = 1460, .ts = 1, .sack = 1, .ecn = 1, .cwscale = 8,
					  .ctsval = 0x11223344 }, "v4 ECN SYN");
	}
	{
		struct pkt_spec v = s;
		v.vlan[0] = 100;
		handshake(&v, full_opts, sizeof(full_opts),
			  &(struct want){ .mss = 1460, .ts = 1, .sack = 1, .cwscale = 8,
					  .ctsval = 0x11223344 }, "v4 SYN in VLAN 100");
	}
	{
		static const uint8_t ra[4] = { 0x94, 0x04, 0, 0 }; /* Router Alert */
		struct pkt_spec v = s;
		v.ip_options = ra;
		v.ip_options_len = 4;
		handshake(&v, full_opts, sizeof(full_opts),
			  &(struct want){ .mss = 1460, .ts = 1, .sack = 1, .cwscale = 8,
					  .ctsval = 0x11223344 }, "v4 SYN with IP options");
	}
	{
		struct pkt_spec v = s;
		v.family = AF_INET6;
		v.dport = 443;
		handshake(&v, full_opts, sizeof(full_opts),
			  &(struct want){ .mss = 1440, .ts = 1, .sack = 1, .cwscale = 8,
					  .ctsval = 0x11223344 }, "v6 SYN, MSS+SACK+TS+WS");
		handshake(&v, NULL, 0, &(struct want){ .mss = 1440, .cwscale = -1 },
			  "v6 SYN, no options");
	}
	{
		/* a minimum frame padded to 60 bytes: lengths from the IP header */
		uint8_t syn[PKT_MAX], out[PKT_MAX];
		__u32 olen, act;
		len = build(&s, NULL, 0, syn);
		memset(syn + len, 0, 60 - len);
		snap();
		run(syn, 60, out, &olen, &act);
		is_int(act, XDP_TX, "padded SYN: XDP_TX");
		counted(SYN_SYNACK, 1, "padded SYN");
		check_synack(syn, len, out, olen, &(struct want){ .mss = 1460, .cwscale = -1 },
			     "padded SYN");
	}

	/* not ours: untouched, uncounted */
	{
		struct pkt_spec o = s;
		o.dport = 22;
		len = build(&o, full_opts, sizeof(full_opts), f);
		untouched(f, len, "SYN to an unprotected port");
		o = s;
		o.proto = IPPROTO_UDP;
		len = pkt_build(&o, f);
		untouched(f, len, "UDP to port 80");
		o = s;
		memset(o.dst_mac, 0xff, 6);
		len = build(&o, NULL, 0, f);
		untouched(f, len, "SYN to the broadcast MAC");
	}

	/* ours, and wrong: dropped, counted, never answered */
	{
		struct pkt_spec o = s;
		len = build(&o, full_opts, sizeof(full_opts), f);
		struct offs of;
		walk(f, len, &of);
		f[of.l4 + 16] ^= 1;
		verdict(f, len, XDP_DROP, SYN_BAD_CSUM, "SYN with a bad TCP checksum");
		len = build(&o, full_opts, sizeof(full_opts), f);
		f[of.l3 + 10] ^= 1;
		verdict(f, len, XDP_DROP, SYN_BAD_CSUM, "SYN with a bad IPv4 header checksum");
		static const struct { uint8_t flags; const char *name; } bad[] = {
			{ 0x12, "SYN|ACK" }, { 0x03, "SYN|FIN" }, { 0x06, "SYN|RST" },
			{ 0x14, "ACK|RST" }, { 0x00, "no flags" }, { 0x01, "FIN" }, { 0x04, "RST" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			o = s;
			o.tcp_flags = bad[i].flags;
			len = build(&o, NULL, 0, f);
			if (!bad[i].flags) { /* pkt_build reads 0 as SYN */
				walk(f, len, &of);
				f[of.l4 + 13] = 0;
				pkt_fix_checksums(f, len);
			}
			verdict(f, len, XDP_DROP, SYN_BAD_FLAGS, bad[i].name);
		}
		o = s;
		o.frag_off = 0x2000;
		len = build(&o, NULL, 0, f);
		verdict(f, len, XDP_DROP, SYN_FRAGMENT, "first fragment of a SYN");
		o = s;
		static const uint8_t data[5] = "hello";
		o.payload = data;
		o.payload_len = sizeof(data);
		o.proto = IPPROTO_TCP;
		len = pkt_build(&o, f);
		verdict(f, len, XDP_DROP, SYN_DATA, "SYN carrying data");
		static const char *srcs[] = { "127.0.0.1", "224.0.0.5", "0.1.2.3", "255.255.255.255" };
		for (size_t i = 0; i < 4; i++) {
			o = s;
			inet_pton(AF_INET, srcs[i], &o.src4);
			len = build(&o, NULL, 0, f);
			verdict(f, len, XDP_DROP, SYN_BAD_ADDR, srcs[i]);
		}
		o = s;
		inet_pton(AF_INET, "239.1.1.1", &o.dst4);
		len = build(&o, NULL, 0, f);
		verdict(f, len, XDP_DROP, SYN_BAD_ADDR, "SYN to a multicast group");
		o = s;
		o.src_mac[0] |= 1;
		len = build(&o, NULL, 0, f);
		verdict(f, len, XDP_DROP, SYN_BAD_ADDR, "SYN from a group MAC");
		o = s;
		o.family = AF_INET6;
		inet_pton(AF_INET6, "ff02::1", &o.src6);
		len = build(&o, NULL, 0, f);
		verdict(f, len, XDP_DROP, SYN_BAD_ADDR, "v6 SYN from a multicast address");
		o = s;
		o.family = AF_INET6;
		inet_pton(AF_INET6, "::1", &o.src6);
		len = build(&o, NULL, 0, f);
		verdict(f, len, XDP_DROP, SYN_BAD_ADDR, "v6 SYN from ::1");
		/* the ACK of a handshake that never happened */
		len = build_ack(s, 0x12345678, f);
		verdict(f, len, XDP_DROP, SYN_ACK_BAD, "an ACK with a made-up cookie");
	}
	{
		/* counters exact under repeat: a rewritten SYN would be the next run's input
		 * (test runs do not reset the frame), so this is the ACK path, which only reads */
		uint8_t syn[PKT_MAX], out[PKT_MAX];
		__u32 olen, act;
		len = build(&s, full_opts, sizeof(full_opts), syn);
		run(syn, len, out, &olen, &act);
		struct offs o;
		walk(out, olen, &o);
		len = build_ack(s, get32(out + o.l4 + 4), f);
		struct test_run t = { .in = f, .in_len = len, .out = out, .out_cap = PKT_MAX,
				      .repeat = 1000, .cpu = -1 };
		snap();
		ok(!test_run_xdp(syncookie_prog_fd(skel), &t) && t.retval == XDP_PASS,
		   "1000 ACKs: XDP_PASS (%u ns each)", t.duration);
		counted(SYN_ACK_OK, 1000, "1000 ACKs");
	}
	syncookie_prog_destroy(skel);
	return tap_done();
}
