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
	const char *cmd;   /* the command running: pr_warn says "bpflab CMD: " */
};
extern struct global_opts g_opts;

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The first WARN_KEEP messages pr_warn printed (and any warn_keep'd), without
 * the prefix: what a --json error record carries. */
#define WARN_KEEP 4
void warn_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int warn_kept(const char **msgs, int cap);

/* Signals: Ctrl-C and SIGTERM set `exiting`; loops poll it. */
extern volatile sig_atomic_t exiting;
void setup_signals(void);

/* Strict number parsing: the whole string, in range, else -EINVAL. Decimal digits only:
 * no sign, spaces, hex or octal. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A byte count: digits and an optional K, M or G (binary: 2^10, 2^20, 2^30). */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds as DIGITS[.DIGITS], nothing else (no unit, exponent or sign), in [min, max]. */
int parse_seconds(const char *s, double min, double max, double *out);
#define DURATION_MAX (86400.0 * 365)
/* parse_seconds in [0, DURATION_MAX]. */
int parse_duration(const char *s, double *seconds);
/* The shortest interval between periodic lines any command takes (0 means none). */
#define INTERVAL_MIN 0.01

/* Interface names: length and characters checked before the kernel sees them. */
int iface_check_name(const char *name);
/* Resolves an interface in the current netns; prints the error itself. */
int iface_resolve(const char *name, int *ifindex);
/* The interface's own MAC address (current netns): 0 or -errno. */
int iface_mac(const char *ifname, unsigned char mac[6]);

/* Runs argv without a shell; returns the exit status, -errno on spawn failure.
 * quiet: stdout/stderr of the child go to /dev/null. */
int run_cmd(char *const argv[], bool quiet);
int run_cmdf(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool is_root(void);

/* Capabilities, checked in the effective set (not as "euid is 0"). */
enum cap_need {
	CAPN_BPF = 1 << 0,          /* load programs, create maps */
	CAPN_PERFMON = 1 << 1,      /* tracing programs, perf events, pointer-leaking verifier mode */
	CAPN_NET_ADMIN = 1 << 2,    /* networking program types, attach to interfaces */
	CAPN_SYS_ADMIN = 1 << 3,    /* setns, mount bpffs/tracefs, BPF_*_GET_FD_BY_ID */
	CAPN_DAC_OVERRIDE = 1 << 4, /* root-only (0700) directories: tracefs, /sys/fs/bpf */
};
/* The ones of `need` this process does not have. */
unsigned caps_missing(unsigned need);
/* "CAP_BPF, CAP_NET_ADMIN" */
void caps_names(unsigned caps, char *buf, size_t len);
/* 0 when the process has every capability in `need`; else prints what `what` needs, `why`,
 * and which are missing, and returns EXIT_NOPERM. */
int require_caps(const char *what, unsigned need, const char *why);
/* require_caps with all of BPF, PERFMON, NET_ADMIN and SYS_ADMIN: for commands that have
 * not said what they need. */
int require_root(const char *what);

double now_mono(void);
const char *strerr(int err); /* takes +errno or -errno */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
