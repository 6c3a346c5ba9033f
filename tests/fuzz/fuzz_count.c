// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* count targets: count.bpf.c loaded through count_prog_load() as `bpflab count` loads it. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "count.h"
#include "count_prog.h"
#include "count.skel.h"

static const char *const count_counter_names[CM_N] = {
	"pkts_ipv4", "pkts_ipv6", "pkts_arp", "pkts_icmp", "pkts_icmpv6", "pkts_tcp", "pkts_udp",
	"pkts_other", "pkts_malformed",
	"bytes_ipv4", "bytes_ipv6", "bytes_arp", "bytes_icmp", "bytes_icmpv6", "bytes_tcp",
	"bytes_udp", "bytes_other", "bytes_malformed",
	"xdp_aborted", "xdp_drop", "xdp_pass", "xdp_tx", "xdp_redirect", "counter",
};

static int count_fuzz_setup(struct fuzz_ctx *c, bool drop)
{
	struct count_bpf *skel = count_prog_load(&(struct count_prog_cfg){ .drop = drop });

	if (!skel)
		return -errno;
	c->prog_fd = count_prog_fd(skel);
	c->priv = skel;
	return 0;
}

static int count_fuzz_pass(struct fuzz_ctx *c) { return count_fuzz_setup(c, false); }
static int count_fuzz_drop(struct fuzz_ctx *c) { return count_fuzz_setup(c, true); }

static void count_fuzz_teardown(struct fuzz_ctx *c)
{
	count_bpf__destroy(c->priv);
}

static void count_fuzz_model_pass(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				  struct fuzz_expect *x)
{
	count_model(false, in, x);
}

static void count_fuzz_model_drop(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				  struct fuzz_expect *x)
{
	count_model(true, in, x);
}

static int count_fuzz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct count_stats s;
	__u64 global;
	int err = count_prog_stats(c->priv, &s, &global);

	if (err)
		return err;
	memcpy(v, s.packets, sizeof(s.packets));
	memcpy(v + CP__MAX, s.bytes, sizeof(s.bytes));
	memcpy(v + 2 * CP__MAX, s.actions, sizeof(s.actions));
	v[CM_GLOBAL] = global;
	return 0;
}

static const struct fuzz_target fuzz_count_pass = {
	.name = "count_pass", .setup = count_fuzz_pass, .teardown = count_fuzz_teardown,
	.model = count_fuzz_model_pass, .read_counters = count_fuzz_counters,
	.ncounters = CM_N, .counter_names = count_counter_names,
};

static const struct fuzz_target fuzz_count_drop = {
	.name = "count_drop", .setup = count_fuzz_drop, .teardown = count_fuzz_teardown,
	.model = count_fuzz_model_drop, .read_counters = count_fuzz_counters,
	.ncounters = CM_N, .counter_names = count_counter_names,
};
