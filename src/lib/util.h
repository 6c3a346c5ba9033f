/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Things every command needs: exit codes, logging, option parsing helpers, netns. */
#ifndef BPFLAB_UTIL_H
#define BPFLAB_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>

/* Exit codes: scripts can tell a typo from a broken kernel. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,        /* runtime failure */
	EXIT_USAGE = 2,       /* bad arguments; nothing was changed */
	EXIT_UNSUPPORTED = 3, /* the kernel lacks a feature this needs */
	EXIT_NOPERM = 4,      /* not privileged enough */
	EXIT_REJECTED = 5,    /* the verifier rejected a program */
};

struct global_opts {
	bool json;
	bool verbose;
	const char *netns; /* --netns NAME: the command runs inside that namespace */
};
extern struct global_opts g_opts;

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Signals: Ctrl-C and SIGTERM set `exiting`; loops poll it. */
extern volatile sig_atomic_t exiting;
void setup_signals(void);

/* Strict number parsing: the whole string, in range, else -EINVAL. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_duration(const char *s, double *seconds);

/* Interface names: length and characters checked before the kernel sees them. */
int iface_check_name(const char *name);
/* Resolves an interface in the current netns; prints the error itself. */
int iface_resolve(const char *name, int *ifindex);

/* Runs argv without a shell; returns the exit status, -errno on spawn failure.
 * quiet: stdout/stderr of the child go to /dev/null. */
int run_cmd(char *const argv[], bool quiet);
int run_cmdf(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Moves this process into the named network namespace (/run/netns/NAME) without
 * changing its mount namespace, so /sys/fs/bpf stays the one of the caller. */
int netns_enter(const char *name);
/* Name of the netns we are in: "" for the initial one, its /run/netns name, or "ns<ino>". */
void netns_current_name(char *buf, size_t len);

bool is_root(void);
/* Prints which capabilities are missing for `what` and returns EXIT_NOPERM; 0 when fine. */
int require_root(const char *what);

double now_mono(void);
const char *strerr(int err); /* takes +errno or -errno */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
