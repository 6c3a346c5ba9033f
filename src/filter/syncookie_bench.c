// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The SYN-cookie responder's benchmark case (src/bench/bench_cases.def): a SYN to a
 * --synproxy port with the options a Linux client sends (MSS, SACK, timestamps, window
 * scale), answered in XDP with a cookie SYN-ACK, against the bare XDP_TX. The same
 * program as tests/prog/test_syncookie.c and the fuzzer (syncookie_prog.c). The same SYN is
 * what bench's kernel rows flood the stack with (syncookie_bench_syn). */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/libbpf.h>

#include "benchcase.h"
#include "syncookie_prog.h"
#include "syncookie.skel.h"

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

int syncookie_bench_setup(struct bench_prog *b)
{
	static const __u16 port = 80;
	struct syncookie_bpf *skel = syncookie_prog_load(&(struct syncookie_prog_cfg){
		.ports = &port, .nports = 1 });
	struct pkt_spec ps;

	if (!skel)
		return -errno;
	pkt_spec_default(&ps);
	ps.sport = 40000;
	ps.dport = port;
	b->pkt_len = syncookie_bench_syn(&ps, b->pkt);
	b->name = "filter --synproxy, SYN answered";
	b->baseline = "xdp_tx";
	b->prog_fd = syncookie_prog_fd(skel);
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	b->priv = skel;
	b->cleanup = syncookie_bench_cleanup;
	return 0;
}

/* The same SYN through the kernel's cookie helper alone (syncookie_helper_only): what any
 * XDP SYN-cookie responder built on it pays at least. It does not rewrite the frame. */
int syncookie_bench_helper_setup(struct bench_prog *b)
{
	int err = syncookie_bench_setup(b);

	if (err)
		return err;
	b->name = "syncookie helper alone";
	b->prog_fd = bpf_program__fd(((struct syncookie_bpf *)b->priv)->progs.syncookie_helper_only);
	b->rewrites = false;
	return 0;
}
