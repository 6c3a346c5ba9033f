// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab: the eBPF 101 talk as a toolkit. Global options, then dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"
#include "bpfutil.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, 0, 'j' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ "netns", required_argument, 0, 'N' },
		{ "version", no_argument, 0, 'V' },
		{}
	};
	const struct command *cmd;
	int c;

	/* '+': stop at the command name; everything after it belongs to the command. */
	while ((c = getopt_long(argc, argv, "+jvhN:V", opts, NULL)) != -1) {
		switch (c) {
		case 'j': g_opts.json = true; break;
		case 'v': g_opts.verbose = true; break;
		case 'h': print_help(stdout); return EXIT_OK;
		case 'N': g_opts.netns = optarg; break;
		case 'V': printf("bpflab %s\n", BPFLAB_VERSION); return EXIT_OK;
		default:
			fprintf(stderr, "see 'bpflab help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc) {
			if (!find_command(argv[optind + 1])) {
				fprintf(stderr, "bpflab: unknown command '%s'; see 'bpflab help'\n",
					argv[optind + 1]);
				return EXIT_USAGE;
			}
			print_usage(argv[optind + 1], stdout);
		} else {
			print_help(stdout);
		}
		return EXIT_OK;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "bpflab: unknown command '%s'; see 'bpflab help'\n", argv[optind]);
		return EXIT_USAGE;
	}
	bpflab_libbpf_init();
	setup_signals();
	if (g_opts.netns) {
		int err = require_root("--netns");
		if (err)
			return err;
		if (netns_enter(g_opts.netns))
			return EXIT_FAIL;
	}
	argv += optind;
	argc -= optind;
	optind = 0; /* 0 makes glibc's getopt re-initialise for the command's own parse */
	return cmd->fn(argc, argv);
}
