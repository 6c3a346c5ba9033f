// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb start / stop, and a running balancer as every subcommand opens it: its pin
 * folder under /sys/fs/bpf/bpflab/lb/IFACE[@netns], its lock and its maps. `start` loads
 * through lb_prog, attaches through a bpf_link and pins link and maps in one rename; on
 * a running balancer it swaps the program in with bpf_link_update and keeps the maps. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"
#include "json.h"
#include "lb_cmd.h"
#include "ifstats.h"
#include "lb_prog.h"
#include "lb_ct.h"

static void inst_init(struct lb_inst *in)
{
	memset(in, 0, sizeof(*in));
	in->lock_fd = -1;
	lb_fds_init(&in->fds);
}

void inst_close(struct lb_inst *in)
{
	lb_fds_close(&in->fds);
	if (in->lock_fd >= 0)
		close(in->lock_fd); /* drops the flock */
	in->lock_fd = -1;
}

int inst_find(const char *iface, struct lb_inst *in)
{
	char only[256] = "";
	int found;

	inst_init(in);
	if (iface) {
		if (iface_check_name(iface))
			return EXIT_USAGE;
		snprintf(in->ifname, sizeof(in->ifname), "%s", iface);
		if (pin_dir_prepare("lb", iface, in->dir, sizeof(in->dir)))
			return EXIT_USAGE;
		if (access(in->dir, F_OK)) {
			pr_warn("no load balancer on '%s' (%s is missing); start one with "
				"'bpflab lb start %s --mode nat|dsr'\n", iface, in->dir, iface);
			return EXIT_FAIL;
		}
		return 0;
	}
	found = pin_cmd_only("lb", only, sizeof(only));
	if (found != 1) {
		pr_warn(found ? "several load balancers run here; say which with --iface IFACE\n"
			      : "no load balancer runs in this network namespace; start one with "
				"'bpflab lb start IFACE --mode nat|dsr'\n");
		return found ? EXIT_USAGE : EXIT_FAIL;
	}
	snprintf(in->ifname, sizeof(in->ifname), "%s", only);
	return pin_dir_path("lb", in->ifname, in->dir, sizeof(in->dir)) ? EXIT_USAGE : 0;
}

/* Compares every pinned map with what this build's program expects. */
static int check_layout(struct lb_inst *in)
{
	struct lb_prog_cfg pc = {};
	struct lb_bpf *skel = lb_prog_open(&pc);
	struct bpf_map *maps[LB_NMAPS];
	__u32 entries[LB_NMAPS];
	int err = 0;

	if (!skel)
		return -errno;
	lb_prog_maps(skel, maps);
	for (int i = 0; i < LB_NMAPS && !err; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		bool fixed = !lb_maps[i].ct_div;

		if (bpf_obj_get_info_by_fd(in->fds.fd[i], &info, &len)) {
			err = -errno;
			break;
		}
		entries[i] = info.max_entries;
		if (info.type != bpf_map__type(maps[i]) || info.key_size != bpf_map__key_size(maps[i]) ||
		    info.value_size != bpf_map__value_size(maps[i]) ||
		    (fixed && info.max_entries != bpf_map__max_entries(maps[i]))) {
			pr_warn("the pinned load balancer in %s has another map layout (map '%s': "
				"type %u, key %u, value %u, entries %u; this build expects %u, %u, %u, %u).\n"
				"It was made by another bpflab version; 'bpflab lb stop %s' removes it "
				"(its connections break), then start again.\n",
				in->dir, lb_maps[i].name, info.type, info.key_size, info.value_size,
				info.max_entries, bpf_map__type(maps[i]), bpf_map__key_size(maps[i]),
				bpf_map__value_size(maps[i]), bpf_map__max_entries(maps[i]), in->ifname);
			err = -EPROTO;
		}
	}
	if (!err && (err = lb_meta_read(&in->fds, &in->meta)) == 0 &&
	    in->meta.layout_version != LB_LAYOUT_VERSION) {
		pr_warn("the pinned load balancer in %s has layout version %u, this build uses %u; "
			"'bpflab lb stop %s' removes it (its connections break), then start again\n",
			in->dir, in->meta.layout_version, LB_LAYOUT_VERSION, in->ifname);
		err = -EPROTO;
	}
	/* The program finds a flow's bucket by masking with ct_size / LB_CT_WAYS - 1: tables
	 * of another size than config says would be read in the wrong places. */
	for (int i = 0; i < LB_NMAPS && !err; i++) {
		if (lb_maps[i].ct_div && (__u64)entries[i] * lb_maps[i].ct_div != in->meta.ct_size) {
			pr_warn("the pinned load balancer in %s is inconsistent (map '%s' has %u entries "
				"for a conntrack size of %u); 'bpflab lb stop %s' removes it, then start "
				"again\n", in->dir, lb_maps[i].name, entries[i], in->meta.ct_size,
				in->ifname);
			err = -EPROTO;
		}
	}
	lb_prog_destroy(skel);
	return err;
}

