// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb decap IFACE: the backend side of lb's encapsulating modes. Loads decap.bpf.c
 * through decap_prog, serves the VIPs given (or every address on lo), attaches through a
 * bpf_link (XDP; tc where XDP cannot attach, or with --hook tc), runs in the foreground
 * until Ctrl-C, SIGTERM or --duration, and prints its counters then (and on SIGUSR1).
 * Nothing is pinned: the link goes with the process, also on kill -9. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "ifstats.h"
#include "json.h"
#include "lb_cmd.h"
#include "decap_prog.h"

enum { HOOK_AUTO, HOOK_XDP, HOOK_TC };

struct decap_args {
	int hook, xdp_mode;
	double duration;
	bool mode_set;
	int nvips;
	struct decap_vip_key vips[DECAP_MAX_VIPS];
};

/* --vip may be given many times: each one appends. */
static int parse_vip_opt(const char *arg, void *dst, char *why, size_t whylen)
{
	struct decap_args *a = (struct decap_args *)((char *)dst - offsetof(struct decap_args, nvips));

	if (a->nvips >= DECAP_MAX_VIPS) {
		snprintf(why, whylen, "at most %d VIPs", DECAP_MAX_VIPS);
		return -1;
	}
	if (decap_parse_vip(arg, &a->vips[a->nvips], why, whylen))
		return -1;
	for (int i = 0; i < a->nvips; i++)
		if (!memcmp(&a->vips[i], &a->vips[a->nvips], sizeof(a->vips[i]))) {
			snprintf(why, whylen, "given twice");
			return -1;
		}
	a->nvips++;
	return 0;
}

static int parse_mode_opt(const char *arg, void *dst, char *why, size_t whylen)
{
	struct decap_args *a = (struct decap_args *)((char *)dst - offsetof(struct decap_args, xdp_mode));
	enum xdp_mode m;

	if (xdp_mode_parse(arg, &m)) {
		snprintf(why, whylen, "auto, native, skb or generic");
		return -1;
	}
	a->xdp_mode = m;
	a->mode_set = true;
	return 0;
}

static const struct opt_enum hooks[] = {
	{ .name = "auto", .value = HOOK_AUTO }, { .name = "xdp", .value = HOOK_XDP },
	{ .name = "tc", .value = HOOK_TC }, { .name = NULL }
};

#define O(lname, sopt, otype, field, arg, help) \
	OPTDEF(lname, sopt, otype, struct decap_args, field, arg, help)
static const struct opt_def decap_opts[] = {
	{ O("vip", 0, OPT_FUNC, nvips, "VIP", "a VIP this backend serves: ADDR (every port and "
	    "protocol), ADDR:PORT/tcp|udp or [IPV6]:PORT/tcp|udp; repeat for more"),
	  .def = "every address on lo but 127.0.0.0/8 and ::1", .parse = parse_vip_opt },
	{ O("hook", 0, OPT_ENUM, hook, "HOOK", "xdp, or tc (a tcx ingress link); auto takes "
	    "xdp and falls back to tc when XDP cannot attach"), .def = "auto", .values = hooks },
	{ O("xdp-mode", 'm', OPT_FUNC, xdp_mode, "MODE", "XDP attach mode: auto, native, skb or "
	    "generic (skb is generic)"), .def = "auto", .parse = parse_mode_opt },
	OPTS_DURATION(struct decap_args, duration),
	OPTS_END
};
#undef O

const struct cmd_spec lb_decap_spec = {
	.name = "lb decap",
	.args = "IFACE [--vip VIP ...] [--hook auto|xdp|tc] [-m MODE] [options]",
	.about =
	"The backend side of lb's encapsulating VIPs (encap ipip|gue): strips IPIP (IPv4 or\n"
	"IPv6 outer, protocol 4 or 41) and GUE variant 1 (UDP to port 6080, the inner IP header\n"
	"right after UDP) from packets for the VIPs this backend serves and passes the inner\n"
	"packet to the stack, as if it had arrived directly (put the VIP on lo). Encapsulated\n"
	"packets for other addresses, outer fragments and broken outer or inner headers are\n"
	"dropped and counted; everything else passes untouched. Needs no tunnel module.\n"
	"Runs until Ctrl-C, SIGTERM or --duration, then prints its counters (SIGUSR1: now).\n",
	.opts = decap_opts,
	.notes = "examples:\n"
		 "  bpflab lb decap eth0                          # the VIPs on lo\n"
		 "  bpflab lb decap eth0 --vip 198.18.0.100:80/tcp --vip 2001:db8:18::100\n",
	.json_help = "JSON Lines: a decap_started record, then decap records",
	.first_arg = OPT_IFACE,
	.min_args = 1,
	.max_args = 1,
};

