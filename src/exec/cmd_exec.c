// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab exec (alias hello): the talk's Hello World grown into an exec tracer that sees
 * execve and execveat, successes and failures, and never loses an event silently.
 * --printk is the talk's literal version: bpf_printk() read back from trace_pipe. */
#define _GNU_SOURCE /* strerrorname_np, memmem, memrchr */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "probe.h"
#include "exec.h"
#include "exec.skel.h"
#include "hello_printk.skel.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* A wakeup per event costs ~2 µs (PERFORMANCE.md): events go out without one and the
 * reader looks every POLL_MS, so a line shows within this many ms. */
#define POLL_MS 25

const char cmd_exec_usage[] =
	"usage: bpflab exec [options]        (also: bpflab hello)\n"
	"\n"
	"Trace every execve and execveat on the machine: one line per exec with its result,\n"
	"successful or not. Hooks: the syscall tracepoints (this kernel has no kprobes) and\n"
	"sched_process_exec; -v says which were chosen. Events that did not fit in the ring\n"
	"buffer are counted and reported as soon as there are any, and at exit.\n"
	"\n"
	"options:\n"
	"  -T, --time              print the wall-clock time (HH:MM:SS)\n"
	"  -t, --timestamp         print seconds since the tracer started\n"
	"  -x, --fails             failed execs only\n"
	"  -u, --uid UID           only execs by this user (number or name)\n"
	"  -n, --name REGEX        only commands whose name matches (the new name for a\n"
	"                          successful exec, the filename's last part for a failed one)\n"
	"  -l, --line REGEX        only execs whose arguments, joined by spaces, match\n"
	"  -q, --quote             put arguments in double quotes\n"
	"  -c, --cgroup PATH       only processes in this cgroup v2 directory or below it\n"
	"  (bpflab --netns NAME exec: only processes in network namespace NAME, e.g. a lab node)\n"
	"      --max-args N        arguments shown per exec (default 20, at most 1024)\n"
	"      --ringbuf-size SIZE ring buffer bytes, a power of two >= 4096 (default 4M;\n"
	"                          K and M suffixes)\n"
	"  -d, --duration S        stop after S seconds (default: until Ctrl-C)\n"
	"      --printk            the talk's version: bpf_printk(\"Hello, exec!\") on every\n"
	"                          execve, read back from trace_pipe\n"
	"  -j, --json              JSON Lines: attached, exec, lost and summary records\n"
	"  -v, --verbose           show the hooks chosen and libbpf's messages\n"
	"\n"
	"Failed execs show RET as -ERRNO (e.g. -ENOENT). Truncated argument lists end in\n"
	"'...'; control characters and bytes that are not UTF-8 are shown as \\xNN.\n";

struct exec_opts {
	bool show_time, show_ts, quote;
	bool failed_only;
	__u32 uid;               /* (__u32)-1: any */
	bool name_re_set, line_re_set;
	regex_t name_re, line_re;
	const char *cgroup;
	__u32 max_args;
	__u32 ringbuf_size;
	double duration;
};

struct exec_ctx {
	struct exec_opts *o;
	struct exec_bpf *skel;
	double start_mono;   /* seconds, CLOCK_MONOTONIC */
	double mono_to_real; /* add to a CLOCK_MONOTONIC time to get the wall clock */
	__u64 received, shown;
	__u64 lost_reported;
	char *esc;           /* escape buffer: 4 bytes out per byte in, at worst */
	size_t esc_cap;
};

/* Which hooks to attach: the one place the choice is made, from the shared probes. */
struct exec_hooks {
	bool syscall_tp;  /* syscalls:sys_exit_execve{,at}; else raw_tp sys_exit */
	bool sched_btf;   /* tp_btf sched_process_exec; else raw_tp */
	const char *syscall_desc, *sched_desc;
};

