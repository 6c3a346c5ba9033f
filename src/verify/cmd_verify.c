// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab verify: the talk's "let's make the verifier unhappy", explained. Loads each
 * program of an object on its own with a full verifier log; on rejection says which C
 * line, which known mistake, and the usual fix (src/verify/vlog.c); on success, what the
 * verification cost. Nothing is attached or pinned; all is unloaded at exit. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "opts.h"
#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "term.h"
#include "vlog.h"

struct verify_opts {
	const char *only, *explain;
	bool unpriv, full_log;
	uint64_t level; /* 0: 1 for rejected programs, statistics only for accepted ones */
};

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct verify_opts, field, arg, help)
static const struct opt_def verify_opts[] = {
	{ O("prog", 'p', OPT_STR, only, "NAME", "only this program") },
	{ O("unpriv", 0, OPT_FLAG, unpriv, NULL, "load as a loader with CAP_BPF and CAP_NET_ADMIN "
	    "only (no CAP_SYS_ADMIN, no CAP_PERFMON): stricter rules, e.g. no reads of "
	    "uninitialised stack") },
	{ O("explain", 'e', OPT_STR, explain, "FILE", "explain a verifier log pasted from any "
	    "loader (libbpf, bpftool, cilium/ebpf, aya, bcc; '-' for stdin) instead of loading "
	    "an object") },
	{ O("log", 0, OPT_FLAG, full_log, NULL, "print the whole verifier log, not only its tail") },
	{ O("log-level", 'l', OPT_UINT, level, "N", "1: the path that failed (the default for "
	    "rejected programs; accepted ones load with statistics only, faster), 2: every state "
	    "(long)"), .min = 1, .max = 2 },
	OPTS_END
};
#undef O

const struct cmd_spec cmd_verify_spec = {
	.name = "verify",
	.args = "OBJ.bpf.o [options] | --explain FILE|-",
	.about = "Load every program of a BPF object file, one at a time, with a full verifier log.\n"
		 "A rejected program gets the C source line where the verifier stopped (from BTF line\n"
		 "info), the verifier's message, a plain explanation and the usual fix; an accepted one\n"
		 "gets instructions processed, states, and xlated/jited sizes. The program type comes\n"
		 "from the section name (libbpf's rules); maps are created but never pinned; nothing is\n"
		 "attached, and everything is unloaded when bpflab exits. libbpf's own failures\n"
		 "(CO-RE, BTF, section names, maps, kfuncs) are explained the same way, and\n"
		 "--explain reads a log pasted from another loader.\n",
	.opts = verify_opts,
	.notes = "exit: 0 all loaded, 5 a program was rejected, 2 usage (also: not a BPF object),\n"
		 "      1 other failures (e.g. a map could not be created)\n"
		 "      --explain: 5 the log holds a rejection, 0 it holds none, 2 unreadable/empty\n",
	.json_help = "one JSON object: a record per program",
	.first_arg = OPT_FILE,
	.max_args = 1,
};

/* Enough for the failing path of any program in the gallery many times over. */
#define LOG_SIZE (4u << 20)

struct prog_result {
	char name[128];
	char section[128];
	const char *type;
	bool loaded, rejected, truncated;
	int err;
	char *log;
	struct vlog_stats st;
	struct vlog_result vr;
	bool explained;  /* failed before the verifier, and libbpf's words say why (vr) */
	struct bpf_prog_info info;
};

/* libbpf's messages during one open+load: the failures it explains itself (CO-RE,
 * BTF, maps, kfuncs) are only said there. Forwarded to the usual printer as well. */
static struct {
	char *s;
	size_t n, cap;
	libbpf_print_fn_t prev;
} captured;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (level != LIBBPF_DEBUG && n > 0 && captured.n + n + 9 < (1u << 20)) {
		if (captured.n + n + 9 > captured.cap) {
			size_t cap = (captured.cap + n + 9) * 2;
			char *p = realloc(captured.s, cap);
			if (p) {
				captured.s = p;
				captured.cap = cap;
			}
		}
		if (captured.n + n + 9 <= captured.cap) {
			va_copy(aq, ap);
			captured.n += vsnprintf(captured.s + captured.n, n + 1, fmt, aq);
			va_end(aq);
		}
	}
	return captured.prev ? captured.prev(level, fmt, ap) : 0;
}

