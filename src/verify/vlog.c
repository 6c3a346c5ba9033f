// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Verifier-log analysis: finds where in the log the verifier gave up, which known
 * mistake that is, and the C line it came from (the "; <source> @ file:line" lines the
 * kernel prints from BTF line info). Pure string work, no BPF. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlog.h"

struct rule {
	struct vlog_pattern p;
	const char *needles[5]; /* a line of the error block containing any of these matches */
};

/* Order is priority: the first rule with a matching line wins, so specific rules come
 * before general ones (no_return before uninit_reg, not_a_map before helper_arg). */
static const struct rule rules[] = {
	{ { "license_gpl", "GPL-only helper without a GPL license",
	    "The program calls a helper (or kfunc) that is only for GPL-compatible programs -- "
	    "bpf_printk() is bpf_trace_printk(), one of them -- and the object declares no "
	    "GPL-compatible license (no license section counts as proprietary).",
	    "Declare a license: char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\"; (or \"GPL\")." },
	  { "cannot call GPL-restricted function", "non-GPL compatible program" } },
	{ { "null_check", "possibly-NULL pointer used without a check",
	    "A pointer that can be NULL -- the result of bpf_map_lookup_elem(), "
	    "bpf_ringbuf_reserve(), bpf_sk_lookup_*() and the like -- is dereferenced (or moved) "
	    "before the program tested it. The verifier tracks it as *_or_null until a test.",
	    "Test it right after the call and use it only where the test holds: "
	    "v = bpf_map_lookup_elem(&m, &k); if (!v) return XDP_PASS; *v += 1;" },
	  { "_or_null'", "_or_null prohibited" } },
	{ { "pkt_bounds", "packet access without a data_end check",
	    "The program reads or writes packet memory it has not proven to be inside the packet: "
	    "every access must follow a comparison of that very pointer (plus the access size) "
	    "against data_end, on every path.",
	    "Check before touching: if ((void *)(hdr + 1) > data_end) return XDP_PASS; -- once "
	    "per header, with the pointer you then use, re-checking after any helper that may "
	    "move the packet (bpf_xdp_adjust_head, ...)." },
	  { "invalid access to packet", "offset is outside of the packet" } },
	{ { "map_value_bounds", "index or offset past the end of a map value",
	    "An index into a map value -- a global array is a map value too (.bss/.data) -- "
	    "may point past its end: the verifier knows only the range of the index register "
	    "(see the umax/var_off in the state) and that range is larger than the value.",
	    "Bound the index right before the access: if (i >= ARRAY_SIZE(arr)) return ...; "
	    "or mask it (i &= N - 1 for a power-of-two N). Do it on the same register that is "
	    "used for the access: the compiler may otherwise check a copy." },
	  { "invalid access to map value", "min value is outside of the allowed memory range",
	    "max value is outside of the allowed memory range", "unbounded memory access" } },
	{ { "infinite_loop", "a loop the verifier cannot see the end of",
	    "The verifier came back to a loop's head in exactly the same state as before: "
	    "nothing it can track changes from one pass to the next, so the loop may never end.",
	    "Give the loop a constant bound the verifier can count: for (i = 0; i < 64; i++) "
	    "{ ... if (done) break; }; for long or data-driven loops use bpf_loop() (5.17+)." },
	  { "infinite loop detected", "back-edge from insn" } },
	{ { "too_complex", "too many instructions or states to verify",
	    "The verifier walks every path; this program needs more than its budget "
	    "(1 million processed instructions, or too many jumps or states), usually because "
	    "of a loop with a large or data-dependent bound, or branches that multiply.",
	    "Make loop bounds small constants, use bpf_loop() for long loops, move work into "
	    "__noinline functions (verified once), or split the program with tail calls." },
	  { "BPF program is too large", "is too complex", "too many states" } },
	{ { "uninit_stack", "read of uninitialised stack",
	    "Stack memory is read (often by a helper: a map key, a value, a buffer) before the "
	    "program wrote it -- typically struct padding or a field left unset. Loaders "
	    "without CAP_PERFMON/CAP_SYS_ADMIN get this error; privileged ones read garbage.",
	    "Initialise the whole object first: struct key k = {}; or "
	    "__builtin_memset(&k, 0, sizeof(k)); then set the fields." },
	  { "invalid read from stack", "invalid indirect read from stack",
	    "invalid size of register fill" } },
	{ { "no_return", "no return value",
	    "The program reaches `exit` without setting R0, the return value (the XDP verdict, "
	    "the TC action, ...). In C: a path through the function with no return statement "
	    "(clang only warns with -Wreturn-type).",
	    "Return a value on every path: return XDP_PASS; at the end of the function." },
	  { "R0 !read_ok" } },
	{ { "uninit_reg", "read of an uninitialised register",
	    "An instruction reads a register that holds no value on this path -- in C usually a "
	    "variable set on one branch only, or inline assembly using a register it never set.",
	    "Initialise the variable where it is declared, or set it on every path." },
	  { "!read_ok" } },
	{ { "not_a_map", "a non-map pointer passed as a map",
	    "A helper that takes a map (bpf_map_lookup_elem, bpf_map_update_elem, "
	    "bpf_ringbuf_reserve, ...) got something else: a pointer to the stack, to a "
	    "variable, or a number. Only the address of a map defined in SEC(\".maps\") "
	    "(or a map taken from a map-in-map) is a map pointer.",
	    "Pass the map itself: bpf_map_lookup_elem(&my_map, &key). Casts hide this from "
	    "clang, never from the verifier." },
	  { "expected=map_ptr" } },
	{ { "ctx_modified", "pointer arithmetic on the context",
	    "The context pointer (ctx) was moved before a field was read through it. The kernel "
	    "rewrites each ctx field access into an access to the real kernel structure, which "
	    "it can only do for `ctx + constant field offset`.",
	    "Read fields by name straight from ctx: ctx->ingress_ifindex, not *((u32 *)ctx + 3); "
	    "pass ctx itself (not a pointer into it) to functions." },
	  { "dereference of modified ctx ptr" } },
	{ { "ctx_access", "invalid context access",
	    "The program reads or writes a context field it may not: a write to a read-only "
	    "field (XDP's data/data_end are read-only), an offset that is no field, or a field "
	    "this program type cannot see.",
	    "Read only the fields of the context struct for this program type; change the "
	    "packet through helpers (bpf_xdp_adjust_head/tail/meta, bpf_skb_*)." },
	  { "invalid bpf_context access" } },
	{ { "stack_too_large", "stack larger than 512 bytes",
	    "BPF has a 512-byte stack for the whole call chain: the frames of the functions "
	    "that call each other add up (clang checks one function at a time).",
	    "Use smaller buffers, or a per-CPU array map with one entry as scratch space for "
	    "big ones; inline the callee or reorder calls so big frames are not nested." },
	  { "combined stack size of", "invalid stack off=" } },
	{ { "ref_leak", "a reference never released",
	    "A resource the program acquired -- a ring buffer reservation, a socket from "
	    "bpf_sk_lookup_*(), a kptr, a lock -- is still held when the program exits on some "
	    "path. The log's alloc_insn says where it was acquired.",
	    "On every path release what you took: bpf_ringbuf_submit() or "
	    "bpf_ringbuf_discard() for a reservation, bpf_sk_release() for a socket." },
	  { "Unreleased reference", "unreleased reference" } },
	{ { "helper_unavailable", "helper not allowed for this program type",
	    "Each program type has its own set of helpers: this one is not offered to this "
	    "type (or to this kernel, or without a capability such as CAP_PERFMON).",
	    "Use a helper this hook has (bpftool feature probe lists them per type), or move "
	    "that work to a program type that has it." },
	  { "cannot use helper", "unknown func" } },
	{ { "helper_arg", "wrong argument type for a helper",
	    "A helper argument has the wrong kind of value: the message says what the register "
	    "holds (type=...) and what the helper expects (expected=...).",
	    "Pass what the helper's signature wants: a pointer to initialised stack or map "
	    "memory for buffers, a constant or bounded length, ctx where ctx is asked for." },
	  { " expected=" } },
	{ { "scalar_deref", "a number used as a pointer",
	    "The program dereferences a register that holds a plain number (scalar), e.g. a "
	    "pointer read from packet or map memory, or an address computed by hand. Only "
	    "pointers the verifier handed out (ctx, packet, map value, stack) may be used.",
	    "Read kernel memory with bpf_probe_read_kernel() or BPF_CORE_READ(); keep pointers "
	    "in registers or on the stack, not in maps." },
	  { "invalid mem access 'scalar'", "invalid mem access 'inv'" } },
	{ { "ptr_arith", "pointer arithmetic the verifier cannot bound",
	    "A pointer is moved by an offset whose range is unknown or negative, or moved in a "
	    "way (multiplication, on a NULL-able pointer, ...) that the verifier forbids.",
	    "Bound the offset first (if (off > MAX) return ...; with unsigned types), then add "
	    "it to the pointer." },
	  { "pointer arithmetic", "math between", "unbounded min value" } },
	{ { "unknown", "not a pattern bpflab knows",
	    "bpflab has no explanation for this message yet: read the source line and the log "
	    "tail; the last instruction and the register states before it show what the "
	    "verifier saw.",
	    "Search the message in the kernel's verifier.c and its selftests "
	    "(tools/testing/selftests/bpf/progs/verifier_*.c)." },
	  { NULL } },
};

