// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The SYN-cookie responder's benchmark case (src/bench/bench_cases.def): a SYN to a
 * --synproxy port with the options a Linux client sends (MSS, SACK, timestamps, window
 * scale), answered in XDP with a cookie SYN-ACK, against the bare XDP_TX. The same
 * program as tests/prog/test_syncookie.c and the fuzzer (syncookie_prog.c). */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include "benchcase.h"
#include "syncookie_prog.h"

static void syncookie_bench_cleanup(struct bench_prog *b)
{
	syncookie_prog_destroy(b->priv);
}

int syncookie_bench_setup(struct bench_prog *b)
{
	/* MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: Linux's SYN */
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0,
					  1, 3, 3, 7 };
	static const __u16 port = 80;
	struct syncookie_bpf *skel = syncookie_prog_load(&(struct syncookie_prog_cfg){
		.ports = &port, .nports = 1 });
	struct pkt_spec ps;

	if (!skel)
		return -errno;
	pkt_spec_default(&ps);
	ps.proto = IPPROTO_TCP;
	ps.sport = 40000;
	ps.dport = port;
	ps.payload = opts;
	ps.payload_len = sizeof(opts);
	b->pkt_len = pkt_build(&ps, b->pkt);
	/* the payload becomes the options: data offset 5 + 5 words, checksums again */
	b->pkt[14 + 20 + 12] = 10 << 4;
	pkt_fix_checksums(b->pkt, b->pkt_len);
	b->name = "filter --synproxy, SYN answered";
	b->baseline = "xdp_tx";
	b->prog_fd = syncookie_prog_fd(skel);
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	b->priv = skel;
	b->cleanup = syncookie_bench_cleanup;
	return 0;
}