static void capture_reset(void)
{
	captured.n = 0;
	if (captured.s)
		captured.s[0] = '\0';
}

static const char *capture_text(void)
{
	return captured.s ? captured.s : "";
}

/* The program types the kernel loads only with CAP_NET_ADMIN (is_net_admin_prog_type). */
static bool is_net_prog_type(enum bpf_prog_type t)
{
	switch (t) {
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_EXT:
		return true;
	default:
		return false;
	}
}

static bool is_prog_in(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_program_by_name(obj, name) != NULL;
}

#define LOG_STATS 4 /* BPF_LOG_STATS: the summary lines only */

/* Loads only program `name` of the object at path; fills r. Returns 0 when the program
 * was judged (accepted or rejected), -errno when something else failed.
 * level 0: stats only, and the full log (level 1) only when rejected. Logging every
 * instruction makes verification itself several times slower (count_xdp: 2.5 s with
 * a level-1 log), so an accepted program is not made to pay for it. */
static int load_one(const char *path, const char *name, int level, struct prog_result *r)
{
	if (level == 0) {
		int err = load_one(path, name, LOG_STATS, r);
		if (err || !r->rejected)
			return err;
		free(r->log);
		memset(&r->vr, 0, sizeof(r->vr));
		r->log = NULL;
		r->rejected = r->truncated = false;
		level = 1;
	}

	size_t size = LOG_SIZE;
	char *saved = NULL;

	for (;;) {
		struct bpf_object *obj;
		struct bpf_program *p, *prog = NULL;
		struct bpf_map *m;
		char *buf;
		int err;

		buf = calloc(1, size);
		if (!buf) {
			free(saved);
			return -ENOMEM;
		}
		capture_reset();
		obj = bpf_object__open_file(path, NULL);
		if (!obj) {
			err = -errno;
			free(buf);
			free(saved);
			return err;
		}
		bpf_object__for_each_program(p, obj) {
			bool me = !strcmp(bpf_program__name(p), name);
			bpf_program__set_autoload(p, me);
			if (me)
				prog = p;
		}
		/* Pinned maps would outlive us and could clash with a running tool's. */
		bpf_object__for_each_map(m, obj)
			bpf_map__set_pin_path(m, NULL);
		if (!prog) {
			bpf_object__close(obj);
			free(buf);
			free(saved);
			return -ENOENT;
		}
		snprintf(r->section, sizeof(r->section), "%s", bpf_program__section_name(prog));
		r->type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		if (level) {
			bpf_program__set_log_buf(prog, buf, size);
			bpf_program__set_log_level(prog, level | LOG_STATS);
		}

		err = bpf_object__load(obj);
		/* A log that does not fit: the kernel (6.4+) keeps its newest part -- the part
		 * that explains -- and answers ENOSPC whatever the verdict. Verifying again
		 * with a bigger buffer costs seconds near the 1M-insn limit, so: a tail that
		 * ends in an error is a rejection; otherwise load once more, without a log,
		 * for the program's sizes. */
		if (err == -ENOSPC && level) {
			struct vlog_result v;
			r->truncated = true;
			if (vlog_analyze(buf, &v) == 0 && v.has_error) {
				err = -EACCES; /* the verifier's errno is lost with the log's head */
			} else {
				bpf_object__close(obj);
				level = 0;
				saved = buf;
				continue;
			}
		}
		if (saved) {
			free(buf);
			buf = saved;
		}
		r->err = err;
		r->log = buf;
		vlog_stats(buf, &r->st);
		if (!err) {
			__u32 len = sizeof(r->info);
			r->loaded = true;
			memset(&r->info, 0, sizeof(r->info));
			bpf_obj_get_info_by_fd(bpf_program__fd(prog), &r->info, &len);
		} else if (buf[0]) {
			/* A log means the verifier (or the kernel's load checks) spoke. */
			struct vlog_result lb;
			r->rejected = true;
			vlog_analyze(buf, &r->vr);
			/* A poisoned CO-RE insn: libbpf named the field the kernel lacks. */
			if (!r->vr.detail[0] && vlog_analyze_libbpf(capture_text(), &lb) &&
			    !strcmp(lb.pattern->id, r->vr.pattern->id))
				snprintf(r->vr.detail, sizeof(r->vr.detail), "%s", lb.detail);
		} else if (vlog_analyze_libbpf(capture_text(), &r->vr)) {
			r->explained = true;
		}
		bpf_object__close(obj);
		return err && !r->rejected ? err : 0;
	}
}

