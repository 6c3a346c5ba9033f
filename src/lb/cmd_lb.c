// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb: the talk's load balancer, made correct. `start` loads lb.bpf.c, attaches it
 * through a bpf_link and pins link and maps under /sys/fs/bpf/bpflab/lb/IFACE[@netns];
 * every other subcommand works on those pins from any process, serialised by a flock
 * on the pin folder. A second `start` swaps in the new program with bpf_link_update and
 * keeps the maps, so established connections survive. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "pkt.h"
#include "benchcase.h"
#include "maglev.h"
#include "lb.h"
#include "lb_ctl.h"
#include "lb.skel.h"

int lb_gen(const char *ifname, const char *dst_mac, const char *src, const char *vip,
	   double seconds, int cpu);
int lb_reflect(const char *ifname, double seconds);

const char cmd_lb_usage[] =
	"usage: bpflab lb start IFACE --mode nat|dsr [--config FILE] [options]\n"
	"       bpflab lb stop IFACE\n"
	"       bpflab lb vip add|del VIP:PORT/PROTO\n"
	"       bpflab lb backend add|set VIP:PORT/PROTO ADDR[:PORT] [--weight W] [--mac MAC]\n"
	"       bpflab lb backend del VIP:PORT/PROTO ADDR[:PORT]\n"
	"       bpflab lb apply FILE\n"
	"       bpflab lb show [--watch] [--interval S] [--duration S]\n"
	"       bpflab lb gen IFACE --mac MAC --vip VIP:PORT/PROTO --src ADDR [--duration S]\n"
	"                     [--cpu N]   (for bench/lb.sh: one flow of XDP live frames)\n"
	"       bpflab lb gen IFACE --reflect [--duration S]   (bench/lb.sh: bare XDP_TX)\n"
	"\n"
	"An L4 load balancer in XDP (IPv4, TCP and UDP). Each flow to a VIP is placed on a\n"
	"backend by the VIP's Maglev table and kept there by an LRU connection table.\n"
	"  nat  the LB rewrites the packet to come from its own address and go to the backend,\n"
	"       and rewrites the backend's reply to come from the VIP; backends need nothing.\n"
	"  dsr  only the MACs change; backends hold the VIP on lo (arp_ignore=1,\n"
	"       arp_announce=2) and answer the client directly.\n"
	"State lives in pinned maps under " BPFLAB_PIN_ROOT "/lb/IFACE[@NETNS]; `start` on a\n"
	"running balancer replaces its program and keeps every connection.\n"
	"\n"
	"config FILE (for --config and apply; apply replaces the whole configuration):\n"
	"  vip 198.18.0.100:80/tcp\n"
	"  backend 198.18.0.100:80/tcp 198.18.0.11 [weight 2] [mac 02:00:c6:12:00:0b]\n"
	"\n"
	"options:\n"
	"  -i, --iface IFACE     which balancer (needed when several run in this netns)\n"
	"      --mode MODE       nat or dsr (start)\n"
	"  -c, --config FILE     configuration to apply after start\n"
	"      --table-size P    Maglev table size per VIP, a prime (default 65537)\n"
	"      --ct-size N       connection-table entries (default 131072)\n"
	"      --snat ADDR       nat: source address towards backends (default: IFACE's)\n"
	"      --xdp-mode MODE   auto (default), native or generic\n"
	"  -w, --weight W        backend weight 0-65535 (default 1; 0 drains: no new flows)\n"
	"      --mac MAC         backend's MAC (default: resolved through ARP)\n"
	"      --watch           show: repeat every --interval (default 1 s) with rates\n"
	"  -d, --duration S      show --watch: stop after S seconds\n"
	"  -j, --json            JSON output (JSON Lines with --watch)\n"
	"  -v, --verbose         show libbpf's messages\n";

struct lb_opts {
	const char *iface, *config, *mac;
	__u32 mode, table_size, ct_size;
	__be32 snat;
	enum xdp_mode xdp_mode;
	int weight;           /* -1: not given */
	bool watch;
	double interval, duration;
};

struct lb_inst {
	char ifname[IF_NAMESIZE];
	char dir[256];
	int lock_fd;
	struct lb_fds fds;
	struct lb_config cfg;
};

static void inst_close(struct lb_inst *in)
{
	lb_fds_close(&in->fds);
	if (in->lock_fd >= 0)
		close(in->lock_fd); /* drops the flock */
	in->lock_fd = -1;
}

