// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab count: the talk's C hello. XDP counts every packet on an interface; user space
 * reads the global `counter` through the skeleton's mapped .bss and the per-CPU
 * protocol counters from a map. */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "count.h"
#include "count.skel.h"
#include "count_prog.h"
#include "benchcase.h"
#include "pkt.h"
#include "ifstats.h"

struct count_opts {
	int mode; /* enum xdp_mode */
	double interval, duration;
	bool drop, pin, detach;
};

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct count_opts, field, arg, help)
static const struct opt_def count_opts[] = {
	OPTS_XDP_MODE(struct count_opts, mode),
	{ O("interval", 'i', OPT_DURATION, interval, "S", "seconds between rate lines (0: none)"), .def = "1", .dmin = INTERVAL_MIN, .zero_ok = true },
	OPTS_DURATION(struct count_opts, duration),
	{ O("drop", 0, OPT_FLAG, drop, NULL, "return XDP_DROP instead of XDP_PASS (the talk's "
	    "experiment)") },
	{ O("pin", 0, OPT_FLAG, pin, NULL, "stay attached after exit, pinned under "
	    BPFLAB_PIN_ROOT "/count/IFACE") },
	{ O("detach", 0, OPT_FLAG, detach, NULL, "remove a pinned count program from IFACE and exit") },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_count_spec = {
	.name = "count",
	.args = "[IFACE] [options]",
	.about = "Attach an XDP program to IFACE (default lo, as in the talk) that counts packets and\n"
		 "bytes per protocol and per XDP verdict; print a rate every interval and a summary.\n"
		 "If a pinned count program is on IFACE, its counters are read instead.\n",
	.opts = count_opts,
	.json_help = "JSON Lines: interval records and a summary record",
	.first_arg = OPT_IFACE,
	.max_args = 1,
};

static const char *proto_names[CP__MAX] = {
	"ipv4", "ipv6", "arp", "icmp", "icmpv6", "tcp", "udp", "other", "malformed",
};

struct count_ctx {
	const char *ifname;
	int ifindex;
	enum xdp_mode mode;
	int stats_fd;
	int bss_fd;              /* only for pinned programs; else the skeleton's mmap */
	volatile __u64 *counter; /* mapped .bss: the talk's global */
	bool pinned_existing;
	bool pin;
	char pin_dir[256];
};

_Static_assert(sizeof(struct count_stats) % sizeof(__u64) == 0, "count_stats: __u64 counters only");

static int read_stats(struct count_ctx *c, struct count_stats *sum, __u64 *counter)
{
	__u32 key = 0;
	int err = percpu_sum_u64(c->stats_fd, &key, (__u64 *)sum, sizeof(*sum) / sizeof(__u64));

	if (err)
		return err;
	if (c->counter) {
		*counter = *c->counter;
	} else {
		/* A pinned .bss map holds the whole section as one value; counter is first. */
		__u64 bss[8] = {};
		if (bpf_map_lookup_elem(c->bss_fd, &key, bss))
			return -errno;
		*counter = bss[0];
	}
	return 0;
}

static __u64 total_packets(const struct count_stats *s)
{
	__u64 t = 0;
	for (int i = 0; i < COUNT_ACTIONS; i++)
		t += s->actions[i];
	return t;
}

static void json_counters(struct json *j, const struct count_stats *s, __u64 counter)
{
	json_kuint(j, "counter", counter);
	json_key(j, "packets");
	json_obj_begin(j);
	for (int i = 0; i < CP__MAX; i++)
		json_kuint(j, proto_names[i], s->packets[i]);
	json_obj_end(j);
	json_key(j, "bytes");
	json_obj_begin(j);
	for (int i = 0; i < CP__MAX; i++)
		json_kuint(j, proto_names[i], s->bytes[i]);
	json_obj_end(j);
	json_key(j, "actions");
	json_obj_begin(j);
	for (int i = 0; i < COUNT_ACTIONS; i++)
		json_kuint(j, xdp_action_str(i), s->actions[i]);
	json_obj_end(j);
}

static void print_interval(struct count_ctx *c, double t, const struct count_stats *s,
			   const struct count_stats *prev, __u64 counter, double dt)
{
	__u64 pk = total_packets(s) - total_packets(prev);

	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "interval");
		json_kdouble(&j, "elapsed", t);
		json_kdouble(&j, "pps", dt > 0 ? pk / dt : 0);
		json_counters(&j, s, counter);
		json_record_end(&j);
		return;
	}
	printf("%7.1fs  counter %-8llu %8.0f pkt/s", t, (unsigned long long)counter,
	       dt > 0 ? pk / dt : 0.0);
	for (int i = 0; i < CP__MAX; i++)
		if (s->packets[i])
			printf("  %s %llu", proto_names[i], (unsigned long long)s->packets[i]);
	printf("\n");
	fflush(stdout);
}

