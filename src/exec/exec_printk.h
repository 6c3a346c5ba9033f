/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `bpflab exec --printk`: the talk's literal Hello World, bpf_printk() read back from
 * trace_pipe. trace_pipe is shared by every tracer on the machine: only our lines count. */
#ifndef BPFLAB_EXEC_PRINTK_H
#define BPFLAB_EXEC_PRINTK_H

#include <stdbool.h>
#include <stddef.h>

#define EXEC_PRINTK_MESSAGE "Hello, exec!"

/* One trace_pipe line, "  task-PID  [CPU] flags  TS: EVENT: MSG", taken apart. */
struct printk_line {
	const char *task;  /* NULL when the line has no "task-PID" part */
	size_t task_len;
	long pid, cpu;     /* -1 when absent */
	const char *msg;   /* after "bpf_trace_printk: " */
	size_t msg_len;
};
/* True when the line is a bpf_trace_printk event whose message is ours; fills l. Lines of
 * other events (a trace_marker write that merely contains the words) or of other BPF
 * programs are not. */
bool printk_line_ours(const char *line, size_t len, struct printk_line *l);

int exec_printk_run(double duration);

#endif