/* Drops CAP_SYS_ADMIN and CAP_PERFMON from the effective set: what remains (CAP_BPF,
 * CAP_NET_ADMIN) is what a carefully confined loader has, and the verifier is stricter. */
static int drop_to_cap_bpf(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_PERFMON / 32].effective &= ~(1u << (CAP_PERFMON % 32));
	if (!(d[CAP_BPF / 32].effective & (1u << (CAP_BPF % 32))))
		return -EPERM;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

/* Prints s escaped, each line after `indent`, wrapped at about 88 columns at spaces. */
static void print_wrapped(const char *indent, const char *s)
{
	size_t col = 0, width = 88 - strlen(indent);

	fputs(indent, stdout);
	while (*s) {
		size_t w = strcspn(s, " ");
		char esc[1024];

		if (col && col + 1 + w > width) {
			printf("\n%s", indent);
			col = 0;
		} else if (col) {
			putchar(' ');
			col++;
		}
		escape_for_terminal(s, w, esc, sizeof(esc));
		fputs(esc, stdout);
		col += w;
		s += w;
		while (*s == ' ')
			s++;
	}
	putchar('\n');
}

static void print_log_lines(const char *indent, const char *log)
{
	while (*log) {
		size_t n = strcspn(log, "\n");
		char esc[2048];

		escape_for_terminal(log, n, esc, sizeof(esc));
		printf("%s%s\n", indent, esc);
		log += n;
		if (*log == '\n')
			log++;
	}
}

/* "xdp" when the section is just the type, else "tracepoint, SEC tracepoint/x/y". */
static const char *kind(const struct prog_result *r, char *buf, size_t len)
{
	const char *t = r->type ? r->type : "?";

	if (!strcmp(t, r->section))
		snprintf(buf, len, "%s", t);
	else
		snprintf(buf, len, "%s, SEC %s", t, r->section);
	return buf;
}

static void print_esc(const char *fmt_prefix, const char *s)
{
	char esc[1024];

	escape_for_terminal(s, strlen(s), esc, sizeof(esc));
	printf("%s%s\n", fmt_prefix, esc);
}

/* The explanation of one rejection (or libbpf failure), after its headline. */
static void print_diag(const struct vlog_result *v, const struct vlog_stats *st)
{
	char esc[512], pfx[160];

	if (v->pre_verifier) {
		printf("  before the verifier: libbpf (or the kernel's load checks) refused it\n");
	} else if (v->source[0]) {
		escape_for_terminal(v->source, strlen(v->source), esc, sizeof(esc));
		printf("  at insn %d, %s:%d:  %s\n", v->insn, v->file[0] ? v->file : "?",
		       v->line, esc);
	} else if (v->insn < 0 && !st) {
		printf("  the text holds the error only: no instruction, no source line\n");
	} else if (v->insn < 0) {
		printf("  the log names no instruction: this check runs after the walk\n");
	} else {
		printf("  at insn %d (no BTF line info: build with clang -g)\n", v->insn);
	}
	if (v->origin_source[0]) {
		snprintf(pfx, sizeof(pfx), "  acquired at insn %d, line %d:  ", v->origin_insn,
			 v->origin_line);
		print_esc(pfx, v->origin_source);
	}
	if (v->origin.insn >= 0 && v->origin.source[0]) {
		snprintf(pfx, sizeof(pfx), "  %s was made at insn %d, line %d:  ", v->reg,
			 v->origin.insn, v->origin.line);
		print_esc(pfx, v->origin.source);
	}
	if (v->invalidated_by[0]) {
		snprintf(pfx, sizeof(pfx), "  invalidated by %s() at insn %d, line %d:  ",
			 v->invalidated_by, v->invalidated.insn, v->invalidated.line);
		print_esc(pfx, v->invalidated.source);
	}
	print_esc(v->pre_verifier ? "  libbpf:   " : "  verifier: ", v->message);
	if (v->detail[0])
		print_esc("  detail:   ", v->detail);
	if (v->reg_state[0]) {
		snprintf(pfx, sizeof(pfx), "  state:    %s=", v->reg);
		print_esc(pfx, v->reg_state);
	}
	if (st && st->insns_processed >= 0)
		printf("  pattern:  %s  (%ld insns processed, stack depth %s)\n", v->pattern->id,
		       st->insns_processed, st->stack_depth[0] ? st->stack_depth : "?");
	else
		printf("  pattern:  %s\n", v->pattern->id);
	printf("  why:\n");
	print_wrapped("    ", v->pattern->explanation);
	if (v->nwords) {
		printf("  the words:\n");
		for (size_t i = 0; i < v->nwords; i++)
			printf("    %-18s %s\n", v->words[i].word, v->words[i].meaning);
	}
	printf("  fix:\n");
	print_wrapped("    ", v->pattern->fix);
}

