// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The pcapng writer: a file with two interfaces (the same ifindex in two namespaces) and
 * four packets, walked block by block here, then read by tcpdump and tshark from Debian
 * (scripts/deps.sh installs both): the packets, their nanosecond timestamps, interface
 * names and verdict comments must come back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "pkt.h"
#include "pcapng.h"

#define TS0 1700000000123456789ull

static char path[64];

/* Runs cmd, returns its standard output (malloc'ed) or NULL. */
static char *capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char tmp[4096];

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = 0;
	return buf;
}

static void diag_lines(const char *s)
{
	while (*s) {
		const char *e = strchr(s, '\n');
		int n = e ? (int)(e - s) : (int)strlen(s);
		printf("# %.*s\n", n, s);
		s += n + (e ? 1 : 0);
	}
}

static int have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static size_t frame(uint8_t *buf, int proto, size_t payload, int v6)
{
	struct pkt_spec s;

	pkt_spec_default(&s);
	s.proto = proto;
	s.sport = 4000;
	s.dport = proto == IPPROTO_TCP ? 80 : 53;
	s.payload_len = payload;
	if (v6) {
		s.family = AF_INET6;
		inet_pton(AF_INET6, "fd00::1", &s.src6);
		inet_pton(AF_INET6, "fd00::2", &s.dst6);
	}
	return pkt_build(&s, buf);
}

static void write_file(void)
{
	uint8_t a[PKT_MAX], b[PKT_MAX], c[PKT_MAX];
	size_t la = frame(a, IPPROTO_UDP, 20, 0), lb = frame(b, IPPROTO_TCP, 1000, 0),
	       lc = frame(c, IPPROTO_UDP, 10, 1);
	struct pcapng *p = pcapng_open(path);
	int i0, i1, i0b;

	if (!ok(p != NULL, "pcapng_open %s", path))
		return;
	i0 = pcapng_interface(p, 4026531840u, 3, "veth0");
	i1 = pcapng_interface(p, 4026532001u, 3, "eth0");
	i0b = pcapng_interface(p, 4026531840u, 3, "veth0");
	ok(i0 == 0 && i1 == 1 && i0b == 0,
	   "one interface block per (netns, ifindex): ids %d %d %d", i0, i1, i0b);
	ok(!pcapng_packet(p, i0, TS0, a, la, la, "XDP_DROP lb drop_no_backend"),
	   "packet 1: whole, with a comment");
	ok(!pcapng_packet(p, i1, TS0 + 1000, b, 60, lb, "kfree_skb NETFILTER_DROP"),
	   "packet 2: 60 of %zu bytes", lb);
	ok(!pcapng_packet_ip(p, i1, TS0 + 2001, c + 14, lc - 14, lc - 14, "TCP_RESET"),
	   "packet 3: from its IPv6 header");
	ok(!pcapng_packet(p, i0, TS0 + 3000, a, la, la, NULL), "packet 4: no comment");
	ok(pcapng_packet(p, 7, TS0, a, la, la, NULL) == -EINVAL,
	   "an unknown interface id is refused");
	is_int(pcapng_packets(p), 4, "four packets written");
	ok(!pcapng_close(p), "close");
}