static void print_summary(struct count_ctx *c, const struct count_stats *s, __u64 counter,
			  double elapsed)
{
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "summary");
		json_kstr(&j, "interface", c->ifname);
		json_kint(&j, "ifindex", c->ifindex);
		json_kstr(&j, "mode", xdp_mode_str(c->mode));
		json_kstr(&j, "program", "count_xdp");
		json_kbool(&j, "pinned", c->pin || c->pinned_existing);
		json_kdouble(&j, "elapsed", elapsed);
		json_counters(&j, s, counter);
		json_record_end(&j);
		return;
	}
	printf("\ncount_xdp on %s (%s mode): %llu packets in %.1fs (global counter: %llu)\n",
	       c->ifname, xdp_mode_str(c->mode), (unsigned long long)total_packets(s), elapsed,
	       (unsigned long long)counter);
	printf("  %-10s %12s %14s\n", "protocol", "packets", "bytes");
	for (int i = 0; i < CP__MAX; i++)
		printf("  %-10s %12llu %14llu\n", proto_names[i], (unsigned long long)s->packets[i],
		       (unsigned long long)s->bytes[i]);
	printf("  verdicts:");
	for (int i = 0; i < COUNT_ACTIONS; i++)
		if (s->actions[i])
			printf(" %s %llu", xdp_action_str(i), (unsigned long long)s->actions[i]);
	printf("\n");
}