static int link_alive(const struct lb_inst *in)
{
	char p[320];

	snprintf(p, sizeof(p), "%s/link", in->dir);
	return pinned_link_alive(p);
}

/* Why a balancer's link is gone, from the interface it was started on. */
static const char *link_gone_why(const struct lb_inst *in)
{
	char name[IF_NAMESIZE];

	if (!in->meta.ifindex)
		return "the interface was deleted or its program detached";
	if (!if_indextoname(in->meta.ifindex, name) || strcmp(name, in->ifname))
		return "the interface was deleted";
	return "its program was detached";
}

static void warn_link_gone(const struct lb_inst *in)
{
	pr_warn("the load balancer on '%s' has lost its link (%s), so nothing is balanced. Its "
		"configuration is still pinned in %s: 'bpflab lb save --iface %s > FILE' keeps it, "
		"'bpflab lb stop %s' removes it\n",
		in->ifname, link_gone_why(in), in->dir, in->ifname, in->ifname);
}

int inst_open(struct lb_inst *in, bool lock, bool allow_dead)
{
	char p[320];

	if (lock) {
		in->lock_fd = open(in->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (in->lock_fd < 0 || flock(in->lock_fd, LOCK_EX)) {
			pr_warn("cannot lock %s: %s\n", in->dir, strerror(errno));
			return EXIT_FAIL;
		}
	}
	for (int i = 0; i < LB_NMAPS; i++) {
		snprintf(p, sizeof(p), "%s/%s", in->dir, lb_maps[i].name);
		in->fds.fd[i] = bpf_obj_get(p);
		if (in->fds.fd[i] < 0) {
			pr_warn("the load balancer on '%s' is incomplete (%s: %s); "
				"'bpflab lb stop %s' cleans it up\n", in->ifname, p,
				strerr(in->fds.fd[i]), in->ifname);
			return EXIT_FAIL;
		}
	}
	if (check_layout(in))
		return EXIT_FAIL;
	return allow_dead ? 0 : inst_check_link(in);
}

int inst_check_link(const struct lb_inst *in)
{
	if (link_alive(in) > 0)
		return 0;
	warn_link_gone(in);
	return EXIT_FAIL;
}

/* The interface's address of a family that a balancer can send from (IPv6: not
 * link-local, lb_ip_refusal's rule). One on a subnet wins over a host route's (/32,
 * /128): that is a service address, such as a VIP put on the interface so that neighbour
 * discovery answers for it. 0, or -ENOENT with ip zeroed. */
static int iface_addr(const char *ifname, int family, struct lb_ip *ip)
{
	struct ifaddrs *ifa, *i;
	struct lb_ip host = {};

	memset(ip, 0, sizeof(*ip));
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && !ip->family; i = i->ifa_next) {
		struct lb_ip c = {};
		bool full;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, ifname))
			continue;
		if (family == AF_INET) {
			lb_ip4(&c, ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
			full = i->ifa_netmask &&
			       ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr == 0xffffffffu;
		} else {
			static const __u8 ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
			c.family = LB_FAM6;
			memcpy(c.a.b, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			full = i->ifa_netmask &&
			       !memcmp(&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, ones, 16);
		}
		if (lb_ip_refusal(&c))
			continue;
		if (!full)
			*ip = c;
		else if (!host.family)
			host = c;
	}
	freeifaddrs(ifa);
	if (!ip->family)
		*ip = host;
	return ip->family ? 0 : -ENOENT;
}

