// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab lab up --serve`: an HTTP server in every backend that answers with the
 * backend's name, so the load balancer can be tried with curl and wrk from the client.
 *
 * Python's standard http.server (python3 is a dependency already), dual-stack on [::]:80,
 * which covers the backend's own addresses and, in dsr mode, the VIP on its lo. The
 * servers outlive the `lab up` that started them, so they are found again by their
 * command line (a marker, the lab's name, the node's name), not only by the pid files:
 * a `lab up` killed between fork and pid file, or a stale pid reused by another process,
 * cannot make `lab down` miss one or kill a stranger. */
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "util.h"
#include "netns.h"
#include "lab.h"

#define SERVE_MARK "bpflab-lab-serve"

/* Every path answers "<node>\n"; HTTP/1.1 keep-alive so wrk measures requests, not
 * connection set-up; no request log (wrk would fill the runtime folder). */
static const char serve_py[] =
	"import socket, sys\n"
	"from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler\n"
	"body = (sys.argv[3] + '\\n').encode()\n"
	"class H(BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    server_version = 'bpflab-lab'\n"
	"    wbufsize = -1  # headers and body in one segment: no Nagle/delayed-ACK stall\n"
	"    sys_version = ''\n"
	"    def do_GET(self):\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Type', 'text/plain')\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        if self.command != 'HEAD':\n"
	"            self.wfile.write(body)\n"
	"    do_HEAD = do_GET\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"class S(ThreadingHTTPServer):\n"
	"    address_family = socket.AF_INET6\n"
	"    daemon_threads = True\n"
	"    def server_bind(self):\n"
	"        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
	"        super().server_bind()\n"
	"try:\n"
	"    s = S(('::', int(sys.argv[4])), H)\n"
	"except OSError as e:\n"
	"    sys.exit('cannot listen on [::]:' + sys.argv[4] + ': ' + e.strerror)\n"
	"print('serving', sys.argv[3], 'on [::]:' + sys.argv[4], flush=True)\n"
	"s.serve_forever()\n";

void lab_run_dir(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, LAB_RUN_DIR "/%s", lab);
}

/* argv of /proc/PID/cmdline, NUL-separated, into args[]; returns their number. */
static int proc_args(int pid, char *buf, size_t len, char **args, int max)
{
	char path[64];
	ssize_t n;
	int fd, na = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *p = buf; p < buf + n && na < max; p += strlen(p) + 1)
		args[na++] = p;
	return na;
}

/* Calls fn for every server of lab (node NULL: of any node); returns how many. */
static int serve_each(const char *lab, const char *node, void (*fn)(int pid, void *ctx), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char buf[4096], *args[8];
		int pid = atoi(de->d_name), na;

		if (pid <= 0 || pid == getpid())
			continue;
		na = proc_args(pid, buf, sizeof(buf), args, 8);
		if (na < 6 || strcmp(args[1], "-c") || strcmp(args[3], SERVE_MARK) ||
		    strcmp(args[4], lab) || (node && strcmp(args[5], node)))
			continue;
		found++;
		if (fn)
			fn(pid, ctx);
	}
	closedir(d);
	return found;
}

static void note_pid(int pid, void *ctx)
{
	*(int *)ctx = pid;
}

int lab_serve_pid(const char *lab, const char *node)
{
	int pid = 0;

	serve_each(lab, node, note_pid, &pid);
	return pid;
}

static void term_pid(int pid, void *ctx)
{
	(void)ctx;
	kill(pid, SIGTERM);
}