const struct vlog_pattern *vlog_patterns(size_t *n)
{
	static struct vlog_pattern list[sizeof(rules) / sizeof(rules[0])];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		list[i] = rules[i].p;
	*n = sizeof(rules) / sizeof(rules[0]);
	return list;
}

const struct vlog_pattern *vlog_pattern_by_id(const char *id)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].p.id, id))
			return &rules[i].p;
	return NULL;
}

/* Lines as [start, end) offsets into the log; the log is not modified. */
struct lines {
	size_t n, cap;
	size_t *start, *len;
	const char *log;
};

static int split_lines(const char *log, struct lines *L)
{
	const char *p = log;

	memset(L, 0, sizeof(*L));
	L->log = log;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (L->n == L->cap) {
			size_t cap = L->cap ? L->cap * 2 : 256;
			size_t *s = realloc(L->start, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			L->start = s;
			s = realloc(L->len, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			L->len = s;
			L->cap = cap;
		}
		L->start[L->n] = p - log;
		L->len[L->n] = len;
		L->n++;
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static void free_lines(struct lines *L)
{
	free(L->start);
	free(L->len);
}

/* Copies line i into buf (NUL-terminated, cut to cap). */
static const char *line_copy(const struct lines *L, size_t i, char *buf, size_t cap)
{
	size_t n = L->len[i] < cap - 1 ? L->len[i] : cap - 1;

	memcpy(buf, L->log + L->start[i], n);
	buf[n] = '\0';
	return buf;
}

static bool line_has(const struct lines *L, size_t i, const char *needle)
{
	char buf[1024];

	return strstr(line_copy(L, i, buf, sizeof(buf)), needle) != NULL;
}

static bool line_starts(const struct lines *L, size_t i, const char *prefix)
{
	size_t n = strlen(prefix);

	return L->len[i] >= n && !memcmp(L->log + L->start[i], prefix, n);
}

/* "123: (85) call ..." is an instruction; "123: R1=ctx() ..." is a state. Returns the
 * index, or -1. */
static long insn_line(const struct lines *L, size_t i)
{
	const char *s = L->log + L->start[i];
	size_t k = 0;

	while (k < L->len[i] && isdigit((unsigned char)s[k]))
		k++;
	if (k == 0 || k + 2 >= L->len[i] || s[k] != ':' || s[k + 1] != ' ' || s[k + 2] != '(')
		return -1;
	return strtol(s, NULL, 10);
}

static bool summary_line(const struct lines *L, size_t i)
{
	return L->len[i] == 0 || line_starts(L, i, "verification time") ||
	       line_starts(L, i, "stack depth") || line_starts(L, i, "processed ") ||
	       line_starts(L, i, "-- END");
}

/* Lines that describe state rather than say what is wrong. */
static bool noise_line(const struct lines *L, size_t i)
{
	return summary_line(L, i) || line_starts(L, i, "; ") || line_starts(L, i, "from ") ||
	       line_starts(L, i, "cur state") || line_starts(L, i, "old state") ||
	       line_starts(L, i, "mark_precise") || line_starts(L, i, "last_idx") ||
	       line_starts(L, i, "regs=") || line_starts(L, i, "func#") ||
	       line_starts(L, i, "Live regs") || line_starts(L, i, "Validating") ||
	       line_starts(L, i, "processed ") || insn_line(L, i) >= 0 ||
	       (isdigit((unsigned char)L->log[L->start[i]]) && line_has(L, i, ": R"));
}

/* "; <source> @ file.c:42" (5.x kernels print the source only). */
static void parse_source(const struct lines *L, size_t i, char *source, size_t source_len,
			 char *file, size_t file_len, int *line)
{
	char buf[1024], *src, *at;

	line_copy(L, i, buf, sizeof(buf));
	src = buf + 2;
	at = strstr(src, " @ ");
	if (at) {
		char *colon = strrchr(at + 3, ':');
		*at = '\0';
		if (colon) {
			*colon = '\0';
			*line = atoi(colon + 1);
		}
		if (file)
			snprintf(file, file_len, "%s", at + 3);
	}
	while (*src == ' ' || *src == '\t')
		src++;
	snprintf(source, source_len, "%s", src);
}

/* Line of the last time instruction `insn` was printed, or -1. */
static long find_insn(const struct lines *L, size_t end, long insn)
{
	long at = -1;

	for (size_t i = 0; i < end; i++)
		if (insn_line(L, i) == insn)
			at = i;
	return at;
}

/* The source line printed last at or before log line `at`; -1 when none. Lines with no
 * source text ("; @ file.c:0", code the compiler made up) do not count. */
static long source_before(const struct lines *L, long at)
{
	for (long k = at; k >= 0; k--)
		if (line_starts(L, k, "; ") && !line_starts(L, k, ";  @ ") && L->len[k] > 2)
			return k;
	return -1;
}

static long insn_in_message(const char *msg)
{
	const char *p = strstr(msg, "at insn ");

	if (!p)
		return -1;
	return strtol(p + 8, NULL, 10);
}

int vlog_analyze(const char *log, struct vlog_result *r)
{
	struct lines L;
	size_t end, first = 0, i, err_line;
	long last_insn_line = -1;
	const struct rule *hit = NULL;
	long hit_line = -1;
	int ret;

	memset(r, 0, sizeof(*r));
	r->insn = -1;
	r->pattern = &rules[sizeof(rules) / sizeof(rules[0]) - 1].p;
	if (!log || !*log)
		return -EINVAL;
	ret = split_lines(log, &L);
	if (ret) {
		free_lines(&L);
		return ret;
	}
	/* The error block: after the last instruction printed, before the summary. */
	end = L.n;
	while (end > 0 && summary_line(&L, end - 1))
		end--;
	for (i = 0; i < end; i++)
		if (insn_line(&L, i) >= 0)
			last_insn_line = i;
	if (last_insn_line >= 0)
		first = last_insn_line + 1;
	if (first >= end) /* nothing after the last insn: look at the whole log */
		first = 0;

	for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]) && !hit; k++) {
		for (i = first; i < end && !hit; i++) {
			if (noise_line(&L, i))
				continue;
			for (int n = 0; n < 5 && rules[k].needles[n]; n++) {
				if (line_has(&L, i, rules[k].needles[n])) {
					hit = &rules[k];
					hit_line = i;
					break;
				}
			}
		}
	}
	if (hit) {
		r->pattern = &hit->p;
		err_line = hit_line;
		r->has_error = true;
	} else {
		err_line = end ? end - 1 : 0;
		for (i = first; i < end; i++)
			if (!noise_line(&L, i)) {
				err_line = i;
				r->has_error = true;
				break;
			}
	}
	if (r->has_error)
		line_copy(&L, err_line, r->message, sizeof(r->message));

	/* R0 unset is a missing return only at `exit`; anywhere else it is a plain
	 * uninitialised register. */
	if (hit && !strcmp(hit->p.id, "no_return") &&
	    (last_insn_line < 0 || !line_has(&L, last_insn_line, ") exit")))
		r->pattern = vlog_pattern_by_id("uninit_reg");

	r->insn = insn_in_message(r->message);
	long at_line = last_insn_line, src;
	if (r->insn >= 0) {
		long at = find_insn(&L, end, r->insn);
		if (at >= 0)
			at_line = at;
	} else if (last_insn_line >= 0) {
		r->insn = insn_line(&L, last_insn_line);
	}
	for (i = 0; i < L.n && !r->has_line_info; i++)
		r->has_line_info = line_starts(&L, i, "; ");
	/* The source line printed last before that instruction is the one it belongs to.
	 * An error found after the walk (stack size) has no instruction: no source then. */
	src = at_line >= 0 ? source_before(&L, at_line) : -1;
	if (src >= 0)
		parse_source(&L, src, r->source, sizeof(r->source), r->file, sizeof(r->file),
			     &r->line);

	r->origin_insn = -1;
	const char *alloc = strstr(r->message, "alloc_insn=");
	if (alloc) {
		long at;
		r->origin_insn = strtol(alloc + 11, NULL, 10);
		at = find_insn(&L, end, r->origin_insn);
		src = at >= 0 ? source_before(&L, at) : -1;
		if (src >= 0)
			parse_source(&L, src, r->origin_source, sizeof(r->origin_source), NULL, 0,
				     &r->origin_line);
	}

	/* The tail: a dozen lines of the path before the error, and the error itself. */
	size_t tail = err_line > 12 ? err_line - 12 : 0;
	r->tail_off = L.n ? L.start[tail] : 0;
	free_lines(&L);
	return 0;
}

