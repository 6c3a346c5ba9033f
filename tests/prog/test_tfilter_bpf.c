// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The trace filter's BPF evaluator in the kernel: the tracepoint program loads with the
 * largest filter (TF_MAX_TESTS tests, every kind), and the kernel's answers equal user
 * space's (tfilter_eval) on random filters x random packets through BPF_PROG_TEST_RUN. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "tap.h"
#include "bpfutil.h"
#include "tfilter.h"
#include "tfcheck.skel.h"

static int resolver(const char *name, __u32 *inode)
{
	*inode = 4026531840u;
	return 0;
}

/* 32 leaves, every kind of test, nested and negated. */
static const char *leaves[] = {
	"host 10.0.0.1", "src net 10.0.0.0/8", "dst host fd00::1", "net fd00::/16",
	"tcp port 80", "udp dst port 53", "portrange 1000-2000", "src port 22",
	"icmp", "icmp6", "ip", "ip6", "dev veth0", "netns lab", "netns 4026532000",
	"dst net 192.168.0.0/16",
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A random filter of about `tests` tests (each leaf is 1 test, `tcp port` 2). */
static void random_filter(char *out, size_t cap, int tests)
{
	int used = 0;

	out[0] = 0;
	while (used < tests) {
		const char *l = leaves[rnd() % 16];
		int cost = !strncmp(l, "tcp ", 4) || !strncmp(l, "udp ", 4) ? 2 : 1;
		char tmp[4096];

		if (used + cost > tests)
			l = "ip", cost = 1;
		if (!out[0]) {
			snprintf(out, cap, "%s%s", rnd() % 4 ? "" : "not ", l);
		} else {
			snprintf(tmp, sizeof(tmp), rnd() % 3 ? "(%s) %s %s%s" : "%s %s %s%s", out,
				 rnd() % 2 ? "and" : "or", rnd() % 4 ? "" : "not ", l);
			snprintf(out, cap, "%s", tmp);
		}
		used += cost;
	}
}

static void random_pkt(struct tf_pkt *p)
{
	static const char *a4[] = { "10.0.0.1", "10.2.0.1", "192.168.3.4", "8.8.8.8" };
	static const char *a6[] = { "fd00::1", "fd00::2", "fd01::1", "2001:db8::1" };
	static const int pr[] = { 6, 17, 1, 58 }, pt[] = { 22, 53, 80, 1500, 40000 };

	memset(p, 0, sizeof(*p));
	p->family = rnd() % 5 == 0 ? 0 : rnd() % 2 ? 4 : 6;
	if (p->family == 4) {
		inet_pton(AF_INET, a4[rnd() % 4], p->saddr);
		inet_pton(AF_INET, a4[rnd() % 4], p->daddr);
	} else if (p->family == 6) {
		inet_pton(AF_INET6, a6[rnd() % 4], p->saddr);
		inet_pton(AF_INET6, a6[rnd() % 4], p->daddr);
	}
	p->proto = pr[rnd() % 4];
	if (p->proto == 6 || p->proto == 17) {
		p->has_ports = 1;
		p->sport = pt[rnd() % 5];
		p->dport = pt[rnd() % 5];
	}
	if (rnd() % 2)
		strcpy(p->ifname, "veth0");
	p->netns = rnd() % 2 ? 4026531840u : 4026532000u;
}

static int verified_insns(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	return info.verified_insns;
}

int main(void)
{
	struct tfcheck_bpf *skel;
	struct tf_prog big;
	struct tf_error e;
	char text[8192];
	long agree = 0, total = 0, hits = 0;
	int fd, err;

	if (!tap_require_bpf())
		return tap_done();

	random_filter(text, sizeof(text), TF_MAX_TESTS);
	err = tfilter_compile(text, &big, &e, resolver);
	if (!ok(!err && big.n == TF_MAX_TESTS, "a filter of %d tests compiles", TF_MAX_TESTS))
		printf("#   %s: %d %s (n %u)\n", text, e.pos, e.msg, big.n);

	skel = tfcheck_bpf__open();
	if (!ok(skel != NULL, "tfcheck opens"))
		return tap_done();
	memcpy((void *)&skel->rodata->ro_filter, &big, sizeof(big));
	err = tfcheck_bpf__load(skel);
	if (!ok(!err, "the tracepoint shape loads with the largest filter in .rodata (%d)", err)) {
		tfcheck_bpf__destroy(skel);
		return tap_done();
	}
	tap_diag("verified instructions: tp_btf %d (filter in .rodata), xdp %d (in .bss)",
		 verified_insns(bpf_program__fd(skel->progs.tfc_kfree)),
		 verified_insns(bpf_program__fd(skel->progs.tfc_xdp)));

	fd = bpf_program__fd(skel->progs.tfc_xdp);
	for (int f = 0; f < 300; f++) {
		struct tf_prog prog;

		random_filter(text, sizeof(text), 1 + rnd() % TF_MAX_TESTS);
		if (tfilter_compile(text, &prog, &e, resolver)) {
			ok(0, "random filter compiles: %s: %s", text, e.msg);
			break;
		}
		skel->bss->rw_filter = prog;
		for (int k = 0; k < 40; k++) {
			struct tf_pkt p;
			struct test_run t = { .in = &p, .in_len = sizeof(p), .repeat = 1, .cpu = -1 };
			int want;

			random_pkt(&p);
			want = tfilter_eval(&prog, &p);
			if (test_run_xdp(fd, &t)) {
				ok(0, "test run: %s", strerror(errno));
				goto out;
			}
			total++;
			hits += want;
			if ((t.retval == XDP_PASS) == want)
				agree++;
			else if (total - agree < 4)
				printf("# kernel %u, user %d on '%s'\n", t.retval, want, text);
		}
	}
	ok(total > 0 && agree == total, "kernel and user space agree on %ld of %ld (%ld matches)",
	   agree, total, hits);
	ok(hits > total / 20 && hits < total - total / 20, "matches and misses both common");
	/* The empty filter matches everything; a malformed one (backward jump) nothing. */
	{
		struct tf_pkt p = { 0 };
		struct test_run t = { .in = &p, .in_len = sizeof(p), .repeat = 1, .cpu = -1 };

		memset(&skel->bss->rw_filter, 0, sizeof(skel->bss->rw_filter));
		ok(!test_run_xdp(fd, &t) && t.retval == XDP_PASS, "the empty filter matches");
		skel->bss->rw_filter.n = 2;
		skel->bss->rw_filter.t[0] = (struct tf_test){ .op = TF_OP_FAMILY, .jt = 1, .jf = 1 };
		skel->bss->rw_filter.t[1] = (struct tf_test){ .op = TF_OP_FAMILY, .jt = 0, .jf = 0 };
		ok(!test_run_xdp(fd, &t) && t.retval == XDP_DROP,
		   "a backward jump rejects instead of looping");
	}
out:
	tfcheck_bpf__destroy(skel);
	return tap_done();
}
