/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef BPFLAB_COMMANDS_H
#define BPFLAB_COMMANDS_H

#include <stdio.h>

struct command {
	const char *name;
	const char *summary;
	const char *usage;
	int (*fn)(int argc, char **argv);
	const char *alias_of;
};

#define CMD(id, summary) int cmd_##id(int argc, char **argv); extern const char cmd_##id##_usage[];
#define ALIAS(name, id)
#include "commands.def"
#undef CMD
#undef ALIAS

/* getopt_long entries every command accepts; handle them with common_opt(). */
#define COMMON_LONGOPTS \
	{ "json", no_argument, 0, 'j' }, \
	{ "verbose", no_argument, 0, 'v' }, \
	{ "help", no_argument, 0, 'h' }
#define COMMON_SHORTOPTS "jvh"

/* Handles -j/-v/-h for command `name`. Returns -1 when not a common option, else the
 * exit code to return now (help) or 0 to go on. */
int common_opt(const char *name, int c);
/* Prints "<name>: ..." usage error with a hint and returns EXIT_USAGE. */
int usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void print_usage(const char *name, FILE *f);
void print_help(FILE *f);
const struct command *find_command(const char *name);

#endif