/* Finds the balancer of this netns: the one named, or the only one. */
static int inst_find(const char *iface, struct lb_inst *in)
{
	char root[300], ns[64], only[256] = "";
	struct dirent *de;
	int found = 0;
	DIR *d;

	memset(in, 0, sizeof(*in));
	in->lock_fd = -1;
	for (int i = 0; i < LB_NMAPS; i++)
		*lb_fd_at(&in->fds, i) = -1;
	if (iface) {
		if (iface_check_name(iface))
			return EXIT_USAGE;
		snprintf(in->ifname, sizeof(in->ifname), "%s", iface);
		if (pin_dir_path("lb", iface, in->dir, sizeof(in->dir)))
			return EXIT_USAGE;
		if (access(in->dir, F_OK)) {
			pr_warn("no load balancer on '%s' (%s is missing); start one with "
				"'bpflab lb start %s --mode nat|dsr'\n", iface, in->dir, iface);
			return EXIT_FAIL;
		}
		return 0;
	}
	netns_current_name(ns, sizeof(ns));
	snprintf(root, sizeof(root), "%s/lb", BPFLAB_PIN_ROOT);
	d = opendir(root);
	while (d && (de = readdir(d))) {
		char *at = strchr(de->d_name, '@');
		if (de->d_name[0] == '.' || strstr(de->d_name, "_tmp_"))
			continue;
		if (*ns ? !at || strcmp(at + 1, ns) : at != NULL)
			continue;
		found++;
		snprintf(only, sizeof(only), "%s", de->d_name);
	}
	if (d)
		closedir(d);
	if (found != 1) {
		pr_warn(found ? "several load balancers run here; say which with --iface IFACE\n"
			      : "no load balancer runs in this network namespace; start one with "
				"'bpflab lb start IFACE --mode nat|dsr'\n");
		return found ? EXIT_USAGE : EXIT_FAIL;
	}
	if (strchr(only, '@'))
		*strchr(only, '@') = 0;
	snprintf(in->ifname, sizeof(in->ifname), "%s", only);
	return pin_dir_path("lb", in->ifname, in->dir, sizeof(in->dir)) ? EXIT_USAGE : 0;
}

/* Compares every pinned map with what this build's program expects. */
static int check_layout(struct lb_inst *in)
{
	struct lb_bpf *skel = lb_bpf__open();
	struct bpf_map *maps[LB_NMAPS];
	int err = 0;

	if (!skel)
		return -errno;
	maps[0] = skel->maps.config; maps[1] = skel->maps.vips; maps[2] = skel->maps.vip_addrs;
	maps[3] = skel->maps.backends; maps[4] = skel->maps.rings; maps[5] = skel->maps.conntrack;
	maps[6] = skel->maps.reverse; maps[7] = skel->maps.vip_stats;
	maps[8] = skel->maps.backend_stats; maps[9] = skel->maps.counters;
	for (int i = 0; i < LB_NMAPS && !err; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		bool fixed = i != 5 && i != 6; /* conntrack sizes are chosen at start */

		if (bpf_obj_get_info_by_fd(*lb_fd_at(&in->fds, i), &info, &len)) {
			err = -errno;
			break;
		}
		if (info.type != bpf_map__type(maps[i]) || info.key_size != bpf_map__key_size(maps[i]) ||
		    info.value_size != bpf_map__value_size(maps[i]) ||
		    (fixed && info.max_entries != bpf_map__max_entries(maps[i]))) {
			pr_warn("the pinned load balancer in %s has another map layout (map '%s': "
				"type %u, key %u, value %u, entries %u; this build expects %u, %u, %u, %u).\n"
				"It was made by another bpflab version; 'bpflab lb stop %s' removes it "
				"(its connections break), then start again.\n",
				in->dir, lb_map_names[i], info.type, info.key_size, info.value_size,
				info.max_entries, bpf_map__type(maps[i]), bpf_map__key_size(maps[i]),
				bpf_map__value_size(maps[i]), bpf_map__max_entries(maps[i]), in->ifname);
			err = -EPROTO;
		}
	}
	if (!err && (err = lb_config_read(&in->fds, &in->cfg)) == 0 &&
	    in->cfg.layout_version != LB_LAYOUT_VERSION) {
		pr_warn("the pinned load balancer in %s has layout version %u, this build uses %u; "
			"'bpflab lb stop %s' removes it (its connections break), then start again\n",
			in->dir, in->cfg.layout_version, LB_LAYOUT_VERSION, in->ifname);
		err = -EPROTO;
	}
	lb_bpf__destroy(skel);
	return err;
}

/* Opens the pinned maps; with `lock`, holds the balancer's lock until inst_close. */
static int inst_open(struct lb_inst *in, bool lock)
{
	char p[320];
	int err;

	if (lock) {
		in->lock_fd = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (in->lock_fd < 0 || flock(in->lock_fd, LOCK_EX)) {
			pr_warn("cannot lock %s: %s\n", in->dir, strerror(errno));
			return EXIT_FAIL;
		}
	}
	for (int i = 0; i < LB_NMAPS; i++) {
		snprintf(p, sizeof(p), "%s/%s", in->dir, lb_map_names[i]);
		*lb_fd_at(&in->fds, i) = bpf_obj_get(p);
		if (*lb_fd_at(&in->fds, i) < 0) {
			pr_warn("the load balancer on '%s' is incomplete (%s: %s); "
				"'bpflab lb stop %s' cleans it up\n", in->ifname, p,
				strerr(*lb_fd_at(&in->fds, i)), in->ifname);
			return EXIT_FAIL;
		}
	}
	err = check_layout(in);
	return err ? EXIT_FAIL : 0;
}

static int iface_ipv4(const char *ifname, __be32 *addr)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return -errno;
	*addr = 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, ifname)) {
			*addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			break;
		}
	freeifaddrs(ifa);
	return *addr ? 0 : -ENOENT;
}

static int arp_lookup(__be32 addr, __u8 mac[6])
{
	char line[256], ip[64], hw[64], dev[32], mask[32];
	unsigned type, flags;
	FILE *f = fopen("/proc/net/arp", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		struct in_addr a;
		if (sscanf(line, "%63s 0x%x 0x%x %63s %31s %31s", ip, &type, &flags, hw, mask, dev) != 6)
			continue;
		if (inet_pton(AF_INET, ip, &a) != 1 || a.s_addr != addr || !(flags & 0x2))
			continue;
		found = !lb_parse_mac(hw, mac);
	}
	fclose(f);
	return found;
}

