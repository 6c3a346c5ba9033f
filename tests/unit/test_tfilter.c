// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The trace filter: what it accepts, what it refuses and where, what it means, and a
 * differential test: random filters (generated as text, with the generator's own model of
 * their meaning) x random packets, evaluated three ways that must agree: the model, the
 * parse tree (tfilter_tree_eval) and the compiled program (tfilter_eval, the code the BPF
 * side runs). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tap.h"
#include "pkt.h"
#include "tfilter.h"

static int fake_resolver(const char *name, __u32 *inode)
{
	if (!strcmp(name, "lab-a")) {
		*inode = 4026531840u;
		return 0;
	}
	if (!strcmp(name, "lab-b")) {
		*inode = 4026532000u;
		return 0;
	}
	return -ENOENT;
}

static void accepts(const char *text, int tests)
{
	struct tf_prog p;
	struct tf_error e;
	int r = tfilter_compile(text, &p, &e, fake_resolver);

	ok(r == 0 && (int)p.n == tests, "accepts '%s' (%d tests)", text, tests);
	if (r)
		printf("#   error at %d: %s\n", e.pos, e.msg);
	else if ((int)p.n != tests)
		printf("#   got %u tests\n", p.n);
}

static void refuses(const char *text, int pos, const char *needle)
{
	struct tf_prog p;
	struct tf_error e;
	int r = tfilter_compile(text, &p, &e, fake_resolver);

	ok(r == -EINVAL && e.pos == pos && strstr(e.msg, needle),
	   "refuses '%s' at %d (%s)", text, pos, needle);
	if (r != -EINVAL || e.pos != pos || !strstr(e.msg, needle))
		printf("#   got r=%d pos=%d msg='%s'\n", r, e.pos, e.msg);
}

static struct tf_pkt pkt4(const char *s, const char *d, int proto, int sp, int dp)
{
	struct tf_pkt p = { .family = 4, .proto = proto };

	inet_pton(AF_INET, s, &p.saddr[0]);
	inet_pton(AF_INET, d, &p.daddr[0]);
	if (proto == 6 || proto == 17) {
		p.has_ports = 1;
		p.sport = sp;
		p.dport = dp;
	}
	return p;
}

static struct tf_pkt pkt6(const char *s, const char *d, int proto, int sp, int dp)
{
	struct tf_pkt p = { .family = 6, .proto = proto };

	inet_pton(AF_INET6, s, p.saddr);
	inet_pton(AF_INET6, d, p.daddr);
	if (proto == 6 || proto == 17) {
		p.has_ports = 1;
		p.sport = sp;
		p.dport = dp;
	}
	return p;
}

static void means(const char *text, const struct tf_pkt *p, int want, const char *what)
{
	struct tf_tree *tree = calloc(1, sizeof(*tree));
	struct tf_prog prog;
	struct tf_error e;
	int r = tfilter_parse(text, tree, &e, fake_resolver);

	if (!r)
		r = tfilter_compile_tree(tree, &prog);
	ok(r == 0 && tfilter_eval(&prog, p) == want && tfilter_tree_eval(tree, p) == want,
	   "'%s' %s %s", text, want ? "matches" : "does not match", what);
	free(tree);
}

static void test_perror(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tf_prog p;
	struct tf_error e;
	const char *text = "tcp and port 70000";

	tfilter_compile(text, &p, &e, fake_resolver);
	tfilter_perror(f, text, &e);
	fclose(f);
	ok(buf && strstr(buf, "bad filter: '70000' is not a port") &&
	   strstr(buf, "(column 14)\n  tcp and port 70000\n               ^\n"),
	   "perror shows the text with a caret under the error");
	if (buf)
		printf("# %s", buf);
	free(buf);
}

