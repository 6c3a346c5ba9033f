// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ping targets: ping.bpf.c loaded through ping_prog_load() as `bpflab ping` loads it
 * (events on, the default rate limit), with the fuzz environment's addresses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "fuzz.h"
#include "ping.h"
#include "ping_prog.h"
#include "ping.skel.h"

struct ping_fuzz {
	struct ping_bpf *skel;
	struct ring_buffer *rb;
	struct ping_model_cfg cfg;
};

static const char *const ping_counter_names[PS__MAX] = {
	"packets", "echo_v4", "echo_v6", "passed", "dropped", "replied", "refused",
	"fragments", "malformed", "events_lost", "exthdrs", "events_suppressed",
};

static int ping_fuzz_event(void *ctx, void *data, size_t size)
{
	return 0;
}

static int ping_fuzz_setup(struct fuzz_ctx *c, enum ping_action action, bool tc)
{
	struct ping_local local[2 * FUZZ_MAX_LOCAL] = {};
	struct ping_prog_cfg cfg = { .action = action, .tc = tc, .on_lo = c->env.on_lo,
				     .events = true, .local = local };
	struct ping_fuzz *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return -ENOMEM;
	for (int i = 0; i < c->env.nlocal4; i++) {
		struct ping_local *l = &local[cfg.nlocal++];
		l->v4 = true;
		l->a.a[10] = l->a.a[11] = 0xff;
		memcpy(&l->a.a[12], c->env.local4[i], 4);
		l->plen = c->env.plen4[i];
	}
	for (int i = 0; i < c->env.nlocal6; i++) {
		struct ping_local *l = &local[cfg.nlocal++];
		memcpy(l->a.a, c->env.local6[i], 16);
		l->plen = c->env.plen6[i];
	}
	pf->skel = ping_prog_load(&cfg);
	if (!pf->skel) {
		int err = -errno;
		free(pf);
		return err;
	}
	pf->rb = ring_buffer__new(bpf_map__fd(pf->skel->maps.events), ping_fuzz_event, NULL, NULL);
	if (!pf->rb) {
		int err = -errno;
		ping_bpf__destroy(pf->skel);
		free(pf);
		return err;
	}
	pf->cfg.action = action;
	pf->cfg.events = cfg.events;
	c->prog_fd = ping_prog_fd(pf->skel, tc);
	c->tc = tc;
	c->priv = pf;
	return 0;
}

static int ping_fuzz_watch(struct fuzz_ctx *c) { return ping_fuzz_setup(c, PING_WATCH, false); }
static int ping_fuzz_drop(struct fuzz_ctx *c) { return ping_fuzz_setup(c, PING_DROP, false); }
static int ping_fuzz_reply(struct fuzz_ctx *c) { return ping_fuzz_setup(c, PING_REPLY, false); }
static int ping_fuzz_reply_tc(struct fuzz_ctx *c) { return ping_fuzz_setup(c, PING_REPLY, true); }

static void ping_fuzz_teardown(struct fuzz_ctx *c)
{
	struct ping_fuzz *pf = c->priv;

	if (!pf)
		return;
	ring_buffer__free(pf->rb);
	ping_bpf__destroy(pf->skel);
	free(pf);
}

static void ping_fuzz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct ping_fuzz *pf = c->priv;

	ping_model(&c->env, &pf->cfg, in, x);
}

static int ping_fuzz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct ping_fuzz *pf = c->priv;
	struct ping_stats s;
	int err = ping_prog_stats(pf->skel, &s);

	if (!err)
		memcpy(v, s.c, sizeof(s.c));
	return err;
}

static int ping_fuzz_drain(struct fuzz_ctx *c)
{
	struct ping_fuzz *pf = c->priv;
	int n = ring_buffer__consume(pf->rb);

	return n < 0 ? 0 : n;
}

#define PING_FUZZ_TARGET(var, nm, setup_fn) \
	static const struct fuzz_target var = { \
		.name = nm, .setup = setup_fn, .teardown = ping_fuzz_teardown, \
		.model = ping_fuzz_model, .read_counters = ping_fuzz_counters, \
		.ncounters = PS__MAX, .counter_names = ping_counter_names, \
		.event_counters = (1ULL << PS_EVENTS_LOST) | (1ULL << PS_SUPPRESSED), \
		.drain_events = ping_fuzz_drain, \
	}

PING_FUZZ_TARGET(fuzz_ping_watch, "ping_watch", ping_fuzz_watch);
PING_FUZZ_TARGET(fuzz_ping_drop, "ping_drop", ping_fuzz_drop);
PING_FUZZ_TARGET(fuzz_ping_reply, "ping_reply_xdp", ping_fuzz_reply);
PING_FUZZ_TARGET(fuzz_ping_reply_tc, "ping_reply_tc", ping_fuzz_reply_tc);
