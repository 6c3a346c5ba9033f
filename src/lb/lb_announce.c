// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb announce / drain-node / undrain-node (see lb_announce.h for the mechanism).
 *
 * What "really up" means, checked every --interval from the pins alone (the balancer has
 * no process: `lb start` pins its link and exits):
 *   - a balancer's pin folder exists in this netns and its pinned XDP link is attached
 *     (`lb stop`, a deleted interface or a detached link: withdrawn);
 *   - the node is not drained;
 *   - every VIP on the address has quorum: with a `check`, a live `lb health` says the
 *     VIP is up (>= need healthy backends); without one, a backend of weight > 0.
 * Routes are written through rtnetlink, no `ip` process per change, and the pinned
 * configuration is read again only when its generation changes (or once a second), so a
 * poll costs a handful of syscalls. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "opts.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"
#include "json.h"
#include "lb_cmd.h"
#include "lb_health.h"
#include "lb_announce.h"

/* ---- rtnetlink: a /32 route through our device, and the routes on it ---- */

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Appends an attribute to the message at the start of msg (room checked by the caller). */
static void nl_attr(char *msg, int type, const void *data, int len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct rtattr *a = (struct rtattr *)(msg + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int af_of(int family)
{
	return family == LB_FAM6 ? AF_INET6 : AF_INET;
}

/* RTM_NEWROUTE (replace) or RTM_DELROUTE of addr/32 (/128) dev ifindex table t; 0 or -errno. */
static int nl_route(int nl, int op, const union lb_addr *addr, int family, int ifindex,
		    __u32 table)
{
	union {
		struct nlmsghdr h;
		char b[256];
	} m = {};
	struct rtmsg *r = NLMSG_DATA(&m.h);
	char buf[512];
	__u32 oif = ifindex;
	ssize_t n;

	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(*r));
	m.h.nlmsg_type = op;
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			  (op == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	m.h.nlmsg_seq = 1;
	r->rtm_family = af_of(family);
	r->rtm_dst_len = family == LB_FAM6 ? 128 : 32;
	r->rtm_table = RT_TABLE_UNSPEC; /* RTA_TABLE says it: tables above 255 */
	/* A route a daemon learns must not look like its own (RTPROT_BIRD) or the kernel's. */
	r->rtm_protocol = RTPROT_STATIC;
	r->rtm_scope = RT_SCOPE_LINK;
	r->rtm_type = RTN_UNICAST;
	nl_attr(m.b, RTA_DST, addr, family == LB_FAM6 ? 16 : 4);
	nl_attr(m.b, RTA_OIF, &oif, 4);
	nl_attr(m.b, RTA_TABLE, &table, 4);
	if (send(nl, m.b, m.h.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(nl, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return n < 0 ? -errno : -EIO;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (h->nlmsg_type != NLMSG_ERROR)
		return -EIO;
	int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	return op == RTM_DELROUTE && err == -ESRCH ? 0 : err;
}

struct ann_prefix {
	union lb_addr addr;
	int family;        /* LB_FAM4 / LB_FAM6 */
};

static bool prefix_eq(const struct ann_prefix *a, const union lb_addr *addr, int family)
{
	return a->family == family && !memcmp(&a->addr, addr, sizeof(*addr));
}

/* The host-route destinations (/32, /128) of every route whose output device is ifindex,
 * in any table. */
static int nl_routes_on(int ifindex, struct ann_prefix *out, int max)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
	} q = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)), .nlmsg_type = RTM_GETROUTE,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 2 },
		.r = { .rtm_family = AF_UNSPEC } };
	static char buf[32768];
	int nl = nl_open(), found = 0;
	bool done = false;

	if (nl < 0)
		return nl;
	if (send(nl, &q, q.h.nlmsg_len, 0) < 0) {
		close(nl);
		return -errno;
	}
	while (!done) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != RTM_NEWROUTE)
				continue;
			struct rtmsg *r = NLMSG_DATA(h);
			int len = RTM_PAYLOAD(h), oif = 0;
			bool v6 = r->rtm_family == AF_INET6;
			struct ann_prefix p = { .family = v6 ? LB_FAM6 : LB_FAM4 };
			for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
				if (a->rta_type == RTA_OIF)
					oif = *(int *)RTA_DATA(a);
				else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == (v6 ? 16u : 4u))
					memcpy(&p.addr, RTA_DATA(a), RTA_PAYLOAD(a));
			}
			/* Ours only: the kernel adds its own (a TUN device's IPv6 link-local
			 * address has a local /128 route through it). */
			if (oif == ifindex && r->rtm_dst_len == (v6 ? 128 : 32) && found < max &&
			    (v6 || r->rtm_family == AF_INET) && r->rtm_type == RTN_UNICAST &&
			    r->rtm_protocol == RTPROT_STATIC)
				out[found++] = p;
		}
	}
	close(nl);
	return found;
}

