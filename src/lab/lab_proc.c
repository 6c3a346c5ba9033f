// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lab's own bpflab daemons (`lb decap` on each backend of the L3 lab, `lb health` on
 * lb): started in a node's namespace, found again by their argv[0] marker and stopped by
 * it, so a `lab up` killed between the fork and its pid file cannot make `lab down` miss
 * one. The `--serve` servers are python, found by their shell arguments (serve.c). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "netns.h"
#include "lab.h"

static int proc_argv0(int pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int lab_proc_each(const char *a0, bool prefix, int sig, int *pid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char cur[256];
		int p = atoi(de->d_name);

		if (p <= 0 || p == getpid() || proc_argv0(p, cur, sizeof(cur)))
			continue;
		if (prefix ? strncmp(cur, a0, strlen(a0)) : strcmp(cur, a0))
			continue;
		found++;
		if (pid)
			*pid = p;
		if (sig)
			kill(p, sig);
	}
	closedir(d);
	return found;
}

int lab_proc_stop(const char *a0, bool prefix)
{
	struct timespec ts = { 0, 10 * 1000000L };
	int n = lab_proc_each(a0, prefix, SIGTERM, NULL);

	/* Each prints its counters and exits on SIGTERM (its links go with it); SIGKILL after
	 * 3 s whatever it was doing: nothing is left behind either way. */
	for (int i = 0; i < 300 && lab_proc_each(a0, prefix, 0, NULL); i++) {
		if (i == 299)
			lab_proc_each(a0, prefix, SIGKILL, NULL);
		nanosleep(&ts, NULL);
	}
	/* They were ours, not our children, unless this very process started them. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return n;
}

pid_t lab_proc_spawn(const char *netns, char *const argv[], const char *log, bool append)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	setsid();
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (netns_enter(netns))
		_exit(126);
	execv("/proc/self/exe", argv);
	dprintf(2, "cannot run bpflab: %s\n", strerror(errno));
	_exit(127);
}

void lab_log_warn(const char *log, const char *node)
{
	char line[512];
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f))
		pr_warn("  %s%s%s", node ? node : "", node ? ": " : "", line);
	if (f)
		fclose(f);
}
