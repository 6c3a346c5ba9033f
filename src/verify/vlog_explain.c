// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Logs from anywhere: libbpf's own failures (before the verifier), and verifier logs
 * pasted from other loaders -- libbpf's "-- BEGIN PROG LOAD LOG --" framing (bpftool
 * prints the same), cilium/ebpf's one-line error and its "%+v" form, aya's "Verifier
 * output:" and bcc's "bpf: Failed to load program:" -- brought back to the bare log
 * vlog_analyze() reads. Pure string work. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlog.h"

const char *vlog_loader_name(enum vlog_loader l)
{
	switch (l) {
	case VLOG_LIBBPF: return "libbpf";
	case VLOG_BPFTOOL: return "bpftool";
	case VLOG_CILIUM: return "cilium/ebpf";
	case VLOG_AYA: return "aya";
	case VLOG_BCC: return "bcc";
	default: return "raw";
	}
}

/* Copies the line starting at p (without its newline) into buf. */
static const char *next_line(const char *p, char *buf, size_t cap)
{
	size_t n = strcspn(p, "\n"), k = n < cap - 1 ? n : cap - 1;

	memcpy(buf, p, k);
	buf[k] = '\0';
	return p[n] ? p + n + 1 : p + n;
}

static const char *strip_libbpf(const char *s)
{
	if (!strncmp(s, "libbpf: ", 8))
		s += 8;
	return s;
}

bool vlog_analyze_libbpf(const char *text, struct vlog_result *r)
{
	char line[1024];

	for (size_t k = 0; k < vlog_nrules; k++) {
		const struct vlog_rule *ru = &vlog_rules[k];
		bool libbpf_rule = ru->pre || !strcmp(ru->p.id, "core_relo");

		if (!libbpf_rule)
			continue;
		for (const char *p = text; *p;) {
			p = next_line(p, line, sizeof(line));
			for (int n = 0; n < 6 && ru->needles[n]; n++) {
				if (!strstr(line, ru->needles[n]))
					continue;
				memset(r, 0, sizeof(*r));
				r->insn = r->origin_insn = r->origin.insn = r->invalidated.insn = -1;
				r->pattern = &ru->p;
				r->pre_verifier = ru->pre;
				r->has_error = true;
				snprintf(r->message, sizeof(r->message), "%s", strip_libbpf(line));
				goto found;
			}
		}
	}
	return false;
found:
	if (!strcmp(r->pattern->id, "kfunc_missing")) {
		const char *a = strchr(r->message, '\''), *b = a ? strchr(a + 1, '\'') : NULL;
		if (b)
			snprintf(r->detail, sizeof(r->detail), "%.*s is not in this kernel's BTF "
				 "(or has another prototype there)", (int)(b - a + 1), a);
	}
	/* The names libbpf gives, as detail. */
	for (const char *p = text; *p;) {
		const char *q;
		p = next_line(p, line, sizeof(line));
		if (!strcmp(r->pattern->id, "core_relo") && (q = strstr(line, "] struct ")) &&
		    strstr(line, "relo #") && !r->detail[0]) {
			size_t n = strcspn(q + 2, " (");
			snprintf(r->detail, sizeof(r->detail), "CO-RE: %.*s is not in this kernel's "
				 "BTF", (int)n, q + 2);
		} else if ((q = strstr(line, "map '")) && !strcmp(r->pattern->id, "map_create") &&
			   !r->detail[0]) {
			const char *b = strchr(q + 5, '\'');
			if (b)
				snprintf(r->detail, sizeof(r->detail), "map '%.*s'", (int)(b - q - 5), q + 5);
		} else if ((q = strstr(line, "section name '")) && !strcmp(r->pattern->id, "bad_section") &&
			   !r->detail[0]) {
			snprintf(r->detail, sizeof(r->detail), "SEC(\"%.*s\")",
				 (int)strcspn(q + 14, "'"), q + 14);
		}
	}
	return true;
}

/* journalctl's "Jun 02 11:52:37 host prog[123]: " before each line. */
static const char *strip_syslog(const char *s)
{
	const char *b;

	if (strlen(s) > 16 && isupper((unsigned char)s[0]) && s[3] == ' ' && s[6] == ' ' &&
	    s[9] == ':' && s[12] == ':' && (b = strstr(s, "]: ")))
		return b + 3;
	return s;
}

/* A line that belongs to a verifier log. */
static bool looks_like_log(const char *s)
{
	return isdigit((unsigned char)*s) || !strncmp(s, "; ", 2) || !strncmp(s, "R", 1) ||
	       !strncmp(s, "processed ", 10) || !strncmp(s, "func#", 5) ||
	       !strncmp(s, "from ", 5) || !strncmp(s, "verification time", 17) ||
	       !strncmp(s, "stack depth", 11) || !strncmp(s, "Validating", 10) ||
	       !strncmp(s, "arg#", 4) || !strncmp(s, "invalid", 7) ||
	       !strncmp(s, "last_idx", 8) || !strncmp(s, "regs=", 5) ||
	       !strncmp(s, "mark_precise", 12);
}

struct buf {
	char *s;
	size_t n, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 2 > b->cap) {
		size_t cap = (b->cap + n + 2) * 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return -ENOMEM;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n++] = '\n';
	b->s[b->n] = '\0';
	return 0;
}

static enum vlog_loader detect(const char *t)
{
	if (strstr(t, "Verifier output:"))
		return VLOG_AYA;
	/* before cilium's: bcc's "Failed to load program: " holds "load program: " too */
	if (strstr(t, "bpf: Failed to load program") || strstr(t, "Failed to load BPF program"))
		return VLOG_BCC;
	if (strstr(t, "load program: "))
		return VLOG_CILIUM;
	if (strstr(t, "Error: failed to load object file") || strstr(t, "bpftool"))
		return VLOG_BPFTOOL;
	if (strstr(t, "libbpf: ") || strstr(t, "-- BEGIN PROG LOAD LOG --"))
		return VLOG_LIBBPF;
	return VLOG_RAW;
}

