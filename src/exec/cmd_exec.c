// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab exec (alias hello): the talk's Hello World grown into an exec tracer that sees
 * execve and execveat, successes and failures, and never loses an event silently.
 * --printk is the talk's literal version: bpf_printk() read back from trace_pipe. */
#define _GNU_SOURCE /* strerrorname_np, memmem, memrchr */
#include <errno.h>
#include <fcntl.h>
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
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "probe.h"
#include "exec.h"
#include "exec_show.h"
#include "exec_printk.h"
#include "exec.skel.h"


/* Waking the reader on every event cost +2.96 µs per traced exec, polling +0.75 µs
 * (bench/exec.sh, 200k failing execs on the project VM): events go out without a wakeup
 * and the reader looks every POLL_MS, so a line shows within this many ms. */
#define POLL_MS 25

struct exec_opts {
	bool show_time, show_ts, quote;
	bool failed_only;
	__u32 uid;               /* (__u32)-1: any */
	struct opt_regex { bool set; regex_t re; } name_re, line_re;
	const char *cgroup;
	__u32 max_args;
	__u32 ringbuf_size;
	double duration;
	bool printk;
};

struct exec_ctx {
	struct exec_opts *o;
	struct exec_bpf *skel;
	struct exec_show show;
	__u64 received, shown;
	__u64 lost_reported;
};

/* Which hooks to attach. The order of preference is the doctor's table in probe.c
 * (probe_exec_attach, probe_exec_sched): what `bpflab doctor` says is what runs. */
struct exec_hooks {
	bool syscall_tp;  /* syscalls:sys_exit_execve{,at}; else raw_tp sys_exit */
	bool sched_btf;   /* tp_btf sched_process_exec; else raw_tp */
	const char *syscall_desc, *sched_desc;
};

static int choose_hooks(struct exec_hooks *h)
{
	const char *force = getenv("BPFLAB_EXEC_HOOKS"), *path;
	enum feature sys = probe_exec_attach(), sched = probe_exec_sched();

	/* Tests run the fallback on a kernel that does not need it. */
	if (force && !strcmp(force, "raw_tp")) {
		if (!probe_ok(FEAT_RAW_TP)) {
			pr_warn("BPFLAB_EXEC_HOOKS=raw_tp: %s\n", probe_feature(FEAT_RAW_TP)->detail);
			return -EOPNOTSUPP;
		}
		sys = sched = FEAT_RAW_TP;
	}
	/* The probe reads tracefs through a private mount; libbpf resolves tracepoint ids
	 * in the real one, so mount it if this boot has not (else take the next choice). */
	if (sys == FEAT_TRACEPOINT && ensure_tracefs(&path))
		sys = probe_ok(FEAT_RAW_TP) ? FEAT_RAW_TP : FEAT_NONE;
	if (sys == FEAT_NONE) {
		const struct probe_result *tp = probe_feature(FEAT_TRACEPOINT);
		pr_warn("no way to hook execve here: syscall tracepoints: %s; raw tracepoints: %s\n",
			tp->detail, probe_feature(FEAT_RAW_TP)->detail);
		if (tp->hint[0])
			pr_warn("hint: %s\n", tp->hint);
		return -EOPNOTSUPP;
	}
	if (sched == FEAT_NONE) {
		pr_warn("no way to hook sched_process_exec here (tp_btf: %s; raw_tp: %s)\n",
			probe_feature(FEAT_TP_BTF)->detail, probe_feature(FEAT_RAW_TP)->detail);
		return -EOPNOTSUPP;
	}
	h->syscall_tp = sys == FEAT_TRACEPOINT;
	h->sched_btf = sched == FEAT_TP_BTF;
	h->syscall_desc = h->syscall_tp ? "tracepoint syscalls:sys_exit_execve{,at} (failures)"
					: "raw_tp sys_exit (failures; no syscall tracepoints, so it runs for every syscall)";
	h->sched_desc = h->sched_btf ? "tp_btf sched_process_exec (successes)"
				     : "raw_tp sched_process_exec (successes)";
	return 0;
}

/* A ring buffer's size: a power of two, a whole number of pages, as the kernel wants. */
/* --help ends with what this kernel gives, probed (the doctor's table), not assumed. */
static void help_here(FILE *f)
{
	enum feature sys, sched;
	const struct probe_result *kp;

	if (caps_missing(CAPN_BPF | CAPN_PERFMON)) {
		fprintf(f, "\nHere: not probed (needs CAP_BPF and CAP_PERFMON); `bpflab doctor` says more.\n");
		return;
	}
	sys = probe_exec_attach();
	sched = probe_exec_sched();
	kp = probe_feature(FEAT_KPROBE);
	fprintf(f, "\nHere (probed now): execve/execveat through %s, successful execs through %s; "
		"kprobes: %s.\n", sys == FEAT_NONE ? "nothing (exec cannot run)" : probe_feature_title(sys),
		sched == FEAT_NONE ? "nothing" : probe_feature_title(sched), probe_status_str(kp->status));
}