/* A backend's MAC from the neighbour table; an empty UDP datagram to the discard port
 * makes the kernel resolve it when it is not there yet. Bounded to ~1 s. */
static int resolve_mac(__be32 addr, __u8 mac[6])
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = addr };
	int fd;

	if (arp_lookup(addr, mac))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	for (int i = 0; i < 20; i++) {
		poll(NULL, 0, 50);
		if (arp_lookup(addr, mac))
			return 0;
	}
	return -EHOSTUNREACH;
}

static int resolve_macs(struct lb_state *s)
{
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		char a[32];
		if (b->has_mac)
			continue;
		if (resolve_mac(b->addr, b->mac)) {
			lb_fmt_addr_port(b->addr, 0, a, sizeof(a));
			pr_warn("cannot find the MAC of backend %s (no ARP answer on this segment); "
				"give it with --mac or 'mac' in the config; nothing was changed\n", a);
			return -EHOSTUNREACH;
		}
		b->has_mac = true;
	}
	return 0;
}

static int apply_state(struct lb_inst *in, struct lb_state *s)
{
	int err = resolve_macs(s);

	if (err)
		return EXIT_FAIL;
	err = lb_state_apply(&in->fds, &in->cfg, s);
	if (err) {
		pr_warn("applying the configuration failed: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	return 0;
}

/* ---- start / stop ---- */

static int pin_all(struct lb_inst *in, struct lb_bpf *skel, int link_fd)
{
	char tmp[300], path[340];
	int err;

	err = pin_tmp_begin(in->dir, tmp, sizeof(tmp));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/link", tmp);
	err = bpf_obj_pin(link_fd, path) ? -errno : 0;
	for (int i = 0; i < LB_NMAPS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, lb_map_names[i]);
		err = bpf_obj_pin(*lb_fd_at(&in->fds, i), path) ? -errno : 0;
	}
	if (err) {
		pr_warn("pinning under %s failed: %s\n", tmp, strerr(err));
		pin_dir_remove(tmp);
		return err;
	}
	return pin_tmp_commit(tmp, in->dir);
}

static struct lb_bpf *load_prog(const struct lb_config *cfg, struct lb_inst *reuse)
{
	struct lb_bpf *skel = lb_bpf__open();
	int err;

	if (!skel) {
		pr_warn("failed to open the lb program: %s\n", strerr(errno));
		return NULL;
	}
	skel->rodata->lb_mode = cfg->mode;
	skel->rodata->ring_size = cfg->ring_size;
	skel->rodata->snat_addr = cfg->snat_addr;
	bpf_map__set_max_entries(skel->maps.conntrack, cfg->ct_size);
	bpf_map__set_max_entries(skel->maps.reverse, cfg->ct_size);
	if (reuse) {
		struct bpf_map *maps[LB_NMAPS] = {
			skel->maps.config, skel->maps.vips, skel->maps.vip_addrs, skel->maps.backends,
			skel->maps.rings, skel->maps.conntrack, skel->maps.reverse,
			skel->maps.vip_stats, skel->maps.backend_stats, skel->maps.counters,
		};
		for (int i = 0; i < LB_NMAPS; i++) {
			err = bpf_map__reuse_fd(maps[i], *lb_fd_at(&reuse->fds, i));
			if (err) {
				pr_warn("cannot reuse pinned map '%s': %s\n", lb_map_names[i], strerr(err));
				lb_bpf__destroy(skel);
				return NULL;
			}
		}
	}
	err = lb_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the lb program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		lb_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void print_started(const struct lb_inst *in, const char *what, enum xdp_mode xm)
{
	char snat[32];

	lb_fmt_addr_port(in->cfg.snat_addr, 0, snat, sizeof(snat));
	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", what);
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "mode", lb_mode_str(in->cfg.mode));
		json_kstr(&j, "xdp_mode", xdp_mode_str(xm));
		json_kuint(&j, "table_size", in->cfg.ring_size);
		json_kuint(&j, "ct_size", in->cfg.ct_size);
		if (in->cfg.mode == LB_MODE_NAT)
			json_kstr(&j, "snat", snat);
		json_kstr(&j, "pin_dir", in->dir);
		json_obj_end(&j);
		json_newline(&j);
	} else {
		printf("lb %s on %s: %s mode, %s XDP, Maglev tables of %u, %u tracked flows%s%s; pinned at %s\n",
		       what, in->ifname, lb_mode_str(in->cfg.mode), xdp_mode_str(xm), in->cfg.ring_size,
		       in->cfg.ct_size, in->cfg.mode == LB_MODE_NAT ? ", source address " : "",
		       in->cfg.mode == LB_MODE_NAT ? snat : "", in->dir);
	}
}

