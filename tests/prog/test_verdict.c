// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verdict hook (src/bpf/verdict.h) in count and ping, read through verdicts.c as
 * `bpflab trace` reads it: no record while off, one record per verdict while on with the
 * right verdict, reason and packet bytes, verdicts/bytes/counters the same on and off,
 * a full ring counted as lost, a dead tracer's flag taken over, a live one's left alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "tap.h"
#include "bpfutil.h"
#include "pkt.h"
#include "count.h"
#include "count.skel.h"
#include "count_prog.h"
#include "ping.h"
#include "ping.skel.h"
#include "ping_prog.h"
#include "lb.h"
#include "lb_prog.h"
#include "verdicts.h"

#define MAXREC 4096
static struct verdict_rec recs[MAXREC];
static struct verdict_src rec_src[MAXREC];
static int nrec;

static int on_rec(void *ctx, const struct verdict_src *src, const struct verdict_rec *r)
{
	if (nrec < MAXREC) {
		recs[nrec] = *r;
		rec_src[nrec] = *src;
	}
	nrec++;
	return 0;
}

static struct verdict_rec raw_last;

static int on_rec_raw(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(raw_last))
		memcpy(&raw_last, data, sizeof(raw_last));
	nrec++;
	return 0;
}

static int raw_count(void *ctx, void *data, size_t size)
{
	nrec++;
	return 0;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int run(int fd, const uint8_t *pkt, size_t len, uint8_t *out, __u32 *out_len,
	       __u32 *rv, int repeat)
{
	struct test_run t = { .in = pkt, .in_len = len, .out = out, .out_cap = PKT_MAX,
			      .repeat = repeat, .cpu = -1 };
	int err = test_run_xdp(fd, &t);

	*rv = t.retval;
	*out_len = t.out_len;
	return err;
}

static size_t udp_pkt(uint8_t *buf, size_t payload)
{
	struct pkt_spec s;

	pkt_spec_default(&s);
	s.proto = IPPROTO_UDP;
	s.sport = 4000;
	s.dport = 53;
	s.payload_len = payload;
	return pkt_build(&s, buf);
}

static size_t echo_pkt(uint8_t *buf, const char *dst)
{
	struct pkt_spec s;

	pkt_spec_default(&s);
	inet_pton(AF_INET, dst, &s.dst4);
	s.payload_len = 56;
	return pkt_build(&s, buf);
}

/* trace_ctl is per CPU: CPU 0's copy, with lost summed over all. */
static void ctl_get(int ctl_fd, struct verdict_ctl *c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct verdict_ctl all[ncpu];
	__u32 zero = 0;

	memset(c, 0xff, sizeof(*c));
	if (bpf_map_lookup_elem(ctl_fd, &zero, all))
		return;
	*c = all[0];
	for (int i = 1; i < ncpu; i++)
		c->lost += all[i].lost;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* lease_s: seconds from now the lease ends (negative: already ended). */
static void ctl_set(int ctl_fd, __u32 on, __u32 pid, int lease_s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct verdict_ctl all[ncpu];
	__u32 zero = 0;

	for (int i = 0; i < ncpu; i++)
		all[i] = (struct verdict_ctl){ .on = on, .owner_pid = pid,
			.deadline_ns = mono_ns() + (long long)lease_s * 1000000000ll };
	bpf_map_update_elem(ctl_fd, &zero, all, BPF_ANY);
}

static void test_count(void)
{
	struct count_bpf *sk = count_prog_load(&(struct count_prog_cfg){ .drop = false });
	struct ring_buffer *rb = NULL;
	struct verdicts *v;
	struct count_stats s_off, s_on;
	uint8_t pkt[PKT_MAX], out_off[PKT_MAX], out_on[PKT_MAX];
	__u32 rv_off, rv_on, ol_off, ol_on, id;
	int fd, ctl_fd, n, found = 0;
	size_t len = udp_pkt(pkt, 300);
	__u64 c0;
	char why[64];
	struct verdict_ctl c;

	if (!ok(sk != NULL, "count loads with the verdict hook"))
		return;
	fd = count_prog_fd(sk);
	ctl_fd = bpf_map__fd(sk->maps.trace_ctl);
	id = prog_id(fd);

	/* Off: nothing in the ring. */
	nrec = 0;
	ok(!run(fd, pkt, len, out_off, &ol_off, &rv_off, 10), "count: runs with the hook off");
	count_prog_stats(sk, &s_off, &c0);
	v = verdicts_open(on_rec, NULL);
	n = verdicts_find(v);
	for (int i = 0; i < verdicts_count(v); i++)
		if (verdicts_src(v, i)->prog_id == id)
			found = 1;
	ok(n >= 1 && found, "verdicts_find finds count_xdp (id %u) among %d programs", id, n);
	verdicts_close(v);

	/* Only our program: other engineers' programs may be running on this machine. */
	v = verdicts_open(on_rec, NULL);
	ok(verdicts_add_prog(v, id) == 1 && verdicts_count(v) == 1 &&
	   verdicts_src(v, 0)->kind == VK_COUNT, "verdicts_add_prog adds count_xdp as kind count");
	ok(verdicts_enable(v, &rb) == 1 && rb, "enable: one source on, ring buffer made");
	ring_buffer__consume(rb);
	is_int(nrec, 0, "count: no record while the hook was off");
	ctl_get(ctl_fd, &c);
	ok(c.on == 1 && c.owner_pid == (__u32)getpid(), "enable sets on and our pid");

	ok(!run(fd, pkt, len, out_on, &ol_on, &rv_on, 10), "count: runs with the hook on");
	count_prog_stats(sk, &s_on, &c0);
	ring_buffer__consume(rb);
	is_int(nrec, 10, "count: one record per verdict (10 runs)");
	ok(rv_on == rv_off && ol_on == ol_off && !memcmp(out_on, out_off, ol_on) &&
	   rv_on == XDP_PASS, "count: same verdict and bytes on and off");
	ok(s_on.packets[CP_UDP] == 2 * s_off.packets[CP_UDP] &&
	   s_on.actions[XDP_PASS] == 2 * s_off.actions[XDP_PASS],
	   "count: counters move the same on and off");
	if (nrec > 0) {
		const struct verdict_rec *r = &recs[0];
		ok(r->kind == VK_COUNT && r->hook == VH_XDP && r->verdict == XDP_PASS &&
		   r->reason == CP_UDP && r->pkt_len == len && r->cap_len == VERDICT_SNAP &&
		   !memcmp(r->data, pkt, VERDICT_SNAP) && r->ts_ns > 0,
		   "count: record says XDP_PASS, udp, %zu bytes, first %d copied", len,
		   VERDICT_SNAP);
		is_str(verdicts_reason(r, why, sizeof(why)), "udp", "count: reason named");
		is_str(verdicts_verdict_name(r->hook, r->verdict), "XDP_PASS", "verdict named");
		ok(rec_src[0].prog_id == id, "record tied to its program");
	}
	/* A short packet: all of it copied. */
	nrec = 0;
	len = udp_pkt(pkt, 0);
	run(fd, pkt, len, out_on, &ol_on, &rv_on, 1);
	ring_buffer__consume(rb);
	ok(nrec == 1 && recs[0].cap_len == len && recs[0].pkt_len == len &&
	   !memcmp(recs[0].data, pkt, len), "count: a %zu-byte packet is copied whole", len);

	/* Full ring: counted as lost, never blocks or changes the verdict. */
	nrec = 0;
	ok(!run(fd, pkt, len, out_on, &ol_on, &rv_on, 4000) && rv_on == XDP_PASS,
	   "count: 4000 runs with nobody reading");
	ok(verdicts_lost(v) > 0, "count: a full ring counts lost records (%llu)",
	   (unsigned long long)verdicts_lost(v));
	ring_buffer__consume(rb);
	ok(nrec > 0 && nrec + verdicts_lost(v) == 4000,
	   "count: records read + lost = verdicts (%d + %llu)", nrec,
	   (unsigned long long)verdicts_lost(v));

	verdicts_disable(v);
	ctl_get(ctl_fd, &c);
	ok(c.on == 0 && c.owner_pid == 0, "disable clears the flag");
	nrec = 0;
	run(fd, pkt, len, out_on, &ol_on, &rv_on, 5);
	ring_buffer__consume(rb);
	is_int(nrec, 0, "count: no record after disable");
	verdicts_close(v);
	ring_buffer__free(rb);

	/* A trace killed with -9 left the flag on: the next one takes it over. */
	rb = NULL;
	ctl_set(ctl_fd, 1, 0x3ffffff0, 5); /* no such pid */
	run(fd, pkt, len, out_on, &ol_on, &rv_on, 3); /* a dead trace's records */
	v = verdicts_open(on_rec, NULL);
	verdicts_add_prog(v, id);
	nrec = 0;
	ok(verdicts_enable(v, &rb) == 1 && verdicts_src(v, 0)->stale_pid == 0x3ffffff0,
	   "a dead tracer's flag is taken over (stale pid reported)");
	ring_buffer__consume(rb);
	is_int(nrec, 0, "records left by the dead tracer are not shown");
	verdicts_close(v);
	ring_buffer__free(rb);
	ctl_get(ctl_fd, &c);
	ok(c.on == 0, "close turns it off");

	/* A live tracer's flag is left alone. */
	rb = NULL;
	ctl_set(ctl_fd, 1, getppid(), 5);
	v = verdicts_open(on_rec, NULL);
	verdicts_add_prog(v, id);
	ok(verdicts_enable(v, &rb) == 0 && verdicts_src(v, 0)->busy_pid == (__u32)getppid(),
	   "a live tracer's program is skipped (busy pid)");
	verdicts_close(v);
	if (rb)
		ring_buffer__free(rb);
	ctl_get(ctl_fd, &c);
	ok(c.on == 1 && c.owner_pid == (__u32)getppid(), "and its flag is not touched");

	/* An expired lease (a trace killed 10 s ago): on, yet nothing is written. */
	{
		struct ring_buffer *raw;
		__u64 lost0;

		ctl_set(ctl_fd, 1, 0x3ffffff0, -1);
		ctl_get(ctl_fd, &c);
		lost0 = c.lost;
		nrec = 0;
		raw = ring_buffer__new(bpf_map__fd(sk->maps.trace_ring),
				       raw_count, NULL, NULL);
		ring_buffer__consume(raw);
		nrec = 0;
		run(fd, pkt, len, out_on, &ol_on, &rv_on, 50);
		ring_buffer__consume(raw);
		ctl_get(ctl_fd, &c);
		ok(nrec == 0 && c.lost == lost0 && rv_on == XDP_PASS,
		   "an expired lease writes nothing and counts nothing (%d records)", nrec);
		ring_buffer__free(raw);
	}
	/* A live owner whose lease ran out is taken over. */
	rb = NULL;
	ctl_set(ctl_fd, 1, getppid(), -1);
	v = verdicts_open(on_rec, NULL);
	verdicts_add_prog(v, id);
	ok(verdicts_enable(v, &rb) == 1 && verdicts_src(v, 0)->stale_pid == (__u32)getppid(),
	   "a live owner with an expired lease is taken over");
	verdicts_close(v);
	ring_buffer__free(rb);
	ctl_set(ctl_fd, 0, 0, 0);
	count_bpf__destroy(sk);
}

static struct ping_bpf *ping_load(enum ping_action a, bool tc)
{
	struct ping_local l[1] = {};
	struct ping_prog_cfg cfg = { .action = a, .tc = tc, .events = false, .local = l,
				     .nlocal = 1 };
	__be32 our;

	inet_pton(AF_INET, "198.18.0.11", &our);
	memset(l[0].a.a, 0, 16);
	l[0].a.a[10] = l[0].a.a[11] = 0xff;
	memcpy(&l[0].a.a[12], &our, 4);
	l[0].plen = 24;
	l[0].v4 = true;
	return ping_prog_load(&cfg);
}

/* One request through a ping program with the hook on: verdict and record. */
static void ping_case(const char *what, enum ping_action a, bool tc, const char *dst,
		      __u32 want_rv, const char *want_reason)
{
	struct ping_bpf *sk = ping_load(a, tc);
	struct ring_buffer *rb = NULL;
	struct verdicts *v;
	uint8_t pkt[PKT_MAX], out[PKT_MAX], out_off[PKT_MAX];
	__u32 rv, rv_off, ol, ol_off;
	size_t len = echo_pkt(pkt, dst);
	char why[64];
	int fd;

	if (!ok(sk != NULL, "%s: ping loads with the verdict hook", what))
		return;
	fd = ping_prog_fd(sk, tc);
	run(fd, pkt, len, out_off, &ol_off, &rv_off, 1);
	v = verdicts_open(on_rec, NULL);
	verdicts_add_prog(v, prog_id(fd));
	verdicts_enable(v, &rb);
	nrec = 0;
	ok(!run(fd, pkt, len, out, &ol, &rv, 1) && rv == want_rv && rv == rv_off &&
	   ol == ol_off && !memcmp(out, out_off, ol), "%s: %s, same bytes on and off", what,
	   verdicts_verdict_name(tc ? VH_TC : VH_XDP, want_rv));
	if (rb)
		ring_buffer__consume(rb);
	if (ok(nrec == 1, "%s: one record (%d)", what, nrec)) {
		const struct verdict_rec *r = &recs[0];
		ok(r->kind == VK_PING && r->hook == (tc ? VH_TC : VH_XDP) && r->verdict == want_rv,
		   "%s: record has kind ping, hook, verdict %u", what, r->verdict);
		is_str(verdicts_reason(r, why, sizeof(why)), want_reason, "%s: reason", what);
		/* A reply is reported before it is rewritten: the record shows the request. */
		ok(r->cap_len == (len < VERDICT_SNAP ? len : VERDICT_SNAP) && r->pkt_len == len &&
		   !memcmp(r->data, pkt, r->cap_len),
		   "%s: record holds the packet as it arrived", what);
	}
	verdicts_close(v);
	if (rb)
		ring_buffer__free(rb);
	ping_bpf__destroy(sk);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A random frame: a valid one of a random kind, then maybe a few bytes flipped and maybe
 * cut short, as the fuzzer makes them. */
static size_t random_frame(uint8_t *buf)
{
	static const int protos[] = { IPPROTO_ICMP, IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMPV6 };
	struct pkt_spec s;
	size_t len;

	pkt_spec_default(&s);
	s.proto = protos[rnd() % 4];
	if (s.proto == IPPROTO_ICMPV6 || rnd() % 3 == 0) {
		s.family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8:18::1", &s.src6);
		inet_pton(AF_INET6, rnd() % 2 ? "2001:db8:18::b" : "2001:db8:18::99", &s.dst6);
		if (s.proto == IPPROTO_ICMP)
			s.proto = IPPROTO_ICMPV6;
	} else if (s.proto == IPPROTO_ICMP && rnd() % 2) {
		inet_pton(AF_INET, "198.18.0.99", &s.dst4);
	}
	s.payload_len = rnd() % 300;
	if (rnd() % 4 == 0)
		s.vlan[0] = 1 + rnd() % 4000;
	len = pkt_build(&s, buf);
	for (int i = rnd() % 4; i > 0; i--)
		buf[rnd() % len] ^= 1 << (rnd() % 8);
	if (rnd() % 5 == 0)
		len = 14 + rnd() % (len - 13);
	return len;
}

/* The hook changes nothing: every random frame gets the same verdict and bytes out with
 * the trace on as off, the program's counters move the same, and each verdict is one
 * record naming that verdict. */
static void differential(const char *what, int fd, int ctl_fd, int ring_fd, bool tc,
			 void (*stats)(void *sk, __u64 *out, int n), void *sk, int nstats)
{
	struct ring_buffer *raw = ring_buffer__new(ring_fd, on_rec_raw,
						   NULL, NULL);
	uint8_t pkt[PKT_MAX], out_off[PKT_MAX], out_on[PKT_MAX];
	__u64 s0[64], s1[64], s2[64];
	int same = 0, recs_ok = 0, N = 3000, ran = 0, refused = 0;

	for (int i = 0; i < N; i++) {
		size_t len = random_frame(pkt);
		__u32 rv_off, rv_on, ol_off, ol_on;
		int same_stats = 1;

		ctl_set(ctl_fd, 0, 0, 0);
		stats(sk, s0, nstats);
		if (run(fd, pkt, len, out_off, &ol_off, &rv_off, 1)) {
			/* The kernel's test run refuses some short frames for tc: no run at all. */
			refused++;
			continue;
		}
		ran++;
		stats(sk, s1, nstats);
		ctl_set(ctl_fd, 1, getpid(), 5);
		nrec = 0;
		run(fd, pkt, len, out_on, &ol_on, &rv_on, 1);
		stats(sk, s2, nstats);
		ring_buffer__consume(raw);
		for (int k = 0; k < nstats; k++)
			if (s2[k] - s1[k] != s1[k] - s0[k])
				same_stats = 0;
		if (rv_off == rv_on && ol_off == ol_on && !memcmp(out_off, out_on, ol_on) &&
		    same_stats)
			same++;
		else if (ran - same < 4)
			printf("# %s: frame %d differs on/off (rv %u/%u len %u/%u stats %d)\n", what,
			       i, rv_off, rv_on, ol_off, ol_on, same_stats);
		if (nrec == 1 && raw_last.verdict == rv_on && raw_last.hook == (tc ? VH_TC : VH_XDP))
			recs_ok++;
		else if (ran - recs_ok < 4)
			printf("# %s: frame %d (%zu bytes): %d records, verdict %u (rv %u), reason %u\n",
			       what, i, len, nrec, raw_last.verdict, rv_on, raw_last.reason);
	}
	ctl_set(ctl_fd, 0, 0, 0);
	ok(ran > N * 9 / 10, "%s: %d of %d random frames ran (%d refused by the test run)", what,
	   ran, N, refused);
	is_int(same, ran, "%s: same verdict, bytes and counters on and off", what);
	is_int(recs_ok, ran, "%s: one record per verdict, naming it", what);
	ring_buffer__free(raw);
}

static void count_stats_u64(void *sk, __u64 *out, int n)
{
	struct count_stats s;
	__u64 c;

	count_prog_stats(sk, &s, &c);
	memcpy(out, &s, n * sizeof(__u64));
}

static void ping_stats_u64(void *sk, __u64 *out, int n)
{
	struct ping_stats s;

	ping_prog_stats(sk, &s);
	memcpy(out, s.c, n * sizeof(__u64));
}

static void test_differential(void)
{
	struct count_bpf *c = count_prog_load(&(struct count_prog_cfg){ .drop = false });
	struct ping_bpf *px = ping_load(PING_REPLY, false), *pt = ping_load(PING_REPLY, true);

	if (!ok(c && px && pt, "count, ping xdp and ping tc load for the differential"))
		goto out;
	differential("count", count_prog_fd(c), bpf_map__fd(c->maps.trace_ctl),
		     bpf_map__fd(c->maps.trace_ring), false, count_stats_u64, c,
		     sizeof(struct count_stats) / sizeof(__u64));
	differential("ping reply xdp", ping_prog_fd(px, false), bpf_map__fd(px->maps.trace_ctl),
		     bpf_map__fd(px->maps.trace_ring), false, ping_stats_u64, px, PS__MAX);
	differential("ping reply tc", ping_prog_fd(pt, true), bpf_map__fd(pt->maps.trace_ctl),
		     bpf_map__fd(pt->maps.trace_ring), true, ping_stats_u64, pt, PS__MAX);
out:
	if (c)
		count_bpf__destroy(c);
	if (px)
		ping_bpf__destroy(px);
	if (pt)
		ping_bpf__destroy(pt);
}

/* lb: a VIP without backends drops a new flow, and the record says drop_no_backend. */
static void test_lb(void)
{
	struct lb_prog_cfg pc = { .mode = LB_MODE_DSR, .table_size = 251 };
	struct lb_fixture fx;
	struct ring_buffer *rb = NULL;
	struct verdicts *v;
	struct pkt_spec s;
	uint8_t pkt[PKT_MAX], out[PKT_MAX];
	__u32 rv, ol;
	size_t len;
	char why[64];

	pkt_spec_default(&s);
	s.proto = IPPROTO_TCP;
	s.sport = 40000;
	s.dport = 80;
	len = pkt_build(&s, pkt);
	memcpy(pc.mac, s.dst_mac, 6);
	if (!ok(!lb_fixture_up(&fx, &pc) && !lb_fixture_vip_add(&fx, "198.18.0.11:80/tcp"),
		"lb: fixture with a VIP and no backend")) {
		lb_fixture_down(&fx);
		return;
	}
	v = verdicts_open(on_rec, NULL);
	ok(verdicts_add_prog(v, prog_id(fx.prog_fd)) == 1 && verdicts_src(v, 0)->kind == VK_LB &&
	   verdicts_enable(v, &rb) == 1, "lb: found and on");
	nrec = 0;
	ok(!run(fx.prog_fd, pkt, len, out, &ol, &rv, 1) && rv == XDP_DROP, "lb: XDP_DROP");
	if (rb)
		ring_buffer__consume(rb);
	ok(nrec == 1 && recs[0].kind == VK_LB && recs[0].verdict == XDP_DROP &&
	   recs[0].reason == LBC_DROP_NO_BACKEND, "lb: one record, XDP_DROP, reason %u",
	   nrec ? recs[0].reason : 0);
	if (nrec)
		is_str(verdicts_reason(&recs[0], why, sizeof(why)), "drop_no_backend",
		       "lb: reason named from the program's BTF");
	verdicts_close(v);
	if (rb)
		ring_buffer__free(rb);
	lb_fixture_down(&fx);
}

int main(void)
{
	if (!tap_require_bpf())
		return tap_done();
	test_count();
	ping_case("ping watch", PING_WATCH, false, "198.18.0.11", XDP_PASS, "passed");
	ping_case("ping drop", PING_DROP, false, "198.18.0.11", XDP_DROP, "dropped");
	ping_case("ping reply", PING_REPLY, false, "198.18.0.11", XDP_TX, "replied");
	ping_case("ping refused", PING_REPLY, false, "198.18.0.99", XDP_PASS,
		  "refused_dst_not_ours");
	ping_case("ping tc reply", PING_REPLY, true, "198.18.0.11", TC_ACT_REDIRECT, "replied");
	ping_case("ping tc drop", PING_DROP, true, "198.18.0.11", TC_ACT_SHOT, "dropped");
	test_differential();
	test_lb();
	return tap_done();
}
