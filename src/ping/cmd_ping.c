// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab ping: the talk's ping example. Watch ICMP/ICMPv6 echo requests on an interface,
 * drop them (the talk's experiment), or answer them in the kernel at XDP or TC. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "probe.h"
#include "ping.h"
#include "ping.skel.h"
#include "benchcase.h"
#include "pkt.h"

/* uapi headers here are from Linux 6.1, before tcx (6.6). */
#define PING_TCX_INGRESS 46

const char cmd_ping_usage[] =
	"usage: bpflab ping [IFACE] [options]\n"
	"\n"
	"See ICMP and ICMPv6 echo requests arriving on IFACE (default lo, as in the talk):\n"
	"one event per request, counters per source, a summary at exit. Or drop them, or\n"
	"answer them in the kernel so that they never reach the stack.\n"
	"\n"
	"options:\n"
	"      --drop            drop echo requests and count them (the talk's experiment)\n"
	"      --reply           answer echo requests: addresses swapped, type 8->0 / 128->129,\n"
	"                        TTL/hop limit 64, checksums updated incrementally (RFC 1624)\n"
	"      --hook HOOK       xdp (default: XDP_TX) or tc (ingress, redirected back out of\n"
	"                        IFACE; a tcx link, else a clsact qdisc)\n"
	"  -m, --mode MODE       XDP mode: auto (default), native or generic\n"
	"  -d, --duration S      stop after S seconds (default: until Ctrl-C)\n"
	"  -q, --quiet           no per-request events at all, only counters and the summary\n"
	"                        (cheaper per packet: for floods)\n"
	"  -j, --json            JSON Lines: attached, one \"echo\" record per request, summary\n"
	"  -v, --verbose         show libbpf's messages\n"
	"\n"
	"Never answered (passed to the stack, counted as refused): requests to broadcast or\n"
	"multicast, or to an address this namespace does not have; requests from 0.0.0.0/::,\n"
	"multicast, 127/8 or ::1 (except on lo) or from our own address. Fragments and\n"
	"malformed packets pass untouched and are counted. XDP_TX on a veth needs the peer\n"
	"to run NAPI (an XDP program on the peer), else use --hook tc: see docs/ping.md.\n";

static const char *stat_names[PS__MAX] = {
	"packets", "echo_v4", "echo_v6", "passed", "dropped", "replied", "refused",
	"fragments", "malformed", "events_lost",
};

static const char *refuse_names[PR__MAX] = {
	"", "l2_multicast", "dst_multicast", "dst_not_ours", "src_invalid", "loopback",
	"src_ours", "routing_header",
};

static const char *action_names[] = { "watch", "drop", "reply" };
static const char *verdict_names[] = { "pass", "drop", "reply" };

struct ping_ctx {
	const char *ifname;
	int ifindex;
	bool on_lo;
	bool quiet;
	enum ping_action action;
	bool tc;
	const char *tc_via;      /* "tcx" or "clsact" */
	enum xdp_mode mode;
	struct ping_bpf *skel;
	double mono_to_real;     /* add to CLOCK_MONOTONIC seconds to get wall time */
	__u64 events;
};

static int read_stats(struct ping_ctx *c, struct ping_stats *sum)
{
	__u32 key = 0;

	return percpu_sum_u64(bpf_map__fd(c->skel->maps.stats), &key, sum->c, PS__MAX);
}

/* IPv4 addresses travel as ::ffff:a.b.c.d in the maps. */
static void addr_str(const __u8 *a16, char *buf, size_t len)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(a16, mapped, 12))
		inet_ntop(AF_INET, a16 + 12, buf, len);
	else
		inet_ntop(AF_INET6, a16, buf, len);
}