static int lb_start(const char *ifname, struct lb_opts *o)
{
	struct lb_state *st = NULL;
	struct lb_bpf *skel = NULL;
	struct lb_inst in;
	char p[320];
	int ifindex, err, ret = EXIT_FAIL, link_fd = -1;
	enum xdp_mode eff = o->xdp_mode;

	memset(&in, 0, sizeof(in));
	in.lock_fd = -1;
	for (int i = 0; i < LB_NMAPS; i++)
		*lb_fd_at(&in.fds, i) = -1;
	if (iface_check_name(ifname))
		return EXIT_USAGE;
	if (iface_resolve(ifname, &ifindex))
		return EXIT_USAGE;
	snprintf(in.ifname, sizeof(in.ifname), "%s", ifname);
	if (pin_dir_path("lb", ifname, in.dir, sizeof(in.dir)))
		return EXIT_USAGE;
	if (o->config) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return EXIT_FAIL;
		if (lb_state_parse_file(o->config, st)) {
			free(st);
			return EXIT_USAGE;
		}
	}
	if ((err = ensure_bpffs(NULL))) {
		pr_warn("cannot mount bpffs at /sys/fs/bpf: %s\n", strerr(err));
		goto out;
	}

	snprintf(p, sizeof(p), "%s/link", in.dir);
	if (!access(in.dir, F_OK) && pinned_link_alive(p) > 0) {
		/* Running: keep the maps (and every flow), swap the program in place. */
		if ((ret = inst_open(&in, true)))
			goto out;
		ret = EXIT_USAGE;
		if (o->mode && o->mode != in.cfg.mode) {
			pr_warn("the load balancer on %s runs in %s mode; 'bpflab lb stop %s' first to change it\n",
				ifname, lb_mode_str(in.cfg.mode), ifname);
			goto out;
		}
		if ((o->table_size && o->table_size != in.cfg.ring_size) ||
		    (o->ct_size && o->ct_size != in.cfg.ct_size) ||
		    (o->snat && o->snat != in.cfg.snat_addr)) {
			pr_warn("table size, conntrack size and source address are fixed while running; "
				"'bpflab lb stop %s' first to change them\n", ifname);
			goto out;
		}
		ret = EXIT_FAIL;
		skel = load_prog(&in.cfg, &in);
		if (!skel)
			goto out;
		link_fd = bpf_obj_get(p);
		if (link_fd < 0 || bpf_link_update(link_fd, bpf_program__fd(skel->progs.lb_xdp), NULL)) {
			pr_warn("replacing the program on %s failed: %s\n", ifname, strerror(errno));
			goto out;
		}
		{
			struct xdp_present cur;
			if (xdp_query_present(ifindex, &cur) > 0)
				eff = !strcmp(cur.mode, "native") ? XDP_MODE_NATIVE : XDP_MODE_GENERIC;
		}
		if (st && apply_state(&in, st))
			goto out;
		print_started(&in, "replaced", eff);
		ret = EXIT_OK;
		goto out;
	}
	if (!access(in.dir, F_OK)) {
		pr_debug("removing defunct %s\n", in.dir);
		pin_dir_remove(in.dir);
	}
	if (!o->mode) {
		ret = usage_error("lb", "start needs --mode nat or --mode dsr");
		goto out;
	}
	in.cfg = (struct lb_config){
		.layout_version = LB_LAYOUT_VERSION, .mode = o->mode,
		.ring_size = o->table_size ? o->table_size : LB_RING_DEFAULT,
		.ct_size = o->ct_size ? o->ct_size : LB_CT_DEFAULT, .snat_addr = o->snat,
	};
	if (o->mode == LB_MODE_NAT && !in.cfg.snat_addr && iface_ipv4(ifname, &in.cfg.snat_addr)) {
		ret = usage_error("lb", "nat mode needs an IPv4 address on %s, or --snat ADDR", ifname);
		goto out;
	}
	skel = load_prog(&in.cfg, NULL);
	if (!skel)
		goto out;
	lb_fds_from_skel(skel, &in.fds);
	if ((err = lb_config_write(&in.fds, &in.cfg)))
		goto out_nofds;
	if (st) {
		err = resolve_macs(st);
		if (!err)
			err = lb_state_apply(&in.fds, &in.cfg, st);
		if (err) {
			pr_warn("the configuration could not be applied (%s); nothing was started\n",
				strerr(err));
			goto out_nofds;
		}
	}
	link_fd = xdp_link_attach(bpf_program__fd(skel->progs.lb_xdp), ifindex, ifname,
				  o->xdp_mode, &eff);
	if (link_fd < 0) {
		ret = link_fd == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
		goto out_nofds;
	}
	if (pin_all(&in, skel, link_fd))
		goto out_nofds;
	print_started(&in, "started", eff);
	ret = EXIT_OK;
out_nofds:
	/* The skeleton owns these fds. */
	for (int i = 0; i < LB_NMAPS; i++)
		*lb_fd_at(&in.fds, i) = -1;
out:
	if (link_fd >= 0)
		close(link_fd); /* the pin keeps it attached */
	inst_close(&in);
	lb_bpf__destroy(skel);
	free(st);
	return ret;
}

static int lb_stop(const char *ifname)
{
	char dir[256];
	int err;

	if (iface_check_name(ifname))
		return EXIT_USAGE;
	if (pin_dir_path("lb", ifname, dir, sizeof(dir)))
		return EXIT_USAGE;
	err = pin_dir_detach(dir);
	if (err == -ENOENT)
		pr_warn("no load balancer on '%s' (%s is missing)\n", ifname, dir);
	if (err)
		return EXIT_FAIL;
	print_detached("stopped", ifname, dir, "lb stopped on");
	return EXIT_OK;
}

/* ---- show ---- */

