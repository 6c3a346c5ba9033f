/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What `bpflab exec` prints: each ring buffer event is computed into a record once
 * (exec_record_fill), then rendered once, as a text line or a JSON Lines record. */
#ifndef BPFLAB_EXEC_SHOW_H
#define BPFLAB_EXEC_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "exec.h"

/* The argument strings of an event, split at the NULs; pointers into the event. */
struct exec_args {
	const char *arg[EXEC_MAX_ARGS_LIMIT];
	size_t len[EXEC_MAX_ARGS_LIMIT];
	__u32 n;          /* shown */
	bool truncated;   /* some arguments or bytes are not shown */
};

struct exec_record {
	const struct exec_event *e; /* ids, names and flags, read in place */
	double elapsed;             /* seconds since the tracer started */
	char time_iso[40];          /* UTC, microseconds: JSON */
	char time_local[16];        /* HH:MM:SS: text -T */
	size_t comm_len, pcomm_len, filename_len;
	const char *syscall;        /* "execve", "execveat" */
	const char *error;          /* "ENOENT"; NULL for a successful exec */
	struct exec_args args;
	char name[EXEC_COMM_LEN];   /* what --name matches (see exec_record_fill) */
};

struct exec_show {
	bool json, show_time, show_ts, quote;
	__u32 max_args;
	double start_mono;          /* CLOCK_MONOTONIC seconds at start */
	double mono_to_real;        /* add to a CLOCK_MONOTONIC time to get the wall clock */
	char *esc;                  /* escape buffer: 4 bytes out per byte in, at worst */
	size_t esc_cap;
};

/* `have`: argument bytes present in the record (the ring gives only args_len). */
void exec_record_fill(const struct exec_show *s, const struct exec_event *e, size_t have,
		      struct exec_record *r);
/* The arguments joined by spaces, raw bytes, NUL-terminated: what --line matches. */
void exec_record_line(const struct exec_record *r, char *buf, size_t cap);

struct exec_attached {
	const char *syscall_hook; /* "tracepoint", "raw_tp" */
	const char *exec_hook;    /* "tp_btf", "raw_tp" */
	__u32 ringbuf_size, max_args;
	const char *netns;        /* NULL: every process */
	bool failed_only;
};
/* The "attached" record, or the banner (stderr) and the column header. */
void exec_show_attached(const struct exec_show *s, const struct exec_attached *a);
/* One line or one JSON record; not flushed (the poll loop flushes once per batch). */
void exec_show_event(struct exec_show *s, const struct exec_record *r);

struct exec_summary {
	double elapsed;
	__u64 events, shown, lost;
	__u32 ringbuf_size;
};
void exec_show_lost(const struct exec_show *s, __u64 lost, __u32 ringbuf_size);
void exec_show_summary(const struct exec_show *s, const struct exec_summary *sum);

const char *exec_errno_name(int err); /* "ENOENT"; takes +/-errno */

#endif
