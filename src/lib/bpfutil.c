// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libbpf set-up, bpffs/tracefs, XDP attach through bpf_link (naming the owner of what is
 * in the way). Atomic pinning is in pin.c; modes, what is attached to an interface and
 * test runs in bpf_query.c; the three implement bpfutil.h. */
#define _GNU_SOURCE
#include "bpfutil.h"
#include "util.h"

#include <dirent.h>
#include <time.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>


static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!g_opts.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bpflab_libbpf_init(void)
{
	libbpf_set_print(libbpf_print);
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; newer ones ignore it. */
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
}

bool fs_is_mounted(const char *path, unsigned long magic)
{
	struct statfs st;
	return !statfs(path, &st) && (unsigned long)st.f_type == magic;
}

int ensure_bpffs(bool *mounted_now)
{
	if (mounted_now)
		*mounted_now = false;
	if (fs_is_mounted("/sys/fs/bpf", BPF_FS_MAGIC))
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		int err = -errno;
		pr_warn("bpffs is not mounted at /sys/fs/bpf and mounting it failed: %s%s\n",
			strerr(err), err == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return err;
	}
	pr_debug("mounted bpffs at /sys/fs/bpf\n");
	if (mounted_now)
		*mounted_now = true;
	return 0;
}

int ensure_tracefs(const char **path)
{
	static const char *p1 = "/sys/kernel/tracing", *p2 = "/sys/kernel/debug/tracing";

	if (fs_is_mounted(p1, TRACEFS_MAGIC)) {
		*path = p1;
		return 0;
	}
	if (fs_is_mounted(p2, TRACEFS_MAGIC)) {
		*path = p2;
		return 0;
	}
	if (!mount("tracefs", p1, "tracefs", 0, NULL)) {
		pr_debug("mounted tracefs at %s\n", p1);
		*path = p1;
		return 0;
	}
	/* Old kernels only expose tracefs under debugfs. */
	if (!fs_is_mounted("/sys/kernel/debug", DEBUGFS_MAGIC))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (fs_is_mounted(p2, TRACEFS_MAGIC)) {
		*path = p2;
		return 0;
	}
	pr_warn("tracefs is not mounted and mounting it at %s failed: %s\n", p1, strerror(errno));
	return -ENOENT;
}

/* Both must match: an ifindex is only unique within its netns. */
static __u32 xdp_link_id(int ifindex, __u32 prog_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
		    (int)info.xdp.ifindex == ifindex && info.prog_id == prog_id) {
			close(fd);
			return id;
		}
		close(fd);
	}
	return 0;
}

/* Looks under dir (bpffs, depth-bounded) for a pin of link `id`; its path into out. */
static bool find_link_pin(const char *dir, __u32 id, int depth, char *out, size_t len)
{
	struct dirent *de;
	char p[PATH_MAX];
	bool found = false;
	DIR *d;

	if (depth > 6 || !(d = opendir(dir)))
		return false;
	while (!found && (de = readdir(d))) {
		struct bpf_link_info info = {};
		__u32 ilen = sizeof(info);
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = find_link_pin(p, id, depth + 1, out, len);
			continue;
		}
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) && info.id == id) {
			snprintf(out, len, "%s", p);
			found = true;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* A process holding link `id` open: pid and name, from /proc/PID/fdinfo. */
static bool find_link_holder(__u32 id, int *pid, char *comm, size_t len)
{
	char p[300], line[128];
	struct dirent *de, *fe;
	DIR *d = opendir("/proc");
	bool found = false;

	while (!found && d && (de = readdir(d))) {
		DIR *fds;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/fdinfo", de->d_name);
		fds = opendir(p);
		while (!found && fds && (fe = readdir(fds))) {
			FILE *f;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "/proc/%s/fdinfo/%s", de->d_name, fe->d_name);
			f = fopen(p, "r");
			while (f && fgets(line, sizeof(line), f)) {
				unsigned v;
				if (sscanf(line, "link_id: %u", &v) == 1 && v == id) {
					found = true;
					break;
				}
			}
			if (f)
				fclose(f);
		}
		if (fds)
			closedir(fds);
		if (found) {
			FILE *f;

			*pid = atoi(de->d_name);
			snprintf(p, sizeof(p), "/proc/%s/comm", de->d_name);
			f = fopen(p, "r");
			if (!f || !fgets(comm, len, f))
				snprintf(comm, len, "?");
			comm[strcspn(comm, "\n")] = 0;
			if (f)
				fclose(f);
		}
	}
	if (d)
		closedir(d);
	return found;
}

