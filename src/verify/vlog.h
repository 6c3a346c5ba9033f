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

struct vlog_result {
	const struct vlog_pattern *pattern; /* never NULL: "unknown" when nothing matched */
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
};

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

/* All known patterns (the "unknown" one last), for docs and tests. */
const struct vlog_pattern *vlog_patterns(size_t *n);
const struct vlog_pattern *vlog_pattern_by_id(const char *id);

#endif
