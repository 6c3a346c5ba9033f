// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab ping: the talk's ping example. Watch ICMP/ICMPv6 echo requests on an interface,
 * drop them (the talk's experiment), or answer them in the kernel at XDP or TC. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "probe.h"
#include "ping.h"
#include "ping.skel.h"
#include "ping_prog.h"
#include "ifstats.h"
#include "ping_cmd.h"

struct ping_opts {
	int mode; /* enum xdp_mode; -1: not given */
	int hook;
	double duration;
	bool drop, reply, quiet;
};

enum { HOOK_AUTO, HOOK_XDP, HOOK_TC };
static const struct opt_enum hooks[] = {
	{ .name = "auto", .value = HOOK_AUTO }, { .name = "xdp", .value = HOOK_XDP },
	{ .name = "tc", .value = HOOK_TC }, { .name = NULL }
};

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct ping_opts, field, arg, help)
static const struct opt_def ping_opts[] = {
	{ O("drop", 0, OPT_FLAG, drop, NULL, "drop echo requests and count them (the talk's experiment)") },
	{ O("reply", 0, OPT_FLAG, reply, NULL, "answer echo requests: addresses swapped, type 8->0 / "
	    "128->129, TTL/hop limit 64, checksums updated incrementally (RFC 1624)") },
	{ O("hook", 0, OPT_ENUM, hook, "HOOK", "xdp (XDP_TX) or tc (ingress, redirected back out of "
	    "IFACE; a tcx link, else a clsact qdisc). auto takes xdp, except for --reply on a veth "
	    "whose peer has no native XDP program (the driver would drop every XDP_TX): tc"),
	  .def = "auto", .values = hooks },
	{ O("xdp-mode", 'm', OPT_ENUM, mode, "MODE", "XDP attach mode (skb is generic)"),
	  .def = "auto", .values = opts_xdp_modes },
	/* Its name before every XDP command took -m/--xdp-mode. */
	{ O("mode", 0, OPT_ENUM, mode, "MODE", "old name of --xdp-mode"), .values = opts_xdp_modes,
	  .hidden = true },
	{ O("duration", 'd', OPT_DURATION, duration, "S", "stop after S seconds"),
	  .def = "until Ctrl-C" },
	{ O("quiet", 'q', OPT_FLAG, quiet, NULL, "no per-request events at all, only counters and "
	    "the summary (cheaper per packet: for floods)") },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_ping_spec = {
	.name = "ping",
	.args = "[IFACE] [options]",
	.about = "See ICMP and ICMPv6 echo requests arriving on IFACE (default lo, as in the talk):\n"
		 "one event per request, counters per source, a summary at exit. Or drop them, or\n"
		 "answer them in the kernel so that they never reach the stack.\n",
	.opts = ping_opts,
	.notes = "Never answered (passed to the stack, counted as refused): requests to broadcast or\n"
		 "multicast (MAC or IP, subnet broadcasts too), or to an address this namespace does\n"
		 "not have; from a broadcast/multicast MAC, 0/8, ::, multicast, a subnet broadcast,\n"
		 "127/8 or ::1 (except on lo) or our own address; with a bad IPv4 header checksum,\n"
		 "IPv4 options (source route...: the kernel answers) or an IPv6 routing header with\n"
		 "segments left. Fragments and malformed packets pass untouched and are counted.\n"
		 "Events are rate limited (2000/s per CPU; the rest are counted suppressed).\n"
		 "Replies the driver dropped (a veth's xdp_tx errors) are counted apart, never as\n"
		 "answered, and make the exit code 1: see docs/ping.md.\n",
	.json_help = "JSON Lines: attached, one \"echo\" record per request, summary",
	.first_arg = OPT_IFACE,
	.max_args = 1,
};

static bool iface_is_loopback(const char *ifname)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool lo = false;

	if (s < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr))
		lo = ifr.ifr_flags & IFF_LOOPBACK;
	close(s);
	return lo;
}

/* --hook auto: XDP sees packets first and costs least, so xdp, unless the replies it
 * sends with XDP_TX could not leave: on a veth, only a peer with a native XDP program
 * takes them (see ifstats_veth_peer_xdp). TC's redirect goes through the peer's normal
 * receive path and works whatever the peer runs. When we cannot tell, tc: it always
 * answers. forced: --hook or --mode was given (the choice is the user's). */
