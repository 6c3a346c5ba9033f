// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Atomic pinning under BPFLAB_PIN_ROOT (see bpfutil.h): pin folders, the temp folder a
 * kill -9 may leave and its recovery, detaching what is pinned, and the record that says
 * so. */
#include "bpfutil.h"
#include "util.h"
#include "netns.h"
#include "json.h"

#include <dirent.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

/* The folder a pinning process holds locked until its rename: a lock on the folder itself,
 * so a recoverer can tell a live owner from a dead one whose pid was reused. */
static int tmp_lock_fd = -1;

/* Is the "<x>_tmp_<pid>" folder p left by a process that is gone? */
static bool pin_tmp_stale(const char *p, long pid)
{
	struct stat st;
	bool stale;
	int fd;

	if (pid <= 0)
		return true;
	if (pid == getpid())
		return false;
	if (kill(pid, 0) && errno == ESRCH)
		return true;
	/* The pid lives: its owner, or a stranger that got the pid after a kill -9. The owner
	 * holds the folder's lock from just after mkdir to the rename; a folder unlocked for
	 * more than 2 s is not being filled by anyone. */
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	stale = !flock(fd, LOCK_EX | LOCK_NB) && !fstat(fd, &st) && time(NULL) - st.st_ctime > 2;
	close(fd);
	return stale;
}

/* Detaches the link pinned as <dir>/link now: dropping its last reference by unlinking
 * the pin frees it later, from a work queue, and the next attach could still see it. */
static void link_detach_pinned(const char *dir)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/link", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
}

/* Removes the "<prefix>*_tmp_<pid>" folders under parent whose process is gone: what a
 * kill -9 in the middle of a pin (or of a stop) leaves. Unlinking a pinned link there
 * drops its last reference, which detaches its program: the half-done start is undone. */
static void pin_tmp_reap(const char *parent, const char *prefix)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(parent);

	while (d && (de = readdir(d))) {
		const char *t;

		if (strncmp(de->d_name, prefix, strlen(prefix)) || !(t = strstr(de->d_name, "_tmp_")))
			continue;
		if (*prefix && t != de->d_name + strlen(prefix) - strlen("_tmp_"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, de->d_name);
		if (!pin_tmp_stale(p, strtol(t + strlen("_tmp_"), NULL, 10)))
			continue;
		pr_debug("removing %s, left by a process that was killed\n", p);
		link_detach_pinned(p);
		rm_tree(p);
	}
	if (d)
		closedir(d);
}

void pin_dir_recover(const char *dir)
{
	char parent[PATH_MAX], prefix[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(prefix, sizeof(prefix), "%s_tmp_", slash + 1);
	pin_tmp_reap(parent, prefix);
}

void pin_cmd_recover(const char *cmd)
{
	char parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s/%s", BPFLAB_PIN_ROOT, cmd);
	pin_tmp_reap(parent, "");
}

int pin_dir_prepare(const char *cmd, const char *ifname, char *buf, size_t len)
{
	int err = pin_dir_path(cmd, ifname, buf, len);

	if (!err)
		pin_dir_recover(buf);
	return err;
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
	pin_dir_recover(dir);
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
	if (tmp_lock_fd >= 0)
		close(tmp_lock_fd);
	tmp_lock_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp_lock_fd >= 0)
		flock(tmp_lock_fd, LOCK_EX);
	return 0;
}

static void pin_tmp_unlock(void)
{
	if (tmp_lock_fd >= 0)
		close(tmp_lock_fd);
	tmp_lock_fd = -1;
}

int pin_tmp_commit(const char *tmp, const char *dir)
{
	int err = 0;

	if (rename(tmp, dir)) {
		err = -errno;
		pr_warn("cannot move pins into %s: %s\n", dir, strerr(err));
		rm_tree(tmp);
	}
	/* The folder is now dir: the caller may lock it itself from here on. */
	pin_tmp_unlock();
	return err;
}

int pin_link_and_maps(const char *dir, int link_fd, const struct pin_obj *objs, size_t n)
{
	char tmp[300], path[340];
	int err;

	err = pin_tmp_begin(dir, tmp, sizeof(tmp));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/link", tmp);
	err = bpf_obj_pin(link_fd, path) ? -errno : 0;
	for (size_t i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, objs[i].name);
		err = bpf_obj_pin(objs[i].fd, path) ? -errno : 0;
	}
	if (err) {
		pr_warn("pinning under %s failed: %s\n", tmp, strerr(err));
		pin_dir_remove(tmp);
		return err;
	}
	return pin_tmp_commit(tmp, dir);
}

int pin_dir_detach(const char *dir)
{
	char tmp[PATH_MAX], path[PATH_MAX + 8];
	int fd, err;

	/* Out of the way first, in one step: a kill -9 from here on leaves a temp folder of
	 * a dead process, which the next command removes, never a half-removed dir. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s_tmp_%d", dir, getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (rename(dir, tmp))
		return errno == ENOENT ? -ENOENT : -errno;
	snprintf(path, sizeof(path), "%s/link", tmp);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		if (err && err != -ENOLINK && err != -EINVAL)
			pr_warn("detaching %s: %s\n", path, strerr(err));
	}
	err = rm_tree(tmp);
	if (err)
		pr_warn("removing %s: %s\n", tmp, strerr(err));
	else
		pin_dir_remove(dir); /* only prunes the parents now empty */
	return err;
}

void print_detached(const char *type, const char *ifname, const char *dir, const char *human)
{
	struct json j;

	if (!g_opts.json) {
		printf("%s %s and removed %s\n", human, ifname, dir);
		return;
	}
	json_record_begin(&j, stdout, type);
	json_kstr(&j, "interface", ifname);
	json_kstr(&j, "pin_dir", dir);
	json_record_end(&j);
}

int pin_undo(const char *cmd, const char *ifname, const char *missing, const char *type,
	     const char *human)
{
	char dir[256];
	int err;

	if (iface_check_name(ifname) || pin_dir_prepare(cmd, ifname, dir, sizeof(dir)))
		return EXIT_USAGE;
	err = pin_dir_detach(dir);
	if (err == -ENOENT)
		pr_warn("no %s on '%s' (%s is missing)\n", missing, ifname, dir);
	if (err)
		return EXIT_FAIL;
	print_detached(type, ifname, dir, human);
	return EXIT_OK;
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

int pin_cmd_only(const char *cmd, char *ifname, size_t len)
{
	char root[PATH_MAX], ns[64];
	struct dirent *de;
	int found = 0;
	DIR *d;

	pin_cmd_recover(cmd);
	netns_current_name(ns, sizeof(ns));
	snprintf(root, sizeof(root), "%s/%s", BPFLAB_PIN_ROOT, cmd);
	d = opendir(root);
	while (d && (de = readdir(d))) {
		char *at = strchr(de->d_name, '@');

		if (de->d_name[0] == '.' || strstr(de->d_name, "_tmp_"))
			continue;
		/* A folder is this namespace's when its @suffix names it (none: the root one). */
		if (*ns ? !at || strcmp(at + 1, ns) : at != NULL)
			continue;
		if (++found == 1)
			snprintf(ifname, len, "%.*s", at ? (int)(at - de->d_name) : (int)strlen(de->d_name),
				 de->d_name);
	}
	if (d)
		closedir(d);
	return found;
}
