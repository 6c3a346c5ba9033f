// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Driver statistics through SIOCETHTOOL, the veth peer's XDP program: see ifstats.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "ifstats.h"

/* Bounds the buffers: a veth has 9 stats per queue pair, a big NIC a few thousand. */
#define IFSTATS_MAX 65536

static int ethtool_ioctl(int s, const char *ifname, void *data)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(s, SIOCETHTOOL, &ifr) ? -errno : 0;
}

static int drvinfo(int s, const char *ifname, struct ethtool_drvinfo *info)
{
	memset(info, 0, sizeof(*info));
	info->cmd = ETHTOOL_GDRVINFO;
	return ethtool_ioctl(s, ifname, info);
}

int ifstats_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (len)
		*buf = 0;
	if (s < 0)
		return -errno;
	err = drvinfo(s, ifname, &info);
	close(s);
	if (!err && len)
		snprintf(buf, len, "%.*s", (int)sizeof(info.driver), info.driver);
	return err;
}

bool ifstats_is_veth(const char *ifname)
{
	char drv[32];

	return !ifstats_driver(ifname, drv, sizeof(drv)) && !strcmp(drv, "veth");
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

int ifstats_each(int sock, const char *ifname,
		 void (*fn)(void *ctx, const char *name, uint64_t value), void *ctx)
{
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	struct ethtool_drvinfo info;
	int s = sock, err;
	__u32 n;

	if (s < 0)
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	err = drvinfo(s, ifname, &info);
	if (err)
		goto out;
	n = info.n_stats;
	if (!n || n > IFSTATS_MAX) {
		err = -EOPNOTSUPP;
		goto out;
	}
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(__u64));
	if (!names || !vals) {
		err = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	if ((err = ethtool_ioctl(s, ifname, names)) || (err = ethtool_ioctl(s, ifname, vals)))
		goto out;
	/* The driver may have fewer stats than drvinfo said if queues changed in between. */
	if (names->len < n)
		n = names->len;
	if (vals->n_stats < n)
		n = vals->n_stats;
	for (__u32 i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		fn(ctx, name, vals->data[i]);
	}
out:
	free(names);
	free(vals);
	if (sock < 0)
		close(s);
	return err;
}

struct xdp_sum {
	struct ifstats_xdp *out;
	int found;
};

static void xdp_stat(void *ctx, const char *name, uint64_t v)
{
	struct xdp_sum *x = ctx;
	struct ifstats_xdp *out = x->out;

	/* Per-queue names (rx_queue_0_xdp_tx_errors); older kernels said xdp_tx_err. */
	if (!strcmp(name, "peer_ifindex"))
		out->peer_ifindex = (int)v, x->found++;
	else if (ends_with(name, "xdp_tx_errors") || ends_with(name, "xdp_tx_err"))
		out->xdp_tx_err += v, x->found++;
	else if (ends_with(name, "xdp_tx"))
		out->xdp_tx += v, x->found++;
	else if (ends_with(name, "xdp_xmit_errors") || ends_with(name, "xdp_xmit_err"))
		out->xdp_xmit_err += v, x->found++;
	else if (ends_with(name, "xdp_xmit"))
		out->xdp_xmit += v, x->found++;
}

int ifstats_xdp_read(const char *ifname, struct ifstats_xdp *out)
{
	struct xdp_sum x = { .out = out };
	int err;

	memset(out, 0, sizeof(*out));
	err = ifstats_each(-1, ifname, xdp_stat, &x);
	return err ? err : x.found ? 0 : -EOPNOTSUPP;
}

/* One rtnetlink request, one answer: the first reply message into buf. 0 or -errno. */
static int rtnl_ask(void *req, size_t len, void *buf, size_t buflen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	struct nlmsghdr *h = buf;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	if (s < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(s, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(s);
		return err;
	}
	n = recv(s, buf, buflen, 0);
	close(s);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)n))
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);
		return e->error ? e->error : -ENOENT;
	}
	return 0;
}

/* The peer's namespace id as seen from here (IFLA_LINK_NETNSID), -1 when the peer is in
 * this namespace. 0 or -errno. */
static int link_netnsid(int ifindex, int *nsid)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	static char buf[16384];
	struct nlmsghdr *h = (void *)buf;
	struct rtattr *a;
	int len, err = rtnl_ask(&req, sizeof(req), buf, sizeof(buf));

	*nsid = -1;
	if (err)
		return err;
	len = (int)IFLA_PAYLOAD(h);
	for (a = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(a) >= 4)
			memcpy(nsid, RTA_DATA(a), 4);
	return 0;
}

