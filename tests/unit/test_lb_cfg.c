// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lb configuration in memory (src/lb/lb_cfg.c), no BPF: config files that cannot be
 * a configuration are errors, not an empty one; what `lb save` writes reads back the
 * same; refused addresses say why; the edits `lb vip`/`lb backend` make; and the diff
 * `lb apply --dry-run` prints, with the share of a Maglev table that moves. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lb_ctl.h"

static char dir[] = "/tmp/bpflab-lbcfg-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

static void test_files(struct lb_cfg *c, struct lb_cfg *d)
{
	const char *p;
	char path[160];
	FILE *f;

	is_int(lb_cfg_parse_file(dir, c), -EISDIR, "a directory is an error, not an empty config");
	snprintf(path, sizeof(path), "%s/missing", dir);
	is_int(lb_cfg_parse_file(path, c), -ENOENT, "a missing file is an error");
	p = write_conf("empty", "");
	is_int(lb_cfg_parse_file(p, c), 0, "an empty file parses...");
	is_int(c->nvips, 0, "...to no VIP (the caller refuses it without --allow-empty)");
	p = write_conf("lo", "vip 127.0.0.1:80/tcp\n");
	is_int(lb_cfg_parse_file(p, c), -EINVAL, "a loopback VIP in a file is refused");
	p = write_conf("good",
		       "vip 198.18.0.100:80/tcp\n"
		       "backend 198.18.0.100:80/tcp 198.18.0.11 weight 2 mac 02:00:c6:12:00:0b\n"
		       "backend 198.18.0.100:80/tcp 198.18.0.12:8080 mac 02:00:c6:12:00:0c\n"
		       "vip 198.18.0.100:53/udp\n");
	is_int(lb_cfg_parse_file(p, c), 0, "a config parses");
	/* save, then read back: the same configuration */
	snprintf(path, sizeof(path), "%s/saved", dir);
	f = fopen(path, "w");
	lb_cfg_write_file(c, f);
	fclose(f);
	is_int(lb_cfg_parse_file(path, d), 0, "what lb save writes parses");
	ok(d->nvips == c->nvips && d->nbackends == c->nbackends, "same VIPs and backends");
	for (int i = 0; i < c->nbackends; i++) {
		const struct lb_cfg_backend *a = &c->backends[i];
		const struct lb_cfg_backend *b =
			lb_cfg_backend_find(d, &a->vip, &a->addr, a->port);
		ok(b && b->weight == a->weight && !memcmp(b->mac, a->mac, 6) && b->has_mac,
		   "backend %d read back with its weight and MAC", i);
	}
	ok(!lb_cfg_vip_has_backend(c, &c->vips[1].key), "the udp VIP has no backend: dropping");
	ok(lb_cfg_vip_has_backend(c, &c->vips[0].key), "the tcp VIP has backends");
}

static void test_refusals(void)
{
	static const struct { const char *s, *why; } cases[] = {
		{ "0.0.0.0:80/tcp", "any address" }, { "255.255.255.255:80/udp", "broadcast" },
		{ "127.0.0.53:53/udp", "loopback" }, { "239.1.2.3:80/udp", "multicast" },
	};
	struct lb_vip_key k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = lb_addr_refusal(cases[i].s);
		is_int(lb_parse_vip(cases[i].s, &k), -EADDRNOTAVAIL, "VIP %s refused", cases[i].s);
		ok(why && strstr(why, cases[i].why), "%s: the reason names '%s'", cases[i].s,
		   cases[i].why);
	}
	is_int(lb_parse_vip("198.18.0.100:80/tcp", &k), 0, "a service address is accepted");
	ok(!lb_addr_refusal("198.18.0.100:80/tcp"), "and has no refusal");
	is_int(lb_parse_vip("198.18.0.300:80/tcp", &k), -EINVAL, "malformed is -EINVAL, not refused");
}