/* cilium/ebpf's one-line form: "...load program: permission denied: <the last lines
 * joined by ': '> (N line(s) omitted)". */
static int cilium_line(const char *line, struct buf *b)
{
	const char *p = strstr(line, "load program: ");
	char tmp[1024], *q, *e;

	if (!p)
		return 0;
	p += 14;
	p = strstr(p, ": "); /* past the errno's words */
	if (!p)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", p + 2);
	e = strstr(tmp, " (");
	if (e && strstr(e, "line(s) omitted)"))
		*e = '\0';
	for (q = tmp; *q;) {
		size_t n = strcspn(q, ":");
		/* a ": " separates lines; a ':' inside a line ("@ file.c:12") does not */
		while (q[n] == ':' && q[n + 1] != ' ' && q[n + 1])
			n += 1 + strcspn(q + n + 1, ":");
		if (put(b, q, n))
			return -ENOMEM;
		q += n;
		while (*q == ':' || *q == ' ')
			q++;
	}
	return 1;
}

int vlog_explain(const char *text, struct vlog_result *r, enum vlog_loader *loader,
		 char **log_out)
{
	struct buf b = {};
	char line[4096];
	/* libbpf 1.x: "-- BEGIN PROG LOAD LOG --"; before 0.7: "-- BEGIN DUMP LOG ---" */
	bool in_frame = false, framed = strstr(text, "-- BEGIN PROG LOAD LOG --") ||
					strstr(text, "-- BEGIN DUMP LOG ---");
	bool after_marker = false, started = false;
	enum vlog_loader l = detect(text);
	struct vlog_result pre;
	bool have_pre;

	*loader = l;
	if (log_out)
		*log_out = NULL;
	for (const char *p = text; *p;) {
		const char *s;
		p = next_line(p, line, sizeof(line));
		s = line;
		/* journald / Go logger prefixes keep the message after msg=" or a ": " */
		if (!strncmp(s, "level=", 6) && strstr(s, "msg=\"")) {
			char *m = strstr(line, "msg=\"") + 5, *e = strrchr(m, '"');
			if (e)
				*e = '\0';
			s = m;
		}
		s = strip_syslog(s);
		while (*s == '\t' || *s == ' ')
			s++;
		s = strip_libbpf(s);
		if (strstr(s, "-- BEGIN PROG LOAD LOG --") || strstr(s, "-- BEGIN DUMP LOG ---")) {
			in_frame = true;
			continue;
		}
		if (strstr(s, "-- END PROG LOAD LOG --") || strstr(s, "-- END LOG --")) {
			in_frame = false;
			continue;
		}
		if (framed) {
			if (in_frame && put(&b, s, strlen(s)))
				goto nomem;
			continue;
		}
		if (l == VLOG_CILIUM && !strncmp(s, "Verifier log: ", 14)) {
			after_marker = true; /* "%+v": the full log follows, tab-indented */
			continue;
		}
		if (l == VLOG_CILIUM && !after_marker && strstr(s, "load program: ")) {
			if (cilium_line(s, &b) < 0)
				goto nomem;
			continue;
		}
		if (l == VLOG_AYA && strstr(s, "Verifier output:")) {
			s = strstr(s, "Verifier output:") + 16;
			while (*s == ' ')
				s++;
			if (!*s)
				continue;
		}
		/* From the first line that looks like a log on, every line: error messages
		 * have no fixed shape. What follows the summary is cut below. */
		if (!started && !looks_like_log(s))
			continue;
		started = true;
		if (put(&b, s, strlen(s)))
			goto nomem;
	}
	if (b.s && !framed) {
		char *last = NULL, *p = b.s;
		if (!strncmp(p, "processed ", 10))
			last = p;
		while ((p = strstr(p, "\nprocessed ")))
			last = ++p;
		if (last) {
			last += strcspn(last, "\n");
			if (*last)
				last[1] = '\0';
			b.n = strlen(b.s);
		}
	}
	/* cilium's %+v form repeats the one-line summary first: keep only the full log. */
	if (after_marker) {
		struct buf full = {};
		bool on = false;
		for (const char *p = text; *p;) {
			const char *s;
			p = next_line(p, line, sizeof(line));
			if (strstr(line, "Verifier log: ")) {
				on = true;
				continue;
			}
			if (!on || line[0] != '\t')
				continue;
			s = line;
			while (*s == '\t')
				s++;
			if (put(&full, s, strlen(s))) {
				free(full.s);
				goto nomem;
			}
		}
		free(b.s);
		b = full;
	}

	have_pre = vlog_analyze_libbpf(text, &pre);
	if (b.s && vlog_analyze(b.s, r) == 0 && r->has_error &&
	    (strcmp(r->pattern->id, "unknown") || !have_pre)) {
		/* libbpf knows more than the verifier about a poisoned CO-RE instruction */
		if (have_pre && !strcmp(pre.pattern->id, "core_relo") && !r->detail[0])
			snprintf(r->detail, sizeof(r->detail), "%s", pre.detail);
	} else if (have_pre) {
		*r = pre;
	} else if (b.s && vlog_analyze(b.s, r) == 0) {
		/* a log with no error in it: nothing was rejected */
	} else {
		free(b.s);
		return -EINVAL;
	}
	if (log_out)
		*log_out = b.s;
	else
		free(b.s);
	return 0;
nomem:
	free(b.s);
	return -ENOMEM;
}