static void event_addr(const struct ping_event *e, const __u8 *a, char *buf, size_t len)
{
	inet_ntop(e->family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

static int on_event(void *arg, void *data, size_t size)
{
	struct ping_ctx *c = arg;
	const struct ping_event *e = data;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tbuf[32];
	double t = e->ts_ns / 1e9 + c->mono_to_real;
	time_t secs = (time_t)t;
	struct tm tm;

	if (size < sizeof(*e))
		return 0;
	c->events++;
	if (c->quiet)
		return 0;
	event_addr(e, e->src, src, sizeof(src));
	event_addr(e, e->dst, dst, sizeof(dst));
	localtime_r(&secs, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "echo");
		{
			char iso[48];
			struct tm utc;
			gmtime_r(&secs, &utc);
			strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &utc);
			snprintf(iso + strlen(iso), sizeof(iso) - strlen(iso), ".%06ldZ",
				 (long)((t - secs) * 1e6));
			json_kstr(&j, "time", iso);
		}
		json_kint(&j, "family", e->family);
		json_kstr(&j, "src", src);
		json_kstr(&j, "dst", dst);
		json_kuint(&j, "id", e->id);
		json_kuint(&j, "seq", e->seq);
		json_kuint(&j, "size", e->size);
		json_kuint(&j, "ttl", e->ttl);
		json_kuint(&j, "vlan", e->vlan);
		json_kuint(&j, "ifindex", e->ifindex);
		json_kstr(&j, "verdict", e->verdict < 3 ? verdict_names[e->verdict] : "?");
		if (e->refused && e->refused < PR__MAX)
			json_kstr(&j, "refused", refuse_names[e->refused]);
		json_obj_end(&j);
		json_newline(&j);
		return 0;
	}
	printf("%s.%06ld  %-4s %s > %s  echo id %u seq %u size %u ttl %u", tbuf,
	       (long)((t - secs) * 1e6), e->family == 4 ? "ipv4" : "ipv6", src, dst, e->id, e->seq,
	       e->size, e->ttl);
	if (e->vlan)
		printf(" vlan %u", e->vlan);
	if (e->refused && e->refused < PR__MAX)
		printf("  passed (not answered: %s)\n", refuse_names[e->refused]);
	else
		printf("  %s\n", e->verdict == PING_DROP ? "DROPPED" :
				 e->verdict == PING_REPLY ? "ANSWERED" : "passed");
	fflush(stdout);
	return 0;
}

struct source_row {
	char addr[INET6_ADDRSTRLEN];
	__u64 n;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct source_row *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->addr, y->addr);
}

static int read_sources(struct ping_ctx *c, struct source_row *rows, int cap)
{
	int fd = bpf_map__fd(c->skel->maps.sources), n = 0;
	struct ping_addr key, next;
	void *prev = NULL;

	while (n < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!percpu_sum_u64(fd, &next, &rows[n].n, 1)) {
			addr_str(next.a, rows[n].addr, sizeof(rows[n].addr));
			n++;
		}
		key = next;
		prev = &key;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	return n;
}

static const char *hook_str(const struct ping_ctx *c)
{
	return c->tc ? c->tc_via : "xdp";
}