/* The file, block by block: types, lengths (both copies, multiples of 4), fields. */
static void walk(void)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 16];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0, off = 0;
	int shb = 0, idb = 0, epb = 0, bad = 0, ts_ok = 0, cmt = 0;

	if (f)
		fclose(f);
	while (off + 12 <= n) {
		__u32 type, len, len2;

		memcpy(&type, buf + off, 4);
		memcpy(&len, buf + off + 4, 4);
		if (len < 12 || len % 4 || off + len > n) {
			bad++;
			break;
		}
		memcpy(&len2, buf + off + len - 4, 4);
		if (len2 != len)
			bad++;
		if (type == 0x0A0D0D0A) {
			__u32 magic;
			memcpy(&magic, buf + off + 8, 4);
			shb += magic == 0x1A2B3C4D;
		} else if (type == 1) {
			idb++;
		} else if (type == 6) {
			__u32 hi, lo, cap, orig;
			memcpy(&hi, buf + off + 12, 4);
			memcpy(&lo, buf + off + 16, 4);
			memcpy(&cap, buf + off + 20, 4);
			memcpy(&orig, buf + off + 24, 4);
			if (epb == 0 && ((__u64)hi << 32 | lo) == TS0)
				ts_ok++;
			if (epb == 1 && cap == 60 && orig > 60)
				ts_ok++;
			if (len > 28 + ((cap + 3) & ~3u) + 4)
				cmt++;
			epb++;
		} else {
			bad++;
		}
		off += len;
	}
	ok(shb == 1 && idb == 2 && epb == 4 && !bad && off == n,
	   "blocks: 1 SHB, 2 IDB, 4 EPB, lengths consistent (%d %d %d, bad %d, %zu/%zu bytes)",
	   shb, idb, epb, bad, off, n);
	ok(ts_ok == 2 && cmt == 3, "EPB fields: timestamp, cap/orig lengths, 3 with options");
}

static void readers(void)
{
	char cmd[256], *out;
	int lines = 0;

	if (!have("tcpdump") || !have("tshark")) {
		if (getenv("CI") && *getenv("CI")) {
			ok(0, "tcpdump and tshark are needed (scripts/deps.sh installs them)");
			return;
		}
		tap_skip("tcpdump/tshark not installed (scripts/deps.sh)");
		return;
	}
	snprintf(cmd, sizeof(cmd), "tcpdump -r %s -nn -tt --time-stamp-precision=nano 2>/dev/null",
		 path);
	out = capture(cmd);
	if (ok(out != NULL, "tcpdump -r reads the file")) {
		for (char *s = out; *s; s++)
			lines += *s == '\n';
		diag_lines(out);
		ok(lines == 4, "tcpdump: 4 packets (%d)", lines);
		ok(strstr(out, "1700000000.123456789 IP 198.18.0.1.4000 > 198.18.0.11.53: ") &&
		   strstr(out, "1700000000.123457789 IP 198.18.0.1.4000 > 198.18.0.11.80: Flags [S]") &&
		   strstr(out, "1700000000.123458790 IP6 fd00::1.4000 > fd00::2.53: "),
		   "tcpdump: the packets with their nanosecond timestamps");
	}
	free(out);
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -E separator='|' -e frame.interface_name "
		 "-e frame.interface_description -e frame.cap_len -e frame.len -e frame.comment "
		 "2>/dev/null", path);
	out = capture(cmd);
	if (ok(out != NULL, "tshark -r reads the file")) {
		diag_lines(out);
		ok(strstr(out, "veth0|ifindex 3 netns 4026531840|62|62|XDP_DROP lb drop_no_backend\n") &&
		   strstr(out, "eth0|ifindex 3 netns 4026532001|60|") &&
		   strstr(out, "|kfree_skb NETFILTER_DROP\n") &&
		   strstr(out, "|TCP_RESET\n") && strstr(out, "veth0|ifindex 3 netns 4026531840|62|62|\n"),
		   "tshark: interface names, lengths and verdict comments");
	}
	free(out);
}

int main(void)
{
	struct pcapng *p;
	__u64 now, real;
	struct timespec ts;
	int fd;

	snprintf(path, sizeof(path), "/tmp/bpflab-pcapng-XXXXXX");
	fd = mkstemp(path);
	if (!ok(fd >= 0, "temporary file"))
		return tap_done();
	close(fd);
	write_file();
	walk();
	readers();

	errno = 0;
	p = pcapng_open("/nonexistent-dir/x.pcapng");
	ok(!p && errno == ENOENT, "open in a missing folder fails with ENOENT");
	p = pcapng_open(path);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	real = p ? pcapng_realtime_ns(p, now) : 0;
	ok(p && (__s64)(real - (__u64)time(NULL) * 1000000000ull) < 2000000000ll &&
	   (__s64)(real - (__u64)time(NULL) * 1000000000ull) > -2000000000ll,
	   "monotonic to realtime within a second or two of time()");
	pcapng_close(p);
	unlink(path);
	return tap_done();
}
