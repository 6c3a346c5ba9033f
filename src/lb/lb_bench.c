// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lb's benchmark cases (src/bench/bench_cases.def): the fixture of lb_prog.h with
 * one VIP and 100 backends, as Katran's measurements, and a packet of a known flow. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/sched.h>

#include "benchcase.h"
#include "lb_prog.h"
#include "util.h"

static const __u8 bench_mac_lb[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02 };
static const __u8 bench_mac_be[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };

struct lb_bench {
	struct lb_fixture fx;  /* first: b->priv is also the fixture */
	int ns_fd;             /* encap: the namespace to return to */
};

static void lb_bench_cleanup(struct bench_prog *b)
{
	struct lb_bench *lb = b->priv;

	lb_fixture_down(&lb->fx);
	if (lb->ns_fd >= 0) {
		if (syscall(SYS_setns, lb->ns_fd, CLONE_NEWNET))
			pr_warn("lb bench: cannot return to the first network namespace\n");
		close(lb->ns_fd);
	}
	free(lb);
}

/* Encap cases ask the FIB: a namespace of their own with the backends (10.0.0.0/24)
 * behind a gateway whose MAC is known, left again at cleanup. */
static int lb_bench_netns(struct lb_bench *lb, __u32 *ifindex)
{
	static const char *const cmds[] = {
		"ip link add lbb0 address 02:00:c6:12:00:02 type veth peer name lbb1",
		"ip link set lbb0 up", "ip link set lbb1 up",
		"ip addr add 198.18.0.2/24 dev lbb0",
		"sysctl -qw net.ipv4.conf.all.forwarding=1",
		"ip neigh add 198.18.0.254 lladdr 02:00:c6:12:00:fe dev lbb0 nud permanent",
		"ip route add 10.0.0.0/24 via 198.18.0.254",
	};

	lb->ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (lb->ns_fd < 0 || syscall(SYS_unshare, CLONE_NEWNET))
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", cmds[i]);
		if (system(cmd))
			return -EIO;
	}
	*ifindex = if_nametoindex("lbb0");
	return *ifindex ? 0 : -ENODEV;
}

static int lb_bench_common(struct bench_prog *b, __u32 mode, bool forget, __u32 encap)
{
	struct lb_prog_cfg pc = { .mode = mode, .bench_forget = forget };
	struct lb_bench *lb = calloc(1, sizeof(*lb));
	struct lb_fixture *fx = &lb->fx;
	struct pkt_spec ps;
	int err = 0;

	if (!lb)
		return -ENOMEM;
	lb->ns_fd = -1;
	inet_pton(AF_INET, "198.18.0.2", &pc.snat_addr);
	pc.tunnel_src4 = pc.snat_addr;
	memcpy(pc.mac, bench_mac_lb, 6);
	if (encap)
		err = lb_bench_netns(lb, &pc.ifindex);
	if (!err)
		err = lb_fixture_up(fx, &pc);
	if (!err)
		err = lb_fixture_vip_add_encap(fx, "198.18.0.100:80/tcp", encap);
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
		b->priv = lb;
		lb_bench_cleanup(b);
		b->priv = NULL;
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
	b->priv = lb;
	b->cleanup = lb_bench_cleanup;
	return 0;
}

/* Known flow: after the first run the flow is in conntrack; every repeat is a hit. */
int lb_bench_hit_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_NAT, false, LB_ENCAP_NONE);
	b->name = "lb nat ct hit";
	return err;
}

int lb_bench_dsr_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_DSR, false, LB_ENCAP_NONE);
	b->name = "lb dsr ct hit";
	return err;
}

int lb_bench_dsr_new_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_DSR, true, LB_ENCAP_NONE);
	b->name = "lb dsr new flow";
	return err;
}

/* Established flow to a GUE VIP: conntrack hit, FIB lookup, 28 bytes of outer headers. */
int lb_bench_gue_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_DSR, false, LB_ENCAP_GUE);
	b->name = "lb dsr gue ct hit";
	return err;
}

int lb_bench_gue_new_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_DSR, true, LB_ENCAP_GUE);
	b->name = "lb dsr gue new flow";
	return err;
}

/* New flow every run: the restoring runner feeds the same packet each time, so the
 * program is told (bench_forget) to delete the flow's entries again after creating
 * them. The figure is a new flow plus those deletes: an upper bound. With bench_forget
 * false, as everywhere else, the verifier removes that code. */
int lb_bench_new_setup(struct bench_prog *b)
{
	int err = lb_bench_common(b, LB_MODE_NAT, true, LB_ENCAP_NONE);
	b->name = "lb nat new flow";
	return err;
}