static int parse_ringbuf_size(const char *s, __u32 *out)
{
	uint64_t v;

	if (parse_size(s, 4096, 1ULL << 30, &v) || (v & (v - 1)))
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

static int opt_uid(const char *arg, void *dst, char *why, size_t n)
{
	if (!parse_uid(arg, dst))
		return 0;
	snprintf(why, n, "a number or a user name");
	return -1;
}

static int opt_ringbuf(const char *arg, void *dst, char *why, size_t n)
{
	if (!parse_ringbuf_size(arg, dst))
		return 0;
	snprintf(why, n, "a power of two from 4096 to 1G, e.g. 65536, 256K, 16M");
	return -1;
}

static int opt_regex(const char *arg, void *dst, char *why, size_t n)
{
	struct opt_regex *r = dst;
	char msg[128];
	int err;

	if (r->set)
		regfree(&r->re), r->set = false;
	if ((err = regcomp(&r->re, arg, REG_EXTENDED | REG_NOSUB))) {
		regerror(err, &r->re, msg, sizeof(msg));
		snprintf(why, n, "not a regular expression: %s", msg);
		return -1;
	}
	r->set = true;
	return 0;
}

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct exec_opts, field, arg, help)
static const struct opt_def exec_opts[] = {
	{ O("time", 'T', OPT_FLAG, show_time, NULL, "print the wall-clock time (HH:MM:SS)") },
	{ O("timestamp", 't', OPT_FLAG, show_ts, NULL, "print seconds since the tracer started") },
	{ O("fails", 'x', OPT_FLAG, failed_only, NULL, "failed execs only") },
	{ O("uid", 'u', OPT_FUNC, uid, "UID", "only execs by this user (number or name)"),
	  .parse = opt_uid },
	{ O("name", 'n', OPT_FUNC, name_re, "REGEX", "only commands whose name matches (the new "
	    "name for a successful exec, the filename's last part for a failed one)"),
	  .parse = opt_regex },
	{ O("line", 'l', OPT_FUNC, line_re, "REGEX", "only execs whose arguments, joined by "
	    "spaces, match"), .parse = opt_regex },
	{ O("quote", 'q', OPT_FLAG, quote, NULL, "put arguments in double quotes") },
	{ O("cgroup", 'c', OPT_FILE, cgroup, "PATH", "only processes in this cgroup v2 directory "
	    "or below it") },
	{ O("max-args", 0, OPT_U32, max_args, "N", "arguments shown per exec"), .def = "20",
	  .min = 1, .max = EXEC_MAX_ARGS_LIMIT },
	{ O("ringbuf-size", 0, OPT_FUNC, ringbuf_size, "SIZE", "ring buffer bytes, a power of two "
	    "from 4096 to 1G (K, M and G suffixes: 2^10, 2^20, 2^30)"), .def = "4M",
	  .parse = opt_ringbuf },
	OPTS_DURATION(struct exec_opts, duration),
	{ O("printk", 0, OPT_FLAG, printk, NULL, "the talk's version: bpf_printk(\"Hello, exec!\") "
	    "on every execve, read back from trace_pipe") },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_exec_spec = {
	.name = "exec",
	.args = "[options]        (also: bpflab hello)",
	.about = "Trace every execve and execveat on the machine: one line per exec with its result,\n"
		 "successful or not. Hooks: the syscall tracepoints of execve/execveat (raw tracepoints\n"
		 "where there are none) and sched_process_exec, never a kprobe: tracepoints are the\n"
		 "stable interface. `bpflab doctor` says which this kernel has; -v which were chosen.\n"
		 "Events that did not fit in the ring buffer are counted and reported as soon as there\n"
		 "are any, and at exit. `bpflab --netns NAME exec` traces only processes in network\n"
		 "namespace NAME, e.g. a lab node.\n",
	.opts = exec_opts,
	.notes = "Failed execs show RET as -ERRNO (e.g. -ENOENT). Truncated argument lists end in\n"
		 "'...'; control characters and bytes that are not UTF-8 are shown as \\xNN.\n",
	.json_help = "JSON Lines: attached, exec, lost and summary records",
	.help_tail = help_here,
};

static bool matches(struct exec_ctx *c, const struct exec_record *r)
{
	if (c->o->name_re.set && regexec(&c->o->name_re.re, r->name, 0, NULL, 0))
		return false;
	if (c->o->line_re.set) {
		static char line[EXEC_ARGS_SIZE + 1];
		exec_record_line(r, line, sizeof(line));
		if (regexec(&c->o->line_re.re, line, 0, NULL, 0))
			return false;
	}
	return true;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct exec_ctx *c = ctx;
	struct exec_event *e = data;
	static struct exec_record r; /* ~16 KiB of argument slices: not on the stack */

	if (size < offsetof(struct exec_event, args))
		return 0;
	/* Variable length, read in place: only args_len bytes of args[] arrived. The ring
	 * buffer is mapped read-only, so the bound is checked, not written back. */
	c->received++;
	exec_record_fill(&c->show, e, size - offsetof(struct exec_event, args), &r);
	if (!matches(c, &r))
		return 0;
	c->shown++;
	exec_show_event(&c->show, &r);
	return 0;
}

static void report_lost(struct exec_ctx *c)
{
	__u64 lost = c->skel->bss->lost;

	if (lost == c->lost_reported)
		return;
	c->lost_reported = lost;
	exec_show_lost(&c->show, lost, c->o->ringbuf_size);
}

static int open_cgroup(const char *path)
{
	struct statfs st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		pr_warn("cannot open cgroup '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_warn("'%s' is not a cgroup v2 directory (mounted cgroup2 here: "
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
		pr_warn("attaching %s failed: %s\n", bpf_program__name(p), strerr(err));
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
		pr_warn("failed to open the BPF program: %s\n", strerr(errno));
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
			pr_warn("cannot identify network namespace '%s': %s\n",
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
		pr_warn("failed to load the BPF program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		ret = err == -EPERM ? EXIT_NOPERM : EXIT_FAIL;
		goto out;
	}
	if (cg_fd >= 0) {
		__u32 key = 0;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.cgroup_filter), &key, &cg_fd, BPF_ANY)) {
			pr_warn("setting the cgroup filter failed: %s\n", strerror(errno));
			goto out;
		}
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, &c, NULL);
	if (!rb) {
		pr_warn("failed to open the ring buffer: %s\n", strerr(errno));
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
	c.show = (struct exec_show){ .json = g_opts.json, .show_time = o->show_time,
				     .show_ts = o->show_ts, .quote = o->quote, .max_args = o->max_args };
	c.show.esc_cap = 4 * EXEC_ARGS_SIZE + 16;
	c.show.esc = malloc(c.show.esc_cap);
	if (!c.show.esc)
		goto out;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	c.show.start_mono = mt.tv_sec + mt.tv_nsec / 1e9;
	c.show.mono_to_real = rt.tv_sec + rt.tv_nsec / 1e9 - c.show.start_mono;

	{
		struct exec_attached at = { .syscall_hook = h.syscall_tp ? "tracepoint" : "raw_tp",
					    .exec_hook = h.sched_btf ? "tp_btf" : "raw_tp",
					    .ringbuf_size = o->ringbuf_size, .max_args = o->max_args,
					    .netns = g_opts.netns, .failed_only = o->failed_only };
		exec_show_attached(&c.show, &at);
	}

	ret = EXIT_OK;
	while (!exiting) {
		if (o->duration >= 0 && now_mono() - c.show.start_mono >= o->duration)
			break;
		err = ring_buffer__poll(rb, POLL_MS);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			pr_warn("reading the ring buffer failed: %s\n", strerr(err));
			ret = EXIT_FAIL;
			break;
		}
		fflush(stdout);
		report_lost(&c);
	}
	ring_buffer__consume(rb);
	fflush(stdout);
	report_lost(&c);
	{
		struct exec_summary sum = { .elapsed = now_mono() - c.show.start_mono,
					    .events = c.received, .shown = c.shown,
					    .lost = c.skel->bss->lost, .ringbuf_size = o->ringbuf_size };
		exec_show_summary(&c.show, &sum);
	}
out:
	ring_buffer__free(rb);
	for (int i = 0; i < (int)ARRAY_SIZE(links); i++)
		bpf_link__destroy(links[i]);
	exec_bpf__destroy(skel);
	free(c.show.esc);
out_cg:
	if (cg_fd >= 0)
		close(cg_fd);
	return ret;
}

int cmd_exec(int argc, char **argv)
{
	struct exec_opts o = { .uid = (__u32)-1, .max_args = 20, .ringbuf_size = 4 << 20,
			       .duration = -1 };
	int err, ret;

	if ((ret = opts_parse(&cmd_exec_spec, argc, argv, &o)) != OPTS_GO_ON)
		goto out;
	ret = EXIT_FAIL;
	if (o.printk && (o.failed_only || o.uid != (__u32)-1 || o.name_re.set || o.line_re.set ||
		       o.cgroup || o.quote || o.show_time || o.show_ts || o.max_args != 20 ||
		       o.ringbuf_size != 4 << 20)) {
		ret = usage_error("exec", "--printk is the talk's program as it was: it takes only "
				  "--duration and --json");
		goto out;
	}
	/* tracefs is root's (0700): another uid also needs CAP_DAC_OVERRIDE to read it. */
	if ((err = require_caps("exec", CAPN_BPF | CAPN_PERFMON | (is_root() ? 0 : CAPN_DAC_OVERRIDE),
				"CAP_BPF and CAP_PERFMON to load and attach tracing programs"
				"; CAP_DAC_OVERRIDE to read tracefs when not uid 0"))) {
		ret = err;
		goto out;
	}
	if (o.printk)
		ret = exec_printk_run(o.duration);
	else
		ret = run_events(&o);
out:
	if (o.name_re.set)
		regfree(&o.name_re.re);
	if (o.line_re.set)
		regfree(&o.line_re.re);
	return ret;
}