static void test_frame(void)
{
	struct pkt_spec s;
	uint8_t buf[PKT_MAX];
	struct tf_pkt p;
	size_t n;

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	s.sport = 5353;
	s.dport = 53;
	s.vlan[0] = 7;
	n = pkt_build(&s, buf);
	ok(tfilter_pkt_from_frame(buf, n, &p) == 0 && p.family == 4 && p.proto == 17 &&
	   p.has_ports && p.sport == 5353 && p.dport == 53 && p.saddr[0] == s.src4.s_addr &&
	   p.daddr[0] == s.dst4.s_addr, "frame -> tf_pkt: VLAN-tagged IPv4 UDP");
	ok(tfilter_pkt_from_ip(buf + 18, n - 18, &p) == 0 && p.family == 4 && p.dport == 53,
	   "ip -> tf_pkt: the same from the IP header");

	pkt_spec_default(&s);
	s.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::1", &s.src6);
	inet_pton(AF_INET6, "fd00::2", &s.dst6);
	s.proto = IPPROTO_TCP;
	s.sport = 40000;
	s.dport = 443;
	n = pkt_build(&s, buf);
	ok(tfilter_pkt_from_frame(buf, n, &p) == 0 && p.family == 6 && p.proto == 6 &&
	   p.has_ports && p.dport == 443 && !memcmp(p.daddr, &s.dst6, 16),
	   "frame -> tf_pkt: IPv6 TCP");

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	s.frag_off = 100; /* a later fragment: no ports */
	n = pkt_build(&s, buf);
	ok(tfilter_pkt_from_frame(buf, n, &p) == 0 && p.family == 4 && !p.has_ports,
	   "frame -> tf_pkt: a later fragment has no ports");
	ok(tfilter_pkt_from_frame(buf, 20, &p) == -EINVAL && p.family == 0,
	   "frame -> tf_pkt: a truncated frame is refused");
}

/* ---- the differential test ---- */

/* The generator's own model of a filter: an expression over the same leaves. */
enum { G_LEAF, G_AND, G_OR, G_NOT };
struct gnode {
	int kind;
	struct gnode *l, *r;
	/* leaf */
	enum { L_FAMILY, L_PROTO, L_ADDR, L_PORT, L_DEV, L_NETNS } what;
	int dir;           /* 1 src, 2 dst, 3 any */
	int family, proto, plen;
	uint8_t addr[16];
	int lo, hi;
	int l4;            /* PORT with a tcp/udp qualifier: proto 6/17, else 0 */
	char dev[16];
	uint32_t netns;
};

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Small pools, so that random packets often hit and often miss. */
static const char *pool4[] = { "10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.1",
			       "0.0.0.0", "255.255.255.255" };
static const char *pool6[] = { "fd00::1", "fd00::2", "fd00:1::1", "::1", "2001:db8::5",
			       "::" };
static const int ports[] = { 0, 22, 53, 80, 443, 8080, 65535 };
static const char *devs[] = { "eth0", "veth-a", "lo", "br0" };
static const uint32_t nss[] = { 4026531840u, 4026532000u, 12345 };

static void pick_addr(int fam, uint8_t *a)
{
	memset(a, 0, 16);
	if (fam == 4)
		inet_pton(AF_INET, pool4[rnd() % 6], a);
	else
		inet_pton(AF_INET6, pool6[rnd() % 6], a);
	/* Sometimes a neighbour of a pool address: differs in one random bit. */
	if (rnd() % 4 == 0) {
		int bit = rnd() % (fam == 4 ? 32 : 128);
		a[bit / 8] ^= 0x80 >> (bit % 8);
	}
}

static void mask_to(uint8_t *a, int plen, int bytes)
{
	for (int bit = plen; bit < bytes * 8; bit++)
		a[bit / 8] &= ~(0x80 >> (bit % 8));
}

static int gen_port(void)
{
	return rnd() % 3 ? ports[rnd() % 7] : (int)(rnd() % 65536);
}

static struct gnode *gen(int depth, int *leaves, char *out, size_t cap)
{
	struct gnode *n = calloc(1, sizeof(*n));
	static const char *dirw[] = { "", "src ", "dst ", "" };
	char a[64];
	int k = depth > 3 || *leaves >= 12 ? 0 : rnd() % 6;

