// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe work that must not touch the machine: run in a child process (its netns and
 * mounts die with it), and pseudo filesystem files read where they are mounted or,
 * when they are not, through a private mount in a child. */
#define _GNU_SOURCE
#include "probe_int.h"
#include "util.h"
#include "bpfutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#define PROBE_CHILD_TIMEOUT_MS 5000

int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n;
}

/* ---- work in a child process: its netns and mounts die with it ---- */

struct child_out {
	int ret;
	char data[];
};

/* Runs fn(ctx) in a child and copies ctx (len bytes) back. Returns fn's return value,
 * or -errno when the child could not run or report (then ctx is untouched). */
int run_child(int (*fn)(void *ctx), void *ctx, size_t len)
{
	size_t total = sizeof(struct child_out) + len, got = 0;
	struct child_out *out = calloc(1, total);
	int pfd[2], status, ret;
	double deadline = now_mono() + PROBE_CHILD_TIMEOUT_MS / 1000.0;
	pid_t pid;

	if (!out)
		return -ENOMEM;
	if (pipe2(pfd, O_CLOEXEC)) {
		free(out);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		free(out);
		return ret;
	}
	if (pid == 0) {
		const char *p = (const char *)out;
		close(pfd[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		out->ret = fn(ctx);
		memcpy(out->data, ctx, len);
		while (got < total) {
			ssize_t n = write(pfd[1], p + got, total - got);
			if (n <= 0)
				_exit(1);
			got += n;
		}
		_exit(0);
	}
	close(pfd[1]);
	while (got < total) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int left = (int)((deadline - now_mono()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) == 0) {
			kill(pid, SIGKILL); /* our own child, stuck */
			break;
		}
		n = read(pfd[0], (char *)out + got, total - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < total) {
		free(out);
		return -ECHILD;
	}
	memcpy(ctx, out->data, len);
	ret = out->ret;
	free(out);
	return ret;
}

/* A pseudo filesystem file: read where it is mounted; when it is not, mount it in a
 * private mount namespace of a child, so the machine's mounts are left as they were. */
struct fs_read_ctx {
	const char *type, *mnt, *rel;
	char buf[512];
};

static int fs_read_child(void *arg)
{
	struct fs_read_ctx *c = arg;
	char path[512];

	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount(c->type, c->mnt, c->type, 0, NULL))
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", c->mnt, c->rel);
	return read_text(path, c->buf, sizeof(c->buf));
}

/* rel under a pseudo filesystem of `type`: read at the first of mounted[] where it is
 * mounted (magic), else through a private mount at mounted[0] in a child.
 * >= 0: bytes read into buf; -errno otherwise (-ENOENT: no such file). */
static int pseudo_fs_read(const char *type, unsigned long magic, const char *const *mounted,
			  const char *rel, char *buf, size_t len)
{
	struct fs_read_ctx c = { .type = type, .mnt = mounted[0], .rel = rel };
	char path[512];
	int n;

	for (; *mounted; mounted++) {
		if (fs_is_mounted(*mounted, magic)) {
			snprintf(path, sizeof(path), "%s/%s", *mounted, rel);
			return read_text(path, buf, len);
		}
	}
	n = run_child(fs_read_child, &c, sizeof(c));
	if (n >= 0)
		snprintf(buf, len, "%s", c.buf);
	return n;
}

static const char *const tracefs_at[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing",
					  NULL };

const char *tracefs_mounted(void)
{
	for (const char *const *m = tracefs_at; *m; m++)
		if (fs_is_mounted(*m, TRACEFS_MAGIC))
			return *m;
	return NULL;
}

int tracefs_read(const char *rel, char *buf, size_t len)
{
	return pseudo_fs_read("tracefs", TRACEFS_MAGIC, tracefs_at, rel, buf, len);
}

int securityfs_read(const char *rel, char *buf, size_t len)
{
	static const char *const at[] = { "/sys/kernel/security", NULL };

	return pseudo_fs_read("securityfs", SECURITYFS_MAGIC, at, rel, buf, len);
}

/* "none [integrity] confidentiality" -> "integrity"; "" when unknown. */
void lockdown_state(char *out, size_t len)
{
	char buf[128], *a, *b;

	out[0] = 0;
	if (securityfs_read("lockdown", buf, sizeof(buf)) < 0)
		return;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (a && b)
		snprintf(out, len, "%.*s", (int)(b - a - 1), a + 1);
}