static int choose_hooks(struct exec_hooks *h)
{
	const struct probe_result *tp = probe_feature(FEAT_TRACEPOINT);
	const char *force = getenv("BPFLAB_EXEC_HOOKS");

	/* Tests run the fallback on a kernel that does not need it. */
	if (force && !strcmp(force, "raw_tp")) {
		if (!probe_ok(FEAT_RAW_TP)) {
			pr_warn("BPFLAB_EXEC_HOOKS=raw_tp: %s\n", probe_feature(FEAT_RAW_TP)->detail);
			return -EOPNOTSUPP;
		}
		h->syscall_tp = h->sched_btf = false;
		goto describe;
	}

	/* The probe looks through a private tracefs mount, and it may only have found
	 * sched's tracepoint: the syscall ones must be the ones it attached to. */
	h->syscall_tp = tp->status == PROBE_OK && !strncmp(tp->value, "syscalls:", 9);
	h->sched_btf = probe_ok(FEAT_TP_BTF);
	if (h->syscall_tp) {
		const char *path;
		/* libbpf resolves tracepoint ids in tracefs: mount it if this boot has not. */
		if (ensure_tracefs(&path))
			h->syscall_tp = false;
	}
	if (!h->syscall_tp && !probe_ok(FEAT_RAW_TP)) {
		pr_warn("no way to hook execve here: syscall tracepoints: %s; raw tracepoints: %s\n",
			tp->detail, probe_feature(FEAT_RAW_TP)->detail);
		if (tp->hint[0])
			pr_warn("hint: %s\n", tp->hint);
		return -EOPNOTSUPP;
	}
	if (!h->sched_btf && !probe_ok(FEAT_RAW_TP)) {
		pr_warn("no way to hook sched_process_exec here (tp_btf: %s)\n",
			probe_feature(FEAT_TP_BTF)->detail);
		return -EOPNOTSUPP;
	}
describe:
	h->syscall_desc = h->syscall_tp ? "tracepoint syscalls:sys_exit_execve{,at} (failures)"
					: "raw_tp sys_exit (failures; no syscall tracepoints, so it runs for every syscall)";
	h->sched_desc = h->sched_btf ? "tp_btf sched_process_exec (successes)"
				     : "raw_tp sched_process_exec (successes)";
	return 0;
}