static void choose_hook(struct ping_ctx *c, bool forced)
{
	char why[256];
	int r;

	if (forced)
		return;
	if (c->action != PING_REPLY) {
		snprintf(c->reason, sizeof(c->reason), "nothing to transmit: XDP sees the "
			 "requests first");
		return;
	}
	if (c->on_lo) {
		snprintf(c->reason, sizeof(c->reason), "%s is loopback: generic XDP sends "
			 "XDP_TX through the stack", c->ifname);
		return;
	}
	r = ifstats_veth_peer_xdp(c->ifname, c->ifindex, why, sizeof(why));
	if (r == -EOPNOTSUPP) {
		char drv[32];
		ifstats_driver(c->ifname, drv, sizeof(drv));
		snprintf(c->reason, sizeof(c->reason), "%s (driver %s) is not a veth: its "
			 "driver transmits XDP_TX itself", c->ifname, *drv ? drv : "unknown");
		return;
	}
	c->tc = r != 1;
	snprintf(c->reason, sizeof(c->reason), "%s%s", why,
		 r == 1 ? "" : r == 0 ? "; tc redirects the replies out instead" :
		 "; tc answers whatever the peer runs");
}

/* TC through a tcx link when the kernel has it (gone with the process, also on kill -9),
 * else a clsact qdisc, which we must remove ourselves. Same choice as `bpflab doctor`. */
struct tc_attach {
	int link_fd;
	bool clsact_made;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
};

static int tc_attach(struct ping_ctx *c, int prog_fd, struct tc_attach *t)
{
	enum feature f;
	int err;

	c->tc_via = "tcx";
	t->link_fd = bpf_link_create(prog_fd, c->ifindex, (enum bpf_attach_type)BPFLAB_TCX_INGRESS,
				     NULL);
	if (t->link_fd >= 0)
		return 0;
	err = t->link_fd;
	/* Only now ask the probes (they take ~0.5 s): clsact if that is what they pick. */
	f = probe_need_pick("ping", 2);
	if (f != FEAT_TC_CLSACT) {
		pr_warn("failed to attach a tcx link to '%s': %s\n", c->ifname, strerr(err));
		return err;
	}
	c->tc_via = "clsact";
	memset(&t->hook, 0, sizeof(t->hook));
	t->hook.sz = sizeof(t->hook);
	t->hook.ifindex = c->ifindex;
	t->hook.attach_point = BPF_TC_INGRESS;
	err = bpf_tc_hook_create(&t->hook);
	if (err && err != -EEXIST) {
		pr_warn("failed to create a clsact qdisc on '%s': %s\n", c->ifname, strerr(err));
		return err;
	}
	t->clsact_made = !err;
	memset(&t->opts, 0, sizeof(t->opts));
	t->opts.sz = sizeof(t->opts);
	t->opts.prog_fd = prog_fd;
	err = bpf_tc_attach(&t->hook, &t->opts);
	if (err) {
		pr_warn("failed to attach to clsact ingress of '%s': %s\n", c->ifname, strerr(err));
		if (t->clsact_made) {
			t->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&t->hook);
		}
		return err;
	}
	pr_warn("no tcx here: attached through a clsact qdisc, which a kill -9 would leave behind "
		"(remove with: tc qdisc del dev %s clsact)\n", c->ifname);
	return 0;
}

static void tc_detach(struct tc_attach *t)
{
	if (t->link_fd >= 0) {
		close(t->link_fd);
		return;
	}
	t->opts.prog_fd = t->opts.prog_id = t->opts.flags = 0;
	bpf_tc_detach(&t->hook, &t->opts);
	if (t->clsact_made) {
		t->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&t->hook);
	}
}

/* Replies the driver dropped since attach: the veth's xdp_tx error counters moved by as
 * many (the device is ours alone while attached). 0 where there is no such counter. */
static __u64 tx_dropped(const struct ping_ctx *c)
{
	struct ifstats_xdp now;

	if (!c->tx_counted || ifstats_xdp_read(c->ifname, &now))
		return 0;
	return now.xdp_tx_err >= c->tx0.xdp_tx_err ? now.xdp_tx_err - c->tx0.xdp_tx_err : 0;
}