	if (k >= 3 && k <= 4) {
		/* Parenthesised: the text's left-to-right grouping then is the tree's. */
		char l[2048], r[2048];
		n->kind = k == 3 ? G_AND : G_OR;
		n->l = gen(depth + 1, leaves, l, sizeof(l));
		n->r = gen(depth + 1, leaves, r, sizeof(r));
		static const char *andw[] = { "and", "&&" }, *orw[] = { "or", "||" };
		snprintf(out, cap, "(%s %s %s)", l, n->kind == G_AND ? andw[rnd() % 2] :
			 orw[rnd() % 2], r);
		return n;
	}
	if (k == 5) {
		char l[2048];
		n->kind = G_NOT;
		n->l = gen(depth + 1, leaves, l, sizeof(l));
		snprintf(out, cap, "%s%s", rnd() % 2 ? "not " : "!", l);
		return n;
	}
	n->kind = G_LEAF;
	(*leaves)++;
	n->dir = 1 + rnd() % 3;
	switch (rnd() % 9) {
	case 0:
		n->what = L_FAMILY;
		n->family = rnd() % 2 ? 4 : 6;
		snprintf(out, cap, n->family == 4 ? "ip" : "ip6");
		break;
	case 1: {
		static const char *w[] = { "tcp", "udp", "icmp", "icmp6" };
		static const int pr[] = { 6, 17, 1, 58 }, fam[] = { 0, 0, 4, 6 };
		int i = rnd() % 4;
		n->what = L_PROTO;
		n->proto = pr[i];
		n->family = fam[i];
		snprintf(out, cap, "%s", w[i]);
		break;
	}
	case 2: case 3:
		n->what = L_ADDR;
		n->family = rnd() % 2 ? 4 : 6;
		pick_addr(n->family, n->addr);
		if (rnd() % 2) {
			n->plen = n->family == 4 ? 32 : 128;
			inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->addr, a, sizeof(a));
			snprintf(out, cap, "%shost %s", dirw[n->dir], a);
		} else {
			n->plen = rnd() % (n->family == 4 ? 33 : 129);
			mask_to(n->addr, n->plen, n->family == 4 ? 4 : 16);
			inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->addr, a, sizeof(a));
			snprintf(out, cap, "%snet %s/%d", dirw[n->dir], a, n->plen);
		}
		break;
	case 4: case 5:
		n->what = L_PORT;
		n->lo = gen_port();
		n->l4 = rnd() % 3 == 0 ? (rnd() % 2 ? 6 : 17) : 0;
		if (rnd() % 3 == 0) {
			n->hi = gen_port();
			if (n->hi < n->lo) {
				int t = n->lo; n->lo = n->hi; n->hi = t;
			}
			snprintf(out, cap, "%s%sportrange %d-%d", n->l4 ? (n->l4 == 6 ? "tcp " : "udp ") : "",
				 dirw[n->dir], n->lo, n->hi);
		} else {
			n->hi = n->lo;
			snprintf(out, cap, "%s%sport %d", n->l4 ? (n->l4 == 6 ? "tcp " : "udp ") : "",
				 dirw[n->dir], n->lo);
		}
		if (n->l4)
			(*leaves)++;
		break;
	case 6: case 7:
		n->what = L_DEV;
		snprintf(n->dev, sizeof(n->dev), "%s", devs[rnd() % 4]);
		snprintf(out, cap, "dev %s", n->dev);
		break;
	default:
		n->what = L_NETNS;
		n->netns = nss[rnd() % 3];
		if (n->netns == 4026531840u && rnd() % 2)
			snprintf(out, cap, "netns lab-a");
		else if (n->netns == 4026532000u && rnd() % 2)
			snprintf(out, cap, "netns lab-b");
		else
			snprintf(out, cap, "netns %u", n->netns);
		break;
	}
	return n;
}

static int dir_hit(int dir, int s, int d)
{
	return dir == 1 ? s : dir == 2 ? d : (s || d);
}

