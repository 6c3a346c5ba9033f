// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Network namespaces, veth pairs, bridges and addresses (see netns.h). */
#define _GNU_SOURCE
#include "netns.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IP_ARGS_MAX 24

static bool here(const char *ns)
{
	return !ns || !*ns;
}

/* ip [-n NS] ARGS... (NULL-terminated); quiet unless -v. */
static int ip_in(bool quiet, const char *ns, ...)
{
	char *argv[IP_ARGS_MAX];
	int argc = 0;
	const char *a;
	va_list ap;

	argv[argc++] = "ip";
	if (!here(ns)) {
		argv[argc++] = "-n";
		argv[argc++] = (char *)ns;
	}
	va_start(ap, ns);
	while ((a = va_arg(ap, const char *)) && argc < IP_ARGS_MAX - 1)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return run_cmd(argv, quiet) ? -EIO : 0;
}
#define IP(ns, ...) ip_in(!g_opts.verbose, ns, __VA_ARGS__, (const char *)NULL)

static int check_name(const char *name)
{
	if (!name || !*name || strchr(name, '/') || strlen(name) >= NETNS_NAME_MAX ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

bool netns_exists(const char *name)
{
	char p[32 + NETNS_NAME_MAX];

	if (check_name(name))
		return false;
	snprintf(p, sizeof(p), "/run/netns/%s", name);
	return access(p, F_OK) == 0;
}

int netns_add(const char *name)
{
	if (check_name(name))
		return -EINVAL;
	if (netns_exists(name))
		return 0;
	return IP(NULL, "netns", "add", name);
}

int netns_del(const char *name)
{
	if (check_name(name))
		return -EINVAL;
	if (!netns_exists(name))
		return 0;
	return IP(NULL, "netns", "del", name);
}

int netns_del_prefix(const char *prefix, bool (*match)(const char *rest))
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	int removed = 0, failed = 0;
	DIR *d = opendir("/run/netns");

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, plen))
			continue;
		if (match && !match(de->d_name + plen))
			continue;
		if (IP(NULL, "netns", "del", de->d_name))
			failed++;
		else
			removed++;
	}
	closedir(d);
	return failed ? -EIO : removed;
}

int netns_enter(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (check_name(name)) {
		pr_warn("invalid network namespace name '%s'\n", name ? name : "");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		pr_warn("no network namespace '%s' (%s): %s\n", name, path, strerr(err));
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		int err = -errno;
		close(fd);
		pr_warn("cannot enter network namespace '%s': %s\n", name, strerr(err));
		return err;
	}
	close(fd);
	return 0;
}

int netns_unshare(void)
{
	struct stat before, after;

	if (stat("/proc/self/ns/net", &before))
		return -errno;
	if (unshare(CLONE_NEWNET))
		return -errno;
	/* /proc/1 may not be readable: compare with our own namespace before unshare. */
	if (stat("/proc/self/ns/net", &after))
		return -errno;
	return after.st_ino == before.st_ino ? -EPERM : 0;
}

int netns_save(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int netns_restore(int fd)
{
	int err = 0;

	if (fd < 0)
		return -EBADF;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

void netns_current_name(char *buf, size_t len)
{
	struct stat self, init, st;
	DIR *d;
	struct dirent *de;

	buf[0] = 0;
	if (stat("/proc/self/ns/net", &self))
		return;
	/* The initial netns has a fixed inode number (PROC_NET_INIT_INO); /proc/1 may not be
	 * readable (pid 1 of another pid namespace, or hidepid), so it is only a second check. */
	if (self.st_ino == 0xEFFFFFF9UL ||
	    (!stat("/proc/1/ns/net", &init) && init.st_ino == self.st_ino))
		return;
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		char p[PATH_MAX];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (!stat(p, &st) && st.st_ino == self.st_ino) {
			snprintf(buf, len, "%s", de->d_name);
			closedir(d);
			return;
		}
	}
	if (d)
		closedir(d);
	snprintf(buf, len, "ns%lu", (unsigned long)self.st_ino);
}

bool netns_link_exists(const char *ns, const char *ifname)
{
	return ip_in(true, ns, "link", "show", "dev", ifname, (const char *)NULL) == 0;
}

int netns_veth_add(const struct netns_end *a, const struct netns_end *b)
{
	char *argv[IP_ARGS_MAX];
	int argc = 0;

	if (netns_link_exists(a->ns, a->ifname))
		return 0;
	argv[argc++] = "ip";
	if (!here(a->ns)) {
		argv[argc++] = "-n";
		argv[argc++] = (char *)a->ns;
	}
	argv[argc++] = "link";
	argv[argc++] = "add";
	argv[argc++] = (char *)a->ifname;
	if (a->mac) {
		argv[argc++] = "address";
		argv[argc++] = (char *)a->mac;
	}
	argv[argc++] = "type";
	argv[argc++] = "veth";
	argv[argc++] = "peer";
	argv[argc++] = "name";
	argv[argc++] = (char *)b->ifname;
	if (b->mac) {
		argv[argc++] = "address";
		argv[argc++] = (char *)b->mac;
	}
	/* The peer is made in a's namespace and moved: "netns" names b's. */
	if (!here(b->ns)) {
		argv[argc++] = "netns";
		argv[argc++] = (char *)b->ns;
	}
	argv[argc] = NULL;
	return run_cmd(argv, !g_opts.verbose) ? -EIO : 0;
}

int netns_bridge_add(const char *ns, const char *name)
{
	int err = 0;

	if (!netns_link_exists(ns, name))
		err = IP(ns, "link", "add", name, "type", "bridge");
	/* It only switches: no STP forwarding delay before a port passes frames. */
	if (!err)
		err = IP(ns, "link", "set", name, "type", "bridge", "forward_delay", "0", "stp_state", "0");
	if (!err)
		err = netns_link_up(ns, name);
	return err;
}

int netns_link_up(const char *ns, const char *ifname)
{
	return IP(ns, "link", "set", "dev", ifname, "up");
}

int netns_link_master(const char *ns, const char *ifname, const char *master)
{
	return IP(ns, "link", "set", "dev", ifname, "master", master);
}

int netns_link_set_mac(const char *ns, const char *ifname, const char *mac)
{
	return IP(ns, "link", "set", "dev", ifname, "address", mac);
}

int netns_addr_add(const char *ns, const char *ifname, const char *cidr)
{
	if (strchr(cidr, ':'))
		return IP(ns, "addr", "replace", cidr, "dev", ifname, "nodad");
	return IP(ns, "addr", "replace", cidr, "dev", ifname);
}

int netns_run(const char *ns, char *const argv[], bool quiet)
{
	char *full[64];
	int n = 0, i;

	if (here(ns))
		return run_cmd(argv, quiet);
	full[n++] = "ip";
	full[n++] = "netns";
	full[n++] = "exec";
	full[n++] = (char *)ns;
	for (i = 0; argv[i] && n < (int)ARRAY_SIZE(full) - 1; i++)
		full[n++] = argv[i];
	if (argv[i])
		return -E2BIG;
	full[n] = NULL;
	return run_cmd(full, quiet);
}
