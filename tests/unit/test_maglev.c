// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Maglev table building: prime sizes, shares that follow weights, minimal disruption
 * when a backend leaves, and exact restoration when it comes back. No BPF needed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "maglev.h"
#include "util.h"

#define M 65537

static uint32_t *table_new(void) { return calloc(M, sizeof(uint32_t)); }

static void set_backends(struct maglev_backend *b, int n, const uint32_t *weights)
{
	for (int i = 0; i < n; i++) {
		/* 198.18.0.(11+i):80 as the lb command keys them */
		b[i].key = (uint64_t)(0xc6120000u + 11 + i) << 16 | 80;
		b[i].id = i + 1;
		b[i].weight = weights ? weights[i] : 1;
	}
}

static void test_primes(void)
{
	static const uint32_t primes[] = { 2, 3, 251, 65537, 131071, 1000003 };
	static const uint32_t composite[] = { 0, 1, 4, 65535, 65536, 131073, 1000001 };
	uint32_t t[8];
	struct maglev_backend b = { .key = 1, .id = 1, .weight = 1 };

	for (size_t i = 0; i < ARRAY_SIZE(primes); i++)
		ok(maglev_is_prime(primes[i]), "%u is prime", primes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(composite); i++)
		ok(!maglev_is_prime(composite[i]), "%u is not prime", composite[i]);
	is_int(maglev_next_prime(65536), 65537, "next prime after 65536");
	is_int(maglev_next_prime(100000), 100003, "next prime from 100000");
	is_int(maglev_build(&b, 1, t, 8), -EINVAL, "a table size that is not prime is refused");
	b.id = 0;
	is_int(maglev_build(&b, 1, t, 7), -EINVAL, "backend id 0 is refused");
}

static void count_shares(const uint32_t *t, uint32_t *cnt, int n)
{
	memset(cnt, 0, (n + 1) * sizeof(*cnt));
	for (uint32_t i = 0; i < M; i++)
		cnt[t[i] <= (uint32_t)n ? t[i] : 0]++;
}

static void test_shares(void)
{
	static const uint32_t w[] = { 1, 2, 3, 4, 5, 1, 1, 7, 10, 2 };
	struct maglev_backend b[10];
	uint32_t *t = table_new(), cnt[11];
	int worst_ok = 1;
	double worst = 0, wsum = 0;

	set_backends(b, 10, NULL);
	is_int(maglev_build(b, 10, t, M), 0, "10 equal backends");
	count_shares(t, cnt, 10);
	is_int(cnt[0], 0, "every slot has a backend");
	for (int i = 1; i <= 10; i++) {
		double share = cnt[i] / (double)M, err = share / 0.1 - 1;
		if (err < 0)
			err = -err;
		if (err > worst)
			worst = err;
		worst_ok &= err < 0.01;
	}
	ok(worst_ok, "equal weights: every share within 1%% of 1/10 (worst %.4f%%)", worst * 100);

	set_backends(b, 10, w);
	for (int i = 0; i < 10; i++)
		wsum += w[i];
	is_int(maglev_build(b, 10, t, M), 0, "10 weighted backends");
	count_shares(t, cnt, 10);
	worst = 0;
	worst_ok = 1;
	for (int i = 1; i <= 10; i++) {
		double share = cnt[i] / (double)M, want = w[i - 1] / wsum, err = share / want - 1;
		if (err < 0)
			err = -err;
		if (err > worst)
			worst = err;
		worst_ok &= err < 0.01;
	}
	ok(worst_ok, "weights 1..10: every share within 1%% of its weight share (worst %.4f%%)",
	   worst * 100);

	b[3].weight = 0;
	is_int(maglev_build(b, 10, t, M), 0, "one backend drained");
	count_shares(t, cnt, 10);
	is_int(cnt[4], 0, "a drained backend (weight 0) gets no slot");
	is_int(cnt[0], 0, "and the others fill the table");

	for (int i = 0; i < 10; i++)
		b[i].weight = 0;
	is_int(maglev_build(b, 10, t, M), 0, "all drained");
	count_shares(t, cnt, 10);
	is_int(cnt[0], M, "all drained: every slot empty");
	free(t);
}

/* Removing one of n: the fraction of the others' slots that moved. */
static double disruption(int n, int removed, uint32_t *t1, uint32_t *t2)
{
	static struct maglev_backend b[1000], rest[1000];
	uint32_t moved = 0, others = 0;
	int k = 0;

	set_backends(b, n, NULL);
	maglev_build(b, n, t1, M);
	for (int i = 0; i < n; i++)
		if (i != removed)
			rest[k++] = b[i];
	maglev_build(rest, k, t2, M);
	for (uint32_t i = 0; i < M; i++) {
		if (t1[i] == (uint32_t)removed + 1)
			continue;
		others++;
		moved += t1[i] != t2[i];
	}
	return moved / (double)others;
}

static void test_disruption(void)
{
	uint32_t *t1 = table_new(), *t2 = table_new(), *t3 = table_new();
	static const int ns[] = { 3, 10, 50, 100 };
	struct maglev_backend b[10], shuffled[10];

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		double worst = 0;
		for (int r = 0; r < ns[i]; r += (ns[i] / 5 ? ns[i] / 5 : 1)) {
			double d = disruption(ns[i], r, t1, t2);
			if (d > worst)
				worst = d;
		}
		ok(worst < 0.01, "removing 1 of %d moves %.3f%% of the others' flows (< 1%%)", ns[i],
		   worst * 100);
	}

	set_backends(b, 10, NULL);
	maglev_build(b, 10, t1, M);
	maglev_build(b + 1, 9, t2, M);
	/* Re-added, and in another order: the table is a function of the set. */
	for (int i = 0; i < 10; i++)
		shuffled[i] = b[(i * 7) % 10];
	maglev_build(shuffled, 10, t3, M);
	ok(!memcmp(t1, t3, M * sizeof(*t1)), "re-adding the removed backend restores the table exactly");
	ok(memcmp(t1, t2, M * sizeof(*t1)), "(and removing it did change it)");
	free(t1);
	free(t2);
	free(t3);
}

static void test_speed(void)
{
	struct maglev_backend *b = calloc(1000, sizeof(*b));
	uint32_t m = 131071, *t = calloc(m, sizeof(*t));
	struct timespec a, z;

	for (int i = 0; i < 1000; i++) {
		b[i].key = (uint64_t)(0x0a000000u + i) << 16 | 80;
		b[i].id = i + 1;
		b[i].weight = 1 + i % 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	is_int(maglev_build(b, 1000, t, m), 0, "1000 backends into 131071 slots");
	clock_gettime(CLOCK_MONOTONIC, &z);
	tap_diag("maglev build, 1000 backends, m=131071: %.2f ms",
		 (z.tv_sec - a.tv_sec) * 1e3 + (z.tv_nsec - a.tv_nsec) / 1e6);
	free(b);
	free(t);
}

int main(void)
{
	test_primes();
	test_shares();
	test_disruption();
	test_speed();
	return tap_done();
}