void xdp_owner_hint(int ifindex, __u32 prog_id, const char *ifname, char *out, size_t len)
{
	__u32 id = xdp_link_id(ifindex, prog_id);
	char pin[PATH_MAX], comm[64];
	size_t root = strlen(BPFLAB_PIN_ROOT);
	int pid = 0;

	if (!id) {
		snprintf(out, len, "it is attached without a bpf_link, so "
			 "'ip link set dev %s xdp off' (or xdpgeneric off) removes it", ifname);
		return;
	}
	/* bpflab's own pins first: the usual case, and a small tree. */
	if (find_link_pin(BPFLAB_PIN_ROOT, id, 0, pin, sizeof(pin)) ||
	    find_link_pin("/sys/fs/bpf", id, 0, pin, sizeof(pin))) {
		if (!strncmp(pin, BPFLAB_PIN_ROOT "/lb/", root + 4))
			snprintf(out, len, "it is bpflab's load balancer, held by the link pinned at %s: "
				 "'bpflab lb stop %s' removes it", pin, ifname);
		else if (!strncmp(pin, BPFLAB_PIN_ROOT "/count/", root + 7))
			snprintf(out, len, "it is a pinned bpflab count, held by the link pinned at %s: "
				 "'bpflab count %s --detach' removes it", pin, ifname);
		else
			snprintf(out, len, "it is held by the bpf_link pinned at %s ('ip link ... xdp "
				 "off' cannot remove it): removing that pin (rm %s) detaches it, if "
				 "no process holds the link too", pin, pin);
		return;
	}
	if (find_link_holder(id, &pid, comm, sizeof(comm))) {
		snprintf(out, len, "it is held by process %d (%s) through bpf_link %u ('ip link ... "
			 "xdp off' cannot remove it): stopping that process detaches it", pid, comm, id);
		return;
	}
	snprintf(out, len, "it is held by bpf_link %u, which no pin or process shown to us "
		 "holds; 'bpftool link detach id %u' removes it", id, id);
}

int xdp_link_attach(int prog_fd, int ifindex, const char *ifname, enum xdp_mode mode,
		    enum xdp_mode *effective)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct xdp_present cur;
	int fd, err;

	err = xdp_query_present(ifindex, &cur);
	if (err > 0) {
		char how[PATH_MAX + 256];

		xdp_owner_hint(ifindex, cur.prog_id, ifname, how, sizeof(how));
		pr_warn("'%s' already has an XDP program: id %u, name '%s', %s mode; %s\n",
			ifname, cur.prog_id, cur.name[0] ? cur.name : "?", cur.mode, how);
		return -EBUSY;
	}
	if (mode == XDP_MODE_NATIVE)
		opts.flags = XDP_FLAGS_DRV_MODE;
	else if (mode == XDP_MODE_GENERIC)
		opts.flags = XDP_FLAGS_SKB_MODE;
	/* libbpf 1.1's bpf_program__attach_xdp() takes no mode flags; a raw link does. */
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = fd;
		if (mode == XDP_MODE_NATIVE && (err == -EOPNOTSUPP || err == -EINVAL))
			pr_warn("failed to attach XDP to '%s' in native mode: %s; its driver has no "
				"native XDP support, use --mode generic (or auto)\n", ifname, strerr(err));
		else if (err == -EBUSY || err == -EEXIST)
			pr_warn("failed to attach XDP to '%s': another program is attached (%s)\n",
				ifname, strerr(err));
		else
			pr_warn("failed to attach XDP to '%s' (%s mode): %s\n", ifname,
				xdp_mode_str(mode), strerr(err));
		return err;
	}
	if (effective) {
		*effective = mode;
		if (xdp_query_present(ifindex, &cur) > 0)
			*effective = !strcmp(cur.mode, "native") ? XDP_MODE_NATIVE : XDP_MODE_GENERIC;
	}
	return fd;
}
