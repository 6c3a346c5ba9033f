// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of the shared library: no root, no BPF. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "json.h"
#include "term.h"
#include "pkt.h"
#include "addr.h"
#include "lab.h"

static char *json_of(void (*fn)(struct json *j, const void *arg), const void *arg)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json j;

	json_init(&j, f);
	fn(&j, arg);
	fclose(f);
	return buf;
}

static void emit_bytes(struct json *j, const void *arg)
{
	json_obj_begin(j);
	json_key(j, "s");
	json_strn(j, arg, strlen(arg));
	json_kint(j, "n", -3);
	json_key(j, "a");
	json_arr_begin(j);
	json_uint(j, 1);
	json_bool(j, true);
	json_null(j);
	json_arr_end(j);
	json_obj_end(j);
}

static void test_json(void)
{
	is_str(json_of(emit_bytes, "plain"), "{\"s\":\"plain\",\"n\":-3,\"a\":[1,true,null]}",
	       "json: object, array, commas");
	is_str(json_of(emit_bytes, "q\"b\\n\n\t\x1b[31m"),
	       "{\"s\":\"q\\\"b\\\\n\\n\\t\\u001b[31m\",\"n\":-3,\"a\":[1,true,null]}",
	       "json: quotes, backslash, control characters escaped");
	is_str(json_of(emit_bytes, "caf\xc3\xa9 \xff\xfe"),
	       "{\"s\":\"caf\xc3\xa9 \\\\xff\\\\xfe\",\"n\":-3,\"a\":[1,true,null]}",
	       "json: UTF-8 kept, invalid bytes become the text \\xNN");
	is_str(json_of(emit_bytes, "\xed\xa0\x80\xc0\xaf"),
	       "{\"s\":\"\\\\xed\\\\xa0\\\\x80\\\\xc0\\\\xaf\",\"n\":-3,\"a\":[1,true,null]}",
	       "json: surrogates and overlong forms are not UTF-8");
}

static void test_escape(void)
{
	char out[64];

	escape_for_terminal("a\x1b]0;x\x07 b\\", 10, out, sizeof(out));
	is_str(out, "a\\x1b]0;x\\x07 b\\\\", "terminal: ESC and BEL escaped, backslash doubled");
	escape_for_terminal("\xc2\x9b" "1m", 4, out, sizeof(out));
	is_str(out, "\\u009b1m", "terminal: C1 control CSI escaped");
	escape_for_terminal("\xff", 1, out, sizeof(out));
	is_str(out, "\\xff", "terminal: invalid UTF-8 escaped");
	escape_for_terminal("abcdefgh", 8, out, 5);
	is_str(out, "abcd", "terminal: output bounded by its buffer");
}

static void test_numbers(void)
{
	uint64_t v = 0;
	double d = 0;

	ok(!parse_u64("42", 0, 100, &v) && v == 42, "parse_u64 42");
	ok(parse_u64("42x", 0, 100, &v) == -EINVAL, "parse_u64 rejects trailing junk");
	ok(parse_u64("-1", 0, 100, &v) == -EINVAL, "parse_u64 rejects negative");
	ok(parse_u64("101", 0, 100, &v) == -EINVAL, "parse_u64 rejects out of range");
	ok(parse_u64("", 0, 100, &v) == -EINVAL, "parse_u64 rejects empty");
	ok(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v) == -EINVAL, "parse_u64 rejects overflow");
	ok(!parse_duration("1.5", &d) && d == 1.5, "duration 1.5");
	ok(!parse_duration("0", &d) && d == 0, "duration 0");
	ok(!parse_duration("0.25", &d) && d == 0.25, "duration 0.25");
	ok(!parse_duration("3.", &d) && d == 3, "duration 3.");
	ok(parse_duration("-1", &d) == -EINVAL, "duration rejects negative");
	ok(parse_duration("nan", &d) == -EINVAL, "duration rejects nan");
	ok(parse_duration("5h", &d) == -EINVAL, "duration rejects unknown unit");
	/* Only DIGITS[.DIGITS]: strtod's other spellings are refused. */
	{
		static const char *bad[] = { "2m", "1s", "1e-300", "1e3", "0x10", "0x1p3", "+1", " 1",
					     "1 ", ".", "", "inf", "1..2", "9999999999", "31536001" };
		int refused = 0;
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			refused += parse_duration(bad[i], &d) == -EINVAL;
		is_int(refused, (int)ARRAY_SIZE(bad), "duration refuses units, exponents, hex, signs, spaces");
	}
	ok(parse_seconds("0.005", 0.01, 10, &d) == -EINVAL, "seconds below the minimum refused");
	ok(!parse_seconds("0.01", 0.01, 10, &d) && d == 0.01, "seconds at the minimum taken");
	ok(parse_u64("0x10", 0, 100, &v) == -EINVAL, "parse_u64 rejects hex");
	ok(parse_u64("+5", 0, 100, &v) == -EINVAL, "parse_u64 rejects a sign");
	ok(parse_u64(" 5", 0, 100, &v) == -EINVAL, "parse_u64 rejects a space");
	ok(!parse_u64("18446744073709551615", 0, UINT64_MAX, &v) && v == UINT64_MAX, "parse_u64 max");
	ok(parse_u64("18446744073709551616", 0, UINT64_MAX, &v) == -EINVAL, "parse_u64 max + 1");
	ok(!parse_size("1G", 0, 1ULL << 30, &v) && v == 1ULL << 30, "size 1G");
	ok(!parse_size("256K", 0, 1ULL << 30, &v) && v == 256 << 10, "size 256K");
	ok(!parse_size("4096", 0, 1ULL << 30, &v) && v == 4096, "size 4096");
	ok(parse_size("2G", 0, 1ULL << 30, &v) == -EINVAL, "size above max refused");
	ok(parse_size("1g", 0, 1ULL << 30, &v) == -EINVAL, "size: lower-case suffix refused");
	ok(parse_size("1.5M", 0, 1ULL << 30, &v) == -EINVAL, "size: fractions refused");
	ok(parse_size("K", 0, 1ULL << 30, &v) == -EINVAL, "size: a suffix alone refused");
	ok(parse_size("17179869184G", 0, UINT64_MAX, &v) == -EINVAL, "size: overflow by the suffix refused");
}

