/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the parser (opts.c) and the documentation made from the tables (opts_doc.c) share;
 * not for commands. */
#ifndef BPFLAB_OPTS_INT_H
#define BPFLAB_OPTS_INT_H

#include "opts.h"

/* -j/--json, -v/--verbose, -h/--help: every command takes them, no table lists them. */
#define OPTS_NCOMMON 3
extern const struct opt_def opts_common_defs[OPTS_NCOMMON];

size_t opts_count(const struct opt_def *d);       /* entries before OPTS_END */
bool opts_takes_arg(const struct opt_def *d);
const char *opts_arg_name(const struct opt_def *d); /* "S", "MODE"...; NULL for a flag */
/* What an option accepts, in words ("an integer from 1 to 64"): errors, help, man page. */
void opts_accepted(const struct opt_def *d, char *b, size_t n);
/* Whether a comma list ("start,stop") holds word; a NULL list holds every word. */
bool opts_only_has(const char *only, const char *word);

#endif
