// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Network probes (XDP native and generic, TC clsact and tcx, BPF_PROG_TEST_RUN, live
 * frames, veth) run together in a child process inside an anonymous network namespace
 * (lib/netns.c): nothing they create can outlive them, and the namespace we came from is
 * never touched. */
#define _GNU_SOURCE
#include "probe.h"
#include "probe_int.h"
#include "util.h"
#include "bpfutil.h"
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* ---- network probes, in a child inside an anonymous netns ---- */

struct net_ctx {
	struct probe_result r[FEAT__MAX];
};

static const enum feature net_features[] = {
	FEAT_NETNS, FEAT_XDP_NATIVE, FEAT_XDP_GENERIC, FEAT_TC_CLSACT, FEAT_TCX,
	FEAT_TEST_RUN, FEAT_XDP_LIVE_FRAMES,
};

static void xdp_attach_probe(struct probe_result *r, int ifindex, __u32 flags, const char *where)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	int prog = load_ret(BPF_PROG_TYPE_XDP, BPF_XDP, 0, XDP_PASS), link;

	if (prog < 0) {
		set_failed(r, prog, "loading an XDP program");
		return;
	}
	link = bpf_link_create(prog, ifindex, BPF_XDP, &o);
	close(prog);
	if (link < 0) {
		char what[96];
		snprintf(what, sizeof(what), "attach to %s", where);
		set_failed(r, link, what);
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "bpf_link attached to %s in a throwaway netns", where);
}

static void tc_probe(struct probe_result *r, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1);
	int prog = load_ret(BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0), err;

	if (prog < 0) {
		set_failed(r, prog, "loading a TC program");
		return;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		close(prog);
		set_failed(r, err, "creating a clsact qdisc (bpf_tc_hook_create)");
		if (r->status == PROBE_MISSING)
			set_hint(r, "the kernel needs CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF");
		return;
	}
	o.prog_fd = prog;
	err = bpf_tc_attach(&hook, &o);
	close(prog);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	if (err) {
		set_failed(r, err, "attaching a cls_bpf filter (bpf_tc_attach)");
		return;
	}
	set_res(r, PROBE_OK, 0, "clsact qdisc + cls_bpf filter on lo in a throwaway netns");
}

static void tcx_probe(struct probe_result *r, int ifindex)
{
	int prog = load_ret(BPF_PROG_TYPE_SCHED_CLS, 0, 0, 0), link;

	if (prog < 0) {
		set_failed(r, prog, "loading a TC program");
		return;
	}
	link = bpf_link_create(prog, ifindex, (enum bpf_attach_type)BPFLAB_TCX_INGRESS, NULL);
	close(prog);
	if (link < 0) {
		set_failed(r, link, "bpf_link_create with BPF_TCX_INGRESS");
		if (r->status == PROBE_MISSING)
			set_hint(r, "no tcx links in this kernel; TC programs use a clsact qdisc instead");
		return;
	}
	close(link);
	set_res(r, PROBE_OK, 0, "tcx link (BPF_TCX_INGRESS) on lo in a throwaway netns");
}

static void test_run_probe(struct probe_result *r, bool live)
{
	unsigned char pkt[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	/* Live frames are really sent to the stack unless dropped: drop them. */
	int want = live ? XDP_DROP : XDP_PASS;
	int prog = load_ret(BPF_PROG_TYPE_XDP, live ? BPF_XDP : 0, 0, want), err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1,
		    .flags = live ? BPF_F_TEST_XDP_LIVE_FRAMES : 0);

	if (prog < 0) {
		set_failed(r, prog, "loading an XDP program");
		return;
	}
	err = bpf_prog_test_run_opts(prog, &o);
	close(prog);
	if (err) {
		set_failed(r, err, live ? "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES"
					: "BPF_PROG_TEST_RUN on XDP");
		if (live && r->status == PROBE_MISSING)
			set_hint(r, "no live-frames mode: bpflab bench has no traffic generator here");
		return;
	}
	if (!live && (int)o.retval != want) {
		set_res(r, PROBE_UNKNOWN, 0, "BPF_PROG_TEST_RUN returned %u, expected %d", o.retval, want);
		return;
	}
	if (live)
		set_res(r, PROBE_OK, 0, "sent one frame through an XDP_DROP program in a throwaway netns");
	else
		set_res(r, PROBE_OK, 0, "ran an XDP program on a 64-byte frame: XDP_PASS");
}