void lb_meta_sources(const struct lb_meta *m, struct lb_fam_addrs *snat, struct lb_fam_addrs *tsrc)
{
	static const union lb_addr zero;

	memset(snat, 0, sizeof(*snat));
	memset(tsrc, 0, sizeof(*tsrc));
	if (m->snat_addr)
		lb_ip4(&snat->v4, m->snat_addr);
	if (m->tunnel_src4)
		lb_ip4(&tsrc->v4, m->tunnel_src4);
	/* all zero is "none": :: can be no source */
	if (memcmp(&m->snat6, &zero, sizeof(zero))) {
		snat->v6.family = LB_FAM6;
		snat->v6.a = m->snat6;
	}
	if (memcmp(&m->tunnel_src6, &zero, sizeof(zero))) {
		tsrc->v6.family = LB_FAM6;
		tsrc->v6.a = m->tunnel_src6;
	}
}

/* Neighbour states with a MAC worth using (the kernel's NUD_VALID, not in the uapi). */
#define NEIGH_USABLE (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)

/* A MAC from the kernel's neighbour table (ARP or neighbour discovery), through a
 * netlink dump: 1 found, 0 not (yet), never blocking for long (the socket times out). */
static int neigh_lookup(const struct lb_ip *addr, __u8 mac[6])
{
	struct {
		struct nlmsghdr h;
		struct ndmsg n;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNEIGH,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.n = { .ndm_family = addr->family == LB_FAM6 ? AF_INET6 : AF_INET },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	size_t alen = addr->family == LB_FAM6 ? 16 : 4;
	const void *want = addr->a.b;
	static char buf[32768];
	int fd, found = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		done = 1;
	/* A dump of a few thousand entries is a handful of reads; 1000 bounds a runaway. */
	for (int reads = 0; !done && reads < 1000; reads++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct ndmsg *nd = NLMSG_DATA(h);
			const __u8 *dst = NULL, *ll = NULL;
			int rlen, dlen = 0, llen = 0;
			struct rtattr *rta;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (h->nlmsg_type != RTM_NEWNEIGH || found || !(nd->ndm_state & NEIGH_USABLE))
				continue;
			rlen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
			for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
			     RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
				if (rta->rta_type == NDA_DST) {
					dst = RTA_DATA(rta);
					dlen = RTA_PAYLOAD(rta);
				} else if (rta->rta_type == NDA_LLADDR) {
					ll = RTA_DATA(rta);
					llen = RTA_PAYLOAD(rta);
				}
			}
			if (dst && ll && dlen == (int)alen && llen == 6 && !memcmp(dst, want, alen) &&
			    !(ll[0] & 1) && (ll[0] | ll[1] | ll[2] | ll[3] | ll[4] | ll[5])) {
				memcpy(mac, ll, 6);
				found = 1;
			}
		}
	}
	close(fd);
	return found;
}

/* A backend's MAC from the neighbour table; an empty UDP datagram to the discard port
 * makes the kernel resolve it (ARP, or neighbour discovery for IPv6) when it is not
 * there yet. Bounded to ~1 s. */
static int resolve_mac(const struct lb_ip *addr, __u8 mac[6])
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = addr->a.v4 };
	bool v6 = addr->family == LB_FAM6;
	int fd;

	if (neigh_lookup(addr, mac))
		return 0;
	memcpy(&s6.sin6_addr, addr->a.b, 16);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sendto(fd, "", 0, MSG_DONTWAIT, v6 ? (struct sockaddr *)&s6 : (struct sockaddr *)&s4,
		       v6 ? sizeof(s6) : sizeof(s4));
		close(fd);
	}
	for (int i = 0; i < 20; i++) {
		poll(NULL, 0, 50);
		if (neigh_lookup(addr, mac))
			return 0;
	}
	return -EHOSTUNREACH;
}

/* What a configuration needs of the balancer's source addresses: a nat VIP one of its
 * family (--snat), an encap VIP one of each of its backends' families (--tunnel-src).
 * Refused (-EDESTADDRREQ) with the reason printed, before anything changes. */