static void kill_pid(int pid, void *ctx)
{
	(void)ctx;
	kill(pid, SIGKILL);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int lab_serve_stop(const char *lab)
{
	char dir[128];
	int n = serve_each(lab, NULL, term_pid, NULL);

	lab_stream_serve_stop(lab); /* before its log goes with the runtime folder */

	/* Python exits on SIGTERM at once; SIGKILL after 2 s whatever a thread was doing. */
	for (int i = 0; i < 200 && serve_each(lab, NULL, NULL, NULL); i++) {
		if (i == 199)
			serve_each(lab, NULL, kill_pid, NULL);
		sleep_ms(10);
	}
	/* The servers were ours, not our children, unless this very process started them. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	lab_run_dir(lab, dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
		rmdir(dir);
	}
	return n;
}

static int mkdir_p(const char *path)
{
	char p[256];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

/* The server's own words on why it stopped (its log is removed with the runtime folder). */
static void serve_log_warn(const char *dir, const char *node)
{
	char path[256], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", dir, node);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		pr_warn("  %s: %s", node, line);
	fclose(f);
}

static pid_t serve_spawn(const char *lab, const struct lab_node *n, const char *dir)
{
	char log[256], port[8];
	char *argv[] = { "python3", "-c", (char *)serve_py, SERVE_MARK, (char *)lab,
			 (char *)n->name, port, NULL };
	pid_t pid;

	snprintf(port, sizeof(port), "%d", LAB_SERVE_PORT);
	snprintf(log, sizeof(log), "%s/%s.log", dir, n->name);
	pid = fork();
	if (pid)
		return pid;
	/* Own session, no inherited descriptors: it must not die with the terminal, nor keep
	 * a caller's pipe open (a test harness would wait for it forever). */
	setsid();
	int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (netns_enter(n->netns))
		_exit(126);
	execvp(argv[0], argv);
	dprintf(2, "cannot run python3: %s\n", strerror(errno));
	_exit(127);
}

int lab_node_connect(const struct lab_node *n, int port)
{
	struct timeval tv = { 1, 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int self = netns_save(), fd = -1;

	if (self < 0)
		return -1;
	if (!netns_enter(n->netns))
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_restore(self);
	if (fd < 0)
		return -1;
	inet_pton(AF_INET, n->ip4, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An HTTP answer with the node's name, from inside its namespace: it is our server that
 * listens (a stranger on port 80 would accept the connection too). */
static bool serve_ready(const struct lab_node *n)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char resp[512], want[32];
	size_t got = 0;
	ssize_t r;
	int fd = lab_node_connect(n, LAB_SERVE_PORT);
	bool ok = false;

	if (fd < 0)
		return false;
	if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1)
		while (got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
			got += r;
	close(fd);
	resp[got] = 0;
	snprintf(want, sizeof(want), "\r\n\r\n%s\n", n->name);
	ok = !strncmp(resp, "HTTP/1.", 7) && strstr(resp, want);
	return ok;
}

int lab_serve_start(const struct lab *lab)
{
	pid_t pids[LAB_MAX_BACKENDS] = { 0 };
	char dir[128];
	int err;

	lab_run_dir(lab->name, dir, sizeof(dir));
	if ((err = mkdir_p(dir))) {
		pr_warn("lab '%s': cannot make %s: %s\n", lab->name, dir, strerror(-err));
		return EXIT_FAIL;
	}
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		char pf[256];
		FILE *f;

		if (lab_serve_pid(lab->name, n->name))
			continue; /* idempotent, as `up` is */
		pids[i] = serve_spawn(lab->name, n, dir);
		if (pids[i] < 0) {
			pr_warn("lab '%s': fork: %s\n", lab->name, strerror(errno));
			return EXIT_FAIL;
		}
		snprintf(pf, sizeof(pf), "%s/%s.pid", dir, n->name);
		if ((f = fopen(pf, "w"))) {
			fprintf(f, "%d\n", pids[i]);
			fclose(f);
		}
	}
	/* Up means answering: wait (5 s at most) until each one accepts a connection. */
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		bool ok = false;

		if (!pids[i])
			continue;
		for (int t = 0; t < 500 && !ok; t++) {
			int st;
			if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				pr_warn("lab '%s': the HTTP server on %s exited:\n", lab->name, n->name);
				serve_log_warn(dir, n->name);
				return EXIT_FAIL;
			}
			ok = serve_ready(n);
			if (!ok)
				sleep_ms(10);
		}
		if (!ok) {
			pr_warn("lab '%s': the HTTP server on %s does not answer on port %d after 5 s\n",
				lab->name, n->name, LAB_SERVE_PORT);
			serve_log_warn(dir, n->name);
			return EXIT_FAIL;
		}
	}
	/* and the long-lived-connection servers of `lab clients` beside them (stream.c) */
	return lab_stream_serve_start(lab);
}