static void print_human(const struct prog_result *r, bool full_log)
{
	char kb[200];

	const struct vlog_stats *st = &r->st;

	if (r->loaded) {
		printf("%s (%s): loaded\n", r->name, kind(r, kb, sizeof(kb)));
		printf("  %ld insns processed, %ld states (peak %ld), stack %s; %u bytes xlated, "
		       "%u bytes jited; verified in %ld us\n",
		       st->insns_processed, st->total_states, st->peak_states,
		       st->stack_depth[0] ? st->stack_depth : "?", r->info.xlated_prog_len,
		       r->info.jited_prog_len, st->verification_time_us);
	} else if (r->rejected) {
		const struct vlog_result *v = &r->vr;

		printf("%s (%s): REJECTED (%s) -- %s\n", r->name, kind(r, kb, sizeof(kb)),
		       strerr(r->err), v->pattern->title);
		print_diag(v, st);
		if (full_log) {
			printf("  verifier log%s:\n", r->truncated ? " (truncated: its start was lost)" : "");
			print_log_lines("    | ", r->log);
		} else {
			printf("  log tail (--log for all of it):\n");
			print_log_lines("    | ", r->log + v->tail_off);
		}
	} else if (r->explained) {
		printf("%s (%s): FAILED before verification (%s) -- %s\n", r->name,
		       kind(r, kb, sizeof(kb)), strerr(r->err), r->vr.pattern->title);
		print_diag(&r->vr, NULL);
	} else {
		printf("%s (%s): FAILED before verification: %s\n", r->name,
		       kind(r, kb, sizeof(kb)), strerr(r->err));
	}
}

static void json_stats(struct json *j, const struct vlog_stats *st)
{
	json_kint(j, "insns_processed", st->insns_processed);
	json_kint(j, "total_states", st->total_states);
	json_kint(j, "peak_states", st->peak_states);
	json_kint(j, "max_states_per_insn", st->max_states_per_insn);
	json_kint(j, "verification_time_us", st->verification_time_us);
	json_key(j, "stack_depth");
	json_arr_begin(j);
	for (int i = 0; i < st->stack_frames; i++)
		json_int(j, st->stack_depth_frame[i]);
	json_arr_end(j);
}

/* Every field in every record, null where it does not apply (docs/json.md), so a reader
 * never has to guess whether a missing key means "none" or "not asked". */
static void json_nulls(struct json *j, const char *const *keys)
{
	for (; *keys; keys++) {
		json_key(j, *keys);
		json_null(j);
	}
}

/* A C line of the program as {"file" or "insn", "line", "text"}: where the verifier
 * stopped (file given) or where a reference it complains of was acquired (its insn). */
static void json_code_line(struct json *j, const char *key, const char *file, int insn,
			   int line, const char *text)
{
	json_key(j, key);
	json_obj_begin(j);
	if (file)
		json_kstr(j, "file", file);
	else
		json_kint(j, "insn", insn);
	json_kint(j, "line", line);
	json_kstr(j, "text", text);
	json_obj_end(j);
}