static void print_summary(struct ping_ctx *c, const struct ping_stats *s, double elapsed)
{
	static struct source_row rows[PING_MAX_SOURCES];
	int n = read_sources(c, rows, PING_MAX_SOURCES);

	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "summary");
		json_kstr(&j, "interface", c->ifname);
		json_kint(&j, "ifindex", c->ifindex);
		json_kstr(&j, "hook", hook_str(c));
		if (!c->tc)
			json_kstr(&j, "mode", xdp_mode_str(c->mode));
		json_kstr(&j, "action", action_names[c->action]);
		json_kdouble(&j, "elapsed", elapsed);
		for (int i = 0; i < PS__MAX; i++)
			json_kuint(&j, stat_names[i], s->c[i]);
		json_kuint(&j, "events", c->events);
		json_key(&j, "sources");
		json_arr_begin(&j);
		for (int i = 0; i < n; i++) {
			json_obj_begin(&j);
			json_kstr(&j, "addr", rows[i].addr);
			json_kuint(&j, "requests", rows[i].n);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_newline(&j);
		return;
	}
	printf("\nping (%s) on %s via %s%s%s: %llu echo requests in %.1fs "
	       "(%llu IPv4, %llu IPv6)\n", action_names[c->action], c->ifname, hook_str(c),
	       c->tc ? "" : " ", c->tc ? "" : xdp_mode_str(c->mode),
	       (unsigned long long)(s->c[PS_ECHO4] + s->c[PS_ECHO6]), elapsed,
	       (unsigned long long)s->c[PS_ECHO4], (unsigned long long)s->c[PS_ECHO6]);
	printf("  passed %llu  dropped %llu  answered %llu  not answered %llu\n",
	       (unsigned long long)s->c[PS_PASSED], (unsigned long long)s->c[PS_DROPPED],
	       (unsigned long long)s->c[PS_REPLIED], (unsigned long long)s->c[PS_REFUSED]);
	printf("  packets seen %llu, fragments %llu, malformed %llu, events lost %llu\n",
	       (unsigned long long)s->c[PS_PACKETS], (unsigned long long)s->c[PS_FRAGMENTS],
	       (unsigned long long)s->c[PS_MALFORMED], (unsigned long long)s->c[PS_EVENTS_LOST]);
	if (n) {
		printf("  %-40s %10s\n", "source", "requests");
		for (int i = 0; i < n; i++)
			printf("  %-40s %10llu\n", rows[i].addr, (unsigned long long)rows[i].n);
	}
}

/* Puts one local address into the program's configuration: .rodata while there is room
 * (before load), else into `over` for the local_addrs map (after load). */
static void local_add(struct ping_bpf *skel, const struct ping_addr *k, bool v4,
		      struct ping_addr *over, int *nover)
{
	struct ping_bpf__rodata *ro = skel->rodata;

	if (v4 && ro->nlocal4 < PING_RO_LOCAL4) {
		memcpy((void *)&ro->local4[ro->nlocal4++], &k->a[12], 4);
		return;
	}
	if (!v4 && ro->nlocal6 < PING_RO_LOCAL6) {
		memcpy((void *)ro->local6[ro->nlocal6++], k->a, 16);
		return;
	}
	if (*nover < PING_MAX_LOCAL) {
		over[(*nover)++] = *k;
		ro->local_overflow = true;
	}
}

/* This namespace's addresses, before load: requests to them are answered, requests from
 * them not. A snapshot: addresses added later are not answered for (restart to pick them up). */