/* ---- what lb show and lab status ask ---- */

void lb_drain_path(const char *ns, char *buf, size_t len)
{
	char cur[NETNS_NAME_MAX];

	if (!ns || !*ns) {
		netns_current_name(cur, sizeof(cur));
		ns = *cur ? cur : "init";
	}
	snprintf(buf, len, LB_ANN_RUN_DIR "/%s/drained", ns);
}

bool lb_node_drained(void)
{
	char p[PATH_MAX];

	lb_drain_path(NULL, p, sizeof(p));
	return !access(p, F_OK);
}

int lb_announce_state(const union lb_addr *addr, int family)
{
	struct ann_prefix got[LB_MAX_VIPS];
	int ifindex = if_nametoindex(LB_ANN_DEV), n;

	if (!ifindex)
		return -1;
	n = nl_routes_on(ifindex, got, LB_MAX_VIPS);
	for (int i = 0; i < n; i++)
		if (prefix_eq(&got[i], addr, family))
			return 1;
	return 0;
}

/* ---- the device that lives as long as we do ---- */

static int tun_open(int *ifindex)
{
	struct ifreq ifr = {};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), s, err = 0;

	if (fd < 0) {
		pr_warn("cannot open /dev/net/tun: %s (the announcer's routes live on a TUN device)\n",
			strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", LB_ANN_DEV);
	/* Not persistent: the kernel deletes the device, and every route through it, when
	 * the last fd on it closes, whichever way this process ends. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		pr_warn(errno == EBUSY ? "another 'lb announce' runs in this network namespace (it "
			"holds %s)\n" : "cannot make TUN device %s: %s\n", LB_ANN_DEV, strerror(errno));
		close(fd);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)))
		err = -errno;
	if (s >= 0)
		close(s);
	*ifindex = if_nametoindex(LB_ANN_DEV);
	if (err || !*ifindex) {
		pr_warn("cannot bring %s up: %s\n", LB_ANN_DEV, strerr(err ?: -ENODEV));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the watch ---- */

struct ann_args {
	const char *iface;
	uint64_t table;
	double interval, duration;
};

struct ann_addr {
	struct ann_prefix p;
	bool want;
	char why[96];
};

struct watch {
	const char *iface;
	bool open;
	struct lb_inst in;
	ino_t ino;             /* the pin folder we opened: a new balancer is a new folder */
	__u64 gen;
	double read_at, tried_at;
	struct lb_cfg *cfg;
	char why[128];         /* why nothing is announced, "" when something may be */
};

static void watch_close(struct watch *w)
{
	if (w->open)
		inst_close(&w->in);
	w->open = false;
}

static ino_t dir_ino(const char *dir)
{
	struct stat st;

	return stat(dir, &st) ? 0 : st.st_ino;
}

/* Opens the balancer when there is one; false (w->why says why) when none can serve. */
static bool watch_balancer(struct watch *w, double now)
{
	char p[320], only[IF_NAMESIZE];
	struct lb_meta meta;

	if (w->open) {
		snprintf(p, sizeof(p), "%s/link", w->in.dir);
		if (dir_ino(w->in.dir) != w->ino || pinned_link_alive(p) <= 0)
			watch_close(w); /* stopped, or replaced by another start: look again */
	}
	if (!w->open) {
		/* A pin folder that would not open (half made, another layout) is tried again
		 * at most twice a second: opening costs more than a poll, and it warns. */
		if (now - w->tried_at < 0.5 && w->tried_at > 0)
			return false;
		snprintf(w->why, sizeof(w->why), "no load balancer runs in this network namespace");
		if (w->iface) {
			if (pin_dir_path("lb", w->iface, p, sizeof(p)) || access(p, F_OK))
				return false;
		} else if (pin_cmd_only("lb", only, sizeof(only)) != 1) {
			return false;
		}
		w->tried_at = now;
		if (inst_find(w->iface, &w->in))
			return false;
		snprintf(p, sizeof(p), "%s/link", w->in.dir);
		if (pinned_link_alive(p) <= 0) {
			snprintf(w->why, sizeof(w->why), "the balancer on %s has lost its link",
				 w->in.ifname);
			return false;
		}
		if (inst_open(&w->in, false, true)) {
			inst_close(&w->in);
			snprintf(w->why, sizeof(w->why), "the balancer on %s cannot be read",
				 w->in.ifname);
			return false;
		}
		w->open = true;
		w->tried_at = 0;
		w->ino = dir_ino(w->in.dir);
		w->read_at = 0;
	}
	if (lb_meta_read(&w->in.fds, &meta)) {
		watch_close(w);
		return false;
	}
	if (meta.generation != w->gen || now - w->read_at >= 1.0) {
		if (lb_read_cfg(&w->in, w->cfg)) {
			watch_close(w);
			snprintf(w->why, sizeof(w->why), "the configuration cannot be read");
			return false;
		}
		w->gen = meta.generation;
		w->read_at = now;
	}
	w->why[0] = 0;
	return true;
}

/* Whether VIP v can be served, and why not. */
static bool vip_up(const struct watch *w, const struct lb_cfg_vip *v, int hfd, char *why,
		   size_t len)
{
	char name[64];

	lb_fmt_vip(&v->key, name, sizeof(name));
	if (v->check.type != LB_CHECK_NONE) {
		__u32 k = LB_HKEY_VIP | v->id;
		struct lb_health h;

		if (hfd < 0 || bpf_map_lookup_elem(hfd, &k, &h) || !lb_health_live(&h)) {
			snprintf(why, len, "%s: no health checker runs ('bpflab lb health')", name);
			return false;
		}
		if (h.state != LB_H_UP) {
			snprintf(why, len, "%s: quorum lost, %u of %u healthy, need %u", name, h.healthy,
				 h.total, h.need);
			return false;
		}
		snprintf(why, len, "%s: %u of %u healthy, need %u", name, h.healthy, h.total, h.need);
		return true;
	}
	if (!lb_cfg_vip_has_backend(w->cfg, &v->key)) {
		snprintf(why, len, "%s: no backend of weight > 0", name);
		return false;
	}
	snprintf(why, len, "%s: balancer attached, no check", name);
	return true;
}

/* The addresses to announce now, into a[] (want set, why filled); how many. */
static int desired(struct watch *w, double now, struct ann_addr *a, int max)
{
	int n = 0, hfd;

	if (lb_node_drained()) {
		snprintf(w->why, sizeof(w->why), "node drained ('bpflab lb undrain-node' re-announces)");
		return 0;
	}
	if (!watch_balancer(w, now))
		return 0;
	hfd = lb_health_open(w->in.dir, false);
	for (int i = 0; i < w->cfg->nvips; i++) {
		const struct lb_cfg_vip *v = &w->cfg->vips[i];
		char why[96];
		bool up = vip_up(w, v, hfd, why, sizeof(why));
		int k;

		for (k = 0; k < n && !prefix_eq(&a[k].p, &v->key.addr, v->key.family); k++)
			;
		if (k == n) {
			if (n == max)
				continue;
			a[n++] = (struct ann_addr){ .p = { v->key.addr, v->key.family }, .want = up };
			snprintf(a[k].why, sizeof(a[k].why), "%s", why);
		} else if (a[k].want && !up) {
			/* One VIP that cannot be served withdraws its address: see docs/lb.md. */
			a[k].want = false;
			snprintf(a[k].why, sizeof(a[k].why), "%s", why);
		}
	}
	if (hfd >= 0)
		close(hfd);
	return n;
}

static void event(const char *action, const struct ann_prefix *p, const char *why,
		  const char *ifname)
{
	int len = p->family == LB_FAM6 ? 128 : 32;
	char a[INET6_ADDRSTRLEN];

	inet_ntop(af_of(p->family), &p->addr, a, sizeof(a));
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "announce");
		json_kstr(&j, "action", action);
		json_kstr(&j, "prefix", a);
		json_kint(&j, "prefix_len", len);
		json_kstr(&j, "interface", ifname && *ifname ? ifname : NULL);
		json_kstr(&j, "reason", why);
		json_kdouble(&j, "time", now_mono());
		json_record_end(&j);
	} else {
		printf("%s %s/%d: %s\n", action, a, len, why);
	}
	fflush(stdout);
}