static int model(const struct gnode *n, const struct tf_pkt *p)
{
	const uint8_t *sa = (const uint8_t *)p->saddr, *da = (const uint8_t *)p->daddr;
	int s, d, bytes;

	switch (n->kind) {
	case G_AND: return model(n->l, p) && model(n->r, p);
	case G_OR: return model(n->l, p) || model(n->r, p);
	case G_NOT: return !model(n->l, p);
	}
	switch (n->what) {
	case L_FAMILY:
		return p->family == n->family;
	case L_PROTO:
		return (p->family == 4 || p->family == 6) && p->proto == n->proto &&
		       (!n->family || n->family == p->family);
	case L_ADDR: {
		uint8_t ms[16], md[16];
		if (p->family != n->family)
			return 0;
		bytes = n->family == 4 ? 4 : 16;
		memcpy(ms, sa, 16);
		memcpy(md, da, 16);
		mask_to(ms, n->plen, bytes);
		mask_to(md, n->plen, bytes);
		s = !memcmp(ms, n->addr, bytes);
		d = !memcmp(md, n->addr, bytes);
		return dir_hit(n->dir, s, d);
	}
	case L_PORT:
		if (n->l4 && !((p->family == 4 || p->family == 6) && p->proto == n->l4))
			return 0;
		if (!p->has_ports)
			return 0;
		s = p->sport >= n->lo && p->sport <= n->hi;
		d = p->dport >= n->lo && p->dport <= n->hi;
		return dir_hit(n->dir, s, d);
	case L_DEV:
		return !strcmp(p->ifname, n->dev);
	case L_NETNS:
		return p->netns == n->netns;
	}
	return 0;
}

static void gfree(struct gnode *n)
{
	if (!n)
		return;
	gfree(n->l);
	gfree(n->r);
	free(n);
}

static void random_pkt(struct tf_pkt *p)
{
	memset(p, 0, sizeof(*p));
	switch (rnd() % 8) {
	case 0:
		return; /* not IP */
	case 1: case 2: case 3:
		p->family = 4;
		break;
	default:
		p->family = 6;
	}
	pick_addr(p->family, (uint8_t *)p->saddr);
	pick_addr(p->family, (uint8_t *)p->daddr);
	{
		static const int pr[] = { 6, 17, 1, 58, 132, 47 };
		p->proto = pr[rnd() % 6];
	}
	if ((p->proto == 6 || p->proto == 17 || p->proto == 132) && rnd() % 8) {
		p->has_ports = 1;
		p->sport = gen_port();
		p->dport = gen_port();
	}
	if (rnd() % 4)
		snprintf(p->ifname, sizeof(p->ifname), "%s", devs[rnd() % 4]);
	if (rnd() % 4)
		p->netns = nss[rnd() % 3];
}

static void differential(int nfilters, int npkts)
{
	struct tf_tree *tree = calloc(1, sizeof(*tree));
	long agree = 0, hits = 0, total = 0, bad = 0, maxn = 0;
	char text[4096];

	for (int f = 0; f < nfilters; f++) {
		int leaves = 0, ok_ = 1;
		struct gnode *g = gen(0, &leaves, text, sizeof(text));
		struct tf_prog prog;
		struct tf_error e;

		if (tfilter_parse(text, tree, &e, fake_resolver) ||
		    tfilter_compile_tree(tree, &prog)) {
			if (bad++ < 3)
				printf("# generated filter refused: '%s': %d %s\n", text, e.pos, e.msg);
			gfree(g);
			continue;
		}
		if ((long)prog.n > maxn)
			maxn = prog.n;
		for (__u32 i = 0; i < prog.n; i++)
			if (prog.t[i].jt <= i || prog.t[i].jf <= i ||
			    (prog.t[i].jt < TF_REJECT && prog.t[i].jt >= prog.n) ||
			    (prog.t[i].jf < TF_REJECT && prog.t[i].jf >= prog.n))
				ok_ = 0;
		if (!ok_ && bad++ < 3)
			printf("# backward or dangling jump in '%s'\n", text);
		for (int k = 0; k < npkts; k++) {
			struct tf_pkt p;
			int m, t, c;

			random_pkt(&p);
			m = model(g, &p);
			t = tfilter_tree_eval(tree, &p);
			c = tfilter_eval(&prog, &p);
			total++;
			hits += m;
			if (m == t && t == c) {
				agree++;
			} else if (bad++ < 5) {
				printf("# disagree on '%s': model %d tree %d compiled %d (fam %d proto %d "
				       "ports %d %u>%u dev %s ns %u)\n", text, m, t, c, p.family,
				       p.proto, p.has_ports, p.sport, p.dport, p.ifname, p.netns);
			}
		}
		gfree(g);
	}
	ok(bad == 0 && agree == total, "differential: %ld filters x packets agree three ways "
	   "(%ld of %ld matched, largest program %ld tests)", (long)nfilters, hits, total, maxn);
	/* A test that cannot fail is no test: both outcomes must be common. */
	ok(hits > total / 20 && hits < total - total / 20,
	   "differential: matches and misses both common (%ld / %ld)", hits, total);
	free(tree);
}