static __u64 count_flows(int fd)
{
	struct lb_flow k, next, *prev = NULL;
	__u64 n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next) && n < 100000000) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static __u64 fd_memlock(int fd)
{
	char p[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static int show_once(struct lb_inst *in, struct lb_stats *prev, double dt, bool stream)
{
	struct lb_state *s = calloc(1, sizeof(*s));
	__u32 *ring = calloc(in->cfg.ring_size, sizeof(*ring));
	struct lb_counters c;
	__u64 flows, rflows = 0, mem;
	char buf[64];
	struct json j;
	int err;

	if (!s || !ring) {
		free(s);
		free(ring);
		return EXIT_FAIL;
	}
	err = lb_config_read(&in->fds, &in->cfg);
	if (!err)
		err = lb_state_read(&in->fds, s);
	if (!err)
		err = lb_counters_read(&in->fds, &c);
	if (err) {
		pr_warn("reading the load balancer's maps failed: %s\n", strerr(err));
		free(s);
		free(ring);
		return EXIT_FAIL;
	}
	flows = count_flows(in->fds.conntrack);
	mem = fd_memlock(in->fds.conntrack);
	if (in->cfg.mode == LB_MODE_NAT) {
		rflows = count_flows(in->fds.reverse);
		mem += fd_memlock(in->fds.reverse);
	}
	if (g_opts.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", stream ? "sample" : "lb");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "mode", lb_mode_str(in->cfg.mode));
		json_kuint(&j, "table_size", in->cfg.ring_size);
		if (in->cfg.mode == LB_MODE_NAT) {
			lb_fmt_addr_port(in->cfg.snat_addr, 0, buf, sizeof(buf));
			json_kstr(&j, "snat", buf);
		}
		json_kstr(&j, "pin_dir", in->dir);
		json_kuint(&j, "generation", in->cfg.generation);
		json_key(&j, "conntrack");
		json_obj_begin(&j);
		json_kuint(&j, "flows", flows);
		if (in->cfg.mode == LB_MODE_NAT)
			json_kuint(&j, "reverse_flows", rflows);
		json_kuint(&j, "capacity", in->cfg.ct_size);
		json_kuint(&j, "memlock_bytes", mem);
		json_kdouble(&j, "bytes_per_flow", in->cfg.ct_size ? (double)mem / in->cfg.ct_size : 0);
		json_obj_end(&j);
		json_key(&j, "vips");
		json_arr_begin(&j);
	} else {
		lb_fmt_addr_port(in->cfg.snat_addr, 0, buf, sizeof(buf));
		printf("lb on %s: %s mode%s%s, Maglev tables of %u, %llu tracked flows of %u (%s)\n",
		       in->ifname, lb_mode_str(in->cfg.mode),
		       in->cfg.mode == LB_MODE_NAT ? ", source " : "",
		       in->cfg.mode == LB_MODE_NAT ? buf : "", in->cfg.ring_size,
		       (unsigned long long)flows, in->cfg.ct_size, in->dir);
	}
	for (int v = 0; v < s->nvips; v++) {
		struct lb_cfg_vip *vp = &s->vips[v];
		struct lb_stats vs;
		bool have_ring;

		lb_stats_read(in->fds.vip_stats, vp->id, &vs);
		have_ring = !lb_ring_read(&in->fds, vp->id, ring, in->cfg.ring_size);
		lb_fmt_vip(&vp->key, buf, sizeof(buf));
		if (g_opts.json) {
			json_obj_begin(&j);
			json_kstr(&j, "vip", buf);
			json_kuint(&j, "id", vp->id);
			json_kuint(&j, "packets", vs.packets);
			json_kuint(&j, "bytes", vs.bytes);
			json_kuint(&j, "new_flows", vs.new_flows);
			if (prev)
				json_kdouble(&j, "pps", dt > 0 ? (vs.packets - prev[vp->id].packets) / dt : 0);
			json_key(&j, "backends");
			json_arr_begin(&j);
		} else {
			printf("  %-22s packets %-10llu bytes %-12llu new flows %-8llu",
			       buf, (unsigned long long)vs.packets, (unsigned long long)vs.bytes,
			       (unsigned long long)vs.new_flows);
			if (prev)
				printf(" %.0f pkt/s", dt > 0 ? (vs.packets - prev[vp->id].packets) / dt : 0);
			printf("\n");
		}
		if (prev)
			prev[vp->id] = vs;
		for (int b = 0; b < s->nbackends; b++) {
			struct lb_cfg_backend *be = &s->backends[b];
			struct lb_stats bs;
			char a[32], m[24];
			__u32 slots = 0;

			if (be->vip.addr != vp->key.addr || be->vip.port != vp->key.port ||
			    be->vip.proto != vp->key.proto)
				continue;
			for (__u32 i = 0; have_ring && i < in->cfg.ring_size; i++)
				slots += ring[i] == be->id;
			lb_stats_read(in->fds.backend_stats, be->id, &bs);
			lb_fmt_addr_port(be->addr, be->port, a, sizeof(a));
			lb_fmt_mac(be->mac, m, sizeof(m));
			if (g_opts.json) {
				json_obj_begin(&j);
				json_kstr(&j, "address", a);
				json_kuint(&j, "id", be->id);
				json_kuint(&j, "weight", be->weight);
				json_kstr(&j, "mac", m);
				json_kuint(&j, "slots", slots);
				json_kuint(&j, "packets", bs.packets);
				json_kuint(&j, "bytes", bs.bytes);
				json_kuint(&j, "new_flows", bs.new_flows);
				json_obj_end(&j);
			} else {
				printf("    %-20s weight %-5u %-9s %5.1f%% of slots  packets %-10llu new flows %llu\n",
				       a, be->weight, be->weight ? "" : "(drained)",
				       100.0 * slots / in->cfg.ring_size, (unsigned long long)bs.packets,
				       (unsigned long long)bs.new_flows);
			}
		}
		if (g_opts.json) {
			json_arr_end(&j);
			json_obj_end(&j);
		}
	}
	if (g_opts.json) {
		json_arr_end(&j);
		json_key(&j, "counters");
		json_obj_begin(&j);
		for (int i = 0; i < LBC__MAX; i++)
			json_kuint(&j, lb_counter_name(i), c.c[i]);
		json_obj_end(&j);
		json_obj_end(&j);
		json_newline(&j);
	} else {
		printf("  counters:");
		for (int i = 0; i < LBC__MAX; i++)
			if (c.c[i])
				printf(" %s %llu", lb_counter_name(i), (unsigned long long)c.c[i]);
		printf("\n");
		fflush(stdout);
	}
	free(s);
	free(ring);
	return EXIT_OK;
}

static int lb_show(struct lb_inst *in, struct lb_opts *o)
{
	struct lb_stats prev[LB_MAX_VIPS] = {};
	double start = now_mono(), last = start;
	int ret;

	if (!o->watch)
		return show_once(in, NULL, 0, false);
	ret = show_once(in, prev, 0, true);
	while (!ret && !exiting) {
		double now;
		poll(NULL, 0, (int)(o->interval * 1000));
		now = now_mono();
		if (exiting || (o->duration >= 0 && now - start > o->duration + 1e-3))
			break;
		if (!g_opts.json)
			printf("\n");
		ret = show_once(in, prev, now - last, true);
		last = now;
	}
	return ret;
}

/* ---- configuration edits ---- */

static int read_state(struct lb_inst *in, struct lb_state *s)
{
	int err = lb_state_read(&in->fds, s);

	if (err)
		pr_warn("reading the configuration from %s failed: %s\n", in->dir, strerr(err));
	return err ? EXIT_FAIL : 0;
}

static int edit_result(struct lb_inst *in, const char *what, const char *detail)
{
	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "changed");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "change", what);
		json_kstr(&j, "detail", detail);
		json_kuint(&j, "generation", in->cfg.generation);
		json_obj_end(&j);
		json_newline(&j);
	} else {
		printf("lb on %s: %s %s\n", in->ifname, what, detail);
	}
	return EXIT_OK;
}

