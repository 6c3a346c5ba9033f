// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The differential packet fuzzer (issue 10): every target's program, loaded as its command
 * loads it, against its reference model, packet by packet through BPF_PROG_TEST_RUN.
 *   FUZZ_PACKETS=N (default 100000 per target), FUZZ_SEED=S (default fixed),
 *   --target NAME, --seed S, --index I (first packet), --count N, -v (every packet).
 * A failure prints the seed and index that reproduce it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util.h"
#include "fuzz.c"
#include "targets.c"

#define FUZZ_DEFAULT_SEED 20261201ULL

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The checksum helpers the models trust, against RFC 1071's worked example (section 3). */
static void test_reference_sums(void)
{
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t zero[8];
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };

	is_int(fuzz_fold(fuzz_sum(ex, sizeof(ex), 0)), 0xddf2, "RFC 1071 example sum 0xddf2");
	is_int(fuzz_csum(ex, sizeof(ex), 0), 0x220d, "RFC 1071 example checksum 0x220d");
	is_int(fuzz_csum(zero, sizeof(zero), 0), 0xffff, "all-zero data: checksum 0xffff (+0 sum)");
	is_int(fuzz_fold(fuzz_sum(odd, 3, 0)), 0x1234 + 0x5600, "odd length: last byte padded on the right");
	is_int(pm_eqn3(0xf7ff, 0x0800, 0x0000), 0x0000, "eqn. 3 on 0xf7ff: 0x0000 (the case only a full sum gets right)");
}

static void run_one(const struct fuzz_target *t, const struct fuzz_run *run)
{
	struct fuzz_stats st;
	double t0 = now_s();
	long fails = fuzz_run_target(t, run, &st);
	double dt = now_s() - t0;

	if (fails < 0) {
		ok(0, "%s: setup failed: %s", t->name, strerror((int)-fails));
		return;
	}
	ok(fails == 0, "%s: %" PRIu64 " packets (seed %llu, from %llu): verdict, bytes and "
	   "counters equal the model", t->name, st.packets, (unsigned long long)run->seed,
	   (unsigned long long)run->first);
	tap_diag("%s: %.1f s (with load); pass %" PRIu64 " drop %" PRIu64 " tx %" PRIu64
		 "; events expected %" PRIu64, t->name, dt, st.verdicts[FUZZ_PASS],
		 st.verdicts[FUZZ_DROP], st.verdicts[FUZZ_TX], st.events);
	if (st.untestable)
		tap_diag("%s: %" PRIu64 " frames shorter than their L3 header not run (the skb test run "
			 "refuses them; the xdp targets take them)", t->name, st.untestable);
	{
		char line[4096];
		size_t n = 0;
		/* snprintf returns what it would have written: stop once the line is full, or
		 * the next size would wrap and write past the buffer. */
		for (int k = 0; k < t->ncounters && n < sizeof(line); k++)
			if (st.counters[k])
				n += snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64,
					      t->counter_names[k], st.counters[k]);
		tap_diag("%s counters:%s", t->name, n ? line : " none");
	}
	/* A fuzzer that never reaches the deep paths proves nothing: a full run must meet
	 * each verdict the target can give, and the classes of bad packets. */
	if (run->count >= 10000) {
		bool reply = strstr(t->name, "reply") != NULL, drop = strstr(t->name, "drop") != NULL;
		if (reply)
			ok(st.verdicts[FUZZ_TX] > run->count / 100, "%s: replies were made (%" PRIu64 ")",
			   t->name, st.verdicts[FUZZ_TX]);
		if (drop)
			ok(st.verdicts[FUZZ_DROP] > run->count / 100, "%s: drops were made (%" PRIu64 ")",
			   t->name, st.verdicts[FUZZ_DROP]);
		if (!strncmp(t->name, "ping", 4))
			ok(st.counters[PS_MALFORMED] && st.counters[PS_FRAGMENTS] && st.counters[PS_EXTHDRS],
			   "%s: malformed, fragments and too-deep chains were all met", t->name);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, 0, 't' },
		{ "seed", required_argument, 0, 's' },
		{ "index", required_argument, 0, 'i' },
		{ "count", required_argument, 0, 'n' },
		{ "verbose", no_argument, 0, 'v' },
		{}
	};
	struct fuzz_run run = { .seed = FUZZ_DEFAULT_SEED, .count = 100000, .max_failures = 20 };
	const char *only = NULL, *e;
	bool index_set = false, count_set = false;
	int opt, found = 0;

	if ((e = getenv("FUZZ_PACKETS")) && *e)
		run.count = strtoull(e, NULL, 0);
	if ((e = getenv("FUZZ_SEED")) && *e)
		run.seed = strtoull(e, NULL, 0);
	while ((opt = getopt_long(argc, argv, "t:s:i:n:v", opts, NULL)) != -1) {
		switch (opt) {
		case 't': only = optarg; break;
		case 's': run.seed = strtoull(optarg, NULL, 0); break;
		case 'i': run.first = strtoull(optarg, NULL, 0); index_set = true; break;
		case 'n': run.count = strtoull(optarg, NULL, 0); count_set = true; break;
		case 'v': run.verbose = true; break;
		default:
			fprintf(stderr, "usage: test_fuzz [--target NAME] [--seed S] [--index I] "
				"[--count N] [-v]\n");
			return 2;
		}
	}
	if (index_set && !count_set)
		run.count = 1;
	if (!tap_require_bpf())
		return tap_done();
	libbpf_set_print(NULL);
	tap_diag("seed %llu, %llu packets per target (reproduce: FUZZ_SEED=%llu or --seed)",
		 (unsigned long long)run.seed, (unsigned long long)run.count,
		 (unsigned long long)run.seed);
	test_reference_sums();
	for (int i = 0; fuzz_targets[i]; i++) {
		if (only && strcmp(only, fuzz_targets[i]->name))
			continue;
		found++;
		run_one(fuzz_targets[i], &run);
	}
	if (only && !found)
		ok(0, "no target named '%s'", only);
	return tap_done();
}