static int collect_local(struct ping_bpf *skel, struct ping_addr *over, int *nover)
{
	struct ifaddrs *ifa, *it;
	int n = 0;

	if (getifaddrs(&ifa)) {
		int err = -errno;
		pr_warn("cannot list this namespace's addresses: %s\n", strerr(err));
		return err;
	}
	for (it = ifa; it; it = it->ifa_next) {
		struct ping_addr k = {};
		if (!it->ifa_addr)
			continue;
		if (it->ifa_addr->sa_family == AF_INET) {
			k.a[10] = k.a[11] = 0xff;
			memcpy(&k.a[12], &((struct sockaddr_in *)it->ifa_addr)->sin_addr, 4);
		} else if (it->ifa_addr->sa_family == AF_INET6) {
			memcpy(k.a, &((struct sockaddr_in6 *)it->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		local_add(skel, &k, it->ifa_addr->sa_family == AF_INET, over, nover);
		n++;
	}
	freeifaddrs(ifa);
	pr_debug("%d local addresses, %d of them in the local_addrs map\n", n, *nover);
	return n;
}

static int store_overflow(struct ping_bpf *skel, const struct ping_addr *over, int nover)
{
	int fd = bpf_map__fd(skel->maps.local_addrs);
	__u8 one = 1;

	for (int i = 0; i < nover; i++)
		if (bpf_map_update_elem(fd, &over[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

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

/* The interface's driver name ("veth", ...), or "" when the kernel will not say. */
static void iface_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*buf = 0;
	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(s, SIOCETHTOOL, &ifr))
		snprintf(buf, len, "%s", info.driver);
	close(s);
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
	t->link_fd = bpf_link_create(prog_fd, c->ifindex, (enum bpf_attach_type)PING_TCX_INGRESS,
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

static int run(struct ping_ctx *c, double duration)
{
	struct ring_buffer *rb;
	struct ping_stats s;
	double start = now_mono();
	int err;

	rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("failed to open the event ring buffer: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	while (!exiting) {
		double left = duration >= 0 ? start + duration - now_mono() : 1;
		if (left <= 0)
			break;
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
	err = read_stats(c, &s);
	if (err) {
		pr_warn("failed to read counters: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	print_summary(c, &s, now_mono() - start);
	return EXIT_OK;
}

static void print_attached(struct ping_ctx *c)
{
	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "attached");
		json_kstr(&j, "interface", c->ifname);
		json_kint(&j, "ifindex", c->ifindex);
		json_kstr(&j, "hook", hook_str(c));
		if (!c->tc)
			json_kstr(&j, "mode", xdp_mode_str(c->mode));
		json_kstr(&j, "program", c->tc ? "ping_tc" : "ping_xdp");
		json_kstr(&j, "action", action_names[c->action]);
		json_obj_end(&j);
		json_newline(&j);
		return;
	}
	fprintf(stderr, "%s attached to %s (ifindex %d) via %s%s%s: %s echo requests; Ctrl-C to stop\n",
		c->tc ? "ping_tc" : "ping_xdp", c->ifname, c->ifindex, hook_str(c),
		c->tc ? "" : ", mode ", c->tc ? "" : xdp_mode_str(c->mode),
		c->action == PING_DROP ? "dropping" : c->action == PING_REPLY ? "answering" : "watching");
}

int cmd_ping(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, 0, 'm' },
		{ "duration", required_argument, 0, 'd' },
		{ "hook", required_argument, 0, 'H' },
		{ "drop", no_argument, 0, 'D' },
		{ "reply", no_argument, 0, 'R' },
		{ "quiet", no_argument, 0, 'q' },
		COMMON_LONGOPTS,
		{}
	};
	struct ping_ctx c = { .ifname = "lo" };
	struct tc_attach tca = { .link_fd = -1 };
	double duration = -1;
	bool drop = false, reply = false, mode_set = false, attached = false;
	int opt, err, ret = EXIT_FAIL, link_fd = -1, prog_fd;
	struct timespec mono, real;
	struct ping_addr *over = NULL;
	int nover = 0;

	while ((opt = getopt_long(argc, argv, "m:d:q" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (xdp_mode_parse(optarg, &c.mode))
				return EXIT_USAGE;
			mode_set = true;
			break;
		case 'd':
			if (parse_duration(optarg, &duration))
				return usage_error("ping", "invalid --duration '%s'", optarg);
			break;
		case 'H':
			if (!strcmp(optarg, "tc"))
				c.tc = true;
			else if (strcmp(optarg, "xdp"))
				return usage_error("ping", "invalid --hook '%s': use xdp or tc", optarg);
			break;
		case 'D': drop = true; break;
		case 'R': reply = true; break;
		case 'q': c.quiet = true; break;
		default:
			if ((err = common_opt("ping", opt)) >= 0 && err != 0)
				return err;
		}
	}
	if (optind < argc)
		c.ifname = argv[optind++];
	if (optind < argc)
		return usage_error("ping", "unexpected argument '%s'", argv[optind]);
	if (drop && reply)
		return usage_error("ping", "--drop and --reply exclude each other");
	if (c.tc && mode_set)
		return usage_error("ping", "--mode is for XDP; --hook tc has no modes");
	c.action = drop ? PING_DROP : reply ? PING_REPLY : PING_WATCH;
	if (iface_check_name(c.ifname))
		return EXIT_USAGE;
	if ((err = require_root("bpflab ping")))
		return err;
	if (iface_resolve(c.ifname, &c.ifindex))
		return EXIT_USAGE;
	c.on_lo = iface_is_loopback(c.ifname);

	c.skel = ping_bpf__open();
	if (!c.skel) {
		pr_warn("failed to open the ping program: %s\n", strerr(errno));
		return EXIT_FAIL;
	}
	c.skel->rodata->action = c.action;
	c.skel->rodata->on_lo = c.on_lo;
	/* Quiet: no events at all, which saves the ring buffer work on every request. */
	c.skel->rodata->emit_events = !c.quiet;
	bpf_program__set_autoload(c.tc ? c.skel->progs.ping_xdp : c.skel->progs.ping_tc, false);
	over = calloc(PING_MAX_LOCAL, sizeof(*over));
	if (!over || collect_local(c.skel, over, &nover) < 0)
		goto out;
	err = ping_bpf__load(c.skel);
	if (err) {
		pr_warn("failed to load the ping program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		ret = err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	err = store_overflow(c.skel, over, nover);
	if (err) {
		pr_warn("failed to store local addresses: %s\n", strerr(err));
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
	print_attached(&c);
	if (c.action == PING_REPLY && !c.tc && c.mode == XDP_MODE_NATIVE) {
		char drv[32];
		iface_driver(c.ifname, drv, sizeof(drv));
		/* veth_xdp_xmit() drops XDP_TX frames unless the peer's NAPI runs, which takes
		 * an XDP program on the peer (GRO on it did not do it here, kernel 6.18). */
		if (!strcmp(drv, "veth"))
			pr_warn("note: %s is a veth: XDP_TX replies reach the peer only if an XDP "
				"program is attached to the peer (e.g. 'bpflab count PEER' in its "
				"namespace); else use --hook tc or --mode generic\n", c.ifname);
	}
	ret = run(&c, duration);
out:
	if (attached && c.tc)
		tc_detach(&tca);
	if (link_fd >= 0)
		close(link_fd);
	ping_bpf__destroy(c.skel);
	free(over);
	return ret;
}

/* ---- benchmark cases: the test fixture's echo request, one row per action ---- */

static void ping_bench_cleanup(struct bench_prog *b)
{
	ping_bpf__destroy(b->priv);
}

static int ping_bench_common(struct bench_prog *b, enum ping_action action)
{
	static const uint8_t pl[56]; /* what ping sends by default */
	struct ping_bpf *skel = ping_bpf__open();
	struct pkt_spec s;
	int err;

	if (!skel)
		return -errno;
	skel->rodata->action = action;
	bpf_program__set_autoload(skel->progs.ping_tc, false);
	pkt_spec_default(&s);
	/* the lab's local addresses: lo, eth0 v4 and v6 */
	skel->rodata->nlocal4 = 2;
	skel->rodata->local4[0] = htonl(INADDR_LOOPBACK);
	memcpy((void *)&skel->rodata->local4[1], &s.dst4, 4);
	skel->rodata->nlocal6 = 2;
	memcpy((void *)skel->rodata->local6[0], &in6addr_loopback, 16);
	memcpy((void *)skel->rodata->local6[1], &s.dst6, 16);
	err = ping_bpf__load(skel);
	if (err) {
		ping_bpf__destroy(skel);
		return err;
	}
	s.payload = pl;
	s.payload_len = sizeof(pl);
	b->prog_fd = bpf_program__fd(skel->progs.ping_xdp);
	b->pkt_len = pkt_build(&s, b->pkt);
	b->priv = skel;
	b->cleanup = ping_bench_cleanup;
	return 0;
}

/* Watch: parse, per-source counter, one ring buffer event (the ring fills during a long
 * repeat run; from then on the event is counted lost, as it would be under a flood). */
int ping_bench_watch_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_WATCH);

	b->name = "ping (watch)";
	b->baseline = "xdp_pass";
	b->expect_retval = XDP_PASS;
	return err;
}

int ping_bench_drop_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_DROP);

	b->name = "ping --drop";
	b->baseline = "xdp_drop";
	b->expect_retval = XDP_DROP;
	return err;
}

int ping_bench_reply_setup(struct bench_prog *b)
{
	int err = ping_bench_common(b, PING_REPLY);

	b->name = "ping --reply";
	b->baseline = "xdp_tx";
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	return err;
}