static int lb_edit(struct lb_inst *in, int argc, char **argv, struct lb_opts *o)
{
	struct lb_state *s = calloc(1, sizeof(*s));
	const char *obj = argv[0], *verb = argc > 1 ? argv[1] : "";
	struct lb_vip_key vk;
	int ret = EXIT_USAGE, err;
	char what[48];

	if (!s)
		return EXIT_FAIL;
	snprintf(what, sizeof(what), "%s %s", obj, verb);
	if (!strcmp(obj, "apply")) {
		if (argc != 2) {
			ret = usage_error("lb", "apply needs one FILE");
			goto out;
		}
		if (lb_state_parse_file(argv[1], s))
			goto out;
		if ((ret = inst_open(in, true)))
			goto out;
		if ((ret = apply_state(in, s)))
			goto out;
		snprintf(what, sizeof(what), "%s: %d VIPs, %d backends", argv[1], s->nvips,
			 s->nbackends);
		ret = edit_result(in, "applied", what);
		goto out;
	}
	if (!strcmp(obj, "vip")) {
		if (argc != 3 || (strcmp(verb, "add") && strcmp(verb, "del"))) {
			ret = usage_error("lb", "usage: lb vip add|del VIP:PORT/PROTO");
			goto out;
		}
	} else if (argc != 4 || (strcmp(verb, "add") && strcmp(verb, "del") && strcmp(verb, "set"))) {
		ret = usage_error("lb", "usage: lb backend add|del|set VIP:PORT/PROTO ADDR[:PORT] [--weight W] [--mac MAC]");
		goto out;
	}
	if (lb_parse_vip(argv[2], &vk)) {
		ret = usage_error("lb", "invalid VIP '%s': expected A.B.C.D:PORT/tcp or /udp, port 1-65535",
				  argv[2]);
		goto out;
	}
	if (!strcmp(obj, "vip")) {
		if ((ret = inst_open(in, true)) || (ret = read_state(in, s)))
			goto out;
		err = !strcmp(verb, "add") ? lb_state_vip_add(s, &vk) : lb_state_vip_del(s, &vk);
		if (err) {
			pr_warn("VIP %s: %s; nothing changed\n", argv[2],
				err == -EEXIST ? "already exists" : err == -ENOENT ? "no such VIP" :
				"too many VIPs");
			ret = EXIT_USAGE;
			goto out;
		}
	} else {
		struct lb_cfg_backend b = { .vip = vk, .weight = 1 };
		struct lb_cfg_backend *cur;

		if (lb_parse_addr_port(argv[3], &b.addr, &b.port)) {
			ret = usage_error("lb", "invalid backend '%s': expected A.B.C.D[:PORT], port 1-65535",
					  argv[3]);
			goto out;
		}
		if (o->mac) {
			if (lb_parse_mac(o->mac, b.mac)) {
				ret = usage_error("lb", "invalid --mac '%s'", o->mac);
				goto out;
			}
			b.has_mac = true;
		}
		if (o->weight >= 0)
			b.weight = o->weight;
		if ((ret = inst_open(in, true)) || (ret = read_state(in, s)))
			goto out;
		ret = EXIT_USAGE;
		if (lb_state_find_vip(s, &vk) < 0) {
			pr_warn("no VIP %s; add it first with 'bpflab lb vip add %s'; nothing changed\n",
				argv[2], argv[2]);
			goto out;
		}
		cur = lb_state_backend_find(s, &vk, b.addr, b.port);
		if (!strcmp(verb, "add")) {
			if (cur) {
				pr_warn("backend %s is already in VIP %s (use 'backend set' to change it); "
					"nothing changed\n", argv[3], argv[2]);
				goto out;
			}
			err = lb_state_backend_add(s, &b);
			if (err) {
				pr_warn("too many backends; nothing changed\n");
				goto out;
			}
		} else if (!cur) {
			pr_warn("backend %s is not in VIP %s; nothing changed\n", argv[3], argv[2]);
			goto out;
		} else if (!strcmp(verb, "del")) {
			lb_state_backend_del(s, &vk, b.addr, b.port);
		} else {
			if (o->weight < 0 && !o->mac) {
				ret = usage_error("lb", "backend set needs --weight or --mac");
				goto out;
			}
			if (o->weight >= 0)
				cur->weight = o->weight;
			if (o->mac)
				memcpy(cur->mac, b.mac, 6);
		}
	}
	if ((ret = apply_state(in, s)))
		goto out;
	{
		char d[96];
		snprintf(d, sizeof(d), "%s%s%s", argv[2], argc > 3 ? " " : "", argc > 3 ? argv[3] : "");
		if (!strcmp(obj, "backend") && strcmp(verb, "del")) {
			struct lb_cfg_backend *cur = NULL;
			__be32 a; __be16 p;
			lb_parse_addr_port(argv[3], &a, &p);
			cur = lb_state_backend_find(s, &vk, a, p);
			if (cur)
				snprintf(d + strlen(d), sizeof(d) - strlen(d), " weight %u", cur->weight);
		}
		ret = edit_result(in, what, d);
	}
out:
	inst_close(in);
	free(s);
	return ret;
}

