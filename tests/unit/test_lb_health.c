// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lb health checks without BPF (src/lb/lb_health.c): the `check` config line (every bad
 * one refused with FILE:LINE and nothing parsed, every good one read back the same after
 * `lb save`), the diff `apply --dry-run` shows for a changed check, and the fall/rise/need
 * state machine that decides drains and restores. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lb_ctl.h"
#include "lb_health.h"

static char dir[] = "/tmp/bpflab-lbhealth-XXXXXX";

static const char *write_conf(const char *text)
{
	static char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/lb.conf", dir);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

#define HEAD "vip 198.18.0.100:80/tcp\nbackend 198.18.0.100:80/tcp 198.18.0.11\n" \
	     "vip 198.18.0.100:53/udp\n"

static void test_parse(struct lb_cfg *c, struct lb_cfg *d)
{
	static const char *const bad[] = {
		"check 198.18.0.100:80/tcp\n",                           /* no type */
		"check 198.18.0.100:80/tcp icmp\n",                      /* unknown type */
		"check 198.18.0.100:80/tcp http\n",                      /* no path */
		"check 198.18.0.100:80/tcp http healthz\n",              /* path without / */
		"check 198.18.0.100:80/tcp http / status 99\n",          /* status out of range */
		"check 198.18.0.100:80/tcp http / status x\n",
		"check 198.18.0.100:53/udp udp ping\n",                  /* no expect */
		"check 198.18.0.100:53/udp udp ping reply pong\n",       /* not 'expect' */
		"check 198.18.0.100:53/udp udp \\xzz expect pong\n",     /* bad escape */
		"check 198.18.0.100:80/tcp tcp interval 0\n",            /* below 50 ms */
		"check 198.18.0.100:80/tcp tcp interval 10ms\n",
		"check 198.18.0.100:80/tcp tcp interval -1\n",
		"check 198.18.0.100:80/tcp tcp interval 1 timeout 2\n",  /* timeout > interval */
		"check 198.18.0.100:80/tcp tcp fall 0\n",
		"check 198.18.0.100:80/tcp tcp rise 101\n",
		"check 198.18.0.100:80/tcp tcp need 5000\n",
		"check 198.18.0.100:80/tcp tcp fall\n",                  /* no value */
		"check 198.18.0.100:80/tcp tcp status 200\n",            /* status is http's */
		"check 198.18.0.100:80/tcp tcp bogus 1\n",
		"check 198.18.0.99:80/tcp tcp\n",                        /* VIP not declared */
		"check 198.18.0.100:80/tcp tcp\ncheck 198.18.0.100:80/tcp tcp\n", /* twice */
		"check nonsense tcp\n",
	};
	char text[512], buf[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "%s", bad[i]);
		is_int(lb_cfg_parse_file(write_conf(text), c), -EINVAL, "refused: %.*s", 
		       (int)strcspn(bad[i], "\n"), bad[i]);
	}
	is_int(lb_cfg_parse_file(write_conf(HEAD
			"check 198.18.0.100:80/tcp http /healthz status 204 interval 0.5 timeout 200ms "
			"fall 4 rise 3 need 1   # comment\n"
			"check 198.18.0.100:53/udp udp \\x00\\x01ping\\s1 expect \\x23pong need 0\n"), c),
	       0, "http and udp checks parse");
	is_int(c->vips[0].check.type, LB_CHECK_HTTP, "http");
	is_str(c->vips[0].check.path, "/healthz", "its path");
	is_int(c->vips[0].check.status, 204, "its status");
	is_int(c->vips[0].check.interval_ms, 500, "interval 0.5 s");
	is_int(c->vips[0].check.timeout_ms, 200, "timeout 200 ms");
	ok(c->vips[0].check.fall == 4 && c->vips[0].check.rise == 3 && c->vips[0].check.need == 1,
	   "fall, rise, need");
	is_int(c->vips[1].check.type, LB_CHECK_UDP, "udp");
	is_mem(c->vips[1].check.payload, c->vips[1].check.payload_len, "\0\1ping 1", 8,
	       "payload escapes: \\x00, \\s");
	is_mem(c->vips[1].check.expect, c->vips[1].check.expect_len, "#pong", 5,
	       "expect: \\x23 is '#', which would start a comment");
	is_int(c->vips[1].check.need, 0, "need 0");

	/* lb save writes it back; reading that gives the same checks */
	{
		char p[160];
		FILE *f;

		snprintf(p, sizeof(p), "%s/saved", dir);
		f = fopen(p, "w");
		lb_cfg_write_file(c, f);
		fclose(f);
		is_int(lb_cfg_parse_file(p, d), 0, "what lb save writes parses");
		ok(lb_check_eq(&c->vips[0].check, &d->vips[0].check) &&
		   lb_check_eq(&c->vips[1].check, &d->vips[1].check), "with the same checks");
		unlink(p);
	}
	lb_check_format(&c->vips[0].check, buf, sizeof(buf));
	is_str(buf, "http /healthz status 204 interval 0.5s timeout 0.2s fall 4 rise 3 need 1",
	       "the check as lb save and lb show write it");

	is_int(lb_cfg_parse_file(write_conf(HEAD "check 198.18.0.100:80/tcp tcp\n"), c), 0,
	       "a bare tcp check parses");
	ok(c->vips[0].check.interval_ms == LB_CHECK_INTERVAL_MS &&
	   c->vips[0].check.timeout_ms == LB_CHECK_TIMEOUT_MS && c->vips[0].check.fall == 3 &&
	   c->vips[0].check.rise == 2 && c->vips[0].check.need == 1,
	   "with keepalived-like defaults: interval 2 s, timeout 1 s, fall 3, rise 2, need 1");
	is_int(c->vips[1].check.type, LB_CHECK_NONE, "a VIP without a check line has none");
	is_int(lb_cfg_parse_file(write_conf(HEAD "check 198.18.0.100:80/tcp tcp interval 0.5\n"), c),
	       0, "a short interval without a timeout parses");
	is_int(c->vips[0].check.timeout_ms, 500, "its timeout is the interval, not the 1 s default");
}

