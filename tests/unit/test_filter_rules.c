// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The rule-file parser and compiler, no BPF: every refusal names FILE:LINE, and the
 * compiled tables say what the rules say (checked by walking them as the program does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "tap.h"
#include "filter_rules.h"

static int parse(const char *text, char *err, size_t len)
{
	struct fr_set s;
	int e = fr_parse("r.rules", text, &s, err, len);

	if (!e)
		fr_set_free(&s);
	return e;
}

static void refuses(const char *text, const char *want)
{
	char err[512] = "";
	int e = parse(text, err, sizeof(err));

	ok(e && strstr(err, want), "refused with: %s", want);
	if (!e || !strstr(err, want))
		tap_diag("got: %s", err);
}

/* The class of an IPv4 address as filter.bpf.c finds it. */
static int v4_cls(const struct fr_tables *t, int d, __u32 a)
{
	const struct filter_l1 *e = &t->l1[d][a >> 16];
	__u32 lo = 0, hi = e->n;

	if (!e->n)
		return e->cls;
	while (hi - lo > 1) {
		__u32 mid = (lo + hi) / 2;
		if (t->bounds[d][e->base + mid].start <= (a & 0xffff))
			lo = mid;
		else
			hi = mid;
	}
	return t->bounds[d][e->base + lo].cls;
}

/* The same through the second level, as filter.bpf.c walks it: -1 when the /16 has no
 * block. */
static int v4_cls_l2(const struct fr_tables *t, int d, __u32 a)
{
	const struct filter_l1 *e = &t->l1[d][a >> 16];
	__u32 v, lo = 0, hi, base;

	if (!e->n)
		return e->cls;
	if (e->cls == FILTER_NO_L2 || e->cls >= t->nl2[d])
		return -1;
	v = t->l2[d][e->cls * 256 + (a >> 8 & 255)];
	if (!(v & FILTER_L2_SPLIT))
		return v & 0xffff;
	hi = v >> FILTER_L2_NSHIFT & 0x1ff;
	base = v & (FILTER_MAX_BOUNDS - 1);
	while (hi - lo > 1) {
		__u32 mid = (lo + hi) / 2;
		if (t->bounds[d][base + mid].start <= (a & 0xffff))
			lo = mid;
		else
			hi = mid;
	}
	return t->bounds[d][base + lo].cls;
}

static bool has(const struct filter_bits *b, int bit)
{
	return b->w[bit / 64] >> (bit % 64) & 1;
}

int main(void)
{
	char err[512];
	struct fr_set s;
	struct fr_tables *t = calloc(1, sizeof(*t));

	/* The examples, each at its line. */
	refuses("10 deny src 1.2.3.4/33\n", "r.rules:1: '1.2.3.4/33': the prefix length must be 0-32");
	refuses("# x\n10 deny src 010.0.0.1\n", "r.rules:2: '010.0.0.1' is not an IPv4 address");
	refuses("10 deny proto tcp dport 80-70\n", "r.rules:1: dport range 80-70 is backwards");
	refuses("10 drop src 1.2.3.4\n", "r.rules:1: unknown action 'drop'");
	refuses("10 deny src 1.2.3.4\n\n10 allow proto udp\n",
		"r.rules:3: duplicate priority 10 (already at line 1)");
	/* and the others */
	refuses("10 deny src 10.0.0.1/8\n", "host bits set (did you mean 10.0.0.0/8?)");
	refuses("10 deny src 2001:db8::/129\n", "prefix length must be 0-128");
	refuses("10 deny src 1.2.3\n", "not an IPv4 address");
	refuses("10 deny dport 65536\n", "ports are 0-65535");
	refuses("10 limit src 1.2.3.4\n", "needs 'rate N UNIT'");
	refuses("10 deny rate 5pps\n", "for limit rules only");
	refuses("10 limit rate 5furlongs\n", "rate '5furlongs'");
	refuses("10 deny proto udp flags syn\n", "flags match TCP only");
	refuses("10 deny proto tcp icmp-type 8\n", "icmp-type needs proto icmp");
	refuses("10 deny proto icmp dport 80\n", "ports need proto tcp or udp");
	refuses("10 deny src 1.2.3.4 dst 2001:db8::1\n", "can never match");
	refuses("10 deny src 1.2.3.4 src 1.2.3.5\n", "'src' given twice");
	refuses("10 deny flavour vanilla\n", "unknown word 'flavour'");
	refuses("0 deny\n", "priority 1-65535");
	refuses("default maybe\n", "default allow|deny");
	refuses("10 deny src @/nonexistent/list\n", "cannot read the list");
	refuses("10 deny flags syn,fun\n", "unknown TCP flag 'fun'");

	ok(!parse("", err, sizeof(err)), "empty file is a valid (empty) rule set");
	ok(!parse("  # only a comment\n\n", err, sizeof(err)), "comments and blank lines");

	/* A block list file next to the rules. */
	{
		char dir[] = "/tmp/bpflab-fr-XXXXXX", path[128], rules[160];
		FILE *f;
		ok(mkdtemp(dir) != NULL, "temp dir");
		snprintf(path, sizeof(path), "%s/drop.netset", dir);
		f = fopen(path, "w");
		fprintf(f, "; Spamhaus style\n192.0.2.0/24 ; SBL1\n198.51.100.7\n# c\n\n2001:db8:dead::/48\n");
		fclose(f);
		snprintf(rules, sizeof(rules), "%s/x.rules", dir);
		ok(!fr_parse(rules, "5 deny src @drop.netset\n", &s, err, sizeof(err)),
		   "list relative to the rule file: %s", err);
		is_int(s.n, 1, "one rule");
		is_int(s.rules[0].src.n, 3, "three prefixes from the list");
		is_int(s.prefixes, 3, "counted");
		fr_set_free(&s);
		f = fopen(path, "a");
		fprintf(f, "10.0.0.300\n");
		fclose(f);
		snprintf(rules, sizeof(rules), "%s/x.rules", dir);
		ok(fr_parse(rules, "5 deny src @drop.netset\n", &s, err, sizeof(err)) &&
		   strstr(err, "drop.netset:7: '10.0.0.300' is not an IPv4 address"),
		   "a bad list line names the list's line: %s", err);
		unlink(path);
		rmdir(dir);
	}

	/* Compilation: priorities give the bit order, nesting folds into classes. */
	ok(!fr_parse("r", "default deny\n"
		     "20 deny src 10.1.0.0/16\n"
		     "10 allow src 10.1.2.0/24 proto tcp dport 80,443\n"
		     "allowlist 10.1.2.3\n"
		     "30 limit src 10.0.0.0/8 rate 10kpps\n"
		     "40 deny proto icmp icmp-type 8/0\n"
		     "50 deny src 2001:db8::/32\n"
		     "60 deny src 2001:db8:1::/48 proto tcp flags syn,!ack\n", &s, err, sizeof(err)),
	   "parses: %s", err);
	ok(!fr_compile(&s, t, err, sizeof(err)), "compiles: %s", err);
	is_int(t->nrules, 7, "7 rules");
	is_int(t->rules[0].prio, 0, "bit 0: the allow-list");
	is_int(t->rules[1].prio, 10, "bit 1: priority 10");
	is_int(t->rules[2].prio, 20, "bit 2: priority 20");
	is_int(t->gen.default_action, FA_DENY, "default deny");
	is_int(t->rules[3].burst, 1000, "limit burst defaults to a tenth of a second");
	{
		const struct filter_bits *b = &t->addr[0].b[v4_cls(t, 0, 0x0a010203)];
		ok(has(b, 0) && has(b, 1) && has(b, 2) && has(b, 3), "10.1.2.3: allow-list, 10, 20, 30");
		b = &t->addr[0].b[v4_cls(t, 0, 0x0a010204)];
		ok(!has(b, 0) && has(b, 1) && has(b, 2) && has(b, 3), "10.1.2.4: 10, 20, 30");
		b = &t->addr[0].b[v4_cls(t, 0, 0x0a020000)];
		ok(!has(b, 1) && !has(b, 2) && has(b, 3), "10.2.0.0: only 30");
		ok(has(b, 4), "rules without src are in every class (40)");
		b = &t->addr[0].b[v4_cls(t, 0, 0x0b000000)];
		ok(!has(b, 3) && has(b, 4), "11.0.0.0: only rules without src");
		is_int(t->nv6[0], 2, "two IPv6 prefixes");
		ok(has(&t->addr[0].b[t->v6[0][1].cls], 5) && has(&t->addr[0].b[t->v6[0][1].cls], 6),
		   "the /48 holds its /32's rule too");
		ok(has(&t->port[1].b[t->port_map[1][443]], 1) && !has(&t->port[1].b[t->port_map[1][444]], 1),
		   "dport 443 yes, 444 no");
		ok(!has(&t->port[1].b[t->port_map[1][FILTER_NOPORT]], 1) &&
		   has(&t->port[1].b[t->port_map[1][FILTER_NOPORT]], 2), "no port: only rules without ports");
		ok(has(&t->extra.b[t->extra_map[FILTER_EXTRA_ICMP + (8 << 8)]], 4) &&
		   !has(&t->extra.b[t->extra_map[FILTER_EXTRA_ICMP + (8 << 8) + 1]], 4), "icmp 8/0 yes, 8/1 no");
		ok(has(&t->extra.b[t->extra_map[0x02]], 6) && !has(&t->extra.b[t->extra_map[0x12]], 6),
		   "SYN yes, SYN-ACK no");
		ok(has(&t->proto[6], 1) && !has(&t->proto[17], 1) && has(&t->proto[17], 2), "protocols");
	}
	fr_tables_free(t);
	fr_set_free(&s);

	/* The second IPv4 level gives every address the class the whole /16's search gives:
	 * /24s of one class, /24s split by /32s and /28s, a /16 ending in a /17. */
	ok(!fr_parse("l2", "10 deny src 10.1.2.3,10.1.2.16/28,10.1.7.0/24,10.1.128.0/17\n"
		     "20 deny dst 10.1.2.0/23,10.1.2.255 src 10.1.0.0/16\n"
		     "30 deny src 192.0.2.0/25\n", &s, err, sizeof(err)), "parses: %s", err);
	ok(!fr_compile(&s, t, err, sizeof(err)), "compiles: %s", err);
	is_int(t->nl2[0], 2, "two split source /16s, two blocks");
	is_int(t->nl2[1], 1, "one split destination /16, one block");
	for (int d = 0; d < 2; d++) {
		int bad = 0, checked = 0;
		for (__u32 hi = 0; hi < 2; hi++)
			for (__u32 lo = 0; lo < 65536; lo++) {
				__u32 a = (hi ? 0xc0000000 : 0x0a010000) | lo;
				int c = v4_cls_l2(t, d, a);
				if (c < 0)
					continue;
				checked++;
				if (c != v4_cls(t, d, a) && bad++ < 3)
					tap_diag("dir %d %08x: level 2 %d, search %d", d, a, c, v4_cls(t, d, a));
			}
		ok(!bad && checked, "dir %d: %d addresses, level 2 = search", d, checked);
	}
	fr_tables_free(t);
	fr_set_free(&s);

	/* 1,025 rules: one too many. */
	{
		size_t cap = 1 << 16, len = 0;
		char *text = malloc(cap);
		for (int i = 1; i <= 1025; i++)
			len += snprintf(text + len, cap - len, "%d deny dport %d\n", i, i);
		ok(fr_parse("big", text, &s, err, sizeof(err)) == -E2BIG && strstr(err, "at most 1024"),
		   "1,025 rules refused: %s", err);
		free(text);
	}
	free(t);
	return tap_done();
}
