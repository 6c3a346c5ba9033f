// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab exec --printk (see exec_printk.h). */
#define _GNU_SOURCE /* memmem */
#include "exec_printk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "term.h"
#include "hello_printk.skel.h"

#define PRINTK_EVENT "bpf_trace_printk: "

bool printk_line_ours(const char *line, size_t len, struct printk_line *l)
{
	const char *end = line + len, *p = line, *br, *close, *ev, *dash = NULL;
	size_t evl = strlen(PRINTK_EVENT), ml = strlen(EXEC_PRINTK_MESSAGE);

	memset(l, 0, sizeof(*l));
	l->pid = l->cpu = -1;
	br = memchr(line, '[', len);
	if (!br || !(close = memchr(br, ']', end - br)))
		return false;
	/* The event name follows the timestamp's ": "; what it carries is the message and
	 * may itself hold "bpf_trace_printk: " (trace_marker writes do). */
	ev = memmem(close, end - close, ": ", 2);
	if (!ev)
		return false;
	ev += 2;
	if ((size_t)(end - ev) < evl || memcmp(ev, PRINTK_EVENT, evl))
		return false;
	l->msg = ev + evl;
	l->msg_len = end - l->msg;
	/* Ours, not another program's bpf_printk: exactly the message hello_printk.bpf.c prints. */
	if (l->msg_len != ml || memcmp(l->msg, EXEC_PRINTK_MESSAGE, ml))
		return false;
	while (p < br && *p == ' ')
		p++;
	/* The task name may hold dashes and spaces: the PID follows the last dash before '['. */
	for (const char *q = p; q < br; q++)
		if (*q == '-')
			dash = q;
	if (dash) {
		l->task = p;
		l->task_len = dash - p;
		l->pid = strtol(dash + 1, NULL, 10);
	}
	l->cpu = strtol(br + 1, NULL, 10);
	return true;
}

static void show_line(const char *line, size_t len, unsigned long *skipped)
{
	struct printk_line l;
	char out[4 * 512 + 1];
	struct json j;

	if (!printk_line_ours(line, len, &l)) {
		(*skipped)++;
		return;
	}
	if (!g_opts.json) {
		escape_for_terminal(line, len, out, sizeof(out));
		printf("%s\n", out);
		fflush(stdout);
		return;
	}
	json_record_begin(&j, stdout, "printk");
	if (l.task) {
		json_key(&j, "task");
		json_strn(&j, l.task, l.task_len);
		json_kint(&j, "pid", l.pid);
	}
	json_kint(&j, "cpu", l.cpu);
	json_key(&j, "message");
	json_strn(&j, l.msg, l.msg_len);
	json_record_end(&j);
}

int exec_printk_run(double duration)
{
	struct hello_printk_bpf *skel;
	const char *tracefs;
	char path[128], buf[8192];
	unsigned long skipped = 0;
	size_t have = 0;
	int fd = -1, err, ret = EXIT_FAIL;
	double start;

	if (ensure_tracefs(&tracefs))
		return EXIT_UNSUPPORTED;
	skel = hello_printk_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		pr_warn("--printk: failed to load the program: %s\n", strerr(err));
		return err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", tracefs);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_warn("--printk: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	err = hello_printk_bpf__attach(skel);
	if (err) {
		pr_warn("--printk: attaching to sys_enter_execve failed: %s\n", strerr(err));
		goto out;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "attached");
		json_kstr(&j, "hook", "tracepoint");
		json_kstr(&j, "trace_pipe", path);
		json_record_end(&j);
	} else {
		fprintf(stderr, "bpf_printk(\"" EXEC_PRINTK_MESSAGE "\") on every execve; reading %s "
			"(shared: lines of other programs are skipped); Ctrl-C to stop\n", path);
	}
	fflush(stdout);
	start = now_mono();
	ret = EXIT_OK;
	while (!exiting && (duration < 0 || now_mono() - start < duration)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		char *nl;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			continue;
		have += r;
		while ((nl = memchr(buf, '\n', have))) {
			show_line(buf, nl - buf, &skipped);
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf) - 1) { /* a line longer than the buffer: not ours */
			skipped++;
			have = 0;
		}
	}
	pr_debug("--printk: skipped %lu trace_pipe lines of other programs\n", skipped);
out:
	if (fd >= 0)
		close(fd);
	hello_printk_bpf__destroy(skel);
	return ret;
}