static int check_sources(const struct lb_meta *m, const struct lb_cfg *s)
{
	struct lb_fam_addrs snat, tsrc;
	char v[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN];

	lb_meta_sources(m, &snat, &tsrc);
	for (int i = 0; i < s->nvips; i++) {
		const struct lb_cfg_vip *cv = &s->vips[i];
		struct lb_ip vip;

		lb_vip_key_ip(&cv->key, &vip);
		lb_fmt_vip(&cv->key, v, sizeof(v));
		if (!cv->encap && m->mode == LB_MODE_NAT &&
		    !(vip.family == LB_FAM6 ? snat.v6 : snat.v4).family) {
			pr_warn("VIP %s is IPv%d, but this nat balancer has no IPv%d source address "
				"towards backends (its interface had none at start): 'bpflab lb stop' "
				"and start again with --snat ADDR; nothing was changed\n", v,
				vip.family == LB_FAM6 ? 6 : 4, vip.family == LB_FAM6 ? 6 : 4);
			return -EDESTADDRREQ;
		}
		for (int j = 0; cv->encap && j < s->nbackends; j++) {
			const struct lb_cfg_backend *b = &s->backends[j];
			bool six = b->addr.family == LB_FAM6;

			if (!lb_vip_eq(&b->vip, &cv->key) || (six ? tsrc.v6 : tsrc.v4).family)
				continue;
			lb_fmt_ip(&b->addr, a, sizeof(a));
			pr_warn("VIP %s uses encap %s towards IPv%d backend %s, but this balancer has "
				"no IPv%d tunnel source address (its interface had none at start): "
				"'bpflab lb stop' and start again with --tunnel-src ADDR; nothing was "
				"changed\n", v, lb_encap_str(cv->encap), six ? 6 : 4, a, six ? 6 : 4);
			return -EDESTADDRREQ;
		}
	}
	return 0;
}

static int resolve_macs(struct lb_cfg *s)
{
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		char a[LB_ADDR_STRLEN];
		if (b->has_mac || lb_cfg_vip_encap(s, &b->vip))
			continue;
		if (resolve_mac(&b->addr, b->mac)) {
			lb_fmt_ip(&b->addr, a, sizeof(a));
			pr_warn("cannot find the MAC of backend %s (no %s answer on this segment); "
				"give it with --mac or 'mac' in the config; nothing was changed\n", a,
				b->addr.family == LB_FAM6 ? "neighbour discovery" : "ARP");
			return -EHOSTUNREACH;
		}
		b->has_mac = true;
	}
	return 0;
}

void lb_warn_dropping(const struct lb_inst *in, const struct lb_cfg *old, const struct lb_cfg *s)
{
	char v[LB_ADDR_STRLEN + 8];

	for (int i = 0; i < s->nvips; i++) {
		const struct lb_vip_key *k = &s->vips[i].key;

		if (lb_cfg_vip_has_backend(s, k))
			continue;
		/* Only when it starts: a VIP already dropping was warned about then. */
		if (old && lb_cfg_find_vip(old, k) >= 0 && !lb_cfg_vip_has_backend(old, k))
			continue;
		lb_fmt_vip(&s->vips[i].key, v, sizeof(v));
		pr_warn("warning: VIP %s on %s has no backend of weight > 0: its packets are dropped "
			"until one is added ('bpflab lb backend add %s ADDR')\n", v, in->ifname, v);
	}
}

int lb_apply_cfg(struct lb_inst *in, struct lb_cfg *s)
{
	struct lb_cfg *old = calloc(1, sizeof(*old));
	int err = check_sources(&in->meta, s);

	if (!err)
		err = resolve_macs(s); /* says why itself */

	if (err)
		goto out;
	if (old && lb_cfg_read(&in->fds, old)) {
		free(old);
		old = NULL; /* then every dropping VIP is warned about */
	}
	err = lb_cfg_apply(&in->fds, &in->meta, s);
	if (!err)
		err = lb_checks_store(in->dir, s);
	if (err)
		pr_warn("applying the configuration failed: %s\n", strerr(err));
	else
		lb_warn_dropping(in, old, s);
out:
	free(old);
	return err == -EDESTADDRREQ ? EXIT_USAGE : err ? EXIT_FAIL : 0;
}

static int pin_all(struct lb_inst *in, int link_fd)
{
	struct pin_obj maps[LB_NMAPS];

	for (int i = 0; i < LB_NMAPS; i++)
		maps[i] = (struct pin_obj){ lb_maps[i].name, in->fds.fd[i] };
	return pin_link_and_maps(in->dir, link_fd, maps, LB_NMAPS);
}

/* lb answers with XDP_TX (NAT and DSR alike): into a veth, only a peer with a native XDP
 * program takes those frames; the driver drops the rest. Generic XDP sends through the
 * stack and needs nothing. Fills why and returns true when they cannot leave. */