static void test_edits(struct lb_cfg *c)
{
	struct lb_edit e = { .op = LB_VIP_ADD };

	memset(c, 0, sizeof(*c));
	lb_parse_vip("198.18.0.100:80/tcp", &e.vip);
	is_int(lb_cfg_edit(c, &e), 0, "vip add");
	is_int(lb_cfg_edit(c, &e), -EEXIST, "vip add twice: -EEXIST");
	e.op = LB_BACKEND_ADD;
	e.backend.weight = 1;
	is_int(lb_parse_addr_port("198.18.0.11", &e.backend.addr, &e.backend.port), 0,
	       "backend address parses");
	is_int(lb_cfg_edit(c, &e), 0, "backend add");
	is_int(lb_cfg_edit(c, &e), -EEXIST, "backend add twice: -EEXIST");
	e.op = LB_BACKEND_SET;
	e.set_weight = true;
	e.backend.weight = 7;
	is_int(lb_cfg_edit(c, &e), 0, "backend set --weight");
	is_int(c->backends[0].weight, 7, "the weight changed");
	e.op = LB_BACKEND_DEL;
	lb_parse_addr_port("198.18.0.99", &e.backend.addr, &e.backend.port);
	is_int(lb_cfg_edit(c, &e), -ENOENT, "backend del of a stranger: -ENOENT");
	lb_parse_vip("198.18.0.100:81/tcp", &e.vip);
	is_int(lb_cfg_edit(c, &e), -ENXIO, "backend op on an unknown VIP: -ENXIO");
}

static int nchanges[LB_CH_VIP_MOVED + 1];
static void count_change(void *ctx, enum lb_change_kind kind, const struct lb_vip_key *vip,
			 const struct lb_cfg_backend *old, const struct lb_cfg_backend *new,
			 double share)
{
	(void)ctx; (void)vip; (void)old; (void)new; (void)share;
	nchanges[kind]++;
}

static void test_diff(struct lb_cfg *a, struct lb_cfg *b)
{
	struct lb_diff d;
	struct lb_vip_key k;

	memset(a, 0, sizeof(*a));
	lb_parse_vip("198.18.0.100:80/tcp", &k);
	lb_cfg_vip_add(a, &k);
	for (int i = 0; i < 4; i++) {
		struct lb_cfg_backend be = { .vip = k, .weight = 1, .has_mac = true };
		lb_ip4(&be.addr, htonl(0xc6120000u + 11 + i));
		lb_cfg_backend_add(a, &be);
	}
	*b = *a;
	is_int(lb_cfg_diff(a, b, 1009, &d, count_change, NULL), 0, "diff of equal configs");
	ok(d.vips_added + d.vips_removed + d.backends_added + d.backends_removed +
	   d.backends_reweighted == 0 && d.moved_share == 0, "no change, nothing moves");
	lb_cfg_backend_del(b, &k, &b->backends[3].addr, 0);
	b->backends[0].weight = 2;
	is_int(lb_cfg_diff(a, b, 1009, &d, count_change, NULL), 0, "diff");
	is_int(d.backends_removed, 1, "one backend removed");
	is_int(d.backends_reweighted, 1, "one re-weighted");
	is_int(nchanges[LB_CH_VIP_MOVED], 1, "one VIP's flows move");
	/* the removed one's quarter, plus the re-weight's shift */
	ok(d.moved_share > 0.25 && d.moved_share < 0.6, "moved share %.3f is the removed "
	   "backend's quarter and the re-weighted one's gain", d.moved_share);
	is_int(lb_cfg_diff(a, b, 1000, &d, NULL, NULL), -EINVAL, "a table size not prime: -EINVAL");
}