static int parse_size(const char *s, __u32 *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uid(const char *s, __u32 *uid)
{
	uint64_t v;
	struct passwd *pw;

	if (!parse_u64(s, 0, (__u32)-2, &v)) {
		*uid = v;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -EINVAL;
	*uid = pw->pw_uid;
	return 0;
}

static const char *errno_name(int err)
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

/* The argument strings of an event, split at the NULs. */
struct exec_args {
	const char *arg[EXEC_MAX_ARGS_LIMIT];
	size_t len[EXEC_MAX_ARGS_LIMIT];
	__u32 n;          /* shown */
	bool truncated;   /* some arguments or bytes are not shown */
};

/* `have`: argument bytes present in the record; args_len is trusted only up to it. */
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

/* -n: the name the process has now; for a failed exec, the name it would have had. */
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

static bool matches(struct exec_ctx *c, const struct exec_event *e, const struct exec_args *a)
{
	if (c->o->name_re_set) {
		char name[EXEC_COMM_LEN];
		command_name(e, name, sizeof(name));
		if (regexec(&c->o->name_re, name, 0, NULL, 0))
			return false;
	}
	if (c->o->line_re_set) {
		char line[EXEC_ARGS_SIZE + 1];
		size_t o = 0;
		/* On the raw bytes: what was executed, not how it is shown. A NUL inside
		 * cannot happen (they separate arguments), so regexec sees the whole line. */
		for (__u32 i = 0; i < a->n; i++) {
			if (i && o < EXEC_ARGS_SIZE)
				line[o++] = ' ';
			size_t l = a->len[i] < EXEC_ARGS_SIZE - o ? a->len[i] : EXEC_ARGS_SIZE - o;
			memcpy(line + o, a->arg[i], l);
			o += l;
		}
		line[o] = 0;
		if (regexec(&c->o->line_re, line, 0, NULL, 0))
			return false;
	}
	return true;
}

static const char *esc(struct exec_ctx *c, const char *s, size_t n)
{
	escape_for_terminal(s, n, c->esc, c->esc_cap);
	return c->esc;
}

static void format_wall(double real, char *buf, size_t cap, bool iso)
{
	time_t sec = (time_t)real;
	struct tm tm;

	if (iso) {
		gmtime_r(&sec, &tm);
		size_t l = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + l, cap - l, ".%06ldZ", (long)((real - sec) * 1e6));
	} else {
		localtime_r(&sec, &tm);
		strftime(buf, cap, "%H:%M:%S", &tm);
	}
}

static void print_json_event(struct exec_ctx *c, const struct exec_event *e,
			     const struct exec_args *a)
{
	double mono = e->ts_ns / 1e9;
	char when[64];
	struct json j;

	format_wall(mono + c->mono_to_real, when, sizeof(when), true);
	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", "exec");
	json_kstr(&j, "time", when);
	json_kdouble(&j, "elapsed", mono - c->start_mono);
	json_kuint(&j, "ts_ns", e->ts_ns);
	json_kuint(&j, "uid", e->uid);
	json_kuint(&j, "pid", e->pid);
	json_kuint(&j, "tid", e->tid);
	json_kuint(&j, "ppid", e->ppid);
	json_key(&j, "pcomm");
	json_strn(&j, e->pcomm, strnlen(e->pcomm, EXEC_COMM_LEN));
	json_key(&j, "comm");
	json_strn(&j, e->comm, strnlen(e->comm, EXEC_COMM_LEN));
	json_key(&j, "filename");
	json_strn(&j, e->filename, strnlen(e->filename, EXEC_FILENAME_LEN));
	json_kstr(&j, "syscall", syscall_name(e->syscall));
	json_kint(&j, "retval", e->retval);
	json_key(&j, "error");
	if (e->retval)
		json_str(&j, errno_name(e->retval));
	else
		json_null(&j);
	json_kuint(&j, "argc", e->argc);
	json_key(&j, "args");
	json_arr_begin(&j);
	for (__u32 i = 0; i < a->n; i++)
		json_strn(&j, a->arg[i], a->len[i]);
	json_arr_end(&j);
	json_kbool(&j, "args_truncated", a->truncated);
	if (e->flags & EXEC_F_ARGS_UNREADABLE)
		json_kbool(&j, "args_unreadable", true);
	if (e->flags & EXEC_F_FILENAME_UNREADABLE)
		json_kbool(&j, "filename_unreadable", true);
	if (e->flags & EXEC_F_FILENAME_TRUNCATED)
		json_kbool(&j, "filename_truncated", true);
	json_obj_end(&j);
	/* Not json_newline(): it flushes, and a write per event would cap the reader's rate.
	 * The poll loop flushes once per batch. */
	fputc('\n', stdout);
}

static void print_header(struct exec_ctx *c)
{
	if (c->o->show_time)
		printf("%-8s ", "TIME");
	if (c->o->show_ts)
		printf("%-8s ", "TIME(s)");
	printf("%-6s %-16s %-7s %-7s %-16s %-8s %s\n", "UID", "COMM", "PID", "PPID", "PCOMM",
	       "RET", "ARGS");
	fflush(stdout);
}

static void print_text_event(struct exec_ctx *c, const struct exec_event *e,
			     const struct exec_args *a)
{
	double mono = e->ts_ns / 1e9;
	char ret[32], comm[4 * EXEC_COMM_LEN + 1], pcomm[4 * EXEC_COMM_LEN + 1];

	if (c->o->show_time) {
		char t[32];
		format_wall(mono + c->mono_to_real, t, sizeof(t), false);
		printf("%-8s ", t);
	}
	if (c->o->show_ts)
		printf("%-8.3f ", mono - c->start_mono);
	if (e->retval)
		snprintf(ret, sizeof(ret), "-%s", errno_name(e->retval));
	else
		snprintf(ret, sizeof(ret), "0");
	escape_for_terminal(e->comm, strnlen(e->comm, EXEC_COMM_LEN), comm, sizeof(comm));
	escape_for_terminal(e->pcomm, strnlen(e->pcomm, EXEC_COMM_LEN), pcomm, sizeof(pcomm));
	printf("%-6u %-16s %-7u %-7u %-16s %-8s", e->uid, comm, e->pid, e->ppid, pcomm, ret);
	if (a->n == 0 && e->filename[0]) {
		/* No arguments to show (argc 0, or unreadable): the filename says what ran. */
		printf(" %s", esc(c, e->filename, strnlen(e->filename, EXEC_FILENAME_LEN)));
	}
	for (__u32 i = 0; i < a->n; i++) {
		if (c->o->quote) {
			putchar(' ');
			putchar('"');
			for (size_t k = 0; k < a->len[i]; k++) {
				const char *p = a->arg[i] + k;
				size_t run = 0;
				if (*p == '"') {
					fputs("\\\"", stdout);
					continue;
				}
				while (k + run < a->len[i] && p[run] != '"')
					run++;
				fputs(esc(c, p, run), stdout);
				k += run - 1;
			}
			putchar('"');
		} else {
			printf(" %s", esc(c, a->arg[i], a->len[i]));
		}
	}
	if (a->truncated)
		fputs(" ...", stdout);
	putchar('\n');
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct exec_ctx *c = ctx;
	struct exec_event *e = data;
	static struct exec_args a;

	if (size < offsetof(struct exec_event, args))
		return 0;
	/* Variable length, read in place: only args_len bytes of args[] arrived. The ring
	 * buffer is mapped read-only, so the bound is checked, not written back. */
	c->received++;
	split_args(e, size - offsetof(struct exec_event, args), c->o->max_args, &a);
	if (!matches(c, e, &a))
		return 0;
	c->shown++;
	if (g_opts.json)
		print_json_event(c, e, &a);
	else
		print_text_event(c, e, &a);
	return 0;
}

static void report_lost(struct exec_ctx *c)
{
	__u64 lost = c->skel->bss->lost;

	if (lost == c->lost_reported)
		return;
	c->lost_reported = lost;
	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "lost");
		json_kuint(&j, "lost", lost);
		json_obj_end(&j);
		json_newline(&j);
	}
	fprintf(stderr, "bpflab exec: %llu event%s lost so far: the %u KiB ring buffer was full; "
		"raise --ringbuf-size\n", (unsigned long long)lost, lost == 1 ? "" : "s",
		c->o->ringbuf_size >> 10);
}