bool lb_tx_doomed(const char *ifname, int ifindex, enum xdp_mode xm, char *why, size_t len)
{
	char peer[256];

	if (xm != XDP_MODE_NATIVE || ifstats_veth_peer_xdp(ifname, ifindex, peer, sizeof(peer)))
		return false;
	snprintf(why, len, "%s: packets the balancer sends back out with XDP_TX will be dropped "
		 "(put an XDP program on the peer, or start with -m generic)", peer);
	return true;
}

static void print_started(const struct lb_inst *in, const char *what, enum xdp_mode xm)
{
	char snat[2][LB_ADDR_STRLEN], tsrc[2][LB_ADDR_STRLEN], why[384], both[2 * LB_ADDR_STRLEN + 8];
	bool doomed = lb_tx_doomed(in->ifname, (int)in->meta.ifindex, xm, why, sizeof(why));
	bool nat = in->meta.mode == LB_MODE_NAT;
	struct lb_fam_addrs sn, ts;

	lb_meta_sources(&in->meta, &sn, &ts);
	lb_fmt_ip(&sn.v4, snat[0], sizeof(snat[0]));
	lb_fmt_ip(&sn.v6, snat[1], sizeof(snat[1]));
	lb_fmt_ip(&ts.v4, tsrc[0], sizeof(tsrc[0]));
	lb_fmt_ip(&ts.v6, tsrc[1], sizeof(tsrc[1]));
	snprintf(both, sizeof(both), "%s%s%s", sn.v4.family ? snat[0] : "",
		 sn.v4.family && sn.v6.family ? " and " : "", sn.v6.family ? snat[1] : "");
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "started");
		json_kbool(&j, "replaced", !strcmp(what, "replaced"));
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "mode", lb_mode_str(in->meta.mode));
		json_kstr(&j, "xdp_mode", xdp_mode_str(xm));
		json_kuint(&j, "table_size", in->meta.table_size);
		json_kuint(&j, "conntrack_capacity", in->meta.ct_size);
		json_kuint(&j, "new_flow_limit", in->meta.new_flow_limit);
		json_kstr(&j, "snat", nat && sn.v4.family ? snat[0] : NULL);
		json_kstr(&j, "snat6", nat && sn.v6.family ? snat[1] : NULL);
		json_kstr(&j, "tunnel_src", ts.v4.family ? tsrc[0] : NULL);
		json_kstr(&j, "tunnel_src6", ts.v6.family ? tsrc[1] : NULL);
		json_kstr(&j, "pin_dir", in->dir);
		json_kstr(&j, "warning", doomed ? why : NULL);
		json_record_end(&j);
	} else {
		printf("lb %s on %s: %s mode, %s XDP, Maglev tables of %u, conntrack capacity %u%s%s; "
		       "pinned at %s\n",
		       what, in->ifname, lb_mode_str(in->meta.mode), xdp_mode_str(xm), in->meta.table_size,
		       in->meta.ct_size, nat ? ", snat " : "", nat ? both : "", in->dir);
	}
	/* With --json the record's "warning" says it: stdout stays parseable when merged. */
	if (doomed && !g_opts.json)
		pr_warn("warning: %s\n", why);
}

/* Was an address given (per family) that is not the one the balancer runs with? */
static bool fam_differs(const struct lb_fam_addrs *given, const struct lb_fam_addrs *cur)
{
	return (given->v4.family && !lb_ip_eq(&given->v4, &cur->v4)) ||
	       (given->v6.family && !lb_ip_eq(&given->v6, &cur->v6));
}

