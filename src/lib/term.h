/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Text that reaches a terminal: what a traced program or a BPF object puts in a string
 * must not move the cursor, set the title or change colours. */
#ifndef BPFLAB_TERM_H
#define BPFLAB_TERM_H

#include <stddef.h>

/* Escapes bytes for a terminal: control characters and invalid UTF-8 become \xNN,
 * C1 controls \u00NN, backslash doubles. Returns the length written (always
 * NUL-terminated when cap > 0); stops at a whole escape when out is full. */
size_t escape_for_terminal(const char *s, size_t n, char *out, size_t cap);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not valid. */
int utf8_seq_len(const unsigned char *s, size_t n);

#endif