static int watch(struct count_ctx *c, double duration, double interval)
{
	struct count_stats s = {}, prev = {};
	double start = now_mono(), last = start, next = start + interval;
	__u64 counter = 0;
	bool gone = false;
	int err;

	while (!exiting) {
		double now = now_mono(), wake = duration >= 0 ? start + duration : 1e18;
		if (interval > 0 && next < wake)
			wake = next;
		if (now >= start + (duration >= 0 ? duration : 1e18))
			break;
		/* At most 0.25 s asleep: `wake` may be 1e18 (no end, no interval), and a deleted
		 * interface (its program gone with it) must be noticed within a second. */
		if (wake > now)
			poll(NULL, 0, wake - now > 0.25 ? 250 : (int)((wake - now) * 1000) + 1);
		if (ifstats_iface_gone(c->ifname, c->ifindex)) {
			pr_warn("interface %s (ifindex %d) is gone; the program went with it\n",
				c->ifname, c->ifindex);
			gone = true;
			break;
		}
		now = now_mono();
		if (interval > 0 && now >= next && !exiting) {
			err = read_stats(c, &s, &counter);
			if (err) {
				pr_warn("failed to read counters: %s\n", strerr(err));
				return EXIT_FAIL;
			}
			print_interval(c, now - start, &s, &prev, counter, now - last);
			prev = s;
			last = now;
			/* One step, not a loop: a late wake-up skips the lines it missed. */
			if (next <= now)
				next += interval * ceil((now - next) / interval + 1e-9);
		}
	}
	err = read_stats(c, &s, &counter);
	if (err) {
		pr_warn("failed to read counters: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	print_summary(c, &s, counter, now_mono() - start);
	return gone ? EXIT_FAIL : EXIT_OK;
}

static int detach_pinned(const char *ifname)
{
	return pin_undo("count", ifname, "pinned count program", "detached", "detached count_xdp from");
}

static int open_pinned(struct count_ctx *c)
{
	char path[300];
	int alive;

	snprintf(path, sizeof(path), "%s/link", c->pin_dir);
	alive = pinned_link_alive(path);
	if (alive <= 0) {
		if (!access(c->pin_dir, F_OK)) {
			pr_debug("pinned count on %s is defunct; removing %s\n", c->ifname, c->pin_dir);
			pin_dir_remove(c->pin_dir);
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/stats", c->pin_dir);
	c->stats_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/bss", c->pin_dir);
	c->bss_fd = bpf_obj_get(path);
	if (c->stats_fd < 0 || c->bss_fd < 0) {
		pr_warn("pinned count on '%s' is incomplete (%s); run 'bpflab count %s --detach'\n",
			c->ifname, c->pin_dir, c->ifname);
		return -ENOENT;
	}
	c->pinned_existing = true;
	return 1;
}

static int pin_all(struct count_ctx *c, struct count_bpf *skel, int link_fd)
{
	const struct pin_obj maps[] = {
		{ "stats", bpf_map__fd(skel->maps.stats) },
		{ "bss", bpf_map__fd(skel->maps.bss) },
	};

	return pin_link_and_maps(c->pin_dir, link_fd, maps, ARRAY_SIZE(maps));
}

int cmd_count(int argc, char **argv)
{
	struct count_opts o = { .interval = 1, .duration = -1 };
	struct count_ctx c = { .ifname = "lo", .stats_fd = -1, .bss_fd = -1 };
	double duration, interval;
	bool drop, detach;
	struct count_bpf *skel = NULL;
	int err, ret = EXIT_FAIL, link_fd = -1;

	if ((err = opts_parse(&cmd_count_spec, argc, argv, &o)) != OPTS_GO_ON)
		return err;
	if (optind < argc)
		c.ifname = argv[optind];
	c.mode = o.mode;
	c.pin = o.pin;
	duration = o.duration;
	interval = o.interval;
	drop = o.drop;
	detach = o.detach;
	if (iface_check_name(c.ifname))
		return EXIT_USAGE;
	if ((err = require_caps("count", CAPN_BPF | CAPN_PERFMON | CAPN_NET_ADMIN, "CAP_BPF to load "
				"the XDP program and read its counters, CAP_PERFMON for the verifier to "
				"allow packet pointer arithmetic, CAP_NET_ADMIN to attach it")))
		return err;
	if (detach)
		return detach_pinned(c.ifname);
	if (iface_resolve(c.ifname, &c.ifindex))
		return EXIT_USAGE;
	if (pin_dir_prepare("count", c.ifname, c.pin_dir, sizeof(c.pin_dir)))
		return EXIT_USAGE;

	if (fs_is_mounted("/sys/fs/bpf", BPF_FS_MAGIC)) {
		err = open_pinned(&c);
		if (err < 0)
			return EXIT_FAIL;
		if (err > 0) {
			struct xdp_present cur;
			if (xdp_query_present(c.ifindex, &cur) > 0)
				c.mode = !strcmp(cur.mode, "native") ? XDP_MODE_NATIVE : XDP_MODE_GENERIC;
			if (c.pin || drop)
				pr_warn("a pinned count program is already on %s; reading its counters "
					"(--detach it to change options)\n", c.ifname);
			if (!g_opts.json)
				printf("reading pinned counters of %s (%s)\n", c.ifname, c.pin_dir);
			ret = watch(&c, duration, interval);
			goto out;
		}
	}

	skel = count_prog_load(&(struct count_prog_cfg){ .drop = drop });
	if (!skel) {
		ret = errno == EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	link_fd = xdp_link_attach(count_prog_fd(skel), c.ifindex, c.ifname,
				  c.mode, &c.mode);
	if (link_fd < 0) {
		ret = link_fd == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
		goto out;
	}
	c.stats_fd = bpf_map__fd(skel->maps.stats);
	c.counter = &skel->bss->counter;
	if (c.pin && pin_all(&c, skel, link_fd))
		goto out;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "attached");
		json_kstr(&j, "interface", c.ifname);
		json_kint(&j, "ifindex", c.ifindex);
		json_kstr(&j, "mode", xdp_mode_str(c.mode));
		json_kstr(&j, "program", "count_xdp");
		json_kstr(&j, "action", drop ? "drop" : "pass");
		if (c.pin)
			json_kstr(&j, "pin_dir", c.pin_dir);
		json_record_end(&j);
	} else {
		fprintf(stderr, "count_xdp attached to %s (ifindex %d) in %s mode, verdict %s%s%s\n",
			c.ifname, c.ifindex, xdp_mode_str(c.mode), drop ? "XDP_DROP" : "XDP_PASS",
			c.pin ? "; pinned at " : "; Ctrl-C to stop", c.pin ? c.pin_dir : "");
	}
	ret = watch(&c, duration, interval);
out:
	if (link_fd >= 0)
		close(link_fd); /* detaches, unless a pin holds the link */
	if (c.pinned_existing) {
		close(c.stats_fd);
		close(c.bss_fd);
	}
	count_bpf__destroy(skel);
	return ret;
}

static void count_bench_cleanup(struct bench_prog *b)
{
	count_bpf__destroy(b->priv);
}

/* One bench case of count on an ICMP echo, with the verdict of `drop`. */
static int count_bench_load(struct bench_prog *b, bool drop)
{
	struct count_bpf *skel = count_prog_load(&(struct count_prog_cfg){ .drop = drop });
	struct pkt_spec s;

	if (!skel)
		return -errno;
	pkt_spec_default(&s);
	b->name = drop ? "count --drop" : "count";
	b->baseline = drop ? "xdp_drop" : "xdp_pass";
	b->prog_fd = count_prog_fd(skel);
	b->pkt_len = pkt_build(&s, b->pkt);
	b->expect_retval = drop ? XDP_DROP : XDP_PASS;
	b->priv = skel;
	b->cleanup = count_bench_cleanup;
	return 0;
}

/* count on an ICMP echo: parse, classify, two per-CPU adds and one atomic add. */
int count_bench_setup(struct bench_prog *b)
{
	return count_bench_load(b, false);
}

/* count --drop, the talk's experiment: the same program with the XDP_DROP verdict (the
 * row bench compares with a bare drop, also live). */
int count_bench_drop_setup(struct bench_prog *b)
{
	return count_bench_load(b, true);
}