/* A running balancer: keep the maps (and every flow), swap the program in place. */
static int replace(struct lb_inst *in, int ifindex, struct lb_opts *o, struct lb_cfg *st)
{
	struct lb_prog_cfg pc;
	struct lb_bpf *skel = NULL;
	enum xdp_mode eff = o->xdp_mode;
	struct xdp_present cur;
	struct lb_fam_addrs sn, ts;
	int ret, link_fd = -1;
	char p[320];
	__u8 mac[6] = {};

	if ((ret = inst_open(in, true, false)))
		return ret;
	lb_meta_sources(&in->meta, &sn, &ts);
	if (o->mode && o->mode != in->meta.mode) {
		pr_warn("the load balancer on %s runs in %s mode; 'bpflab lb stop %s' first to change it\n",
			in->ifname, lb_mode_str(in->meta.mode), in->ifname);
		return EXIT_USAGE;
	}
	if ((o->table_size && o->table_size != in->meta.table_size) ||
	    (o->ct_size && o->ct_size != in->meta.ct_size) ||
	    fam_differs(&o->snat, &sn) || fam_differs(&o->tunnel_src, &ts)) {
		pr_warn("table size, conntrack size, source and tunnel addresses are fixed while running; "
			"'bpflab lb stop %s' first to change them\n", in->ifname);
		return EXIT_USAGE;
	}
	iface_mac(in->ifname, mac);
	/* The guard's limit is the program's constant: a new one comes with the new program,
	 * flows kept, and is recorded once that program runs. */
	if (o->new_flow_limit >= 0)
		in->meta.new_flow_limit = o->new_flow_limit;
	lb_prog_cfg_from_meta(&pc, &in->meta, mac);
	skel = lb_prog_load(&pc, &in->fds);
	if (!skel)
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	snprintf(p, sizeof(p), "%s/link", in->dir);
	link_fd = bpf_obj_get(p);
	if (link_fd < 0 || bpf_link_update(link_fd, lb_prog_fd(skel), NULL)) {
		pr_warn("replacing the program on %s failed: %s\n", in->ifname, strerror(errno));
		goto out;
	}
	if (xdp_query_present(ifindex, &cur) > 0)
		eff = !strcmp(cur.mode, "native") ? XDP_MODE_NATIVE : XDP_MODE_GENERIC;
	if (o->new_flow_limit >= 0 && lb_meta_write(&in->fds, &in->meta)) {
		pr_warn("the program on %s was replaced, but its metadata could not be written: %s\n",
			in->ifname, strerror(errno));
		goto out;
	}
	if (st && lb_apply_cfg(in, st))
		goto out;
	print_started(in, "replaced", eff);
	ret = EXIT_OK;
out:
	if (link_fd >= 0)
		close(link_fd);
	lb_prog_destroy(skel);
	return ret;
}

/* A pin folder whose link is gone (interface deleted, or program detached). Nothing to
 * lose: removed. A configuration: kept, and the start refused, so nobody starts an empty
 * balancer believing it is the old one. 0 when cleared, else an exit code. */
static int clear_dead(struct lb_inst *in)
{
	struct lb_inst dead;
	struct lb_cfg *s = calloc(1, sizeof(*s));
	const char *why = NULL;
	int n = 0;

	if (!s)
		return EXIT_FAIL;
	inst_init(&dead);
	snprintf(dead.ifname, sizeof(dead.ifname), "%s", in->ifname);
	snprintf(dead.dir, sizeof(dead.dir), "%s", in->dir);
	/* Broken or from another layout: nothing readable to keep. */
	if (!inst_open(&dead, true, true) && !lb_cfg_read(&dead.fds, s)) {
		n = s->nvips + s->nbackends;
		why = link_gone_why(&dead);
	}
	inst_close(&dead);
	if (n) {
		pr_warn("the load balancer that ran on '%s' has lost its link (%s); its configuration "
			"(%d VIPs, %d backends) is still pinned in %s. Nothing was started: 'bpflab lb "
			"save --iface %s > FILE' keeps the configuration, 'bpflab lb stop %s' removes "
			"it; then start again (--config FILE)\n",
			in->ifname, why, s->nvips, s->nbackends, in->dir, in->ifname, in->ifname);
		free(s);
		return EXIT_FAIL;
	}
	free(s);
	pr_debug("removing defunct %s\n", in->dir);
	return pin_dir_detach(in->dir) && !access(in->dir, F_OK) ? EXIT_FAIL : 0;
}

