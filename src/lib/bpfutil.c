// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include "bpfutil.h"
#include "util.h"
#include "json.h"

#include <dirent.h>
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
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define BPF_FS_MAGIC 0xcafe4a11
#define TRACEFS_MAGIC 0x74726163
#define DEBUGFS_MAGIC 0x64626720

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

int xdp_mode_parse(const char *s, enum xdp_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = XDP_MODE_AUTO;
	else if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*mode = XDP_MODE_GENERIC;
	else {
		pr_warn("invalid --mode '%s': use auto, native or generic\n", s);
		return -EINVAL;
	}
	return 0;
}

const char *xdp_mode_str(enum xdp_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_GENERIC: return "generic";
	default: return "auto";
	}
}

int xdp_query_present(int ifindex, struct xdp_present *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err, fd;

	memset(out, 0, sizeof(*out));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (!q.prog_id)
		return 0;
	out->prog_id = q.prog_id;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV: out->mode = "native"; break;
	case XDP_ATTACHED_SKB: out->mode = "generic"; break;
	case XDP_ATTACHED_HW: out->mode = "offload"; break;
	default: out->mode = "multi"; break;
	}
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(out->name, sizeof(out->name), "%s", info.name);
		close(fd);
	}
	return 1;
}

int xdp_link_attach(int prog_fd, int ifindex, const char *ifname, enum xdp_mode mode,
		    enum xdp_mode *effective)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct xdp_present cur;
	int fd, err;

	err = xdp_query_present(ifindex, &cur);
	if (err > 0) {
		pr_warn("'%s' already has an XDP program: id %u, name '%s', %s mode; "
			"detach it first (bpflab <command> %s --detach, or ip link set dev %s xdp off)\n",
			ifname, cur.prog_id, cur.name[0] ? cur.name : "?", cur.mode, ifname, ifname);
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

int mkdir_p(const char *path, int mode)
{
	char tmp[PATH_MAX];
	size_t n = snprintf(tmp, sizeof(tmp), "%s", path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int pin_dir_path(const char *cmd, const char *ifname, char *buf, size_t len)
{
	char ns[64];
	int n;

	netns_current_name(ns, sizeof(ns));
	if (*ns)
		n = snprintf(buf, len, "%s/%s/%s@%s", BPFLAB_PIN_ROOT, cmd, ifname, ns);
	else
		n = snprintf(buf, len, "%s/%s/%s", BPFLAB_PIN_ROOT, cmd, ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

int pin_dir_remove(const char *dir)
{
	char parent[PATH_MAX];
	int err = rm_tree(dir);
	char *slash;

	if (err)
		return err;
	/* Leave nothing behind: prune parents that became empty, up to and including the
	 * bpflab root. rmdir refuses a folder that still holds someone else's pins. */
	snprintf(parent, sizeof(parent), "%s", dir);
	while ((slash = strrchr(parent, '/')) && slash > parent) {
		*slash = 0;
		if (strncmp(parent, BPFLAB_PIN_ROOT, strlen(BPFLAB_PIN_ROOT)) || rmdir(parent))
			break;
	}
	return 0;
}

/* Removes "<dir>_tmp_<pid>" folders whose process is gone: a kill -9 mid-pin. */
static void pin_tmp_reap(const char *dir)
{
	char parent[PATH_MAX], prefix[PATH_MAX], p[PATH_MAX];
	const char *base;
	struct dirent *de;
	DIR *d;

	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = 0;
	base = slash + 1;
	snprintf(prefix, sizeof(prefix), "%s_tmp_", base);
	d = opendir(parent);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		long pid = strtol(de->d_name + strlen(prefix), NULL, 10);
		if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, de->d_name);
		pr_debug("removing stale pin folder %s\n", p);
		pin_dir_remove(p);
	}
	if (d)
		closedir(d);
}

int pin_tmp_begin(const char *dir, char *tmp, size_t len)
{
	char parent[PATH_MAX];
	int err;

	err = ensure_bpffs(NULL);
	if (err)
		return err;
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = 0;
	err = mkdir_p(parent, 0700);
	if (err) {
		pr_warn("cannot create %s: %s\n", parent, strerr(err));
		return err;
	}
	pin_tmp_reap(dir);
	if ((size_t)snprintf(tmp, len, "%s_tmp_%d", dir, getpid()) >= len)
		return -ENAMETOOLONG;
	/* Another process removing its last pin may prune our fresh parent: make it again. */
	if (mkdir(tmp, 0700) && errno == ENOENT)
		mkdir_p(parent, 0700);
	if (mkdir(tmp, 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("cannot create %s: %s\n", tmp, strerr(err));
		return err;
	}
	return 0;
}

int pin_tmp_commit(const char *tmp, const char *dir)
{
	if (rename(tmp, dir)) {
		int err = -errno;
		pr_warn("cannot move pins into %s: %s\n", dir, strerr(err));
		pin_dir_remove(tmp);
		return err;
	}
	return 0;
}

int pin_dir_detach(const char *dir)
{
	char path[PATH_MAX];
	int fd, err;

	if (access(dir, F_OK))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/link", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		if (err && err != -ENOLINK && err != -EINVAL)
			pr_warn("detaching %s: %s\n", path, strerr(err));
	}
	err = pin_dir_remove(dir);
	if (err)
		pr_warn("removing %s: %s\n", dir, strerr(err));
	return err;
}

void print_detached(const char *type, const char *ifname, const char *dir, const char *human)
{
	struct json j;

	if (!g_opts.json) {
		printf("%s %s and removed %s\n", human, ifname, dir);
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", type);
	json_kstr(&j, "interface", ifname);
	json_kstr(&j, "pin_dir", dir);
	json_obj_end(&j);
	json_newline(&j);
}

int pinned_link_alive(const char *path)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return err;
	if (info.type == BPF_LINK_TYPE_XDP)
		return info.xdp.ifindex != 0;
	return 1;
}

int test_run_xdp(int prog_fd, struct test_run *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	cpu_set_t old, one;
	bool pinned = false;
	int err;

	o.data_in = t->in;
	o.data_size_in = t->in_len;
	o.data_out = t->out;
	o.data_size_out = t->out ? t->out_cap : 0;
	o.repeat = t->repeat > 0 ? t->repeat : 1;
	if (t->cpu >= 0 && !sched_getaffinity(0, sizeof(old), &old)) {
		CPU_ZERO(&one);
		CPU_SET(t->cpu, &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
		if (!pinned)
			return -errno;
	}
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	if (err)
		return err;
	t->out_len = o.data_size_out;
	t->retval = o.retval;
	t->duration = o.duration;
	return 0;
}

int percpu_sum_u64(int map_fd, const void *key, __u64 *out, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* The kernel hands back one value per possible CPU, each rounded up to 8 bytes:
	 * with __u64-only values that is exactly n words per CPU. */
	v = calloc((size_t)ncpu * n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, key, v)) {
		int err = -errno;
		free(v);
		return err;
	}
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (size_t i = 0; i < n; i++)
			out[i] += v[(size_t)cpu * n + i];
	free(v);
	return 0;
}

const char *xdp_action_str(__u32 act)
{
	static const char *names[] = { "aborted", "drop", "pass", "tx", "redirect" };
	return act < ARRAY_SIZE(names) ? names[act] : "unknown";
}