int main(void)
{
	struct tf_prog p;
	struct tf_error e;

	/* Accepted, with the number of tests each compiles to. */
	accepts("", 0);
	accepts("   ", 0);
	accepts("host 10.0.0.1", 1);
	accepts("src host 10.0.0.1", 1);
	accepts("dst host fd00::1", 1);
	accepts("host ::ffff:10.0.0.1", 1);
	accepts("net 10.0.0.0/8", 1);
	accepts("net 0.0.0.0/0", 1);
	accepts("net fd00::/8", 1);
	accepts("src net 2001:db8::/32", 1);
	accepts("net 10.1.2.3", 1);
	accepts("port 53", 1);
	accepts("port 0", 1);
	accepts("port 65535", 1);
	accepts("src port 1024", 1);
	accepts("portrange 1000-2000", 1);
	accepts("dst portrange 80-80", 1);
	accepts("tcp", 1);
	accepts("udp port 53", 2);
	accepts("tcp dst port 443", 2);
	accepts("tcp portrange 1-1023", 2);
	accepts("icmp or icmp6", 2);
	accepts("ip and not ip6", 2);
	accepts("tcp and (port 80 or port 443)", 3);
	accepts("tcp&&(port 80||port 443)&&!host 10.0.0.1", 4);
	accepts("not not tcp", 1);
	accepts("((tcp))", 1);
	accepts("dev veth0", 1);
	accepts("dev eth0 and netns lab-a", 2);
	accepts("netns 4026531840", 1);

	/* Refused, with the error's position and a word of its message. */
	refuses("host 010.0.0.1", 5, "not an IPv4 address");
	refuses("host 10.0.0", 5, "not an IPv4 address");
	refuses("host 10.0.0.256", 5, "not an IPv4 address");
	refuses("host 1.2.3.4.5", 5, "not an IPv4 address");
	refuses("host 1.2.3.4/32", 5, "not a prefix");
	refuses("net 1.2.3.4/33", 12, "prefix length must be 0-32");
	refuses("net 1.2.3.0/024", 12, "prefix length");
	refuses("net fd00::/129", 11, "prefix length must be 0-128");
	refuses("net 10.0.0.1/8", 4, "bits set past the /8");
	refuses("host fd00:::1", 5, "not an IPv6 address");
	refuses("host fe80::1%eth0", 5, "scoped");
	refuses("port 70000", 5, "not a port");
	refuses("port 080", 5, "not a port");
	refuses("port -1", 5, "not a port");
	refuses("port http", 5, "not a port");
	refuses("tcp and port 70000", 13, "not a port");
	refuses("portrange 10-5", 10, "empty");
	refuses("portrange 10", 10, "A-B");
	refuses("portrange 1-70000", 12, "not a port");
	refuses("tcp port", 8, "expected a port number");
	refuses("host", 4, "expected an address");
	refuses("tcp and", 7, "unexpected end of filter after 'and'");
	refuses("and tcp", 0, "needs a test before it");
	refuses("tcp udp", 4, "expected 'and' or 'or'");
	refuses("(tcp", 4, "missing ')'");
	refuses("tcp)", 3, "unexpected ')'");
	refuses("()", 1, "empty parentheses");
	refuses("tcp & udp", 4, "did you mean '&&'");
	refuses("foo", 0, "not a filter primitive");
	refuses("src tcp", 4, "expected host, net, port or portrange after 'src'");
	refuses("tcp src host 10.0.0.1", 8, "expected port or portrange");
	refuses("dev", 3, "expected an interface name");
	refuses("dev a-very-long-interface-name", 4, "at most 15");
	refuses("netns nosuch", 6, "no network namespace 'nosuch'");
	refuses("netns 0", 6, "not a namespace inode");
	refuses("netns 99999999999", 6, "not a namespace inode");
	{
		char big[2048] = "tcp";
		for (int i = 0; i < TF_MAX_TESTS; i++)
			strcat(big, " or udp");
		refuses(big, (int)strlen(big) - 3, "more than 32 tests");
	}
	ok(tfilter_compile("host 10.0.0.1 or", &p, &e, NULL) == -EINVAL,
	   "compile refuses a dangling 'or' with the default resolver too");

	/* Meaning. */
	struct tf_pkt t80 = pkt4("10.0.0.1", "10.0.0.2", 6, 40000, 80);
	struct tf_pkt u53 = pkt4("10.0.0.2", "192.168.1.1", 17, 5353, 53);
	struct tf_pkt i4 = pkt4("10.0.0.1", "10.9.9.9", 1, 0, 0);
	struct tf_pkt t6 = pkt6("fd00::1", "fd00::2", 6, 443, 50000);
	struct tf_pkt i6 = pkt6("fd00::1", "fd00::2", 58, 0, 0);
	struct tf_pkt arp = { 0 };

	means("", &arp, 1, "a non-IP packet (empty filter)");
	means("tcp port 80", &t80, 1, "TCP to port 80");
	means("tcp port 80", &u53, 0, "UDP to port 53");
	means("udp dst port 53", &u53, 1, "UDP to port 53");
	means("udp src port 53", &u53, 0, "UDP from port 5353");
	means("port 53", &u53, 1, "UDP to 53 (either direction)");
	means("port 0", &i4, 0, "ICMP (no ports)");
	means("host 10.0.0.2", &t80, 1, "a packet to 10.0.0.2");
	means("src host 10.0.0.2", &t80, 0, "a packet from 10.0.0.1");
	means("net 10.0.0.0/24", &i4, 1, "10.0.0.1 -> 10.9.9.9");
	means("dst net 10.0.0.0/24", &i4, 0, "10.0.0.1 -> 10.9.9.9 (dst)");
	means("net 0.0.0.0/0", &t6, 0, "IPv6 (an IPv4 net)");
	means("net ::/0", &t6, 1, "IPv6 (::/0)");
	means("net fd00::/16 and tcp", &t6, 1, "fd00::1 -> fd00::2 TCP");
	means("icmp", &i6, 0, "ICMPv6 (icmp is IPv4's)");
	means("icmp6", &i6, 1, "ICMPv6");
	means("icmp", &i4, 1, "ICMP");
	means("ip", &arp, 0, "a non-IP packet");
	means("not ip", &arp, 1, "a non-IP packet");
	means("portrange 443-443", &t6, 1, "source port 443");
	/* pcap precedence: and/or equal, left to right. */
	means("tcp or udp and port 53", &t80, 0, "TCP port 80 ((tcp or udp) and port 53)");
	means("tcp or (udp and port 53)", &t80, 1, "TCP port 80 with parentheses");
	means("not tcp and port 53", &u53, 1, "UDP 53 (not binds tighter)");
	{
		struct tf_pkt d = t80;
		snprintf(d.ifname, sizeof(d.ifname), "veth0");
		d.netns = 4026531840u;
		means("dev veth0 and netns lab-a", &d, 1, "on veth0 in lab-a");
		means("dev veth0 and netns lab-b", &d, 0, "on veth0 in lab-a (lab-b)");
		means("dev veth", &d, 0, "veth0 (names match whole)");
		means("netns 4026531840", &t80, 0, "a packet of unknown netns");
	}

	test_perror();
	test_frame();
	differential(getenv("TFILTER_FILTERS") ? atoi(getenv("TFILTER_FILTERS")) : 3000, 300);
	return tap_done();
}