/* The id this namespace gives the namespace behind fd, or -1 when it gave none. */
static int nsid_of_fd(int fd)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		__u32 fd;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
		       .nlmsg_flags = NLM_F_REQUEST },
		.g = { .rtgen_family = AF_UNSPEC },
		.a = { .rta_len = RTA_LENGTH(4), .rta_type = NETNSA_FD },
		.fd = (__u32)fd,
	};
	char buf[1024];
	struct nlmsghdr *h = (void *)buf;
	struct rtattr *a;
	int len, id = -1;

	if (rtnl_ask(&req, sizeof(req), buf, sizeof(buf)))
		return -1;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg)));
	a = (struct rtattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= 4)
			memcpy(&id, RTA_DATA(a), 4);
	return id;
}

/* 1: a native (driver-mode) XDP program on ifindex of the current namespace; 0: none. */
static int has_native_xdp(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	return q.drv_prog_id || q.hw_prog_id;
}

/* Same question inside the namespace behind fd: a child enters it (setns is per
 * thread and we must not move our own). */
static int has_native_xdp_in(int nsfd, int ifindex)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		int r;
		if (setns(nsfd, CLONE_NEWNET))
			_exit(12);
		r = has_native_xdp(ifindex);
		_exit(r == 1 ? 10 : r == 0 ? 11 : 12);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 12)
		return -EIO;
	return WEXITSTATUS(st) == 10;
}

/* Finds the namespace with id nsid among those named in /run/netns and those of running
 * processes (a namespace nobody holds is gone, and its veth end with it); bind mounts
 * elsewhere are not searched. Returns an fd, or -ENOENT. */
static int find_netns(int nsid)
{
	static const char *dirs[] = { "/run/netns", "/proc" };

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;
		ino_t seen[64];
		int nseen = 0;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			char path[300];
			struct stat st;
			bool dup = false;
			int fd;

			if (e->d_name[0] == '.')
				continue;
			if (d == 1) {
				if (e->d_name[0] < '0' || e->d_name[0] > '9')
					continue;
				snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
			} else {
				snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
			}
			if (stat(path, &st))
				continue;
			/* Most processes share a few namespaces: ask once per namespace. */
			for (int i = 0; i < nseen && !dup; i++)
				dup = seen[i] == st.st_ino;
			if (dup)
				continue;
			if (nseen < (int)(sizeof(seen) / sizeof(seen[0])))
				seen[nseen++] = st.st_ino;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (nsid_of_fd(fd) == nsid) {
				closedir(dir);
				return fd;
			}
			close(fd);
		}
		closedir(dir);
	}
	return -ENOENT;
}

int ifstats_veth_peer_xdp(const char *ifname, int ifindex, char *why, size_t whylen)
{
	struct ifstats_xdp st;
	int err, nsid, fd, r;

	if (why && whylen)
		*why = 0;
	if (!ifstats_is_veth(ifname)) {
		if (why)
			snprintf(why, whylen, "%s is not a veth", ifname);
		return -EOPNOTSUPP;
	}
	err = ifstats_xdp_read(ifname, &st);
	if (!err && !st.peer_ifindex)
		err = -ENOENT;
	if (!err)
		err = link_netnsid(ifindex, &nsid);
	if (err) {
		if (why)
			snprintf(why, whylen, "cannot find the peer of veth %s: %s", ifname,
				 strerror(-err));
		return err;
	}
	if (nsid < 0) {
		r = has_native_xdp(st.peer_ifindex);
	} else {
		fd = find_netns(nsid);
		if (fd < 0) {
			if (why)
				snprintf(why, whylen, "the peer of veth %s (ifindex %d) is in a "
					 "namespace this process cannot find", ifname,
					 st.peer_ifindex);
			return fd;
		}
		r = has_native_xdp_in(fd, st.peer_ifindex);
		close(fd);
	}
	if (r < 0) {
		if (why)
			snprintf(why, whylen, "cannot ask the peer of veth %s (ifindex %d) for its "
				 "XDP program: %s", ifname, st.peer_ifindex, strerror(-r));
		return r;
	}
	if (why)
		snprintf(why, whylen, r ? "the peer of veth %s (ifindex %d%s) has a native XDP "
			 "program, so XDP_TX reaches it" : "the peer of veth %s (ifindex %d%s) "
			 "has no native XDP program: the veth driver drops XDP_TX",
			 ifname, st.peer_ifindex, nsid < 0 ? "" : ", other namespace");
	return r;
}

bool ifstats_iface_gone(const char *ifname, int ifindex)
{
	return if_nametoindex(ifname) != (unsigned int)ifindex;
}
