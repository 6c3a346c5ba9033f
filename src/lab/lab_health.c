// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab lab up --lb nat|dsr|ipip|gue --lb-config FILE`: the lab starts the load balancer on lb's
 * eth0 with FILE and, when FILE has `check` lines, its health checker `lb health` in the
 * background (log and pid file in the lab's runtime folder); `lab down` stops both. The
 * checker is found by its argv[0] marker (HEALTH_MARK:<lab>), so a `lab up` killed between
 * fork and pid file cannot make `lab down` miss it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "util.h"
#include "netns.h"
#include "lab.h"

#define HEALTH_MARK "bpflab-lab-health"

bool lab_config_has_check(const char *config)
{
	char line[512];
	bool hit = false;
	FILE *f = fopen(config, "r");

	while (f && !hit && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		hit = !strncmp(p, "check", 5) && (p[5] == ' ' || p[5] == '\t');
	}
	if (f)
		fclose(f);
	return hit;
}

/* Runs bpflab with argv in netns, output to log; waits when wait is set.
 * Returns the pid (wait: 0 on exit 0, -1 otherwise). */
static pid_t spawn(const char *netns, char **argv, const char *log, bool wait)
{
	pid_t pid = lab_proc_spawn(netns, argv, log, !wait);
	int st;

	if (pid < 0 || !wait)
		return pid;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static int health_each(const char *lab, int sig)
{
	char a0[96];

	snprintf(a0, sizeof(a0), HEALTH_MARK ":%s", lab);
	return lab_proc_each(a0, false, sig, NULL);
}

int lab_health_pid(const char *lab)
{
	char dir[128], pf[192];
	int pid = 0;
	FILE *f;

	lab_run_dir(lab, dir, sizeof(dir));
	snprintf(pf, sizeof(pf), "%s/lb-health.pid", dir);
	f = fopen(pf, "r");
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid > 0 && health_each(lab, 0) ? pid : 0;
}

int lab_lb_start(const struct lab *lab, const char *mode, const char *config)
{
	char dir[128], log[192], pf[192], a0[96], cfg[4096];
	char *start[] = { "bpflab", "lb", "start", "eth0", "--mode", (char *)mode, "--config", cfg,
			  NULL };
	char *health[] = { a0, "lb", "health", "--json", NULL };
	const char *ns = lab->nodes[1].netns;
	pid_t pid;
	FILE *f;

	/* The L3 lab (--lb ipip|gue): lb runs in dsr mode; FILE's `encap` lines say which
	 * VIPs are tunnelled, and their checks go through the tunnel (lb_steer.h). */
	if (!strcmp(mode, "ipip") || !strcmp(mode, "gue"))
		start[5] = "dsr";

	/* The child runs in another directory's view of nothing: give it an absolute path. */
	if (!realpath(config, cfg)) {
		pr_warn("lab '%s': cannot read --lb-config '%s': %s\n", lab->name, config,
			strerror(errno));
		return EXIT_USAGE;
	}
	lab_run_dir(lab->name, dir, sizeof(dir));
	if (run_cmdf(true, "mkdir -p %s", dir)) {
		pr_warn("lab '%s': cannot make %s\n", lab->name, dir);
		return EXIT_FAIL;
	}
	snprintf(log, sizeof(log), "%s/lb-start.log", dir);
	if (spawn(ns, start, log, true)) {
		pr_warn("lab '%s': 'bpflab lb start eth0 --mode %s --config %s' in lb failed:\n",
			lab->name, start[5], cfg);
		lab_log_warn(log, NULL);
		return EXIT_FAIL;
	}
	if (!lab_config_has_check(cfg) || lab_health_pid(lab->name))
		return EXIT_OK;
	snprintf(a0, sizeof(a0), HEALTH_MARK ":%s", lab->name);
	snprintf(log, sizeof(log), "%s/lb-health.log", dir);
	pid = spawn(ns, health, log, false);
	if (pid < 0) {
		pr_warn("lab '%s': fork: %s\n", lab->name, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(pf, sizeof(pf), "%s/lb-health.pid", dir);
	if ((f = fopen(pf, "w"))) {
		fprintf(f, "%d\n", pid);
		fclose(f);
	}
	/* Up means checking: it says so on its first line within 5 s. */
	for (int t = 0; t < 500; t++) {
		struct timespec ts = { 0, 10 * 1000000L };
		char line[256] = "";
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			pr_warn("lab '%s': lb health on lb exited:\n", lab->name);
			lab_log_warn(log, NULL);
			return EXIT_FAIL;
		}
		if ((f = fopen(log, "r"))) {
			bool up = fgets(line, sizeof(line), f) && strstr(line, "\"health_started\"");
			fclose(f);
			if (up)
				return EXIT_OK;
		}
		nanosleep(&ts, NULL);
	}
	pr_warn("lab '%s': lb health did not start within 5 s:\n", lab->name);
	lab_log_warn(log, NULL);
	return EXIT_FAIL;
}

int lab_lb_stop(const struct lab *lab)
{
	char dir[128], log[192], a0[96], *stop[] = { "bpflab", "lb", "stop", "eth0", NULL };
	int n;

	snprintf(a0, sizeof(a0), HEALTH_MARK ":%s", lab->name);
	n = lab_proc_stop(a0, false);
	/* The balancer lab up started: its pins would outlive the namespace. */
	lab_run_dir(lab->name, dir, sizeof(dir));
	snprintf(log, sizeof(log), "%s/lb-start.log", dir);
	if (!access(log, F_OK) && !access("/proc/self/exe", X_OK)) {
		snprintf(log, sizeof(log), "%s/lb-stop.log", dir);
		spawn(lab->nodes[1].netns, stop, log, true);
	}
	return n;
}
