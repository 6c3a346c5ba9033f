/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Verifier-log analysis: pure functions over the text the kernel returns when it rejects
 * (or accepts) a program. No BPF, no I/O: unit-tested on stored logs. */
#ifndef BPFLAB_VLOG_H
#define BPFLAB_VLOG_H

#include <stdbool.h>
#include <stddef.h>

/* One known way of being rejected. */
struct vlog_pattern {
	const char *id;          /* stable, for scripts and tests: "null_check", ... */
	const char *title;       /* a few words */
	const char *explanation; /* what the verifier saw, in plain words */
	const char *fix;         /* the usual fix */
};

/* One known way of being rejected, and the message fragments that identify it. A rule
 * without needles is only reached from a more general one, by context (vlog.c). */
struct vlog_rule {
	struct vlog_pattern p;
	bool pre;               /* said by libbpf or the kernel before the verifier ran */
	const char *needles[6]; /* a line of the error block containing any of these matches */
};

extern const struct vlog_rule vlog_rules[];
extern const size_t vlog_nrules;

struct vlog_word {
	const char *word, *meaning;
};

#define VLOG_MAX_WORDS 12

/* A C line of the program an instruction came from; insn -1 when there is none. */
struct vlog_where {
	int insn;
	int line;
	char source[256];
};

struct vlog_result {
	const struct vlog_pattern *pattern; /* never NULL: "unknown" when nothing matched */
	bool pre_verifier;    /* libbpf (or the kernel's load checks) failed, no verifier walk */
	int insn;             /* instruction index where it went wrong, -1 when unknown */
	char message[256];    /* the verifier's own words (first line of the error) */
	char source[256];     /* C source of that instruction, from BTF line info; "" if none */
	char file[128];       /* source file name, "" if the kernel did not say */
	int line;             /* source line number, 0 if unknown */
	bool has_line_info;   /* the log holds "; <source>" lines at all */
	bool has_error;       /* an error message follows the last instruction: a log that
	                       * ends in a rejection, not in "processed N insns" alone */
	/* Where a leaked reference was taken (alloc_insn=N in the message), else -1/"". */
	int origin_insn;
	char origin_source[256];
	int origin_line;
	size_t tail_off;      /* the relevant tail of the log starts at log + tail_off */
	char detail[384];     /* what the context adds: the helper and its first kernel, the
	                       * field CO-RE could not find, ...; "" when nothing */
	char reg[8];          /* the register the message is about ("R6"), "" if none */
	char reg_state[256];  /* its last state printed in the log before the error */
	struct vlog_where origin;      /* the instruction that last wrote that register */
	struct vlog_where invalidated; /* the packet-changing helper call in between */
	char invalidated_by[64];       /* that helper's name */
	size_t nwords;                 /* what the message's words mean (unknown pattern) */
	struct vlog_word words[VLOG_MAX_WORDS];
};

/* Where a pasted text came from, as vlog_explain() recognised it. */
enum vlog_loader {
	VLOG_RAW,      /* a bare verifier log */
	VLOG_LIBBPF,   /* libbpf's "-- BEGIN PROG LOAD LOG --" framing (also bpftool's) */
	VLOG_BPFTOOL,  /* bpftool prog load: libbpf's lines and "Error: ..." */
	VLOG_CILIUM,   /* cilium/ebpf: "load program: permission denied: ... (N line(s) omitted)" */
	VLOG_AYA,      /* aya: "the BPF_PROG_LOAD syscall failed. Verifier output: ..." */
	VLOG_BCC,      /* bcc: "bpf: Failed to load program: ..." */
};

const char *vlog_loader_name(enum vlog_loader l);

#define VLOG_MAX_FRAMES 16 /* BPF allows 8 nested frames; subprograms are listed too */

/* Numbers of the summary lines, on success or failure; -1 where absent. */
struct vlog_stats {
	long insns_processed;
	long max_states_per_insn;
	long total_states;
	long peak_states;
	long verification_time_us;
	char stack_depth[64]; /* as the kernel prints it: "0+8+8" for three frames */
	int stack_frames;     /* how many numbers stack_depth holds (0: no such line) */
	long stack_depth_frame[VLOG_MAX_FRAMES]; /* the same as numbers, per frame */
};

/* Analyses a rejection log. Returns 0 (r filled) or -EINVAL for an empty log. */
int vlog_analyze(const char *log, struct vlog_result *r);
void vlog_stats(const char *log, struct vlog_stats *s);

/* Explains libbpf's own messages (captured while loading, or pasted): the patterns that
 * fail before the verifier. Fills r when one matches and returns true. */
bool vlog_analyze_libbpf(const char *text, struct vlog_result *r);

/* Explains a text pasted from any loader: finds its verifier log and libbpf lines,
 * analyses them; *log_out (malloc'd, may be NULL) is the verifier log found in it.
 * Returns 0, or -EINVAL when the text holds nothing to explain. */
int vlog_explain(const char *text, struct vlog_result *r, enum vlog_loader *loader,
		 char **log_out);

/* All known patterns (the "unknown" one last), for docs and tests. */
const struct vlog_pattern *vlog_patterns(size_t *n);
const struct vlog_pattern *vlog_pattern_by_id(const char *id);

#endif