static void test_ifnames(void)
{
	FILE *saved = stderr;

	stderr = fopen("/dev/null", "w");
	ok(!iface_check_name("eth0"), "ifname eth0 ok");
	ok(!iface_check_name("p-backend-a"), "ifname with dash ok");
	ok(iface_check_name("0123456789abcdef") == -EINVAL, "ifname of 16 characters rejected");
	ok(iface_check_name("../x") == -EINVAL, "ifname ../x rejected");
	ok(iface_check_name("") == -EINVAL, "empty ifname rejected");
	ok(iface_check_name("a b") == -EINVAL, "ifname with space rejected");
	ok(iface_check_name("..") == -EINVAL, "ifname .. rejected");
	fclose(stderr);
	stderr = saved;
}

static void test_addresses(void)
{
	struct in_addr a4;
	uint16_t port;

	ok(!parse_ipv4("198.18.0.1", &a4), "ipv4 ok");
	ok(parse_ipv4("010.0.0.1", &a4) == -EINVAL, "ipv4 010.0.0.1 rejected (octal ambiguity)");
	ok(parse_ipv4("1.2.3", &a4) == -EINVAL, "ipv4 1.2.3 rejected");
	ok(parse_ipv4("1.2.3.256", &a4) == -EINVAL, "ipv4 1.2.3.256 rejected");
	ok(parse_ipv4("1.2.3.4 ", &a4) == -EINVAL, "ipv4 trailing space rejected");
	ok(!parse_port("80", &port) && port == 80, "port 80");
	ok(parse_port("0", &port) == -EINVAL, "port 0 rejected");
	ok(parse_port("65536", &port) == -EINVAL, "port 65536 rejected");
	ok(parse_port("80x", &port) == -EINVAL, "port 80x rejected");
	ok(parse_port("080", &port) == -EINVAL, "port 080 rejected");
	ok(!parse_port("65535", &port) && port == 65535, "port 65535");
}

static void test_csum(void)
{
	/* RFC 1071's example: words 0001 f203 f4f5 f6f7 sum to 0xddf2 (before complement). */
	static const uint8_t v[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t buf[PKT_MAX];
	struct pkt_spec s;
	size_t n;

	is_int(csum_partial(v, sizeof(v), 0), 0xddf2, "csum: RFC 1071 example");
	is_int(csum_fold(0xddf2), 0x220d, "csum: fold complements");
	is_int(csum_partial("\x01", 1, 0), 0x0100, "csum: odd length pads with zero");
	pkt_spec_default(&s);
	n = pkt_build(&s, buf);
	is_int(n, 14 + 20 + 8, "pkt: ICMP echo length");
	ok(pkt_checksums_ok(buf, n), "pkt: built ICMP echo has valid checksums");
	buf[14 + 20 + 8 - 1] ^= 1;
	ok(!pkt_checksums_ok(buf, n), "pkt: a flipped bit is caught");
	s.family = AF_INET6;
	s.proto = IPPROTO_TCP;
	s.vlan[0] = 100;
	s.vlan[1] = 200;
	n = pkt_build(&s, buf);
	ok(pkt_checksums_ok(buf, n), "pkt: QinQ IPv6 TCP has valid checksums");
	is_int(buf[12] << 8 | buf[13], 0x88a8, "pkt: QinQ outer tag is 802.1ad");
}

static void test_lab_plan(void)
{
	struct lab lab;

	ok(!lab_plan(&lab, "bpflab", 2), "lab plan default");
	is_int(lab.nnodes, 4, "lab: client, lb, 2 backends");
	is_str(lab.nodes[2].netns, "bpflab-backend-a", "lab: backend-a netns");
	is_str(lab.nodes[3].ip4, "198.18.0.12", "lab: backend-b address");
	is_str(lab.nodes[3].ip6, "2001:db8:18::c", "lab: backend-b v6 address");
	is_str(lab.nodes[0].mac, "02:00:c6:12:00:01", "lab: stable client MAC");
	ok(lab_find_node(&lab, "B") == &lab.nodes[3], "lab: node B is backend-b");
	ok(lab_find_node(&lab, "nope") == NULL, "lab: unknown node");
	ok(lab_plan(&lab, "Bad_Name", 2) == -EINVAL, "lab: bad name rejected");
	ok(lab_plan(&lab, "abcdefghijklm", 2) == -EINVAL, "lab: 13-character name rejected");
	ok(lab_plan(&lab, "x", 17) == -EINVAL, "lab: 17 backends rejected");
	ok(lab_plan(&lab, "-x", 1) == -EINVAL, "lab: leading dash rejected");
}

int main(void)
{
	test_json();
	test_escape();
	test_numbers();
	test_ifnames();
	test_addresses();
	test_csum();
	test_lab_plan();
	return tap_done();
}