static int changes;
static void count_check(void *ctx, enum lb_change_kind kind, const struct lb_vip_key *vip,
			const struct lb_cfg_backend *old, const struct lb_cfg_backend *new,
			double share)
{
	changes += kind == LB_CH_VIP_CHECK;
}

static void test_diff(struct lb_cfg *c, struct lb_cfg *d)
{
	struct lb_diff df;

	lb_cfg_parse_file(write_conf(HEAD "check 198.18.0.100:80/tcp tcp\n"), c);
	lb_cfg_parse_file(write_conf(HEAD "check 198.18.0.100:80/tcp tcp fall 5\n"), d);
	changes = 0;
	is_int(lb_cfg_diff(c, d, 251, &df, count_check, NULL), 0, "diff");
	ok(df.vips_rechecked == 1 && changes == 1, "a changed fall is one check change");
	ok(df.backends_reweighted == 0 && df.moved_share == 0, "and moves nothing");
	lb_cfg_parse_file(write_conf(HEAD), d);
	lb_cfg_diff(c, d, 251, &df, NULL, NULL);
	is_int(df.vips_rechecked, 1, "a removed check is a change");
	lb_cfg_parse_file(write_conf(HEAD "check 198.18.0.100:80/tcp tcp\n"), d);
	lb_cfg_diff(c, d, 251, &df, NULL, NULL);
	is_int(df.vips_rechecked, 0, "the same check is none");
}

static void test_hsm(void)
{
	struct lb_check c;
	struct lb_hsm m = {};
	int downs = 0, ups = 0;

	lb_check_init(&c, LB_CHECK_TCP);
	c.fall = 3;
	c.rise = 2;
	is_int(lb_hsm_step(&m, &c, true), LB_H_UP, "the first good check: up");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "1 failure: no change");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "2 failures: no change");
	is_int(lb_hsm_step(&m, &c, true), LB_H_UNKNOWN, "a success resets the count");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "1");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "2");
	is_int(lb_hsm_step(&m, &c, false), LB_H_DOWN, "3 failures in a row (fall 3): down");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "down stays down, no second event");
	is_int(lb_hsm_step(&m, &c, true), LB_H_UNKNOWN, "1 success: still down");
	is_int(lb_hsm_step(&m, &c, false), LB_H_UNKNOWN, "a failure resets the rise count");
	is_int(lb_hsm_step(&m, &c, true), LB_H_UNKNOWN, "1");
	is_int(lb_hsm_step(&m, &c, true), LB_H_UP, "2 successes in a row (rise 2): up");

	m = (struct lb_hsm){};
	for (int i = 0; i < 2; i++)
		lb_hsm_step(&m, &c, false);
	is_int(m.state, LB_H_UNKNOWN, "a new backend failing: undecided before fall");
	is_int(lb_hsm_step(&m, &c, false), LB_H_DOWN, "down at fall, never up first");

	/* a flapping backend (ok, fail alternating) with fall 3 never goes down */
	m = (struct lb_hsm){};
	for (int i = 0; i < 1000; i++) {
		__u32 t = lb_hsm_step(&m, &c, i % 2 == 0);
		downs += t == LB_H_DOWN;
		ups += t == LB_H_UP;
	}
	ok(downs == 0 && ups == 1, "alternating results never reach fall 3 (%d downs)", downs);
	c.fall = 1;
	c.rise = 1;
	m = (struct lb_hsm){};
	downs = ups = 0;
	for (int i = 0; i < 1000; i++) {
		__u32 t = lb_hsm_step(&m, &c, i % 2 == 0);
		downs += t == LB_H_DOWN;
		ups += t == LB_H_UP;
	}
	ok(downs == 500 && ups == 500, "fall 1 rise 1: every result is a change (%d, %d)", downs, ups);
}

int main(void)
{
	struct lb_cfg *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	char p[160];

	if (!c || !d || !mkdtemp(dir))
		return 1;
	test_parse(c, d);
	test_diff(c, d);
	test_hsm();
	snprintf(p, sizeof(p), "%s/lb.conf", dir);
	unlink(p);
	rmdir(dir);
	free(c);
	free(d);
	return tap_done();
}
