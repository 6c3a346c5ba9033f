// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab bench` rows for ping.bpf.c, through the same loader as the command. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <linux/bpf.h>

#include "benchcase.h"
#include "pkt.h"
#include "ping.h"
#include "ping.skel.h"
#include "ping_prog.h"

/* ---- benchmark cases: the test fixture's echo request, one row per action ---- */

static void ping_bench_cleanup(struct bench_prog *b)
{
	ping_bpf__destroy(b->priv);
}

/* Events the ring buffer could not take (the live bench fails a row that lost any). */
static long long ping_bench_lost(struct bench_prog *b)
{
	struct ping_stats sum;

	return ping_prog_stats(b->priv, &sum) ? -1 : (long long)sum.c[PS_EVENTS_LOST];
}

static int ping_bench_common(struct bench_prog *b, enum ping_action action)
{
	static const uint8_t pl[56]; /* what ping sends by default */
	struct ping_local local[4] = {};
	struct ping_prog_cfg cfg = { .action = action, .events = true, .local = local, .nlocal = 4 };
	struct ping_bpf *skel;
	struct pkt_spec s;

	pkt_spec_default(&s);
	/* the lab's local addresses: lo, eth0 v4 and v6 */
	local[0].v4 = local[1].v4 = true;
	local[0].a.a[10] = local[0].a.a[11] = local[1].a.a[10] = local[1].a.a[11] = 0xff;
	local[0].a.a[12] = 127;
	local[0].a.a[15] = 1;
	local[0].plen = 8;
	memcpy(&local[1].a.a[12], &s.dst4, 4);
	local[1].plen = 24;
	local[2].a.a[15] = 1;
	local[2].plen = 128;
	memcpy(local[3].a.a, &s.dst6, 16);
	local[3].plen = 64;
	skel = ping_prog_load(&cfg);
	if (!skel)
		return -errno;
	s.payload = pl;
	s.payload_len = sizeof(pl);
	b->prog_fd = ping_prog_fd(skel, false);
	b->pkt_len = pkt_build(&s, b->pkt);
	b->priv = skel;
	b->cleanup = ping_bench_cleanup;
	/* The command reads its events: so does the live bench, on the receiving CPU. */
	b->events_fd = bpf_map__fd(skel->maps.events);
	b->lost = ping_bench_lost;
	return 0;
}

/* Watch: parse, per-source counter, one event: under a repeat run the rate limit soon
 * suppresses events (counted), as it would under a flood. */
int ping_bench_watch_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_WATCH);

	b->name = "ping (watch)";
	b->baseline = "xdp_pass";
	b->expect_retval = XDP_PASS;
	return err;
}

int ping_bench_drop_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_DROP);

	b->name = "ping --drop";
	b->baseline = "xdp_drop";
	b->expect_retval = XDP_DROP;
	return err;
}

int ping_bench_reply_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_REPLY);

	b->name = "ping --reply";
	b->baseline = "xdp_tx";
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	return err;
}