/* The addresses on lo other than loopback's own: what a DSR backend serves. */
static int vips_from_lo(struct decap_args *a)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && a->nvips < DECAP_MAX_VIPS; i = i->ifa_next) {
		struct decap_vip_key *k = &a->vips[a->nvips];

		if (!i->ifa_addr || strcmp(i->ifa_name, "lo"))
			continue;
		memset(k, 0, sizeof(*k));
		if (i->ifa_addr->sa_family == AF_INET) {
			struct in_addr in = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			if ((ntohl(in.s_addr) >> 24) == 127)
				continue;
			memcpy(k->addr, &in, 4);
			k->family = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct in6_addr in6 = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (IN6_IS_ADDR_LOOPBACK(&in6) || IN6_IS_ADDR_LINKLOCAL(&in6))
				continue;
			memcpy(k->addr, &in6, 16);
			k->family = 6;
		} else {
			continue;
		}
		a->nvips++;
	}
	freeifaddrs(ifa);
	return 0;
}

struct decap_run {
	const char *ifname;
	int ifindex;
	bool tc;
	enum xdp_mode mode;   /* XDP: the mode it got */
	char fallback[160];   /* why tc, when auto fell back to it */
	struct decap_args *a;
	struct decap_bpf *skel;
	double start;
};

static void print_started(const struct decap_run *r)
{
	char v[64];

	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "decap_started");
		json_kstr(&j, "interface", r->ifname);
		json_kstr(&j, "hook", r->tc ? "tc" : "xdp");
		json_kstr(&j, "xdp_mode", r->tc ? NULL : xdp_mode_str(r->mode));
		json_kstr(&j, "fallback", r->fallback[0] ? r->fallback : NULL);
		json_kint(&j, "pid", getpid());
		json_key(&j, "vips");
		json_arr_begin(&j);
		for (int i = 0; i < r->a->nvips; i++) {
			decap_fmt_vip(&r->a->vips[i], v, sizeof(v));
			json_str(&j, v);
		}
		json_arr_end(&j);
		json_record_end(&j);
	} else {
		printf("lb decap on %s: %s%s%s, GUE port %u, VIPs", r->ifname, r->tc ? "tc (tcx)" : "XDP ",
		       r->tc ? "" : xdp_mode_str(r->mode), r->fallback[0] ? " (fallback)" : "",
		       LB_GUE_PORT);
		for (int i = 0; i < r->a->nvips; i++) {
			decap_fmt_vip(&r->a->vips[i], v, sizeof(v));
			printf(" %s", v);
		}
		printf("; Ctrl-C stops\n");
	}
	fflush(stdout);
}

