// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The SYN-cookie responder's benchmark cases (src/bench/bench_cases.def): a SYN to a
 * --synproxy port with the options a Linux client sends (MSS, SACK, timestamps, window
 * scale), answered in XDP with a cookie SYN-ACK, against the bare XDP_TX: through the
 * filter program as `filter start --synproxy` runs it (rules first, then the responder),
 * and through the kernel's cookie helper alone. The same SYN is what bench's kernel rows
 * flood the stack with (syncookie_bench_syn). */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/libbpf.h>

#include "benchcase.h"
#include "syncookie_prog.h"
#include "syncookie.skel.h"

#define SYNCOOKIE_BENCH_PORT 80

int filter_bench_syn_setup(struct bench_prog *b, const char *name, __u16 port);

static void syncookie_bench_cleanup(struct bench_prog *b)
{
	syncookie_prog_destroy(b->priv);
}

size_t syncookie_bench_syn(struct pkt_spec *ps, uint8_t *buf)
{
	/* MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: Linux's SYN */
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0,
					  1, 3, 3, 7 };
	size_t len;

	ps->proto = IPPROTO_TCP;
	ps->tcp_flags = 0; /* SYN */
	ps->payload = opts;
	ps->payload_len = sizeof(opts);
	len = pkt_build(ps, buf);
	/* the payload becomes the options: data offset 5 + 5 words, checksums again */
	buf[14 + 20 + 12] = 10 << 4;
	pkt_fix_checksums(buf, len);
	return len;
}

/* The SYN, and where it goes (port 80), for both cases. */
static void syn_frame(struct bench_prog *b)
{
	struct pkt_spec ps;

	pkt_spec_default(&ps);
	ps.sport = 40000;
	ps.dport = SYNCOOKIE_BENCH_PORT;
	b->pkt_len = syncookie_bench_syn(&ps, b->pkt);
}

/* bpflab filter --synproxy itself: the filter program, its rules (filter's 100,000
 * prefixes, which the SYN's source is not in) and then the responder (filter_bench.c). */
int syncookie_bench_setup(struct bench_prog *b)
{
	int err;

	syn_frame(b);
	err = filter_bench_syn_setup(b, "filter --synproxy, SYN answered", SYNCOOKIE_BENCH_PORT);
	if (err)
		return err;
	b->baseline = "xdp_tx";
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	return 0;
}

/* The same SYN through the kernel's cookie helper alone (syncookie_helper_only): what any
 * XDP SYN-cookie responder built on it pays at least. It does not rewrite the frame. */
int syncookie_bench_helper_setup(struct bench_prog *b)
{
	static const __u16 port = SYNCOOKIE_BENCH_PORT;
	struct syncookie_bpf *skel = syncookie_prog_load(&(struct syncookie_prog_cfg){
		.ports = &port, .nports = 1 });

	if (!skel)
		return -errno;
	syn_frame(b);
	b->name = "syncookie helper alone";
	b->baseline = "xdp_tx";
	b->prog_fd = bpf_program__fd(skel->progs.syncookie_helper_only);
	b->expect_retval = XDP_TX;
	b->priv = skel;
	b->cleanup = syncookie_bench_cleanup;
	return 0;
}
