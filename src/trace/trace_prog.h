/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opening, configuring, loading and attaching trace.bpf.c: used by the command, its bench
 * case and the tests alike. */
#ifndef BPFLAB_TRACE_PROG_H
#define BPFLAB_TRACE_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "trace.h"
#include "tfilter.h"

/* One tracepoint of the issue: its tracefs group and name, and the hook id. */
struct trace_hook_def {
	int hook;            /* enum trace_hook */
	const char *group;   /* "skb" */
	const char *name;    /* "kfree_skb" */
};
extern const struct trace_hook_def trace_hooks[];
extern const size_t trace_nhooks;
/* "kfree_skb"; "verdict" for our own programs' reports; "?" */
const char *trace_hook_name(int hook);
const char *trace_hook_group(int hook);

/* Whether this kernel has the tracepoint: its tp_btf type (btf_trace_NAME) in the kernel's
 * BTF, which is what the program attaches to. tracefs: *in_tracefs, when not NULL, says
 * whether events/GROUP/NAME exists too (after mounting tracefs if needed). */
bool trace_hook_available(const struct trace_hook_def *h, bool *in_tracefs);

struct trace_bpf;
struct bpf_link;
struct trace_prog {
	struct trace_bpf *skel;
	struct bpf_link *links[TRH__MAX];
	bool have[TRH__MAX];         /* available here (and so loaded) */
	int nhave, nmissing;
	char missing[512];           /* "group:name, ..." of the ones this kernel lacks */
};

/* Opens, sets the filter and the ring size, keeps only the programs whose tracepoints
 * exist, loads. 0 or -errno (said). */
int trace_prog_open(struct trace_prog *tp, const struct tf_prog *filter, __u32 ringbuf_size);
/* Attaches every loaded program (bpf_link: gone with the process). 0 or -errno (said). */
int trace_prog_attach(struct trace_prog *tp);
int trace_prog_events_fd(const struct trace_prog *tp);
/* The per-CPU counters (enum trace_counter_idx), summed. */
int trace_prog_counters(const struct trace_prog *tp, __u64 out[TRC__MAX]);
void trace_prog_close(struct trace_prog *tp);

/* trace_btf.c: names from the kernel's BTF; NULL when it has none for the value. */
const char *trace_drop_reason(__u32 reason);   /* "NETFILTER_DROP" */
const char *trace_rst_reason(__u32 reason);    /* "NO_SOCKET" */
bool trace_btf_has_type(const char *name);
/* "nft_do_chain+0x4a1" from /proc/kallsyms, else the address in hex. */
int trace_ksym(__u64 addr, char *buf, size_t len);

#endif
