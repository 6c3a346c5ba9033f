// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lb configuration in memory (src/lb/lb_cfg.c), no BPF: config files that cannot be
 * a configuration are errors, not an empty one; what `lb save` writes reads back the
 * same; refused addresses say why; the edits `lb vip`/`lb backend` make; and the diff
 * `lb apply --dry-run` prints, with the share of a Maglev table that moves. */
#include <arpa/inet.h>
#include <errno.h>
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
			lb_cfg_backend_find(d, &a->vip, a->addr, a->port);
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
	lb_parse_addr_port("198.18.0.11", &e.backend.addr, &e.backend.port);
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
		be.addr = htonl(0xc6120000u + 11 + i);
		lb_cfg_backend_add(a, &be);
	}
	*b = *a;
	is_int(lb_cfg_diff(a, b, 1009, &d, count_change, NULL), 0, "diff of equal configs");
	ok(d.vips_added + d.vips_removed + d.backends_added + d.backends_removed +
	   d.backends_reweighted == 0 && d.moved_share == 0, "no change, nothing moves");
	lb_cfg_backend_del(b, &k, b->backends[3].addr, 0);
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
	free(c);
	free(d);
	/* remove what test_files wrote */
	for (const char *n = "empty\0lo\0good\0saved\0"; *n; n += strlen(n) + 1) {
		char p[160];
		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