static int parse_mode(const char *s, __u32 *mode)
{
	if (!strcmp(s, "nat"))
		*mode = LB_MODE_NAT;
	else if (!strcmp(s, "dsr"))
		*mode = LB_MODE_DSR;
	else
		return -EINVAL;
	return 0;
}

int cmd_lb(int argc, char **argv)
{
	enum { O_MODE = 256, O_TABLE, O_CT, O_SNAT, O_XDP, O_MAC, O_WATCH, O_VIP, O_SRC, O_CPU,
	       O_REFLECT };
	static const struct option opts[] = {
		{ "iface", required_argument, 0, 'i' },
		{ "mode", required_argument, 0, O_MODE },
		{ "config", required_argument, 0, 'c' },
		{ "table-size", required_argument, 0, O_TABLE },
		{ "ct-size", required_argument, 0, O_CT },
		{ "snat", required_argument, 0, O_SNAT },
		{ "xdp-mode", required_argument, 0, O_XDP },
		{ "weight", required_argument, 0, 'w' },
		{ "mac", required_argument, 0, O_MAC },
		{ "watch", no_argument, 0, O_WATCH },
		{ "vip", required_argument, 0, O_VIP },
		{ "src", required_argument, 0, O_SRC },
		{ "cpu", required_argument, 0, O_CPU },
		{ "reflect", no_argument, 0, O_REFLECT },
		{ "interval", required_argument, 0, 'I' },
		{ "duration", required_argument, 0, 'd' },
		COMMON_LONGOPTS,
		{}
	};
	struct lb_opts o = { .weight = -1, .interval = 1, .duration = -1 };
	const char *gen_vip = NULL, *gen_src = NULL;
	int gen_cpu = -1;
	bool reflect = false;
	char *pos[8];
	int npos = 0, opt, err;
	struct lb_inst in;
	uint64_t v;

	while ((opt = getopt_long(argc, argv, "-i:c:w:d:" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 1:
			if (npos >= (int)ARRAY_SIZE(pos))
				return usage_error("lb", "too many arguments");
			pos[npos++] = optarg;
			break;
		case 'i': o.iface = optarg; break;
		case 'c': o.config = optarg; break;
		case O_MODE:
			if (parse_mode(optarg, &o.mode))
				return usage_error("lb", "invalid --mode '%s': nat or dsr", optarg);
			break;
		case O_TABLE:
			if (parse_u64(optarg, 2, MAGLEV_MAX_SIZE, &v))
				return usage_error("lb", "invalid --table-size '%s': a prime up to %u "
						   "(e.g. 65537, 131071)", optarg, MAGLEV_MAX_SIZE);
			if (!maglev_is_prime(v))
				return usage_error("lb", "invalid --table-size '%s': not a prime; the "
						   "next prime is %u", optarg, maglev_next_prime(v));
			o.table_size = v;
			break;
		case O_CT:
			if (parse_u64(optarg, 1024, 1 << 24, &v))
				return usage_error("lb", "invalid --ct-size '%s': 1024 to %u", optarg, 1 << 24);
			o.ct_size = v;
			break;
		case O_SNAT: {
			__be16 p;
			if (lb_parse_addr_port(optarg, &o.snat, &p) || p)
				return usage_error("lb", "invalid --snat '%s': an IPv4 address", optarg);
			break;
		}
		case O_XDP:
			if (xdp_mode_parse(optarg, &o.xdp_mode))
				return EXIT_USAGE;
			break;
		case 'w':
			if (parse_u64(optarg, 0, 65535, &v))
				return usage_error("lb", "invalid --weight '%s': 0 to 65535", optarg);
			o.weight = v;
			break;
		case O_MAC: o.mac = optarg; break;
		case O_WATCH: o.watch = true; break;
		case O_VIP: gen_vip = optarg; break;
		case O_REFLECT: reflect = true; break;
		case O_SRC: gen_src = optarg; break;
		case O_CPU:
			if (parse_u64(optarg, 0, 1023, &v))
				return usage_error("lb", "invalid --cpu '%s'", optarg);
			gen_cpu = v;
			break;
		case 'I':
			if (parse_duration(optarg, &o.interval) || o.interval <= 0)
				return usage_error("lb", "invalid --interval '%s'", optarg);
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration))
				return usage_error("lb", "invalid --duration '%s'", optarg);
			break;
		default:
			if ((err = common_opt("lb", opt)) > 0)
				return err;
		}
	}
	if (npos < 1)
		return usage_error("lb", "missing subcommand: start, stop, vip, backend, apply or show");
	if ((err = require_root("bpflab lb")))
		return err;
	if (!strcmp(pos[0], "start") || !strcmp(pos[0], "stop")) {
		const char *ifname = npos > 1 ? pos[1] : o.iface;
		if (!ifname || npos > 2)
			return usage_error("lb", "usage: lb %s IFACE", pos[0]);
		return !strcmp(pos[0], "start") ? lb_start(ifname, &o) : lb_stop(ifname);
	}
	if (!strcmp(pos[0], "gen")) {
		if (npos == 2 && reflect)
			return lb_reflect(pos[1], o.duration > 0 ? o.duration : 2);
		if (npos != 2 || !o.mac || !gen_vip || !gen_src)
			return usage_error("lb", "usage: lb gen IFACE --mac MAC --vip VIP:PORT/PROTO --src ADDR");
		return lb_gen(pos[1], o.mac, gen_src, gen_vip, o.duration > 0 ? o.duration : 2, gen_cpu);
	}
	if (!strcmp(pos[0], "show")) {
		if (npos > 1)
			return usage_error("lb", "unexpected argument '%s'", pos[1]);
		if ((err = inst_find(o.iface, &in)))
			return err;
		if ((err = inst_open(&in, false))) {
			inst_close(&in);
			return err;
		}
		err = lb_show(&in, &o);
		inst_close(&in);
		return err;
	}
	if (!strcmp(pos[0], "vip") || !strcmp(pos[0], "backend") || !strcmp(pos[0], "apply")) {
		if ((err = inst_find(o.iface, &in)))
			return err;
		return lb_edit(&in, npos, pos, &o);
	}
	return usage_error("lb", "unknown subcommand '%s': start, stop, vip, backend, apply or show",
			   pos[0]);
}

