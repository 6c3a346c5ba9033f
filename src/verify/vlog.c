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

#include "vfacts.h"

#define NRULES vlog_nrules
#define UNKNOWN_RULE (&vlog_rules[vlog_nrules - 1])

const struct vlog_pattern *vlog_patterns(size_t *n)
{
	static struct vlog_pattern list[64];

	for (size_t i = 0; i < NRULES && i < 64; i++)
		list[i] = vlog_rules[i].p;
	*n = NRULES < 64 ? NRULES : 64;
	return list;
}

const struct vlog_pattern *vlog_pattern_by_id(const char *id)
{
	for (size_t i = 0; i < NRULES; i++)
		if (!strcmp(vlog_rules[i].p.id, id))
			return &vlog_rules[i].p;
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


/* Helpers that may move or resize the packet: the verifier forgets every packet pointer
 * after them (bpf_helper_changes_pkt_data() in the kernel). */
static const char *const pkt_changers[] = {
	"bpf_xdp_adjust_head", "bpf_xdp_adjust_tail", "bpf_xdp_adjust_meta",
	"bpf_skb_pull_data", "bpf_skb_store_bytes", "bpf_skb_change_head",
	"bpf_skb_change_tail", "bpf_skb_change_proto", "bpf_skb_change_type",
	"bpf_skb_adjust_room", "bpf_skb_vlan_push", "bpf_skb_vlan_pop",
	"bpf_l3_csum_replace", "bpf_l4_csum_replace", "bpf_clone_redirect",
	"bpf_lwt_push_encap", "bpf_lwt_seg6_store_bytes", "bpf_lwt_seg6_adjust_srh",
	"bpf_lwt_seg6_action", "bpf_msg_pull_data", "bpf_msg_push_data", "bpf_msg_pop_data",
	"bpf_skb_ecn_set_ce", NULL,
};

/* "R6 invalid mem access" -> 6; the first "R<n>" word of the message, or -1. */
static int msg_reg(const char *msg)
{
	for (const char *p = msg; (p = strchr(p, 'R')); p++) {
		if ((p == msg || !isalnum((unsigned char)p[-1])) && isdigit((unsigned char)p[1])) {
			char *e;
			long n = strtol(p + 1, &e, 10);
			if (n >= 0 && n <= 10 && !isalnum((unsigned char)*e))
				return (int)n;
		}
	}
	return -1;
}

/* In line i, the value printed for register n ("R6_w=pkt(off=0,r=14)" -> "pkt(off=0,r=14)"
 * into out); false when the line does not print it. */
static bool reg_in_line(const struct lines *L, size_t i, int n, char *out, size_t cap)
{
	char buf[1024], key[8];
	char *p = buf;

	line_copy(L, i, buf, sizeof(buf));
	snprintf(key, sizeof(key), "R%d", n);
	while ((p = strstr(p, key))) {
		char *v = p + strlen(key);
		if ((p == buf || p[-1] == ' ') && (*v == '=' || !strncmp(v, "_w=", 3) ||
						   !strncmp(v, "_rw=", 4) || !strncmp(v, "_r=", 3))) {
			size_t k = 0;
			int depth = 0;
			v = strchr(v, '=') + 1;
			while (v[k] && (depth || v[k] != ' ')) {
				depth += v[k] == '(';
				depth -= v[k] == ')';
				k++;
			}
			if (k >= cap)
				k = cap - 1;
			memcpy(out, v, k);
			out[k] = '\0';
			return true;
		}
		p = v;
	}
	return false;
}

/* Does instruction line i write register n? "(bf) r6 = r1", "(07) r6 += 14", "(61) w6 =
 * ...", and for r0 a call. */
static bool insn_writes(const struct lines *L, size_t i, int n)
{
	char buf[512], rr[8], ww[8];
	char *p;

	line_copy(L, i, buf, sizeof(buf));
	p = strchr(buf, ')');
	if (!p)
		return false;
	p++;
	while (*p == ' ')
		p++;
	if (n == 0 && !strncmp(p, "call ", 5))
		return true;
	snprintf(rr, sizeof(rr), "r%d ", n);
	snprintf(ww, sizeof(ww), "w%d ", n);
	if (strncmp(p, rr, strlen(rr)) && strncmp(p, ww, strlen(ww)))
		return false;
	p += strlen(rr);
	return p[0] == '=' || (p[0] && p[1] == '=') || (p[0] && p[1] && p[2] == '=');
}

static void where_at(const struct lines *L, long at, struct vlog_where *w)
{
	long src;
	char file[8];

	w->insn = (int)insn_line(L, at);
	src = source_before(L, at);
	if (src >= 0)
		parse_source(L, src, w->source, sizeof(w->source), file, sizeof(file), &w->line);
}

/* The called helper's name on an instruction line: "call bpf_xdp_adjust_head#44". */
static bool call_name(const struct lines *L, size_t i, char *out, size_t cap)
{
	char buf[512], *p, *e;

	line_copy(L, i, buf, sizeof(buf));
	p = strstr(buf, ") call ");
	if (!p)
		return false;
	p += 7;
	e = p + strcspn(p, "# ;");
	*e = '\0';
	snprintf(out, cap, "%s", p);
	return true;
}

static const struct vlog_pattern *by_id(const char *id)
{
	return vlog_pattern_by_id(id);
}

static void add_word(struct vlog_result *r, const char *w, const char *m)
{
	for (size_t i = 0; i < r->nwords; i++)
		if (!strcmp(r->words[i].word, w))
			return;
	if (r->nwords < VLOG_MAX_WORDS)
		r->words[r->nwords++] = (struct vlog_word){ w, m };
}

/* What the words of a message mean: the register types and fields the verifier prints. */
static const struct vlog_word glossary[] = {
	{ "map_value_or_null", "a map value pointer that may be NULL (not yet tested)" },
	{ "_or_null", "a pointer that may be NULL until the program tests it" },
	{ "map_value", "pointer into a map element (value_size bytes)" },
	{ "map_key", "pointer to a map key (bpf_for_each_map_elem callbacks)" },
	{ "map_ptr", "the map itself, as the first argument of map helpers" },
	{ "pkt_end", "data_end: the end of the packet; compare with it, never move it" },
	{ "pkt_meta", "pointer into the XDP metadata area before the packet" },
	{ "pkt", "packet pointer; r= is how many bytes past it are proven inside the packet" },
	{ "scalar", "a plain number, not a pointer: never dereferenced" },
	{ "ctx", "the program's context argument (xdp_md, __sk_buff, ...)" },
	{ "fp", "frame pointer: the stack (fp-8 is 8 bytes below the top of the frame)" },
	{ "ringbuf_mem", "a ring buffer reservation, submitted or discarded once" },
	{ "mem", "memory of known size returned by a helper or kfunc" },
	{ "sock", "a referenced socket pointer (release it)" },
	{ "ptr_", "a BTF-typed kernel pointer (ptr_task_struct, ...)" },
	{ "trusted_ptr_", "a BTF-typed pointer the kernel vouches for" },
	{ "rcu_ptr_", "a BTF pointer valid only inside an RCU read section" },
	{ "!read_ok", "the register was never written on this path" },
	{ "invalid access", "the access falls outside what the verifier knows is allowed" },
	{ "off=", "offset of the access from the pointer's base, in bytes" },
	{ "size=", "size of the access, in bytes" },
	{ "var_off", "bits of the value the verifier does not know: (value; mask)" },
	{ "umax", "largest value the register may hold (unsigned); smin/smax signed" },
	{ "id=", "verifier's id for pointers known to be equal (or a reference)" },
	{ "r=", "bytes of the packet proven accessible from this pointer" },
	{ "imm=", "the constant the verifier knows the register holds" },
	{ "R10", "the frame pointer register (read-only)" },
	{ "insn", "an instruction index in the program (as in llvm-objdump -d)" },
	{ NULL, NULL },
};

static void explain_words(struct vlog_result *r)
{
	char text[600];

	snprintf(text, sizeof(text), "%s %s", r->message, r->reg_state);
	for (const struct vlog_word *g = glossary; g->word; g++) {
		const char *p = strstr(text, g->word);
		/* "pkt" must not match inside "pkt_end"; "mem" not inside "ringbuf_mem" */
		while (p && ((p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_') &&
			      g->word[0] != '_' && strcmp(g->word, "off=") && strcmp(g->word, "size=") &&
			      strcmp(g->word, "id=") && strcmp(g->word, "r=")) ||
			     (isalnum((unsigned char)g->word[strlen(g->word) - 1]) &&
			      p[strlen(g->word)] == '_')))
			p = strstr(p + 1, g->word);
		if (p)
			add_word(r, g->word, g->meaning);
	}
}

/* The context around the error: which register, what it was, where it was made, and the
 * more specific class that context reveals. */
static void refine(const struct lines *L, struct vlog_result *r, size_t err_line,
		   long at_line, size_t end)
{
	const char *id = r->pattern->id;
	int n = msg_reg(r->message);
	long def = -1;

	if (n >= 0 && at_line >= 0) {
		snprintf(r->reg, sizeof(r->reg), "R%d", n);
		for (long i = at_line; i >= 0 && !r->reg_state[0]; i--)
			reg_in_line(L, i, n, r->reg_state, sizeof(r->reg_state));
		for (long i = at_line - 1; i >= 0; i--)
			if (insn_line(L, i) >= 0 && insn_writes(L, i, n)) {
				def = i;
				break;
			}
		if (def >= 0)
			where_at(L, def, &r->origin);
	}

	/* A scalar where a packet pointer was: a packet-changing helper in between. */
	if (!strcmp(id, "scalar_deref") && def >= 0) {
		for (long i = def + 1; i < at_line; i++) {
			char name[64];
			if (insn_line(L, i) < 0 || !call_name(L, i, name, sizeof(name)))
				continue;
			for (const char *const *c = pkt_changers; *c; c++)
				if (!strcmp(name, *c)) {
					r->pattern = by_id("pkt_invalidated");
					snprintf(r->invalidated_by, sizeof(r->invalidated_by), "%s", name);
					where_at(L, i, &r->invalidated);
				}
		}
		if (r->invalidated_by[0])
			snprintf(r->detail, sizeof(r->detail),
				 "%s was a packet pointer made at insn %d (line %d); %s() at insn %d "
				 "(line %d) invalidated it", r->reg, r->origin.insn, r->origin.line,
				 r->invalidated_by, r->invalidated.insn, r->invalidated.line);
	}
	if (!strcmp(id, "pkt_bounds")) {
		const char *p = strstr(r->message, "(id=");
		if (p && atoi(p + 4) > 0)
			r->pattern = by_id("pkt_var_off");
	}
	if (!strcmp(id, "map_value_bounds") &&
	    (!strncmp(r->reg_state, "mem", 3) || strstr(r->reg_state, "ringbuf_mem") ||
	     strstr(r->reg_state, "rdonly_mem")))
		r->pattern = by_id("mem_bounds");
	if (!strcmp(id, "uninit_stack")) {
		const char *o = strstr(r->message, "off="), *s = strstr(r->message, "size=");
		if (o && s && atol(o + 4) + atol(s + 5) > 0)
			r->pattern = by_id("key_size");
	}
	if (!strcmp(id, "null_check") && strstr(r->message, "mem_or_null")) {
		for (long i = (long)err_line; i >= 0; i--)
			if (line_starts(L, i, "Validating ")) {
				r->pattern = by_id("global_func");
				line_copy(L, i, r->detail, sizeof(r->detail));
				break;
			}
	}
	if (!strcmp(id, "ref_leak") && r->origin_insn >= 0) {
		long at = find_insn(L, err_line, r->origin_insn);
		char name[64];
		if (at >= 0 && call_name(L, at, name, sizeof(name))) {
			if (strstr(name, "sk_lookup") || strstr(name, "skc_lookup"))
				r->pattern = by_id("sock_leak");
			snprintf(r->detail, sizeof(r->detail), "acquired by %s() at insn %d", name,
				 r->origin_insn);
		}
	}
	if (!strcmp(id, "helper_unknown") || !strcmp(id, "helper_unavailable")) {
		/* "cannot use helper bpf_get_stackid#27", "unknown func bpf_foo#190",
		 * "invalid func unknown#250" */
		const char *h = strstr(r->message, "bpf_"), *u = strstr(r->message, "unknown#");
		const struct vfact *f = NULL;
		char name[64] = "";
		if (h) {
			size_t k = strcspn(h, "# \n");
			snprintf(name, sizeof(name), "%.*s", (int)k, h);
			f = vfacts_helper(name, 0);
		} else if (u) {
			f = vfacts_helper(NULL, atoi(u + 8));
		}
		if (f && f->version[0])
			snprintf(r->detail, sizeof(r->detail), "%s (helper #%d) first appeared in "
				 "Linux %s", f->name, f->id, f->version);
		else if (u)
			snprintf(r->detail, sizeof(r->detail), "helper #%d is in no kernel bpflab "
				 "knows of: a newer kernel's helper, or a wrong id", atoi(u + 8));
	}
	if (!strcmp(id, "core_relo")) {
		/* "1: <invalid CO-RE relocation>": the poisoned instruction itself */
		if (isdigit((unsigned char)r->message[0]))
			r->insn = atoi(r->message);
		for (size_t i = 0; i < end; i++)
			if (line_starts(L, i, "failed to resolve CO-RE relocation ")) {
				char buf[384];
				line_copy(L, i, buf, sizeof(buf));
				snprintf(r->detail, sizeof(r->detail), "%s", buf);
				break;
			}
	}
	if (!strcmp(r->pattern->id, "unknown"))
		explain_words(r);
}

int vlog_analyze(const char *log, struct vlog_result *r)
{
	struct lines L;
	size_t end, first = 0, i, err_line;
	long last_insn_line = -1;
	const struct vlog_rule *hit = NULL;
	long hit_line = -1;
	int ret;

	memset(r, 0, sizeof(*r));
	r->insn = -1;
	r->pattern = &UNKNOWN_RULE->p;
	r->origin.insn = r->invalidated.insn = -1;
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

	for (size_t k = 0; k < NRULES && !hit; k++) {
		if (vlog_rules[k].pre)
			continue;
		for (i = first; i < end && !hit; i++) {
			if (noise_line(&L, i))
				continue;
			for (int n = 0; n < 6 && vlog_rules[k].needles[n]; n++) {
				if (line_has(&L, i, vlog_rules[k].needles[n])) {
					hit = &vlog_rules[k];
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
	/* Some kernel messages lack their newline ("expected prog array map for tail
	 * call"): the summary that follows is not part of the message. */
	char *glued = strstr(r->message, "verification time");
	if (glued && glued > r->message)
		*glued = '\0';

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

	refine(&L, r, err_line, at_line, end);

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