/* encap per VIP: parsed, saved and read back; bad values refused with the line. */
static void test_encap(struct lb_cfg *c, struct lb_cfg *d)
{
	static const char *const bad[] = {
		"vip 198.18.0.100:80/tcp encap\n", "vip 198.18.0.100:80/tcp encap vxlan\n",
		"vip 198.18.0.100:80/tcp encap IPIP\n", "vip 198.18.0.100:80/tcp ipip\n",
		"vip 198.18.0.100:80/tcp encap gue extra\n",
	};
	const char *p = write_conf("encap", "vip 198.18.0.100:80/tcp encap ipip\n"
				   "backend 198.18.0.100:80/tcp 203.0.113.7\n"
				   "vip 198.18.0.100:53/udp encap gue\n"
				   "vip 198.18.0.100:81/tcp encap none\n"
				   "vip 198.18.0.100:82/tcp\n");
	char path[160];
	FILE *f;

	is_int(lb_cfg_parse_file(p, c), 0, "a config with encap VIPs parses");
	ok(c->nvips == 4 && c->vips[0].encap == LB_ENCAP_IPIP && c->vips[1].encap == LB_ENCAP_GUE &&
	   c->vips[2].encap == LB_ENCAP_NONE && c->vips[3].encap == LB_ENCAP_NONE,
	   "encap ipip, gue, none and none by default");
	ok(!c->backends[0].has_mac, "an encap backend needs no MAC");
	snprintf(path, sizeof(path), "%s/encap-saved", dir);
	f = fopen(path, "w");
	lb_cfg_write_file(c, f);
	fclose(f);
	is_int(lb_cfg_parse_file(path, d), 0, "saved encap config parses");
	ok(d->nvips == 4 && d->vips[0].encap == LB_ENCAP_IPIP && d->vips[1].encap == LB_ENCAP_GUE &&
	   d->vips[2].encap == LB_ENCAP_NONE, "encap read back the same");
	unlink(path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(lb_cfg_parse_file(write_conf("encap", bad[i]), c), -EINVAL,
		       "refused: %.*s", (int)strlen(bad[i]) - 1, bad[i]);
	unlink(p);
}

/* What users type for IPv6, and what is refused (exit 2 upstream), with the reason. */
static void test_v6_parse(void)
{
	static const struct { const char *s; int err; const char *why; } vips[] = {
		{ "[2001:db8::100]:80/tcp", 0, NULL },
		{ "[2001:DB8:0:0::100]:443/udp", 0, NULL },
		{ "[2001:db8::1::2]:80/tcp", -EINVAL, "not an IPv6 address" },
		{ "[::1]:99999/tcp", -EINVAL, "not 1-65535" },
		{ "[2001:db8::100]:0/tcp", -EINVAL, "not 1-65535" },
		{ "[2001:db8::100]/tcp", -EINVAL, "no port" },
		{ "2001:db8::100:80/tcp", -EINVAL, "[ADDR]:PORT" },
		{ "[fe80::1%eth0]:80/tcp", -EINVAL, "zone ids" },
		{ "[2001:db8::100]:80/sctp", -EINVAL, "not tcp or udp" },
		{ "[198.18.0.100]:80/tcp", -EINVAL, "brackets are for IPv6" },
		{ "[2001:db8::100:80/tcp", -EINVAL, "expected [IPV6]:PORT" },
		{ "[::]:80/tcp", -EADDRNOTAVAIL, "any address" },
		{ "[::1]:80/tcp", -EADDRNOTAVAIL, "loopback" },
		{ "[ff02::1]:80/udp", -EADDRNOTAVAIL, "multicast" },
		{ "[fe80::1]:80/tcp", -EADDRNOTAVAIL, "link-local" },
		{ "[::ffff:198.18.0.100]:80/tcp", -EADDRNOTAVAIL, "IPv4-mapped" },
		{ "[::198.18.0.100]:80/tcp", -EADDRNOTAVAIL, "IPv4-compatible" },
		{ "[::ffff:198.018.0.100]:80/tcp", -EINVAL, "not an IPv6 address" },
	};
	struct lb_vip_key k, k2;
	struct lb_ip ip;
	__be16 port;
	char why[256], buf[LB_ADDR_STRLEN + 8];

	for (size_t i = 0; i < sizeof(vips) / sizeof(vips[0]); i++) {
		why[0] = 0;
		is_int(lb_parse_vip_why(vips[i].s, &k, why, sizeof(why)), vips[i].err, "VIP %s: %d",
		       vips[i].s, vips[i].err);
		if (vips[i].why)
			ok(strstr(why, vips[i].why), "%s: the reason '%s' names '%s'", vips[i].s, why,
			   vips[i].why);
	}
	ok(lb_addr_refusal("[::1]:80/tcp") && strstr(lb_addr_refusal("[::1]:80/tcp"), "loopback"),
	   "lb_addr_refusal explains a bracketed IPv6 VIP");
	ok(!lb_addr_refusal("[2001:db8::100]:80/tcp"), "and has none for a service address");

	is_int(lb_parse_vip("[2001:DB8:0::100]:80/tcp", &k), 0, "upper case and long form parse");
	lb_fmt_vip(&k, buf, sizeof(buf));
	is_str(buf, "[2001:db8::100]:80/tcp", "printed in RFC 5952 form, with brackets");
	is_int(k.family, LB_FAM6, "family 6");
	is_int(lb_parse_vip(buf, &k2), 0, "what is printed parses back");
	ok(lb_vip_eq(&k, &k2), "to the same key");
	lb_parse_vip("[2001:db8::100]:81/tcp", &k2);
	ok(!lb_vip_eq(&k, &k2), "another port is another VIP");
	lb_parse_vip("198.18.0.100:80/tcp", &k2);
	ok(!lb_vip_eq(&k, &k2) && k2.family == LB_FAM4, "an IPv4 VIP is another VIP, family 4");

	/* backends: bare IPv6, [IPv6]:PORT, never a port without brackets */
	is_int(lb_parse_addr_port("2001:db8::11", &ip, &port), 0, "bare IPv6 backend");
	ok(ip.family == LB_FAM6 && port == 0, "family 6, no port");
	is_int(lb_parse_addr_port("2001:db8::11:8080", &ip, &port), 0,
	       "2001:db8::11:8080 is an address (no brackets: no port)");
	lb_fmt_ip_port(&ip, port, buf, sizeof(buf));
	is_str(buf, "2001:db8::11:8080", "and reads so");
	is_int(lb_parse_addr_port("[2001:db8::11]:8080", &ip, &port), 0, "[IPv6]:PORT backend");
	is_int(ntohs(port), 8080, "port 8080");
	lb_fmt_ip_port(&ip, port, buf, sizeof(buf));
	is_str(buf, "[2001:db8::11]:8080", "printed with brackets");
	is_int(lb_parse_addr_port("[2001:db8::11]", &ip, &port), 0, "[IPv6] without a port");
	is_int(lb_parse_addr_port("[2001:db8::11]:", &ip, &port), -EINVAL, "[IPv6]: empty port");
	is_int(lb_parse_addr_port("[2001:db8::11]x", &ip, &port), -EINVAL, "junk after ]");
	is_int(lb_parse_addr_port("::1", &ip, &port), -EADDRNOTAVAIL, "::1 backend refused");
	is_int(lb_parse_addr_port("198.18.0.11:080", &ip, &port), -EINVAL, "port 080 refused");
	is_int(lb_parse_ip("2001:db8::2", &ip, why, sizeof(why)), 0, "bare address (--snat)");
	is_int(lb_parse_ip("[2001:db8::2]", &ip, why, sizeof(why)), -EINVAL,
	       "--snat takes no brackets");
	is_int(lb_parse_ip("198.18.0.2:80", &ip, why, sizeof(why)), -EINVAL, "--snat takes no port");
}

/* lb_cfg_parse_file, with what it printed to stderr caught in msg. */
static int parse_said(const char *path, struct lb_cfg *c, char *msg, size_t len)
{
	char errp[160];
	int saved = dup(2), fd, err;
	ssize_t n;

	snprintf(errp, sizeof(errp), "%s/said", dir);
	fd = open(errp, O_CREAT | O_TRUNC | O_RDWR, 0600);
	fflush(stderr);
	dup2(fd, 2);
	err = lb_cfg_parse_file(path, c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, msg, len - 1, 0);
	msg[n > 0 ? n : 0] = 0;
	for (char *q = msg; *q; q++)
		if (*q == '\n')
			*q = ' '; /* one TAP line */
	close(fd);
	unlink(errp);
	return err;
}

/* Which backend family may serve which VIP: nat and dsr keep the family, encap changes it. */
static void test_families(struct lb_cfg *c)
{
	static const struct { const char *conf; int err; const char *why; } cases[] = {
		{ "vip [2001:db8::100]:80/tcp\nbackend [2001:db8::100]:80/tcp 2001:db8::11 mac 02:00:00:00:00:01\n"
		  "backend [2001:db8::100]:80/tcp [2001:db8::12]:8080 mac 02:00:00:00:00:02\n", 0, NULL },
		{ "vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 2001:db8::11\n", -EINVAL,
		  "an IPv6 backend for an IPv4 VIP needs 'encap" },
		{ "vip [2001:db8::100]:80/tcp\nbackend [2001:db8::100]:80/tcp 198.18.0.11\n", -EINVAL,
		  "an IPv4 backend for an IPv6 VIP needs 'encap" },
		{ "vip 198.18.0.100:80/tcp encap ipip\nbackend 198.18.0.100:80/tcp 2001:db8:18:b::b\n", 0, NULL },
		{ "vip [2001:db8::100]:80/tcp encap gue\nbackend [2001:db8::100]:80/tcp 198.18.11.11\n"
		  "backend [2001:db8::100]:80/tcp 2001:db8:18:c::c\n", 0, NULL },
		{ "vip [2001:db8::100]:80/tcp\nbackend [2001:db8::100]:80/tcp fe80::1\n", -EINVAL,
		  "link-local" },
		{ "vip [2001:db8::100]:80/tcp\nbackend [2001:db8::100]:80/tcp 2001:db8::1::2\n", -EINVAL,
		  "not an IPv6 address" },
		{ "vip [2001:db8::1::2]:80/tcp\n", -EINVAL, "not an IPv6 address" },
		{ "vip [::1]:99999/tcp\n", -EINVAL, "not 1-65535" },
		{ "vip [fe80::1%lo]:80/tcp\n", -EINVAL, "zone ids" },
		{ "vip [::ffff:10.0.0.1]:80/tcp\n", -EINVAL, "IPv4-mapped" },
	};
	char msg[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = write_conf("fam", cases[i].conf);
		char at[200];

		is_int(parse_said(p, c, msg, sizeof(msg)), cases[i].err, "family case %zu parses to %d",
		       i, cases[i].err);
		snprintf(at, sizeof(at), "%s:", p);
		if (cases[i].why)
			ok(strstr(msg, at) && strstr(msg, cases[i].why),
			   "family case %zu says FILE:LINE: and '%s': %s", i, cases[i].why, msg);
	}

	/* the same rule for `lb backend add` (lb_cfg_edit) */
	{
		struct lb_edit e = { .op = LB_VIP_ADD };

		memset(c, 0, sizeof(*c));
		lb_parse_vip("[2001:db8::100]:80/tcp", &e.vip);
		is_int(lb_cfg_edit(c, &e), 0, "v6 vip add");
		e.op = LB_BACKEND_ADD;
		e.backend.weight = 1;
		lb_parse_addr_port("198.18.0.11", &e.backend.addr, &e.backend.port);
		is_int(lb_cfg_edit(c, &e), -EAFNOSUPPORT, "v4 backend to a v6 nat/dsr VIP: -EAFNOSUPPORT");
		ok(lb_family_refusal(&e.vip, LB_ENCAP_NONE, &e.backend.addr) != NULL, "with a reason");
		ok(!lb_family_refusal(&e.vip, LB_ENCAP_GUE, &e.backend.addr), "encap allows it");
		lb_parse_addr_port("2001:db8::11", &e.backend.addr, &e.backend.port);
		is_int(lb_cfg_edit(c, &e), 0, "v6 backend to the v6 VIP");
		is_int(lb_cfg_edit(c, &e), -EEXIST, "twice: -EEXIST");
		lb_parse_addr_port("[2001:db8::11]:8080", &e.backend.addr, &e.backend.port);
		is_int(lb_cfg_edit(c, &e), 0, "the same address on another port is another backend");
		e.op = LB_BACKEND_DEL;
		lb_parse_addr_port("2001:db8::11", &e.backend.addr, &e.backend.port);
		is_int(lb_cfg_edit(c, &e), 0, "backend del of the bare address (the VIP's port)");
		is_int(c->nbackends, 1, "one left: the :8080 one");
	}
}

/* A mixed-family configuration is saved and read back the same; Maglev keys of v4 and
 * v6 backends never collide and v4's stay what layout 4 used. */
static void test_mixed(struct lb_cfg *c, struct lb_cfg *d)
{
	const char *p = write_conf("mixed",
				   "vip 198.18.0.100:80/tcp\n"
				   "backend 198.18.0.100:80/tcp 198.18.0.11 mac 02:00:c6:12:00:0b\n"
				   "vip [2001:db8:18::100]:80/tcp\n"
				   "backend [2001:db8:18::100]:80/tcp 2001:db8:18::b weight 3 mac 02:00:c6:12:00:0b\n"
				   "backend [2001:db8:18::100]:80/tcp [2001:db8:18::c]:8080 mac 02:00:c6:12:00:0c\n"
				   "vip [2001:db8:18::100]:53/udp encap gue\n"
				   "backend [2001:db8:18::100]:53/udp 198.18.11.11\n"
				   "backend [2001:db8:18::100]:53/udp 2001:db8:18:c::c\n"
				   "vip 198.18.0.100:53/udp encap ipip\n"
				   "backend 198.18.0.100:53/udp 2001:db8:18:b::b\n");
	char path[160];
	struct lb_diff df;
	FILE *f;

	is_int(lb_cfg_parse_file(p, c), 0, "a mixed-family config parses");
	ok(c->nvips == 4 && c->nbackends == 6, "4 VIPs, 6 backends");
	snprintf(path, sizeof(path), "%s/mixed-saved", dir);
	f = fopen(path, "w");
	lb_cfg_write_file(c, f);
	fclose(f);
	is_int(lb_cfg_parse_file(path, d), 0, "saved mixed config parses");
	ok(d->nvips == c->nvips && d->nbackends == c->nbackends, "same counts read back");
	for (int i = 0; i < c->nbackends; i++) {
		const struct lb_cfg_backend *a = &c->backends[i];
		const struct lb_cfg_backend *b = lb_cfg_backend_find(d, &a->vip, &a->addr, a->port);

		ok(b && b->weight == a->weight && b->has_mac == a->has_mac && lb_ip_eq(&b->addr, &a->addr),
		   "mixed backend %d read back", i);
	}
	is_int(lb_cfg_diff(c, d, 1009, &df, NULL, NULL), 0, "diff of saved vs parsed");
	ok(df.vips_added + df.vips_removed + df.backends_added + df.backends_removed +
	   df.backends_reweighted == 0 && df.moved_share == 0, "saving changes nothing");
	is_int((int)(lb_maglev_key(&c->backends[0]) >> 16), (int)0xc612000b,
	       "a v4 backend's Maglev key is its address and port, as in layout 4");
	ok(lb_maglev_key(&c->backends[1]) >> 63, "a v6 backend's key is apart from every v4 one");
	ok(lb_maglev_key(&c->backends[1]) != lb_maglev_key(&c->backends[2]), "two v6 backends differ");
	unlink(path);
	unlink(p);
}

int main(void)
{
	struct lb_cfg *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));

	if (!c || !d || !mkdtemp(dir))
		return 1;
	test_files(c, d);
	test_refusals();
	test_edits(c);
	test_diff(c, d);
	test_encap(c, d);
	test_v6_parse();
	test_families(c);
	test_mixed(c, d);
	free(c);
	free(d);
	/* remove what test_files wrote */
	for (const char *n = "empty\0lo\0good\0saved\0fam\0"; *n; n += strlen(n) + 1) {
		char p[160];
		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
