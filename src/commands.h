/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef BPFLAB_COMMANDS_H
#define BPFLAB_COMMANDS_H

#include <stdio.h>
#include "opts.h"

struct command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
	const char *alias_of;
	const struct cmd_spec *spec; /* its options and subcommands: help, man page, completion */
};

#define CMD(id, summary) int cmd_##id(int argc, char **argv); \
	extern const struct cmd_spec cmd_##id##_spec;
#define ALIAS(name, id)
#include "commands.def"
#undef CMD
#undef ALIAS

/* bpflab's own options, before the command (src/main.c parses them, cli.c prints them). */
struct main_opts {
	const char *netns, *man;
	bool version, completion;
};
extern const struct cmd_spec cli_main_spec;

/* The table hands these down to lib/opts.c (print_usage, whether a command exists). */
extern const struct opts_hooks cli_hooks;
/* With --json and a failing exit code, prints the {"type":"error"} record (exit code,
 * its name, what was said on stderr) on stdout. Returns code. */
int report_exit(int code);
const char *exit_code_name(int code); /* "usage", "permission", ... */
void print_usage(const char *name, FILE *f);
void print_help(FILE *f);
/* bpflab --version: ours, the libbpf we run on and were built with, the kernel we were
 * built against and the one we run on (JSON with --json). */
void print_version(FILE *f);
/* bpflab --man CMD|bpflab and --completion: a man page and the bash completion, made from
 * the command table and each command's option table (`make install` uses them).
 * -1: no such page. */
int print_man(const char *name, FILE *f);
void print_completion(FILE *f);
/* Exact name first, then an unambiguous prefix (bpftool's rule); NULL with *ambiguous
 * set when the prefix names more than one command. */
const struct command *find_command_prefix(const char *name, bool *ambiguous);
const struct command *find_command(const char *name);

#endif