/* One record (or table) of every counter; final: the run is over. */
static int print_counters(const struct decap_run *r, bool final)
{
	struct decap_counters c;
	struct decap_stats s[DECAP_MAX_VIPS];
	char v[64];
	int err = decap_prog_counters(r->skel, &c);

	for (int i = 0; !err && i < r->a->nvips; i++)
		err = decap_prog_vip_stats(r->skel, i, &s[i]);
	if (err) {
		pr_warn("reading the counters failed: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "decap");
		json_kstr(&j, "interface", r->ifname);
		json_kstr(&j, "hook", r->tc ? "tc" : "xdp");
		json_kbool(&j, "final", final);
		json_kdouble(&j, "elapsed", now_mono() - r->start);
		json_key(&j, "counters");
		json_obj_begin(&j);
		for (int i = 0; i < DC__MAX; i++)
			json_kuint(&j, decap_counter_names[i], c.c[i]);
		json_obj_end(&j);
		json_key(&j, "vips");
		json_arr_begin(&j);
		for (int i = 0; i < r->a->nvips; i++) {
			decap_fmt_vip(&r->a->vips[i], v, sizeof(v));
			json_obj_begin(&j);
			json_kstr(&j, "vip", v);
			json_kuint(&j, "packets", s[i].packets);
			json_kuint(&j, "bytes", s[i].bytes);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_record_end(&j);
	} else {
		printf("lb decap on %s after %.1f s:\n", r->ifname, now_mono() - r->start);
		for (int i = 0; i < r->a->nvips; i++) {
			decap_fmt_vip(&r->a->vips[i], v, sizeof(v));
			printf("  vip %-40s %12llu packets %14llu bytes\n", v,
			       (unsigned long long)s[i].packets, (unsigned long long)s[i].bytes);
		}
		for (int i = 0; i < DC__MAX; i++)
			printf("  %-22s %12llu\n", decap_counter_names[i], (unsigned long long)c.c[i]);
	}
	fflush(stdout);
	return EXIT_OK;
}

static volatile sig_atomic_t want_counters;

static void on_usr1(int sig)
{
	(void)sig;
	want_counters = 1;
}

static int run_loop(struct decap_run *r, double duration)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	bool gone = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	while (!exiting) {
		double left = duration >= 0 ? r->start + duration - now_mono() : 1;

		if (left <= 0)
			break;
		poll(NULL, 0, left < 0.2 ? (int)(left * 1000) + 1 : 200);
		if (want_counters) {
			want_counters = 0;
			print_counters(r, false);
		}
		if (ifstats_iface_gone(r->ifname, r->ifindex)) {
			pr_warn("interface %s (ifindex %d) is gone; the program went with it\n",
				r->ifname, r->ifindex);
			gone = true;
			break;
		}
	}
	signal(SIGUSR1, SIG_DFL);
	return print_counters(r, true) ?: gone ? EXIT_FAIL : EXIT_OK;
}

static int attach(struct decap_run *r, struct decap_args *a, int *link_fd)
{
	enum xdp_mode want = a->mode_set ? (enum xdp_mode)a->xdp_mode : XDP_MODE_AUTO;

	if (!r->tc) {
		*link_fd = xdp_link_attach(decap_prog_fd(r->skel, false), r->ifindex, r->ifname,
					   want, &r->mode);
		if (*link_fd >= 0 || a->hook == HOOK_XDP || a->mode_set)
			return *link_fd >= 0 ? 0 : *link_fd;
		snprintf(r->fallback, sizeof(r->fallback), "XDP could not attach to %s (%s): tc instead",
			 r->ifname, strerr(*link_fd));
		pr_warn("%s\n", r->fallback);
		r->tc = true;
	}
	*link_fd = bpf_link_create(decap_prog_fd(r->skel, true), r->ifindex,
				   (enum bpf_attach_type)BPFLAB_TCX_INGRESS, NULL);
	if (*link_fd < 0) {
		int err = -errno;
		pr_warn("failed to attach a tcx link to '%s': %s\n", r->ifname, strerr(err));
		return err;
	}
	return 0;
}

int lb_decap_main(int argc, char **argv)
{
	static struct decap_args a;
	struct decap_prog_cfg pc = {};
	struct decap_run r = {};
	int err, ret = EXIT_FAIL, link_fd = -1;

	memset(&a, 0, sizeof(a));
	a.duration = -1;
	if ((err = opts_parse(&lb_decap_spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	r.ifname = argv[optind];
	r.a = &a;
	r.tc = a.hook == HOOK_TC;
	if (r.tc && a.mode_set)
		return usage_error("lb decap", "--xdp-mode is for XDP; --hook tc has no modes");
	if (iface_check_name(r.ifname))
		return EXIT_USAGE;
	if ((err = require_root("bpflab lb decap")))
		return err;
	if (iface_resolve(r.ifname, &r.ifindex))
		return EXIT_USAGE;
	if (!a.nvips) {
		if ((err = vips_from_lo(&a))) {
			pr_warn("cannot list the addresses of lo: %s\n", strerr(err));
			return EXIT_FAIL;
		}
		if (!a.nvips)
			return usage_error("lb decap", "no VIP to serve: give --vip ADDR[:PORT/PROTO], or put "
					   "the VIPs on lo (ip addr add VIP/32 dev lo)");
	}
	if ((err = iface_mac(r.ifname, pc.mac))) {
		pr_warn("cannot read the MAC of %s: %s\n", r.ifname, strerr(err));
		return EXIT_FAIL;
	}
	r.skel = decap_prog_load(&pc);
	if (!r.skel)
		return errno == EPERM ? EXIT_NOPERM : EXIT_FAIL;
	for (int i = 0; i < a.nvips; i++)
		if ((err = decap_prog_add_vip(r.skel, &a.vips[i], i))) {
			pr_warn("cannot add VIP %d: %s\n", i, strerr(err));
			goto out;
		}
	if ((err = attach(&r, &a, &link_fd))) {
		ret = err == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
		goto out;
	}
	r.start = now_mono();
	print_started(&r);
	ret = run_loop(&r, a.duration);
out:
	if (link_fd >= 0)
		close(link_fd);
	decap_prog_destroy(r.skel);
	return ret;
}
