// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab: the eBPF 101 talk as a toolkit. Global options, then dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"
#include "netns.h"
#include "bpfutil.h"

int main(int argc, char **argv)
{
	struct main_opts mo = {};
	const struct command *cmd;
	bool ambiguous;
	int rc;

	opts_set_hooks(&cli_hooks);
	/* -h and `bpflab help`: the parser prints print_help, the command list. */
	rc = opts_parse(&cli_main_spec, argc, argv, &mo);
	if (rc != OPTS_GO_ON)
		return report_exit(rc);
	g_opts.netns = mo.netns;
	if (mo.version) {
		print_version(stdout);
		return EXIT_OK;
	}
	if (mo.man) {
		if (print_man(mo.man, stdout)) {
			fprintf(stderr, "bpflab: no man page '%s': a command or 'bpflab'\n", mo.man);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (mo.completion) {
		print_completion(stdout);
		return EXIT_OK;
	}
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc) {
			cmd = find_command_prefix(argv[optind + 1], &ambiguous);
			if (!cmd) {
				fprintf(stderr, "bpflab: %s command '%s'; see 'bpflab help'\n",
					ambiguous ? "ambiguous" : "unknown", argv[optind + 1]);
				return EXIT_USAGE;
			}
			print_usage(cmd->name, stdout);
		} else {
			print_help(stdout);
		}
		return EXIT_OK;
	}
	/* Any unambiguous prefix names a command, as in bpftool ("bpflab cou"). */
	cmd = find_command_prefix(argv[optind], &ambiguous);
	if (!cmd) {
		pr_warn("%s command '%s'; see 'bpflab help'\n", ambiguous ? "ambiguous" : "unknown",
			argv[optind]);
		return report_exit(EXIT_USAGE);
	}
	/* `bpflab CMD help` is `bpflab CMD --help`, for every command. */
	if (optind + 2 == argc && !strcmp(argv[optind + 1], "help")) {
		print_usage(cmd->name, stdout);
		return EXIT_OK;
	}
	g_opts.cmd = cmd->alias_of ? cmd->alias_of : cmd->name;
	bpflab_libbpf_init();
	setup_signals();
	if (g_opts.netns) {
		int err = require_caps("--netns", CAPN_SYS_ADMIN, "setns() into a network namespace");
		if (err)
			return report_exit(err);
		/* A namespace that is not there is a bad argument, like a missing interface. */
		err = netns_enter(g_opts.netns);
		if (err)
			return report_exit(err == -ENOENT || err == -EINVAL ? EXIT_USAGE : EXIT_FAIL);
	}
	argv += optind;
	argc -= optind;
	optind = 0; /* 0 makes glibc's getopt re-initialise for the command's own parse */
	return report_exit(cmd->fn(argc, argv));
}