static void print_summary(struct exec_ctx *c, double elapsed)
{
	__u64 lost = c->skel->bss->lost;

	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "summary");
		json_kdouble(&j, "elapsed", elapsed);
		json_kuint(&j, "events", c->received);
		json_kuint(&j, "shown", c->shown);
		json_kuint(&j, "lost", lost);
		json_kuint(&j, "ringbuf_size", c->o->ringbuf_size);
		json_obj_end(&j);
		json_newline(&j);
		return;
	}
	fprintf(stderr, "\n%llu execs seen, %llu shown, %llu lost in %.1fs\n",
		(unsigned long long)c->received, (unsigned long long)c->shown,
		(unsigned long long)lost, elapsed);
	if (lost)
		fprintf(stderr, "warning: %llu events did not fit in the %u KiB ring buffer; "
			"raise --ringbuf-size\n", (unsigned long long)lost, c->o->ringbuf_size >> 10);
}

static int open_cgroup(const char *path)
{
	struct statfs st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		pr_warn("bpflab exec: cannot open cgroup '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_warn("bpflab exec: '%s' is not a cgroup v2 directory (mounted cgroup2 here: "
			"see `mount -t cgroup2`)\n", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int attach_prog(struct bpf_program *p, struct bpf_link **l)
{
	*l = bpf_program__attach(p);
	if (!*l) {
		int err = -errno;
		pr_warn("bpflab exec: attaching %s failed: %s\n", bpf_program__name(p), strerr(err));
		return err;
	}
	return 0;
}

static int run_events(struct exec_opts *o)
{
	struct exec_ctx c = { .o = o };
	struct bpf_link *links[4] = {};
	struct ring_buffer *rb = NULL;
	struct exec_hooks h;
	struct exec_bpf *skel;
	int err, ret = EXIT_FAIL, cg_fd = -1, n = 0;
	struct timespec rt, mt;

	if (o->cgroup && (cg_fd = open_cgroup(o->cgroup)) < 0)
		return EXIT_USAGE;
	if (choose_hooks(&h)) {
		ret = EXIT_UNSUPPORTED;
		goto out_cg;
	}
	if (g_opts.verbose)
		fprintf(stderr, "hooks: %s + %s\n", h.syscall_desc, h.sched_desc);
	skel = exec_bpf__open();
	if (!skel) {
		pr_warn("bpflab exec: failed to open the BPF program: %s\n", strerr(errno));
		goto out_cg;
	}
	c.skel = skel;
	skel->rodata->target_uid = o->uid;
	skel->rodata->filter_cgroup = o->cgroup != NULL;
	skel->rodata->failed_only = o->failed_only;
	if (g_opts.netns) {
		/* main() has joined the namespace: trace only the processes inside it. */
		struct stat st;
		if (stat("/proc/self/ns/net", &st)) {
			pr_warn("bpflab exec: cannot identify network namespace '%s': %s\n",
				g_opts.netns, strerror(errno));
			goto out;
		}
		skel->rodata->netns_ino = st.st_ino;
	}
	skel->rodata->max_args = o->max_args;
	skel->rodata->wake_bytes = o->ringbuf_size / 4;
	skel->rodata->nr_execve = SYS_execve;
	skel->rodata->nr_execveat = SYS_execveat;
	bpf_map__set_max_entries(skel->maps.events, o->ringbuf_size);
	bpf_program__set_autoload(skel->progs.exec_exit_execve, h.syscall_tp);
	bpf_program__set_autoload(skel->progs.exec_exit_execveat, h.syscall_tp);
	bpf_program__set_autoload(skel->progs.exec_enter_execveat, h.syscall_tp);
	bpf_program__set_autoload(skel->progs.exec_raw_exit, !h.syscall_tp);
	bpf_program__set_autoload(skel->progs.exec_sched_btf, h.sched_btf);
	bpf_program__set_autoload(skel->progs.exec_sched_raw, !h.sched_btf);
	err = exec_bpf__load(skel);
	if (err) {
		pr_warn("bpflab exec: failed to load the BPF program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		ret = err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	if (cg_fd >= 0) {
		__u32 key = 0;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.cgroup_filter), &key, &cg_fd, BPF_ANY)) {
			pr_warn("bpflab exec: setting the cgroup filter failed: %s\n", strerror(errno));
			goto out;
		}
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, &c, NULL);
	if (!rb) {
		pr_warn("bpflab exec: failed to open the ring buffer: %s\n", strerr(errno));
		goto out;
	}
	err = attach_prog(h.sched_btf ? skel->progs.exec_sched_btf : skel->progs.exec_sched_raw,
			  &links[n++]);
	if (!err && h.syscall_tp)
		err = attach_prog(skel->progs.exec_exit_execve, &links[n++]) ?:
		      attach_prog(skel->progs.exec_exit_execveat, &links[n++]) ?:
		      attach_prog(skel->progs.exec_enter_execveat, &links[n++]);
	else if (!err)
		err = attach_prog(skel->progs.exec_raw_exit, &links[n++]);
	if (err)
		goto out;

	/* Bursts of thousands of lines: fewer, bigger writes (flushed every poll anyway). */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	c.esc_cap = 4 * EXEC_ARGS_SIZE + 16;
	c.esc = malloc(c.esc_cap);
	if (!c.esc)
		goto out;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	c.start_mono = mt.tv_sec + mt.tv_nsec / 1e9;
	c.mono_to_real = rt.tv_sec + rt.tv_nsec / 1e9 - c.start_mono;

	if (g_opts.json) {
		struct json j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "type", "attached");
		json_kstr(&j, "syscall_hook", h.syscall_tp ? "tracepoint" : "raw_tp");
		json_kstr(&j, "exec_hook", h.sched_btf ? "tp_btf" : "raw_tp");
		json_kuint(&j, "ringbuf_size", o->ringbuf_size);
		json_kuint(&j, "max_args", o->max_args);
		if (g_opts.netns)
			json_kstr(&j, "netns", g_opts.netns);
		json_obj_end(&j);
		json_newline(&j);
	} else {
		fprintf(stderr, "Tracing execve/execveat%s; Ctrl-C to stop\n",
			o->failed_only ? " failures" : "");
		print_header(&c);
	}

	ret = EXIT_OK;
	while (!exiting) {
		if (o->duration >= 0 && now_mono() - c.start_mono >= o->duration)
			break;
		err = ring_buffer__poll(rb, POLL_MS);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			pr_warn("bpflab exec: reading the ring buffer failed: %s\n", strerr(err));
			ret = EXIT_FAIL;
			break;
		}
		fflush(stdout);
		report_lost(&c);
	}
	ring_buffer__consume(rb);
	fflush(stdout);
	report_lost(&c);
	print_summary(&c, now_mono() - c.start_mono);