/* ---- benchmark cases: the fixtures of tests/prog/test_lb.c ---- */

static void lb_bench_cleanup(struct bench_prog *b)
{
	lb_bpf__destroy(b->priv);
}

static int lb_bench_common(struct bench_prog *b, __u32 mode, bool forget)
{
	static const __u8 mac_a[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };
	struct lb_bpf *skel = lb_bpf__open();
	struct lb_config cfg = { .layout_version = LB_LAYOUT_VERSION, .mode = mode,
				 .ring_size = LB_RING_DEFAULT, .ct_size = LB_CT_DEFAULT };
	struct lb_state *s = calloc(1, sizeof(*s));
	struct lb_fds fds;
	struct pkt_spec ps;
	int err;

	if (!skel || !s) {
		err = -ENOMEM;
		goto fail;
	}
	inet_pton(AF_INET, "198.18.0.2", &cfg.snat_addr);
	skel->rodata->lb_mode = mode;
	skel->rodata->ring_size = cfg.ring_size;
	skel->rodata->snat_addr = cfg.snat_addr;
	skel->rodata->bench_forget = forget;
	err = lb_bpf__load(skel);
	if (err)
		goto fail;
	lb_fds_from_skel(skel, &fds);
	/* One VIP, 100 backends, as Katran's measurements in PERFORMANCE.md. */
	{
		struct lb_vip_key k;
		lb_parse_vip("198.18.0.100:80/tcp", &k);
		lb_state_vip_add(s, &k);
		for (int i = 0; i < 100; i++) {
			struct lb_cfg_backend be = { .vip = k, .weight = 1, .has_mac = true };
			be.addr = htonl(0x0a000000u + i + 1);
			memcpy(be.mac, mac_a, 6);
			lb_state_backend_add(s, &be);
		}
	}
	err = lb_state_apply(&fds, &cfg, s);
	if (err)
		goto fail;
	pkt_spec_default(&ps);
	memcpy(ps.dst_mac, (const __u8[]){ 0x02, 0x00, 0xc6, 0x12, 0x00, 0x02 }, 6);
	inet_pton(AF_INET, "198.18.0.100", &ps.dst4);
	ps.proto = IPPROTO_TCP;
	ps.sport = 40000;
	ps.dport = 80;
	ps.tcp_flags = 0x10;
	b->baseline = "xdp_tx";
	b->prog_fd = bpf_program__fd(skel->progs.lb_xdp);
	b->pkt_len = pkt_build(&ps, b->pkt);
	b->expect_retval = XDP_TX;
	b->rewrites = true;
	b->priv = skel;
	b->cleanup = lb_bench_cleanup;
	free(s);
	return 0;
fail:
	lb_bpf__destroy(skel);
	free(s);
	return err < 0 ? err : -EINVAL;
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
