// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lb's benchmark cases (src/bench/bench_cases.def): the fixture of lb_prog.h with
 * one VIP and 100 backends, as Katran's measurements, and a packet of a known flow. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "benchcase.h"
#include "lb_prog.h"

static const __u8 bench_mac_lb[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02 };
static const __u8 bench_mac_be[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };

static void lb_bench_cleanup(struct bench_prog *b)
{
	lb_fixture_down(b->priv);
	free(b->priv);
}

static int lb_bench_common(struct bench_prog *b, __u32 mode, bool forget)
{
	struct lb_prog_cfg pc = { .mode = mode, .bench_forget = forget };
	struct lb_fixture *fx = calloc(1, sizeof(*fx));
	struct pkt_spec ps;
	int err;

	if (!fx)
		return -ENOMEM;
	inet_pton(AF_INET, "198.18.0.2", &pc.snat_addr);
	memcpy(pc.mac, bench_mac_lb, 6);
	err = lb_fixture_up(fx, &pc);
	if (!err)
		err = lb_fixture_vip_add(fx, "198.18.0.100:80/tcp");
	/* Whole configuration at once: one table build instead of a hundred. */
	for (int i = 0; !err && i < 100; i++) {
		struct lb_edit e = { .op = LB_BACKEND_ADD,
				     .backend = { .weight = 1, .has_mac = true } };
		lb_parse_vip("198.18.0.100:80/tcp", &e.vip);
		e.backend.addr = htonl(0x0a000000u + i + 1);
		memcpy(e.backend.mac, bench_mac_be, 6);
		err = lb_cfg_edit(fx->cfg, &e);
	}
	if (!err)
		err = lb_fixture_apply(fx, fx->cfg);
	if (err) {
		lb_fixture_down(fx);
		free(fx);
		return err < 0 ? err : -EINVAL;
	}
	pkt_spec_default(&ps);
	memcpy(ps.dst_mac, bench_mac_lb, 6);
	inet_pton(AF_INET, "198.18.0.100", &ps.dst4);
	ps.proto = IPPROTO_TCP;
	ps.sport = 40000;
	ps.dport = 80;
	ps.tcp_flags = 0x10;
	b->baseline = "xdp_tx";
	b->prog_fd = fx->prog_fd;
	b->pkt_len = pkt_build(&ps, b->pkt);
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	b->priv = fx;
	b->cleanup = lb_bench_cleanup;
	return 0;
}

/* Known flow: after the first run the flow is in conntrack; every repeat is a hit. */
int lb_bench_hit_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_NAT, false);
	b->name = "lb nat ct hit";
	return err;
}

int lb_bench_dsr_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_DSR, false);
	b->name = "lb dsr ct hit";
	return err;
}

/* New flow every run: the restoring runner feeds the same packet each time, so the
 * program is told (bench_forget) to delete the flow's entries again after creating
 * them. The figure is a new flow plus those deletes: an upper bound. With bench_forget
 * false, as everywhere else, the verifier removes that code. */
int lb_bench_new_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_NAT, true);
	b->name = "lb nat new flow";
	return err;
}