out:
	ring_buffer__free(rb);
	for (int i = 0; i < (int)ARRAY_SIZE(links); i++)
		bpf_link__destroy(links[i]);
	exec_bpf__destroy(skel);
	free(c.esc);
out_cg:
	if (cg_fd >= 0)
		close(cg_fd);
	return ret;
}

/* One trace_pipe line: "  task-PID  [CPU] flags  TS: bpf_trace_printk: MSG". */
static void print_printk_line(const char *line, size_t len)
{
	const char *tag = "bpf_trace_printk: ", *msg = memmem(line, len, tag, strlen(tag));
	char out[4 * 512 + 1];

	if (!msg)
		return;
	if (!g_opts.json) {
		escape_for_terminal(line, len, out, sizeof(out));
		printf("%s\n", out);
		fflush(stdout);
		return;
	}
	const char *p = line, *end = line + len, *br = memchr(line, '[', len);
	const char *dash = NULL;
	struct json j;

	while (p < end && *p == ' ')
		p++;
	/* The task name may hold dashes and spaces: the PID follows the last dash before '['. */
	for (const char *q = p; br && q < br; q++)
		if (*q == '-')
			dash = q;
	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "type", "printk");
	if (dash) {
		json_key(&j, "task");
		json_strn(&j, p, dash - p);
		json_kint(&j, "pid", strtol(dash + 1, NULL, 10));
	}
	if (br)
		json_kint(&j, "cpu", strtol(br + 1, NULL, 10));
	msg += strlen(tag);
	json_key(&j, "message");
	json_strn(&j, msg, end - msg);
	json_obj_end(&j);
	json_newline(&j);
}