static int net_child(void *arg)
{
	struct net_ctx *c = arg;
	struct netns_end a = { NULL, NULL, NULL }, b = { NULL, NULL, NULL };
	char na[16], nb[16], ns[32];
	int err, ifa;

	for (size_t i = 0; i < ARRAY_SIZE(net_features); i++)
		set_res(&c->r[net_features[i]], PROBE_UNKNOWN, 0, "not probed");
	/* Refuses when the namespace did not change: the one we came from is never touched. */
	err = netns_unshare();
	if (err) {
		for (size_t i = 0; i < ARRAY_SIZE(net_features); i++)
			set_res(&c->r[net_features[i]], PROBE_UNKNOWN, -err,
				"could not create a throwaway network namespace: %s", strerr(err));
		set_res(&c->r[FEAT_NETNS], classify(err) == PROBE_REFUSED ? PROBE_REFUSED : PROBE_UNKNOWN,
			-err, "could not create a network namespace: %s", strerr(err));
		return err;
	}
	/* Tests use this to check that the namespace is gone afterwards. */
	netns_current_name(ns, sizeof(ns));
	pr_debug("probing network attach in throwaway netns net:[%s]\n", ns + 2);

	test_run_probe(&c->r[FEAT_TEST_RUN], false);
	test_run_probe(&c->r[FEAT_XDP_LIVE_FRAMES], true);
	xdp_attach_probe(&c->r[FEAT_XDP_GENERIC], 1, XDP_FLAGS_SKB_MODE, "lo (generic mode)");
	tc_probe(&c->r[FEAT_TC_CLSACT], 1);
	tcx_probe(&c->r[FEAT_TCX], 1);

	/* pid-based names: unique even if the namespace were ever shared. */
	snprintf(na, sizeof(na), "bpfp%da", (int)getpid() % 10000000);
	snprintf(nb, sizeof(nb), "bpfp%db", (int)getpid() % 10000000);
	a.ifname = na;
	b.ifname = nb;
	err = netns_veth_add(&a, &b);
	ifa = err ? 0 : (int)if_nametoindex(na);
	if (!ifa) {
		set_res(&c->r[FEAT_NETNS], PROBE_MISSING, ENODEV,
			"made a network namespace, but `ip link add ... type veth` failed");
		set_hint(&c->r[FEAT_NETNS], "the lab needs veth (CONFIG_VETH) and iproute2's ip");
		set_res(&c->r[FEAT_XDP_NATIVE], PROBE_UNKNOWN, 0, "no veth pair to try native XDP on");
		return 0;
	}
	set_res(&c->r[FEAT_NETNS], PROBE_OK, 0, "made a network namespace with a veth pair");
	xdp_attach_probe(&c->r[FEAT_XDP_NATIVE], ifa, XDP_FLAGS_DRV_MODE, "veth (native mode)");
	if (c->r[FEAT_XDP_NATIVE].status == PROBE_MISSING)
		set_hint(&c->r[FEAT_XDP_NATIVE], "the veth driver has no native XDP here; generic XDP works instead");
	/* The veth pair and the namespace go away when this child exits. */
	return 0;
}

void probe_net(struct probe_result *results, bool *probed)
{
	struct net_ctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return;
	err = run_child(net_child, c, sizeof(*c));
	for (size_t i = 0; i < ARRAY_SIZE(net_features); i++) {
		enum feature f = net_features[i];
		if (err == -ECHILD)
			set_res(&c->r[f], PROBE_UNKNOWN, ECHILD, "the probe process did not report");
		results[f] = c->r[f];
		probed[f] = true;
	}
	free(c);
}
