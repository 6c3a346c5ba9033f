// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Compute one exec record, render it once (see exec_show.h). */
#define _GNU_SOURCE /* strerrorname_np, memrchr */
#include "exec_show.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "term.h"

const char *exec_errno_name(int err)
{
	const char *n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

static const char *syscall_name(__u16 s)
{
	switch (s) {
	case EXEC_SYS_EXECVE: return "execve";
	case EXEC_SYS_EXECVEAT: return "execveat";
	default: return "unknown";
	}
}

static void split_args(const struct exec_event *e, size_t have, __u32 max_args,
		       struct exec_args *a)
{
	size_t len = e->args_len < have ? e->args_len : have;
	size_t i = 0;

	a->n = 0;
	a->truncated = e->flags & (EXEC_F_ARGS_TRUNCATED | EXEC_F_MAX_ARGS | EXEC_F_ARGS_UNREADABLE);
	while (i < len) {
		const char *p = e->args + i;
		const char *z = memchr(p, 0, len - i);
		size_t l = z ? (size_t)(z - p) : len - i;

		if (a->n >= max_args) {
			a->truncated = true;
			break;
		}
		a->arg[a->n] = p;
		a->len[a->n] = l;
		a->n++;
		i += l + 1;
	}
	if (e->argc > a->n)
		a->truncated = true;
}

/* The name the process has now; for a failed exec, the name it would have had. */
static void command_name(const struct exec_event *e, char *buf, size_t cap)
{
	const char *n = e->comm;
	size_t l;

	if (e->retval != 0) {
		size_t fl = strnlen(e->filename, EXEC_FILENAME_LEN);
		const char *slash = memrchr(e->filename, '/', fl);
		n = slash ? slash + 1 : e->filename;
	}
	l = strnlen(n, EXEC_COMM_LEN - 1);
	if (l >= cap)
		l = cap - 1;
	memcpy(buf, n, l);
	buf[l] = 0;
}

static void format_wall(double real, char *iso, size_t icap, char *local, size_t lcap)
{
	time_t sec = (time_t)real;
	struct tm tm;
	size_t l;

	gmtime_r(&sec, &tm);
	l = strftime(iso, icap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(iso + l, icap - l, ".%06ldZ", (long)((real - sec) * 1e6));
	localtime_r(&sec, &tm);
	strftime(local, lcap, "%H:%M:%S", &tm);
}

void exec_record_fill(const struct exec_show *s, const struct exec_event *e, size_t have,
		      struct exec_record *r)
{
	double mono = e->ts_ns / 1e9;

	r->e = e;
	r->elapsed = mono - s->start_mono;
	format_wall(mono + s->mono_to_real, r->time_iso, sizeof(r->time_iso), r->time_local,
		    sizeof(r->time_local));
	r->comm_len = strnlen(e->comm, EXEC_COMM_LEN);
	r->pcomm_len = strnlen(e->pcomm, EXEC_COMM_LEN);
	r->filename_len = strnlen(e->filename, EXEC_FILENAME_LEN);
	r->syscall = syscall_name(e->syscall);
	r->error = e->retval ? exec_errno_name(e->retval) : NULL;
	split_args(e, have, s->max_args, &r->args);
	command_name(e, r->name, sizeof(r->name));
}

void exec_record_line(const struct exec_record *r, char *line, size_t cap)
{
	const struct exec_args *a = &r->args;
	size_t o = 0;

	if (!cap)
		return;
	/* On the raw bytes: what was executed, not how it is shown. A NUL inside cannot
	 * happen (they separate arguments), so a regexec sees the whole line. */
	for (__u32 i = 0; i < a->n && o + 1 < cap; i++) {
		size_t l;
		if (i)
			line[o++] = ' ';
		l = a->len[i] < cap - 1 - o ? a->len[i] : cap - 1 - o;
		memcpy(line + o, a->arg[i], l);
		o += l;
	}
	line[o] = 0;
}

static void render_json(const struct exec_record *r)
{
	const struct exec_event *e = r->e;
	struct json j;

	json_record_begin(&j, stdout, "exec");
	json_kstr(&j, "time", r->time_iso);
	json_kdouble(&j, "elapsed", r->elapsed);
	json_kuint(&j, "ts_ns", e->ts_ns);
	json_kuint(&j, "uid", e->uid);
	json_kuint(&j, "pid", e->pid);
	json_kuint(&j, "tid", e->tid);
	json_kuint(&j, "ppid", e->ppid);
	json_key(&j, "pcomm");
	json_strn(&j, e->pcomm, r->pcomm_len);
	json_key(&j, "comm");
	json_strn(&j, e->comm, r->comm_len);
	json_key(&j, "filename");
	json_strn(&j, e->filename, r->filename_len);
	json_kstr(&j, "syscall", r->syscall);
	json_kint(&j, "retval", e->retval);
	json_key(&j, "error");
	if (r->error)
		json_str(&j, r->error);
	else
		json_null(&j);
	json_kuint(&j, "argc", e->argc);
	json_key(&j, "args");
	json_arr_begin(&j);
	for (__u32 i = 0; i < r->args.n; i++)
		json_strn(&j, r->args.arg[i], r->args.len[i]);
	json_arr_end(&j);
	json_kbool(&j, "args_truncated", r->args.truncated);
	/* Always present, so a record has one shape whatever happened to it. */
	json_kbool(&j, "args_unreadable", e->flags & EXEC_F_ARGS_UNREADABLE);
	json_kbool(&j, "filename_unreadable", e->flags & EXEC_F_FILENAME_UNREADABLE);
	json_kbool(&j, "filename_truncated", e->flags & EXEC_F_FILENAME_TRUNCATED);
	json_obj_end(&j);
	/* Not json_newline(): it flushes, and a write per event would cap the reader's rate. */
	fputc('\n', stdout);
}

static const char *esc(struct exec_show *s, const char *p, size_t n)
{
	escape_for_terminal(p, n, s->esc, s->esc_cap);
	return s->esc;
}

static void render_quoted(struct exec_show *s, const char *arg, size_t len)
{
	putchar(' ');
	putchar('"');
	for (size_t k = 0; k < len;) {
		size_t run = 0;
		if (arg[k] == '"') {
			fputs("\\\"", stdout);
			k++;
			continue;
		}
		while (k + run < len && arg[k + run] != '"')
			run++;
		fputs(esc(s, arg + k, run), stdout);
		k += run;
	}
	putchar('"');
}

static void render_text(struct exec_show *s, const struct exec_record *r)
{
	const struct exec_event *e = r->e;
	char ret[32], comm[4 * EXEC_COMM_LEN + 1], pcomm[4 * EXEC_COMM_LEN + 1];

	if (s->show_time)
		printf("%-8s ", r->time_local);
	if (s->show_ts)
		printf("%-8.3f ", r->elapsed);
	snprintf(ret, sizeof(ret), r->error ? "-%s" : "0", r->error);
	escape_for_terminal(e->comm, r->comm_len, comm, sizeof(comm));
	escape_for_terminal(e->pcomm, r->pcomm_len, pcomm, sizeof(pcomm));
	printf("%-6u %-16s %-7u %-7u %-16s %-8s", e->uid, comm, e->pid, e->ppid, pcomm, ret);
	/* No arguments to show (argc 0, or unreadable): the filename says what ran. */
	if (r->args.n == 0 && r->filename_len)
		printf(" %s", esc(s, e->filename, r->filename_len));
	for (__u32 i = 0; i < r->args.n; i++) {
		if (s->quote)
			render_quoted(s, r->args.arg[i], r->args.len[i]);
		else
			printf(" %s", esc(s, r->args.arg[i], r->args.len[i]));
	}
	if (r->args.truncated)
		fputs(" ...", stdout);
	putchar('\n');
}

void exec_show_event(struct exec_show *s, const struct exec_record *r)
{
	if (s->json)
		render_json(r);
	else
		render_text(s, r);
}

void exec_show_attached(const struct exec_show *s, const struct exec_attached *a)
{
	struct json j;

	if (!s->json) {
		fprintf(stderr, "Tracing execve/execveat%s; Ctrl-C to stop\n",
			a->failed_only ? " failures" : "");
		if (s->show_time)
			printf("%-8s ", "TIME");
		if (s->show_ts)
			printf("%-8s ", "TIME(s)");
		printf("%-6s %-16s %-7s %-7s %-16s %-8s %s\n", "UID", "COMM", "PID", "PPID", "PCOMM",
		       "RET", "ARGS");
		fflush(stdout);
		return;
	}
	json_record_begin(&j, stdout, "attached");
	json_kstr(&j, "syscall_hook", a->syscall_hook);
	json_kstr(&j, "exec_hook", a->exec_hook);
	json_kuint(&j, "ringbuf_size", a->ringbuf_size);
	json_kuint(&j, "max_args", a->max_args);
	if (a->netns)
		json_kstr(&j, "netns", a->netns);
	json_record_end(&j);
}

void exec_show_lost(const struct exec_show *s, __u64 lost, __u32 ringbuf_size)
{
	if (s->json) {
		struct json j;
		json_record_begin(&j, stdout, "lost");
		json_kuint(&j, "lost", lost);
		json_record_end(&j);
	}
	/* Also on stderr with --json: a person watching must see it whatever reads stdout. */
	fprintf(stderr, "bpflab exec: %llu event%s lost so far: the %u KiB ring buffer was full; "
		"raise --ringbuf-size\n", (unsigned long long)lost, lost == 1 ? "" : "s",
		ringbuf_size >> 10);
}

void exec_show_summary(const struct exec_show *s, const struct exec_summary *sum)
{
	if (s->json) {
		struct json j;
		json_record_begin(&j, stdout, "summary");
		json_kdouble(&j, "elapsed", sum->elapsed);
		json_kuint(&j, "events", sum->events);
		json_kuint(&j, "shown", sum->shown);
		json_kuint(&j, "lost", sum->lost);
		json_kuint(&j, "ringbuf_size", sum->ringbuf_size);
		json_record_end(&j);
		return;
	}
	fprintf(stderr, "\n%llu execs seen, %llu shown, %llu lost in %.1fs\n",
		(unsigned long long)sum->events, (unsigned long long)sum->shown,
		(unsigned long long)sum->lost, sum->elapsed);
	if (sum->lost)
		fprintf(stderr, "warning: %llu events did not fit in the %u KiB ring buffer; "
			"raise --ringbuf-size\n", (unsigned long long)sum->lost, sum->ringbuf_size >> 10);
}