static int run_printk(double duration)
{
	struct hello_printk_bpf *skel;
	const char *tracefs;
	char path[128], buf[8192];
	size_t have = 0;
	int fd = -1, err, ret = EXIT_FAIL;
	double start;

	if (ensure_tracefs(&tracefs))
		return EXIT_UNSUPPORTED;
	skel = hello_printk_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		pr_warn("bpflab exec --printk: failed to load the program: %s\n", strerr(err));
		return err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", tracefs);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_warn("bpflab exec --printk: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	err = hello_printk_bpf__attach(skel);
	if (err) {
		pr_warn("bpflab exec --printk: attaching to sys_enter_execve failed: %s\n", strerr(err));
		goto out;
	}
	if (g_opts.json)
		printf("{\"type\":\"attached\",\"hook\":\"tracepoint\",\"trace_pipe\":\"%s\"}\n", path);
	else
		fprintf(stderr, "bpf_printk(\"Hello, exec!\") on every execve; reading %s "
			"(shared: other tools' lines are skipped); Ctrl-C to stop\n", path);
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
			print_printk_line(buf, nl - buf);
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf) - 1) { /* a line longer than the buffer: show it cut */
			print_printk_line(buf, have);
			have = 0;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	hello_printk_bpf__destroy(skel);
	return ret;
}

