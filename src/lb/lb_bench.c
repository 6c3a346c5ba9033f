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

/* Encap cases ask the FIB: a namespace of their own with the backends (10.0.0.0/24 and
 * 2001:db8:a::/64) behind a gateway whose MAC is known, left again at cleanup. */
static int lb_bench_netns(struct lb_bench *lb, __u32 *ifindex)
{
	static const char *const cmds[] = {
		"ip link add lbb0 address 02:00:c6:12:00:02 type veth peer name lbb1",
		"ip link set lbb0 up", "ip link set lbb1 up",
		"ip addr add 198.18.0.2/24 dev lbb0",
		"ip -6 addr add 2001:db8:18::2/64 dev lbb0 nodad",
		"sysctl -qw net.ipv4.conf.all.forwarding=1",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip neigh add 198.18.0.254 lladdr 02:00:c6:12:00:fe dev lbb0 nud permanent",
		"ip -6 neigh add 2001:db8:18::fe lladdr 02:00:c6:12:00:fe dev lbb0 nud permanent",
		"ip route add 10.0.0.0/24 via 198.18.0.254",
		"ip -6 route add 2001:db8:a::/64 via 2001:db8:18::fe",
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

/* One VIP of family fam (4 or 6) with 100 backends of family be_fam, and a TCP ACK of
 * one flow to it. */
static int lb_bench_common(struct bench_prog *b, __u32 mode, bool forget, __u32 encap, int fam,
			   int be_fam, __u32 guard)
{
	struct lb_prog_cfg pc = { .mode = mode, .bench_forget = forget, .new_flow_limit = guard };
	struct lb_bench *lb = calloc(1, sizeof(*lb));
	struct lb_fixture *fx = &lb->fx;
	const char *vip = fam == 6 ? "[2001:db8:18::100]:80/tcp" : "198.18.0.100:80/tcp";
	struct pkt_spec ps;
	int err = 0;

	if (!lb)
		return -ENOMEM;
	lb->ns_fd = -1;
	inet_pton(AF_INET, "198.18.0.2", &pc.snat_addr);
	inet_pton(AF_INET6, "2001:db8:18::2", pc.snat6.b);
	pc.tunnel_src4 = pc.snat_addr;
	pc.tunnel_src6 = pc.snat6;
	memcpy(pc.mac, bench_mac_lb, 6);
	if (encap)
		err = lb_bench_netns(lb, &pc.ifindex);
	if (!err)
		err = lb_fixture_up(fx, &pc);
	if (!err)
		err = lb_fixture_vip_add_encap(fx, vip, encap);
	/* Whole configuration at once: one table build instead of a hundred. */
	for (int i = 0; !err && i < 100; i++) {
		struct lb_edit e = { .op = LB_BACKEND_ADD,
				     .backend = { .weight = 1, .has_mac = true } };
		lb_parse_vip(vip, &e.vip);
		if (be_fam == 6) {
			char a[64];

			snprintf(a, sizeof(a), "2001:db8:a::%x", i + 1);
			err = lb_parse_addr_port(a, &e.backend.addr, &e.backend.port);
		} else {
			lb_ip4(&e.backend.addr, htonl(0x0a000000u + i + 1));
		}
		memcpy(e.backend.mac, bench_mac_be, 6);
		if (!err)
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
	if (fam == 6) {
		ps.family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8:18::100", &ps.dst6);
	} else {
		inet_pton(AF_INET, "198.18.0.100", &ps.dst4);
	}
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

/* Rows: mode, established (conntrack hit) or new flow, encap, family. A known flow is in
 * conntrack after the first run, so every repeat is a hit. New flow every run: the
 * restoring runner feeds the same packet each time, so the program is told
 * (bench_forget) to empty the flow's conntrack slot (and delete its reverse entry) again
 * after creating them. The figure is a new flow plus that undoing: an upper bound. With
 * bench_forget false, as everywhere else, the verifier removes that code. */
#define LB_BENCH_(fn, label, mode, forget, encap, fam, be_fam, guard)                 \
	int fn(struct bench_prog *b)                                                   \
	{                                                                              \
		int err = lb_bench_common(b, mode, forget, encap, fam, be_fam, guard); \
		b->name = label;                                                       \
		return err;                                                            \
	}
#define LB_BENCH(fn, label, mode, forget, encap, fam, be_fam) \
	LB_BENCH_(fn, label, mode, forget, encap, fam, be_fam, 0)

LB_BENCH(lb_bench_hit_setup, "lb nat ct hit", LB_MODE_NAT, false, LB_ENCAP_NONE, 4, 4)
LB_BENCH(lb_bench_dsr_setup, "lb dsr ct hit", LB_MODE_DSR, false, LB_ENCAP_NONE, 4, 4)
LB_BENCH(lb_bench_new_setup, "lb nat new flow", LB_MODE_NAT, true, LB_ENCAP_NONE, 4, 4)
LB_BENCH(lb_bench_dsr_new_setup, "lb dsr new flow", LB_MODE_DSR, true, LB_ENCAP_NONE, 4, 4)
/* Encap: conntrack hit, the next hop from the per-CPU cache, 20 / 28 bytes of outer headers. */
LB_BENCH(lb_bench_ipip_setup, "lb dsr ipip ct hit", LB_MODE_DSR, false, LB_ENCAP_IPIP, 4, 4)
LB_BENCH(lb_bench_gue_setup, "lb dsr gue ct hit", LB_MODE_DSR, false, LB_ENCAP_GUE, 4, 4)
LB_BENCH(lb_bench_gue_new_setup, "lb dsr gue new flow", LB_MODE_DSR, true, LB_ENCAP_GUE, 4, 4)
/* IPv6 VIPs: the same rows; encap v6-in-v6, and v6-in-v4. */
LB_BENCH(lb_bench_hit6_setup, "lb6 nat ct hit", LB_MODE_NAT, false, LB_ENCAP_NONE, 6, 6)
LB_BENCH(lb_bench_dsr6_setup, "lb6 dsr ct hit", LB_MODE_DSR, false, LB_ENCAP_NONE, 6, 6)
LB_BENCH(lb_bench_new6_setup, "lb6 nat new flow", LB_MODE_NAT, true, LB_ENCAP_NONE, 6, 6)
LB_BENCH(lb_bench_dsr_new6_setup, "lb6 dsr new flow", LB_MODE_DSR, true, LB_ENCAP_NONE, 6, 6)
LB_BENCH(lb_bench_gue6_setup, "lb6 dsr gue ct hit", LB_MODE_DSR, false, LB_ENCAP_GUE, 6, 6)
LB_BENCH(lb_bench_gue6_new_setup, "lb6 dsr gue new flow", LB_MODE_DSR, true, LB_ENCAP_GUE, 6, 6)
LB_BENCH(lb_bench_gue64_setup, "lb6 dsr gue-in-v4 ct hit", LB_MODE_DSR, false, LB_ENCAP_GUE, 6, 4)
/* The new-flow guard (--new-flow-limit 1): after the first flow of each second every new
 * flow is over the limit, sent where Maglev says and not recorded: Katran's guarded row. */
LB_BENCH_(lb_bench_dsr_guard_setup, "lb dsr new flow over --new-flow-limit", LB_MODE_DSR, true,
	  LB_ENCAP_NONE, 4, 4, 1)
