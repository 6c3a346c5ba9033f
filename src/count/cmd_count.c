// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab count: the talk's C hello. XDP counts every packet on an interface; user space
 * reads the global `counter` through the skeleton's mapped .bss and the per-CPU
 * protocol counters from a map. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "count.h"
#include "count.skel.h"
#include "benchcase.h"
#include "pkt.h"

const char cmd_count_usage[] =
	"usage: bpflab count [IFACE] [options]\n"
	"\n"
	"Attach an XDP program to IFACE (default lo, as in the talk) that counts packets and\n"
	"bytes per protocol and per XDP verdict; print a rate every interval and a summary.\n"
	"If a pinned count program is on IFACE, its counters are read instead.\n"
	"\n"
	"options:\n"
	"  -m, --mode MODE       auto (default), native or generic XDP\n"
	"  -i, --interval S      seconds between rate lines (default 1, 0 for none)\n"
	"  -d, --duration S      stop after S seconds (default: until Ctrl-C)\n"
	"      --drop            return XDP_DROP instead of XDP_PASS (the talk's experiment)\n"
	"      --pin             stay attached after exit, pinned under " BPFLAB_PIN_ROOT "/count/IFACE\n"
	"      --detach          remove a pinned count program from IFACE and exit\n"
	"  -j, --json            JSON Lines: interval records and a summary record\n"
	"  -v, --verbose         show libbpf's messages\n";

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
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "interval");
		json_kdouble(&j, "elapsed", t);
		json_kdouble(&j, "pps", dt > 0 ? pk / dt : 0);
		json_counters(&j, s, counter);
		json_obj_end(&j);
		json_newline(&j);
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
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "summary");
		json_kstr(&j, "interface", c->ifname);
		json_kint(&j, "ifindex", c->ifindex);
		json_kstr(&j, "mode", xdp_mode_str(c->mode));
		json_kstr(&j, "program", "count_xdp");
		json_kbool(&j, "pinned", c->pin || c->pinned_existing);
		json_kdouble(&j, "elapsed", elapsed);
		json_counters(&j, s, counter);
		json_obj_end(&j);
		json_newline(&j);
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
	int err;

	while (!exiting) {
		double now = now_mono(), wake = duration >= 0 ? start + duration : 1e18;
		if (interval > 0 && next < wake)
			wake = next;
		if (now >= start + (duration >= 0 ? duration : 1e18))
			break;
		if (wake > now)
			poll(NULL, 0, (int)((wake - now) * 1000) + 1);
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
			while (next <= now)
				next += interval;
		}
	}
	err = read_stats(c, &s, &counter);
	if (err) {
		pr_warn("failed to read counters: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	print_summary(c, &s, counter, now_mono() - start);
	return EXIT_OK;
}

static int detach_pinned(const char *ifname)
{
	char dir[256];
	int err;

	if (pin_dir_path("count", ifname, dir, sizeof(dir)))
		return EXIT_USAGE;
	err = pin_dir_detach(dir);
	if (err == -ENOENT)
		pr_warn("no pinned count program on '%s' (%s is missing)\n", ifname, dir);
	if (err)
		return EXIT_FAIL;
	print_detached("detached", ifname, dir, "detached count_xdp from");
	return EXIT_OK;
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
	char tmp[300], path[340];
	int err;

	err = pin_tmp_begin(c->pin_dir, tmp, sizeof(tmp));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/link", tmp);
	err = bpf_obj_pin(link_fd, path);
	if (!err) {
		snprintf(path, sizeof(path), "%s/stats", tmp);
		err = bpf_map__pin(skel->maps.stats, path);
	}
	if (!err) {
		snprintf(path, sizeof(path), "%s/bss", tmp);
		err = bpf_map__pin(skel->maps.bss, path);
	}
	if (err) {
		pr_warn("pinning under %s failed: %s\n", tmp, strerr(err));
		pin_dir_remove(tmp);
		return err;
	}
	return pin_tmp_commit(tmp, c->pin_dir);
}

int cmd_count(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, 0, 'm' },
		{ "interval", required_argument, 0, 'i' },
		{ "duration", required_argument, 0, 'd' },
		{ "drop", no_argument, 0, 'D' },
		{ "pin", no_argument, 0, 'P' },
		{ "detach", no_argument, 0, 'X' },
		COMMON_LONGOPTS,
		{}
	};
	struct count_ctx c = { .ifname = "lo", .stats_fd = -1, .bss_fd = -1 };
	double duration = -1, interval = 1;
	bool drop = false, detach = false;
	struct count_bpf *skel = NULL;
	int opt, err, ret = EXIT_FAIL, link_fd = -1;

	while ((opt = getopt_long(argc, argv, "m:i:d:" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (xdp_mode_parse(optarg, &c.mode))
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_duration(optarg, &interval))
				return usage_error("count", "invalid --interval '%s'", optarg);
			break;
		case 'd':
			if (parse_duration(optarg, &duration))
				return usage_error("count", "invalid --duration '%s'", optarg);
			break;
		case 'D': drop = true; break;
		case 'P': c.pin = true; break;
		case 'X': detach = true; break;
		default:
			if ((err = common_opt("count", opt)) >= 0 && err != 0)
				return err;
		}
	}
	if (optind < argc)
		c.ifname = argv[optind++];
	if (optind < argc)
		return usage_error("count", "unexpected argument '%s'", argv[optind]);
	if (iface_check_name(c.ifname))
		return EXIT_USAGE;
	if ((err = require_root("bpflab count")))
		return err;
	if (detach)
		return detach_pinned(c.ifname);
	if (iface_resolve(c.ifname, &c.ifindex))
		return EXIT_USAGE;
	if (pin_dir_path("count", c.ifname, c.pin_dir, sizeof(c.pin_dir)))
		return EXIT_USAGE;

	if (fs_is_mounted("/sys/fs/bpf", 0xcafe4a11)) {
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

	skel = count_bpf__open();
	if (!skel) {
		pr_warn("failed to open the count program: %s\n", strerr(errno));
		return EXIT_FAIL;
	}
	skel->rodata->verdict = drop ? XDP_DROP : XDP_PASS;
	err = count_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the count program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		ret = err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	link_fd = xdp_link_attach(bpf_program__fd(skel->progs.count_xdp), c.ifindex, c.ifname,
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
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "attached");
		json_kstr(&j, "interface", c.ifname);
		json_kint(&j, "ifindex", c.ifindex);
		json_kstr(&j, "mode", xdp_mode_str(c.mode));
		json_kstr(&j, "program", "count_xdp");
		json_kstr(&j, "verdict", drop ? "drop" : "pass");
		if (c.pin)
			json_kstr(&j, "pin_dir", c.pin_dir);
		json_obj_end(&j);
		json_newline(&j);
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

/* count on an ICMP echo: parse, classify, two per-CPU adds and one atomic add. */
int count_bench_setup(struct bench_prog *b)
{
	struct count_bpf *skel = count_bpf__open_and_load();
	struct pkt_spec s;

	if (!skel)
		return -errno;
	pkt_spec_default(&s);
	b->name = "count";
	b->baseline = "xdp_pass";
	b->prog_fd = bpf_program__fd(skel->progs.count_xdp);
	b->pkt_len = pkt_build(&s, b->pkt);
	b->expect_retval = XDP_PASS;
	b->priv = skel;
	b->cleanup = count_bench_cleanup;
	return 0;
}