static int run(struct ping_ctx *c, double duration)
{
	struct ring_buffer *rb;
	struct ping_stats s;
	__u64 txd;
	double start = now_mono(), last_check = start;
	bool gone = false;
	int err;

	rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), ping_show_event, c, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("failed to open the event ring buffer: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	while (!exiting) {
		double left = duration >= 0 ? start + duration - now_mono() : 1, t = now_mono();
		if (left <= 0)
			break;
		/* Issue 11: a deleted interface takes its program with it; say so within a
		 * second instead of reporting nothing forever. */
		if (t - last_check >= 0.25) {
			last_check = t;
			if (ifstats_iface_gone(c->ifname, c->ifindex)) {
				pr_warn("interface %s (ifindex %d) is gone; the program went with it\n",
					c->ifname, c->ifindex);
				gone = true;
				break;
			}
		}
		/* Events come without wakeups (they cost ~2 us each): poll every 50 ms. */
		err = ring_buffer__poll(rb, left < 0.05 ? (int)(left * 1000) + 1 : 50);
		if (err < 0 && err != -EINTR) {
			pr_warn("reading events: %s\n", strerr(err));
			break;
		}
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	err = ping_prog_stats(c->skel, &s);
	if (err) {
		pr_warn("failed to read counters: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	txd = tx_dropped(c);
	ping_show_summary(c, &s, now_mono() - start, txd);
	if (c->tx_doomed && s.c[PS_REPLIED] > txd) {
		pr_warn("%llu replies went into veth %s, whose peer has no native XDP program: "
			"none answered (use --hook auto or tc)\n",
			(unsigned long long)s.c[PS_REPLIED], c->ifname);
		return EXIT_FAIL;
	}
	if (txd) {
		pr_warn("%llu replies were dropped by the driver of %s, not answered%s\n",
			(unsigned long long)txd, c->ifname, c->tx_doomed ?
			": its veth peer has no native XDP program (use --hook auto or tc)" : "");
		return EXIT_FAIL;
	}
	return gone ? EXIT_FAIL : EXIT_OK;
}

int cmd_ping(int argc, char **argv)
{
	struct ping_opts o = { .mode = -1, .duration = -1 };
	struct ping_ctx c = { .ifname = "lo" };
	struct tc_attach tca = { .link_fd = -1 };
	double duration;
	bool drop, reply, mode_set, attached = false, hook_xdp;
	int err, ret = EXIT_FAIL, link_fd = -1, prog_fd;
	struct timespec mono, real;
	struct ping_prog_cfg cfg = {};
	struct ping_local *local = NULL;
	int nlocal;

	if ((err = opts_parse(&cmd_ping_spec, argc, argv, &o)) != OPTS_GO_ON)
		return err;
	if (optind < argc)
		c.ifname = argv[optind];
	drop = o.drop;
	reply = o.reply;
	duration = o.duration;
	c.quiet = o.quiet;
	c.tc = o.hook == HOOK_TC;
	hook_xdp = o.hook == HOOK_XDP;
	mode_set = o.mode >= 0;
	c.mode = mode_set ? (enum xdp_mode)o.mode : XDP_MODE_AUTO;
	if (drop && reply)
		return usage_error("ping", "--drop and --reply exclude each other");
	if (c.tc && mode_set)
		return usage_error("ping", "--xdp-mode is for XDP; --hook tc has no modes");
	c.action = drop ? PING_DROP : reply ? PING_REPLY : PING_WATCH;
	if (iface_check_name(c.ifname))
		return EXIT_USAGE;
	if ((err = require_root("bpflab ping")))
		return err;
	if (iface_resolve(c.ifname, &c.ifindex))
		return EXIT_USAGE;
	c.on_lo = iface_is_loopback(c.ifname);
	choose_hook(&c, hook_xdp || c.tc || mode_set);

	nlocal = ping_prog_local_addrs(&local);
	if (nlocal < 0)
		goto out;
	cfg.action = c.action;
	cfg.tc = c.tc;
	cfg.on_lo = c.on_lo;
	cfg.events = !c.quiet;
	cfg.local = local;
	cfg.nlocal = nlocal;
	c.skel = ping_prog_load(&cfg);
	if (!c.skel) {
		ret = errno == EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	c.mono_to_real = (real.tv_sec - mono.tv_sec) + (real.tv_nsec - mono.tv_nsec) / 1e9;

	if (c.tc) {
		prog_fd = bpf_program__fd(c.skel->progs.ping_tc);
		err = tc_attach(&c, prog_fd, &tca);
		if (err) {
			ret = err == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
			goto out;
		}
	} else {
		prog_fd = bpf_program__fd(c.skel->progs.ping_xdp);
		link_fd = xdp_link_attach(prog_fd, c.ifindex, c.ifname, c.mode, &c.mode);
		if (link_fd < 0) {
			ret = link_fd == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
			goto out;
		}
	}
	attached = true;
	ping_show_attached(&c);
	if (c.action == PING_REPLY && !c.tc) {
		char why[256];
		/* Generic XDP sends XDP_TX through the stack: only native mode needs the peer. */
		if (c.mode == XDP_MODE_NATIVE &&
		    ifstats_veth_peer_xdp(c.ifname, c.ifindex, why, sizeof(why)) == 0) {
			c.tx_doomed = true;
			pr_warn("warning: %s; replies will be counted as dropped by the driver, "
				"not answered (--hook auto or tc answers)\n", why);
		}
		c.tx_counted = !ifstats_xdp_read(c.ifname, &c.tx0);
	}
	ret = run(&c, duration);
out:
	if (attached && c.tc)
		tc_detach(&tca);
	if (link_fd >= 0)
		close(link_fd);
	ping_bpf__destroy(c.skel);
	free(local);
	return ret;
}