static long num_after(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

void vlog_stats(const char *log, struct vlog_stats *s)
{
	const char *p;

	memset(s, 0, sizeof(*s));
	s->insns_processed = s->max_states_per_insn = s->total_states = -1;
	s->peak_states = s->verification_time_us = -1;
	if (!log)
		return;
	/* The summary is at the end; an earlier "processed" would be a subprogram's. */
	p = strstr(log, "\nprocessed ");
	if (!p && !strncmp(log, "processed ", 10))
		p = log - 1;
	if (p) {
		const char *q;
		while ((q = strstr(p + 1, "\nprocessed ")))
			p = q;
		s->insns_processed = strtol(p + 11, NULL, 10);
		s->max_states_per_insn = num_after(p, "max_states_per_insn ");
		s->total_states = num_after(p, "total_states ");
		s->peak_states = num_after(p, "peak_states ");
	}
	s->verification_time_us = num_after(log, "verification time ");
	p = strstr(log, "stack depth ");
	if (p) {
		size_t n = strcspn(p + 12, "\n");
		if (n >= sizeof(s->stack_depth))
			n = sizeof(s->stack_depth) - 1;
		memcpy(s->stack_depth, p + 12, n);
		s->stack_depth[n] = '\0';
		/* "0+400+400": one number per frame, for JSON (numbers as numbers). */
		for (const char *q = s->stack_depth; *q && s->stack_frames < VLOG_MAX_FRAMES;) {
			char *end;
			long v;

			if (!isdigit((unsigned char)*q))
				break;
			v = strtol(q, &end, 10);
			s->stack_depth_frame[s->stack_frames++] = v;
			if (*end != '+')
				break;
			q = end + 1;
		}
	}
}