int lb_start(const char *ifname, struct lb_opts *o)
{
	struct lb_prog_cfg pc = { .mode = o->mode, .table_size = o->table_size,
				  .ct_size = o->ct_size,
				  .new_flow_limit = o->new_flow_limit > 0 ? o->new_flow_limit : 0 };
	struct lb_fam_addrs snat = o->snat, tsrc = o->tunnel_src;
	struct lb_cfg *st = NULL;
	struct lb_bpf *skel = NULL;
	struct lb_inst in;
	int ifindex, err, ret = EXIT_FAIL, link_fd = -1;
	enum xdp_mode eff = o->xdp_mode;

	inst_init(&in);
	if (iface_check_name(ifname))
		return EXIT_USAGE;
	if (iface_resolve(ifname, &ifindex))
		return EXIT_USAGE;
	snprintf(in.ifname, sizeof(in.ifname), "%s", ifname);
	if (pin_dir_prepare("lb", ifname, in.dir, sizeof(in.dir)))
		return EXIT_USAGE;
	if (o->config) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return EXIT_FAIL;
		if (lb_cfg_parse_file(o->config, st)) {
			free(st);
			return EXIT_USAGE;
		}
	}
	if ((err = ensure_bpffs(NULL))) {
		pr_warn("cannot mount bpffs at /sys/fs/bpf: %s\n", strerr(err));
		goto out;
	}
	if (!access(in.dir, F_OK)) {
		if (link_alive(&in) > 0) {
			ret = replace(&in, ifindex, o, st);
			goto out;
		}
		if ((ret = clear_dead(&in)))
			goto out;
		ret = EXIT_FAIL;
	}
	if (!o->mode) {
		ret = usage_error("lb", "start needs --mode nat or --mode dsr");
		goto out;
	}
	/* Source addresses, per family: the interface's unless given. A family with none
	 * is refused when a VIP needs it (check_sources); nat needs at least one. */
	if (o->mode == LB_MODE_NAT && !snat.v4.family)
		iface_addr(ifname, AF_INET, &snat.v4);
	if (o->mode == LB_MODE_NAT && !snat.v6.family)
		iface_addr(ifname, AF_INET6, &snat.v6);
	if (o->mode == LB_MODE_NAT && !snat.v4.family && !snat.v6.family) {
		ret = usage_error("lb", "nat mode needs an address on %s, or --snat ADDR", ifname);
		goto out;
	}
	if (!tsrc.v4.family)
		iface_addr(ifname, AF_INET, &tsrc.v4);
	if (!tsrc.v6.family)
		iface_addr(ifname, AF_INET6, &tsrc.v6);
	pc.snat_addr = snat.v4.a.v4;
	pc.snat6 = snat.v6.a;
	pc.tunnel_src4 = tsrc.v4.a.v4;
	pc.tunnel_src6 = tsrc.v6.a;
	pc.ifindex = ifindex;
	pc.ct_seed = lb_ct_seed_new();
	if ((err = iface_mac(ifname, pc.mac))) {
		pr_warn("cannot read the MAC of %s: %s\n", ifname, strerr(err));
		goto out;
	}
	skel = lb_prog_load(&pc, NULL);
	if (!skel)
		goto out;
	lb_fds_from_skel(skel, &in.fds);
	lb_meta_init(&in.meta, &pc);
	in.meta.ifindex = ifindex;
	{
		struct ifstats_xdp x;
		if (!ifstats_xdp_read(ifname, &x)) {
			in.meta.xdp_tx_counted = 1;
			in.meta.xdp_tx_err0 = x.xdp_tx_err;
		}
	}
	if ((err = lb_meta_write(&in.fds, &in.meta)))
		goto out_nofds;
	if (st) {
		err = check_sources(&in.meta, st);
		if (!err)
			err = resolve_macs(st);
		if (!err)
			err = lb_cfg_apply(&in.fds, &in.meta, st);
		if (err) {
			pr_warn("the configuration could not be applied (%s); nothing was started\n",
				strerr(err));
			goto out_nofds;
		}
		lb_warn_dropping(&in, NULL, st);
	}
	link_fd = xdp_link_attach(lb_prog_fd(skel), ifindex, ifname, o->xdp_mode, &eff);
	if (link_fd < 0) {
		ret = link_fd == -EOPNOTSUPP ? EXIT_UNSUPPORTED : EXIT_FAIL;
		goto out_nofds;
	}
	if (pin_all(&in, link_fd))
		goto out_nofds;
	if (st && (err = lb_checks_store(in.dir, st))) /* beside the pins, so after them */
		pr_warn("the health checks of %s could not be kept: %s\n", o->config, strerr(err));
	print_started(&in, "started", eff);
	ret = EXIT_OK;
out_nofds:
	lb_fds_init(&in.fds); /* the skeleton owns these fds */
out:
	if (link_fd >= 0)
		close(link_fd); /* the pin keeps it attached */
	inst_close(&in);
	lb_prog_destroy(skel);
	free(st);
	return ret;
}

int lb_stop(const char *ifname)
{
	return pin_undo("lb", ifname, "load balancer", "stopped", "lb stopped on");
}
