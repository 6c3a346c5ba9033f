/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Inside the probes: what probe.c, probe_trace.c, probe_net.c and probe_table.c share.
 * Not for commands: they use probe.h. */
#ifndef BPFLAB_PROBE_INT_H
#define BPFLAB_PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include "probe.h"

#define KERNEL_ENOTSUPP 524 /* kernel-internal, but it does reach user space */

void set_res(struct probe_result *r, enum probe_status st, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void set_hint(struct probe_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* EPERM/EACCES: refused (policy); "does not exist" errors: missing; else unknown. */
enum probe_status classify(int err);
void set_failed(struct probe_result *r, int err, const char *what);

/* "return ret" as a program of `type`: an fd or -errno; the verifier's log into log. */
int load_ret_log(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret,
		 char *log, size_t log_len);
int load_ret(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id, int ret);
int read_text(const char *path, char *buf, size_t len);
/* Runs fn(ctx) in a child and copies ctx (len bytes) back; fn's return value or -errno. */
int run_child(int (*fn)(void *ctx), void *ctx, size_t len);
/* probe_child.c */
/* A file under tracefs, read where it is mounted or through a private mount. */
int tracefs_read(const char *rel, char *buf, size_t len);
/* Where tracefs is mounted, or NULL. */
const char *tracefs_mounted(void);
/* Loaded once; NULL with *err = -errno when the kernel has none. */
struct btf *get_vmlinux_btf(int *err);
int securityfs_read(const char *rel, char *buf, size_t len);
void lockdown_state(char *out, size_t len); /* "none", "integrity", ... or "" */

/* probe_trace.c */
void probe_tracepoint(struct probe_result *r);
void probe_kprobe(struct probe_result *r);
void probe_uprobe(struct probe_result *r);
void probe_raw_tp(struct probe_result *r);
void probe_tp_btf(struct probe_result *r);
void probe_net_tp(struct probe_result *r);
void probe_trampoline(struct probe_result *r, enum bpf_prog_type type,
		      enum bpf_attach_type eat, const char *func, const char *kind);
/* probe_net.c: probes every network feature at once, into results[]/probed[]. */
void probe_net(struct probe_result *results, bool *probed);

#endif
