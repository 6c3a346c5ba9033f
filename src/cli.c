// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The command table and what every command's option parsing shares: help, usage errors,
 * the common -j/-v/-h options. In the library so tests can link commands too. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static const struct command commands[] = {
#define CMD(id, summary) { #id, summary, cmd_##id##_usage, cmd_##id, NULL },
#define ALIAS(name, id) { name, "alias of " #id, cmd_##id##_usage, cmd_##id, #id },
#include "commands.def"
#undef CMD
#undef ALIAS
};

const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void print_usage(const char *name, FILE *f)
{
	const struct command *c = find_command(name);
	if (c)
		fprintf(f, "%s", c->usage);
}

void print_help(FILE *f)
{
	fprintf(f, "bpflab %s: the eBPF 101 talk, made real\n\n"
		   "usage: bpflab [-v] [--json] [--netns NAME] <command> [args]\n\n"
		   "commands:\n", BPFLAB_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!commands[i].alias_of)
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-8s %s\n", "help", "this text; `bpflab help CMD` or `bpflab CMD --help` for one command");
	fprintf(f, "\nglobal options:\n"
		   "  -v, --verbose   show libbpf's messages and the commands bpflab runs\n"
		   "  -j, --json      machine-readable output (JSON Lines for streams)\n"
		   "  --netns NAME    run the command inside network namespace NAME\n"
		   "  --version       print the version\n"
		   "\nexit codes: 0 ok, 1 failure, 2 usage error, 3 kernel feature missing,\n"
		   "            4 not privileged, 5 program rejected by the verifier\n");
}

int usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bpflab %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'bpflab %s --help'\n", name);
	return EXIT_USAGE;
}

int common_opt(const char *name, int c)
{
	switch (c) {
	case 'j':
		g_opts.json = true;
		return 0;
	case 'v':
		g_opts.verbose = true;
		return 0;
	case 'h':
		print_usage(name, stdout);
		/* Callers return this straight away; 0 would be read as "go on". */
		exit(EXIT_OK);
	case '?':
		fprintf(stderr, "see 'bpflab %s --help'\n", name);
		return EXIT_USAGE;
	case ':':
		fprintf(stderr, "see 'bpflab %s --help'\n", name);
		return EXIT_USAGE;
	}
	return -1;
}

