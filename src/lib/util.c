// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shared plumbing for every command. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct global_opts g_opts;
volatile sig_atomic_t exiting;

static void vpr(const char *fmt, va_list ap)
{
	fputs("bpflab: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpr(fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpr(fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;
	if (!g_opts.verbose)
		return;
	va_start(ap, fmt);
	vpr(fmt, ap);
	va_end(ap);
}

static void on_signal(int sig)
{
	exiting = 1;
}

void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking poll() must return so the loop sees `exiting`. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_duration(const char *s, double *seconds)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || v > 86400 * 365)
		return -EINVAL;
	if (*end == 's' && !end[1])
		end++;
	else if (*end == 'm' && !end[1]) {
		v *= 60;
		end++;
	}
	if (*end)
		return -EINVAL;
	*seconds = v;
	return 0;
}

int iface_check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= IFNAMSIZ) {
		pr_warn("invalid interface name '%s': must be 1 to %d characters\n",
			name ? name : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		pr_warn("invalid interface name '%s'\n", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = name[i];
		/* The kernel refuses '/', ':' and white space; we also keep names printable. */
		if (c == '/' || c == ':' || isspace(c) || !isprint(c)) {
			pr_warn("invalid interface name '%s': character '%c' is not allowed\n",
				name, isprint(c) ? c : '?');
			return -EINVAL;
		}
	}
	return 0;
}

int iface_resolve(const char *name, int *ifindex)
{
	unsigned int idx;
	char ns[64];

	if (iface_check_name(name))
		return -EINVAL;
	idx = if_nametoindex(name);
	if (!idx) {
		int err = -errno;
		netns_current_name(ns, sizeof(ns));
		pr_warn("no interface '%s'%s%s%s: %s\n", name, *ns ? " in network namespace '" : "",
			ns, *ns ? "'" : "", strerr(err));
		return -ENODEV;
	}
	*ifindex = idx;
	return 0;
}

int run_cmd(char *const argv[], bool quiet)
{
	pid_t pid;
	int status;

	if (g_opts.verbose) {
		fputs("bpflab: +", stderr);
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int run_cmdf(bool quiet, const char *fmt, ...)
{
	char buf[1024], *argv[64], *save = NULL, *tok;
	int argc = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Arguments are ours (names already validated), so splitting on spaces is safe. */
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return run_cmd(argv, quiet);
}

int netns_enter(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!name || !*name || strchr(name, '/') || strlen(name) > 64) {
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

bool is_root(void)
{
	return geteuid() == 0;
}

int require_root(const char *what)
{
	if (is_root())
		return 0;
	pr_warn("%s needs root: CAP_BPF and CAP_PERFMON to load programs, CAP_NET_ADMIN to "
		"attach them to interfaces, CAP_SYS_ADMIN to mount bpffs/tracefs; run as root\n",
		what);
	return EXIT_NOPERM;
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *strerr(int err)
{
	return strerror(err < 0 ? -err : err);
}