#define O(lname, sopt, otype, field, arg, help) \
	OPTDEF(lname, sopt, otype, struct ann_args, field, arg, help)
static const struct opt_def ann_opts[] = {
	{ O("iface", 'i', OPT_IFACE, iface, "IFACE", "which balancer (needed when several run in "
	    "this netns)") },
	{ O("table", 't', OPT_UINT, table, "N", "kernel routing table of the routes (no rule "
	    "uses it: it only feeds the BGP speaker)"), .def = "4242", .min = 1, .max = 0xfffffeff },
	{ O("interval", 'I', OPT_DURATION, interval, "S", "how often the balancer, its link and "
	    "the health state are looked at"), .def = "0.05", .dmin = 0.01 },
	OPTS_DURATION(struct ann_args, duration),
	OPTS_END
};
#undef O

const struct cmd_spec lb_announce_spec = {
	.name = "lb announce",
	.args = "[--iface IFACE] [--table N] [--interval S] [--duration S]",
	.about =
	"Keeps a host route (/32, /128) per VIP address in kernel table N (default 4242) while\n"
	"this node can really serve it, for a BGP speaker to export (BIRD: a kernel protocol on\n"
	"that table with `learn`). Announced while the balancer's pinned XDP link is attached,\n"
	"the node is not drained (lb drain-node) and every VIP of the address has quorum (with\n"
	"a check: a live `lb health` says up, >= need healthy backends; without: a backend of\n"
	"weight > 0). The routes go through TUN device " LB_ANN_DEV ", which exists only while\n"
	"this process runs: killed by any means, its routes vanish with it. Runs in the\n"
	"foreground until Ctrl-C, SIGTERM or --duration; withdraws everything when it stops.\n",
	.opts = ann_opts,
	.json_help = "JSON Lines: announce_started, then one announce record per change",
	.max_args = 0,
};