static void json_where(struct json *j, const char *key, const struct vlog_where *w)
{
	json_key(j, key);
	if (w->insn < 0) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kint(j, "insn", w->insn);
	json_kint(j, "line", w->line);
	json_kstr(j, "text", w->source);
	json_obj_end(j);
}

static void json_kstr_or_null(struct json *j, const char *key, const char *s)
{
	if (s[0]) {
		json_kstr(j, key, s);
	} else {
		json_key(j, key);
		json_null(j);
	}
}

/* The explanation fields, for a program and for --explain (docs/json.md). */
static void json_diag(struct json *j, const struct vlog_result *v)
{
	json_kstr(j, "pattern", v->pattern->id);
	json_kstr(j, "title", v->pattern->title);
	json_kstr(j, "stage", v->pre_verifier ? "libbpf" : "verifier");
	if (v->pre_verifier) {
		json_key(j, "insn");
		json_null(j);
		json_key(j, "source");
		json_null(j);
	} else {
		json_kint(j, "insn", v->insn);
		json_code_line(j, "source", v->file, -1, v->line, v->source);
	}
	if (v->origin_insn >= 0)
		json_code_line(j, "acquired", NULL, v->origin_insn, v->origin_line,
			       v->origin_source);
	json_kstr(j, "message", v->message);
	json_kstr_or_null(j, "detail", v->detail);
	json_key(j, "register");
	if (v->reg[0]) {
		json_obj_begin(j);
		json_kstr(j, "name", v->reg);
		json_kstr_or_null(j, "state", v->reg_state);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_where(j, "origin", &v->origin);
	json_key(j, "invalidated_by");
	if (v->invalidated_by[0]) {
		json_obj_begin(j);
		json_kstr(j, "helper", v->invalidated_by);
		json_kint(j, "insn", v->invalidated.insn);
		json_kint(j, "line", v->invalidated.line);
		json_kstr(j, "text", v->invalidated.source);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_kstr(j, "explanation", v->pattern->explanation);
	json_kstr(j, "fix", v->pattern->fix);
	json_key(j, "words");
	if (v->nwords) {
		json_arr_begin(j);
		for (size_t i = 0; i < v->nwords; i++) {
			json_obj_begin(j);
			json_kstr(j, "word", v->words[i].word);
			json_kstr(j, "meaning", v->words[i].meaning);
			json_obj_end(j);
		}
		json_arr_end(j);
	} else {
		json_null(j);
	}
}

static void print_json_prog(struct json *j, const struct prog_result *r, bool full_log)
{
	static const char *const stats[] = { "insns_processed", "total_states", "peak_states",
		"max_states_per_insn", "verification_time_us", "stack_depth", NULL };
	static const char *const diag[] = { "pattern", "title", "stage", "insn", "source",
		"message", "detail", "register", "origin", "invalidated_by", "explanation", "fix",
		"words", NULL };
	static const char *const info[] = { "xlated_bytes", "jited_bytes", "verified_insns", NULL };

	json_obj_begin(j);
	json_kstr(j, "name", r->name);
	json_kstr(j, "section", r->section);
	json_kstr(j, "prog_type", r->type ? r->type : "unknown");
	json_kstr(j, "result", r->loaded ? "loaded" : r->rejected ? "rejected" : "failed");
	if (r->loaded) {
		json_nulls(j, (const char *const[]){ "errno", "error", NULL });
	} else {
		json_kint(j, "errno", -r->err);
		json_kstr(j, "error", strerr(r->err));
	}
	if (r->rejected || r->explained)
		json_diag(j, &r->vr);
	else
		json_nulls(j, diag);
	if (r->loaded || r->rejected)
		json_stats(j, &r->st);
	else
		json_nulls(j, stats);
	if (r->rejected) {
		json_kbool(j, "log_truncated", r->truncated);
		json_kstr(j, "log_tail", r->log + r->vr.tail_off);
	} else {
		json_nulls(j, (const char *const[]){ "log_truncated", "log_tail", NULL });
	}
	if (r->loaded) {
		json_kuint(j, "xlated_bytes", r->info.xlated_prog_len);
		json_kuint(j, "jited_bytes", r->info.jited_prog_len);
		json_kuint(j, "verified_insns", r->info.verified_insns);
	} else {
		json_nulls(j, info);
	}
	if (full_log && r->log)
		json_kstr(j, "log", r->log);
	json_obj_end(j);
}

/* Reads all of path ("-": stdin), at most 64 MiB; NULL with errno set on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n = 0, cap = 1 << 16;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *p = cap >= (64u << 20) ? NULL : realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

/* --explain: a log from another loader, explained like one bpflab loaded itself. */
static int explain_pasted(const char *path, bool full_log)
{
	struct vlog_result v;
	struct vlog_stats st;
	enum vlog_loader loader;
	char *log = NULL, *text;
	size_t len;
	int err;

	text = slurp(path, &len);
	if (!text)
		return usage_error("verify", "cannot read '%s': %s", path, strerror(errno));
	if (memchr(text, '\0', len)) {
		size_t at = strlen(text);
		free(text);
		return usage_error("verify", "'%s' is not text (a NUL byte at %zu): give the "
				   "loader's printed output", path, at);
	}
	err = vlog_explain(text, &v, &loader, &log);
	if (err) {
		free(text);
		return usage_error("verify", "'%s' holds no verifier log and no libbpf error to "
				   "explain%s", path, len ? "" : " (it is empty)");
	}
	vlog_stats(log ? log : "", &st);
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "verify_explain");
		json_kstr(&j, "input", path);
		json_kstr(&j, "loader", vlog_loader_name(loader));
		json_kbool(&j, "rejected", v.has_error);
		if (v.has_error) {
			json_diag(&j, &v);
		} else {
			static const char *const diag[] = { "pattern", "title", "stage", "insn",
				"source", "message", "detail", "register", "origin", "invalidated_by",
				"explanation", "fix", "words", NULL };
			json_nulls(&j, diag);
		}
		json_kint(&j, "insns_processed", st.insns_processed);
		json_key(&j, "log_tail");
		if (log && v.has_error && !v.pre_verifier)
			json_str(&j, log + v.tail_off);
		else
			json_null(&j);
		if (full_log) {
			json_key(&j, "log");
			if (log)
				json_str(&j, log);
			else
				json_null(&j);
		}
		json_record_end(&j);
	} else if (!v.has_error) {
		printf("%s (%s log): no rejection in it: the program was accepted, or the log "
		       "stops before the error\n", path, vlog_loader_name(loader));
	} else {
		printf("%s (%s log): %s -- %s\n", path, vlog_loader_name(loader),
		       v.pre_verifier ? "FAILED before verification" : "REJECTED", v.pattern->title);
		print_diag(&v, log && strstr(log, "\n0: ") ? &st : NULL);
		if (log && !v.pre_verifier) {
			printf("  log tail:\n");
			print_log_lines("    | ", full_log ? log : log + v.tail_off);
		}
	}
	err = v.has_error ? EXIT_REJECTED : EXIT_OK;
	free(log);
	free(text);
	return err;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_opts o = {};
	const char *path, *only;
	bool unpriv, full_log;
	struct prog_result *res = NULL;
	struct bpf_object *obj;
	struct bpf_program *p;
	int err, n = 0, nloaded = 0, nrejected = 0, nfailed = 0, ret;
	unsigned need = CAPN_BPF | CAPN_PERFMON;
	uint64_t level;

	if ((ret = opts_parse(&cmd_verify_spec, argc, argv, &o)) != OPTS_GO_ON)
		return ret;
	if (o.explain) {
		if (optind < argc)
			return usage_error("verify", "--explain reads a log, not an object: drop '%s'",
					   argv[optind]);
		return explain_pasted(o.explain, o.full_log);
	}
	if (optind >= argc)
		return usage_error("verify", "missing OBJ.bpf.o");
	path = argv[optind];
	only = o.only;
	unpriv = o.unpriv;
	full_log = o.full_log;
	level = o.level;
	if (access(path, R_OK))
		return usage_error("verify", "cannot read '%s': %s", path, strerror(errno));
	bpflab_libbpf_init();
	captured.prev = libbpf_set_print(capture_print);
	/* Opened once to list the programs; each is then loaded from a fresh open. */
	capture_reset();
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		char why[128];
		struct vlog_result v;
		int oerr = errno;

		/* An object libbpf refuses for a reason it says (no BTF, ...): the pattern. */
		if (vlog_analyze_libbpf(capture_text(), &v) && v.pre_verifier)
			return usage_error("verify", "pattern %s: %s. fix: %s -- libbpf cannot open "
					   "'%s': %s", v.pattern->id, v.pattern->title,
					   v.pattern->fix, path, v.message);
		errno = oerr;
		/* libbpf's own codes (4001 "BPF object format invalid", ...) are not errnos:
		 * strerror() would say "Unknown error 4001". */
		libbpf_strerror(-errno, why, sizeof(why));
		return usage_error("verify", "'%s' is not a BPF object file (an ELF object built "
				   "with clang -target bpf): %s", path, why);
	}
	if (only && !is_prog_in(obj, only)) {
		char names[512] = "";
		size_t o = 0;
		bpf_object__for_each_program(p, obj)
			if (o < sizeof(names))
				o += snprintf(names + o, sizeof(names) - o, " %s", bpf_program__name(p));
		bpf_object__close(obj);
		return usage_error("verify", "no program '%s' in %s; it has:%s", only, path, names);
	}
	bpf_object__for_each_program(p, obj)
		n++;
	res = calloc(n ? n : 1, sizeof(*res));
	if (!res) {
		bpf_object__close(obj);
		return EXIT_FAIL;
	}
	n = 0;
	bpf_object__for_each_program(p, obj) {
		if (only && strcmp(bpf_program__name(p), only))
			continue;
		if (is_net_prog_type(bpf_program__type(p)))
			need |= CAPN_NET_ADMIN;
		snprintf(res[n++].name, sizeof(res[0].name), "%s", bpf_program__name(p));
	}
	bpf_object__close(obj);
	if (n == 0) {
		pr_warn("%s holds no BPF programs\n", path);
		free(res);
		return EXIT_USAGE;
	}
	/* What the object's programs need, as the kernel decides it: CAP_PERFMON also gives
	 * the privileged verifier (pointer arithmetic, Spectre checks relaxed), so a load
	 * without it is not the verdict root gets. */
	if ((err = require_caps("verify", need, need & CAPN_NET_ADMIN ?
				"CAP_BPF to load, CAP_PERFMON for the verifier root gets, "
				"CAP_NET_ADMIN for its networking programs" :
				"CAP_BPF to load, CAP_PERFMON for the verifier root gets")))
		goto out_free;
	if (unpriv && (err = drop_to_cap_bpf())) {
		pr_warn("cannot drop to CAP_BPF only: %s (--unpriv needs CAP_BPF)\n",
			strerr(err));
		err = EXIT_NOPERM;
		goto out_free;
	}

	if (full_log && level == 0)
		level = 1;
	for (int i = 0; i < n; i++) {
		err = load_one(path, res[i].name, (int)level, &res[i]);
		if (err) {
			res[i].err = err;
			nfailed++;
		} else if (res[i].loaded) {
			nloaded++;
		} else {
			nrejected++;
		}
	}

	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "verify");
		json_kstr(&j, "object", path);
		json_kbool(&j, "unpriv", unpriv);
		json_kint(&j, "loaded", nloaded);
		json_kint(&j, "rejected", nrejected);
		json_kint(&j, "failed", nfailed);
		json_key(&j, "programs");
		json_arr_begin(&j);
		for (int i = 0; i < n; i++)
			print_json_prog(&j, &res[i], full_log);
		json_arr_end(&j);
		json_record_end(&j);
	} else {
		printf("%s: %d program%s: %d loaded, %d rejected%s%s\n", path, n, n == 1 ? "" : "s",
		       nloaded, nrejected, nfailed ? ", failed: " : "", nfailed ? "see below" : "");
		for (int i = 0; i < n; i++) {
			printf("\n");
			print_human(&res[i], full_log);
		}
	}
	err = nfailed ? EXIT_FAIL : nrejected ? EXIT_REJECTED : EXIT_OK;
out_free:
	ret = err;
	for (int i = 0; i < n; i++)
		free(res[i].log);
	free(res);
	return ret;
}
