/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal TAP producer for bpflab's C tests; tests/run reads its output.
 * Use: plan-less; tap_done() prints the plan at the end and returns the exit code. */
#ifndef BPFLAB_TAP_H
#define BPFLAB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int tap_n, tap_failed;

static inline int ok_(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}
#define ok(cond, ...) ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) ({ \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	int r_ = ok(g_ == w_, __VA_ARGS__); \
	if (!r_) printf("#   got %lld, want %lld\n", g_, w_); \
	r_; })

#define is_str(got, want, ...) ({ \
	const char *g_ = (got), *w_ = (want); \
	int r_ = ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__); \
	if (!r_) printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	r_; })

/* Compares two buffers; on mismatch prints the first differing offset. */
#define is_mem(got, glen, want, wlen, ...) ({ \
	const unsigned char *g_ = (const void *)(got), *w_ = (const void *)(want); \
	size_t gl_ = (glen), wl_ = (wlen), i_ = 0; \
	while (i_ < gl_ && i_ < wl_ && g_[i_] == w_[i_]) i_++; \
	int r_ = ok(gl_ == wl_ && i_ == gl_, __VA_ARGS__); \
	if (!r_) printf("#   lengths %zu/%zu, first difference at byte %zu\n", gl_, wl_, i_); \
	r_; })

static inline void tap_skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* For tests that need to load BPF. Without root: skip the whole file — unless CI is set,
 * where a test that cannot get BPF is a failure, not a silent skip. */
static inline int tap_require_bpf(void)
{
	if (geteuid() == 0)
		return 1;
	if (getenv("CI") && *getenv("CI")) {
		ok(0, "BPF tests need root, and CI is set: failing instead of skipping");
		return 0;
	}
	printf("1..0 # SKIP needs root to load BPF programs\n");
	exit(0);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