int lb_announce_main(int argc, char **argv)
{
	static struct ann_args a;
	static struct ann_addr want[LB_MAX_VIPS];
	static struct ann_prefix have[LB_MAX_VIPS];
	struct watch w = {};
	int err, tun, nl, ifindex = 0, nhave = 0, ret = EXIT_OK;
	double start, stop_at;
	char last_why[128] = "";

	a = (struct ann_args){ .table = LB_ANN_TABLE, .interval = 0.05, .duration = -1 };
	if ((err = opts_parse(&lb_announce_spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	if (optind < argc)
		return usage_error("lb announce", "unexpected argument '%s'", argv[optind]);
	if ((err = require_root("bpflab lb announce")))
		return err;
	w.iface = a.iface;
	w.cfg = calloc(1, sizeof(*w.cfg));
	if (!w.cfg)
		return EXIT_FAIL;
	if ((tun = tun_open(&ifindex)) < 0) {
		free(w.cfg);
		return EXIT_FAIL;
	}
	if ((nl = nl_open()) < 0) {
		pr_warn("cannot open rtnetlink: %s\n", strerr(nl));
		close(tun);
		free(w.cfg);
		return EXIT_FAIL;
	}
	start = now_mono();
	stop_at = a.duration >= 0 ? start + a.duration : -1;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "announce_started");
		json_kstr(&j, "device", LB_ANN_DEV);
		json_kint(&j, "table", (long long)a.table);
		json_kint(&j, "pid", getpid());
		json_kdouble(&j, "interval", a.interval);
		json_record_end(&j);
	} else {
		printf("lb announce: routes through %s in table %llu, looked at every %gs\n",
		       LB_ANN_DEV, (unsigned long long)a.table, a.interval);
	}
	fflush(stdout);
	while (!exiting) {
		double now = now_mono();
		int nwant = desired(&w, now, want, LB_MAX_VIPS);
		const char *ifname = w.open ? w.in.ifname : NULL;

		/* Withdraw first: a route that must go goes before anything else is written. */
		for (int i = 0; i < nhave; i++) {
			int k;
			for (k = 0; k < nwant && !(prefix_eq(&want[k].p, &have[i].addr, have[i].family) &&
						   want[k].want); k++)
				;
			if (k < nwant)
				continue;
			for (k = 0; k < nwant && !prefix_eq(&want[k].p, &have[i].addr, have[i].family); k++)
				;
			if ((err = nl_route(nl, RTM_DELROUTE, &have[i].addr, have[i].family, ifindex,
					    a.table)))
				pr_warn("withdrawing a route failed: %s\n", strerr(err));
			event("withdraw", &have[i], k < nwant ? want[k].why : *w.why ? w.why :
			      "no longer configured", ifname);
			have[i--] = have[--nhave];
		}
		for (int k = 0; k < nwant; k++) {
			int i;
			if (!want[k].want)
				continue;
			for (i = 0; i < nhave && !prefix_eq(&want[k].p, &have[i].addr, have[i].family); i++)
				;
			if (i < nhave)
				continue;
			if ((err = nl_route(nl, RTM_NEWROUTE, &want[k].p.addr, want[k].p.family, ifindex,
					    a.table))) {
				pr_warn("announcing a route failed: %s\n", strerr(err));
				continue;
			}
			have[nhave++] = want[k].p;
			event("announce", &want[k].p, want[k].why, ifname);
		}
		if (strcmp(last_why, w.why) && !g_opts.json && *w.why)
			printf("nothing announced: %s\n", w.why);
		snprintf(last_why, sizeof(last_why), "%s", w.why);
		fflush(stdout);
		if (stop_at >= 0 && now >= stop_at)
			break;
		poll(NULL, 0, (int)(a.interval * 1000));
	}
	for (int i = 0; i < nhave; i++) {
		nl_route(nl, RTM_DELROUTE, &have[i].addr, have[i].family, ifindex, a.table);
		event("withdraw", &have[i], "announcer stopping", w.open ? w.in.ifname : NULL);
	}
	watch_close(&w);
	close(nl);
	close(tun);
	free(w.cfg);
	return ret;
}

/* ---- drain-node, undrain-node ---- */

struct drain_args {
	double wait;
};

static const struct opt_def drain_opts[] = {
	{ OPTDEF("wait", 'w', OPT_DURATION, struct drain_args, wait, "S", "wait up to S seconds "
		 "for the announcer to have done it"), .def = "2", .dmin = 0 },
	OPTS_END
};

const struct cmd_spec lb_drain_spec = {
	.name = "lb drain-node",
	.args = "[--wait S]",
	.about = "Withdraws every VIP this node announces (lb announce), for maintenance: the\n"
		 "balancer keeps running, so flows the routers still send here are served.\n"
		 "Persists until lb undrain-node, also across announcer restarts.\n",
	.opts = drain_opts,
	.json_help = "one drain record",
	.max_args = 0,
};

const struct cmd_spec lb_undrain_spec = {
	.name = "lb undrain-node",
	.args = "[--wait S]",
	.about = "Ends lb drain-node: the announcer announces again what is really up.\n",
	.opts = drain_opts,
	.json_help = "one drain record",
	.max_args = 0,
};

static int drain_set(bool drain, const struct cmd_spec *spec, int argc, char **argv)
{
	struct drain_args a = { .wait = 2 };
	char p[PATH_MAX], dir[PATH_MAX];
	struct ann_prefix got[LB_MAX_VIPS];
	int err, n = 0, ifindex;
	double until;

	if ((err = opts_parse(spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	if (optind < argc)
		return usage_error(spec->name, "unexpected argument '%s'", argv[optind]);
	if ((err = require_root(spec->name)))
		return err;
	lb_drain_path(NULL, p, sizeof(p));
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = 0;
	if (drain) {
		int fd;
		if (mkdir_p(dir, 0755) || (fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
			pr_warn("cannot write %s: %s\n", p, strerror(errno));
			return EXIT_FAIL;
		}
		close(fd);
	} else if (unlink(p) && errno != ENOENT) {
		pr_warn("cannot remove %s: %s\n", p, strerror(errno));
		return EXIT_FAIL;
	} else {
		rmdir(dir);
	}
	/* Done means the announcer has acted: drained, no route left; undrained, the routes
	 * back, when it has anything to announce (there may be nothing up: then it waits). */
	until = now_mono() + a.wait;
	ifindex = if_nametoindex(LB_ANN_DEV);
	for (;;) {
		n = ifindex ? nl_routes_on(ifindex, got, LB_MAX_VIPS) : 0;
		if (!ifindex || (drain ? n <= 0 : n > 0) || now_mono() >= until)
			break;
		poll(NULL, 0, 20);
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "drain");
		json_kbool(&j, "drained", drain);
		json_kbool(&j, "announcer_running", ifindex != 0);
		json_kint(&j, "announced", n < 0 ? 0 : n);
		json_record_end(&j);
	} else {
		printf("node %s; %s, %d VIP addresses announced\n", drain ? "drained" : "undrained",
		       ifindex ? "lb announce runs" : "no lb announce runs here", n < 0 ? 0 : n);
	}
	return EXIT_OK;
}

int lb_drain_main(int argc, char **argv)
{
	return drain_set(true, &lb_drain_spec, argc, argv);
}

int lb_undrain_main(int argc, char **argv)
{
	return drain_set(false, &lb_undrain_spec, argc, argv);
}