int cmd_exec(int argc, char **argv)
{
	enum { OPT_MAX_ARGS = 256, OPT_RINGBUF, OPT_PRINTK };
	static const struct option opts[] = {
		{ "time", no_argument, 0, 'T' },
		{ "timestamp", no_argument, 0, 't' },
		{ "fails", no_argument, 0, 'x' },
		{ "uid", required_argument, 0, 'u' },
		{ "name", required_argument, 0, 'n' },
		{ "line", required_argument, 0, 'l' },
		{ "quote", no_argument, 0, 'q' },
		{ "cgroup", required_argument, 0, 'c' },
		{ "duration", required_argument, 0, 'd' },
		{ "max-args", required_argument, 0, OPT_MAX_ARGS },
		{ "ringbuf-size", required_argument, 0, OPT_RINGBUF },
		{ "printk", no_argument, 0, OPT_PRINTK },
		COMMON_LONGOPTS,
		{}
	};
	struct exec_opts o = { .uid = (__u32)-1, .max_args = 20, .ringbuf_size = 4 << 20,
			       .duration = -1 };
	bool printk = false;
	uint64_t v;
	int opt, err, ret;

	while ((opt = getopt_long(argc, argv, "Ttxu:n:l:qc:d:" COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'T': o.show_time = true; break;
		case 't': o.show_ts = true; break;
		case 'x': o.failed_only = true; break;
		case 'q': o.quote = true; break;
		case 'u':
			if (parse_uid(optarg, &o.uid))
				return usage_error("exec", "invalid --uid '%s': a number or a user name", optarg);
			break;
		case 'n':
		case 'l': {
			regex_t *re = opt == 'n' ? &o.name_re : &o.line_re;
			bool *set = opt == 'n' ? &o.name_re_set : &o.line_re_set;
			char msg[128];
			if (*set)
				regfree(re), *set = false;
			if ((err = regcomp(re, optarg, REG_EXTENDED | REG_NOSUB))) {
				regerror(err, re, msg, sizeof(msg));
				return usage_error("exec", "invalid regular expression '%s': %s", optarg, msg);
			}
			*set = true;
			break;
		}
		case 'c': o.cgroup = optarg; break;
		case 'd':
			if (parse_duration(optarg, &o.duration))
				return usage_error("exec", "invalid --duration '%s'", optarg);
			break;
		case OPT_MAX_ARGS:
			if (parse_u64(optarg, 1, EXEC_MAX_ARGS_LIMIT, &v))
				return usage_error("exec", "invalid --max-args '%s': 1 to %d", optarg,
						   EXEC_MAX_ARGS_LIMIT);
			o.max_args = v;
			break;
		case OPT_RINGBUF:
			if (parse_size(optarg, &o.ringbuf_size))
				return usage_error("exec", "invalid --ringbuf-size '%s': a power of two "
						   "from 4096 to 1G, e.g. 65536, 256K, 16M", optarg);
			break;
		case OPT_PRINTK: printk = true; break;
		default:
			if ((err = common_opt("exec", opt)) >= 0 && err != 0)
				return err;
		}
	}
	if (optind < argc)
		return usage_error("exec", "unexpected argument '%s'", argv[optind]);
	if (printk && (o.failed_only || o.uid != (__u32)-1 || o.name_re_set || o.line_re_set ||
		       o.cgroup || o.quote || o.show_time || o.show_ts || o.max_args != 20 ||
		       o.ringbuf_size != 4 << 20)) {
		ret = usage_error("exec", "--printk is the talk's program as it was: it takes only "
				  "--duration and --json");
		goto out;
	}
	if ((err = require_root("bpflab exec"))) {
		ret = err;
		goto out;
	}
	if (printk)
		ret = run_printk(o.duration);
	else
		ret = run_events(&o);
out:
	if (o.name_re_set)
		regfree(&o.name_re);
	if (o.line_re_set)
		regfree(&o.line_re);
	return ret;
}
