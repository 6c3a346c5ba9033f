/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command options and subcommands, each written once in a typed table (as xdp-tools'
 * option definitions and bpftool's command tables): the one parser, --help, the man page
 * and bash completion all walk the same table. Also what every command's parsing shares:
 * the common -j/-v/-h options and usage errors. In lib, so that features need nothing from
 * the command table above them: the table (src/cli.c) hands its hooks down at start-up. */
#ifndef BPFLAB_OPTS_H
#define BPFLAB_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,     /* bool, set to true */
	OPT_STR,      /* const char *, the argument itself */
	OPT_FILE,     /* const char *, a path (completion offers files) */
	OPT_UINT,     /* uint64_t in [min, max], decimal digits only */
	OPT_U32,      /* uint32_t in [min, max] */
	OPT_SIZE,     /* uint64_t byte count with optional K/M/G, in [min, max] */
	OPT_DOUBLE,   /* double, DIGITS[.DIGITS] in [dmin, dmax] */
	OPT_DURATION, /* double seconds in [dmin, dmax] (dmax 0: DURATION_MAX) */
	OPT_ENUM,     /* int, one of .values (by name); completion offers the names */
	OPT_IFACE,    /* const char *, a valid interface name; completion offers interfaces */
	OPT_IPV4,     /* struct in_addr, strict dotted quad (addr.h) */
	OPT_FUNC,     /* .parse(arg, dst, why, whylen) decides; dst is &struct + off */
};

struct opt_enum {
	const char *name;
	int value;
	bool hidden; /* accepted (an old spelling), not offered */
};

struct opt_def {
	const char *name;  /* long name, without "--"; NULL ends the table */
	int short_opt;     /* 'm', or 0 */
	enum opt_type type;
	size_t off;        /* where the value goes: offsetof(struct my_opts, field) */
	const char *arg;   /* the argument's name in help ("S", "MODE"); NULL: from the type */
	const char *help;
	const char *def;   /* the default, as the help shows it; NULL: none said */
	uint64_t min, max; /* OPT_UINT/U32/SIZE (max 0: no upper bound) */
	double dmin, dmax; /* OPT_DOUBLE/DURATION */
	const struct opt_enum *values; /* OPT_ENUM, ends with { NULL } */
	/* OPT_FUNC: 0 or -1 with `why` saying what is accepted. */
	int (*parse)(const char *arg, void *dst, char *why, size_t whylen);
	bool hidden;       /* parsed, not shown (an old name kept working) */
	bool zero_ok;      /* OPT_DURATION/DOUBLE: 0 is accepted below dmin ("0: none") */
	/* Options of one table may belong to some subcommands only: "start" or "add,del";
	 * NULL: all. Shown in help, completion and man page beside the option. */
	const char *only;
};

/* The fields every entry has, designated (so the optional ones may follow):
 *   { OPTDEF("interval", 'i', OPT_DURATION, struct count_opts, interval, "S", "help"),
 *     .def = "1", .dmin = INTERVAL_MIN } */
#define OPTDEF(lname, sopt, otype, stype, field, argname, helptext) \
	.name = (lname), .short_opt = (sopt), .type = (otype), .off = offsetof(stype, field), \
	.arg = (argname), .help = (helptext)
#define OPTS_END { .name = NULL }

/* Entries that more than one command takes, each written once (stype: the options struct).
 * The XDP attach mode, and --mode, its name before every XDP command took -m/--xdp-mode:
 * still parsed, no longer shown. */
#define OPTS_XDP_MODE(stype, field) \
	{ OPTDEF("xdp-mode", 'm', OPT_ENUM, stype, field, "MODE", \
		 "XDP attach mode (skb is generic)"), .def = "auto", .values = opts_xdp_modes }, \
	{ OPTDEF("mode", 0, OPT_ENUM, stype, field, "MODE", "old name of --xdp-mode"), \
	  .values = opts_xdp_modes, .hidden = true }
/* -d/--duration of a command that otherwise runs until Ctrl-C. */
#define OPTS_DURATION(stype, field) \
	{ OPTDEF("duration", 'd', OPT_DURATION, stype, field, "S", \
		 "stop after S seconds, e.g. 10 or 0.5"), .def = "until Ctrl-C" }

struct cmd_spec;

struct subcmd {
	const char *name;     /* NULL ends the table */
	const char *args;     /* synopsis after the name: "IFACE --mode nat|dsr [options]" */
	const char *summary;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand's name */
	const struct cmd_spec *spec;      /* its own options, if it has a table of its own */
};

struct cmd_spec {
	const char *name;      /* "count" */
	const char *args;      /* synopsis after the name: "[IFACE] [options]" */
	const char *about;     /* the description paragraph(s), ending in "\n" */
	const struct opt_def *opts;   /* ends with OPTS_END; the common -j/-v/-h are added */
	const struct subcmd *subs;    /* or NULL */
	const char *notes;     /* after the options: examples, exit codes ("\n"-ended) */
	const char *json_help; /* what -j/--json prints here; NULL: the general words */
	void (*help_tail)(FILE *f); /* --help only (not the man page): what is true here */
	void (*help_fn)(FILE *f);   /* prints the whole help instead (bpflab's own: the commands) */
	/* Positional words the completion offers for the first argument: OPT_IFACE or
	 * OPT_FILE; anything else offers nothing. */
	enum opt_type first_arg;
	bool stop_at_arg;      /* options end at the first non-option (lab exec NODE CMD...) */
	/* How many words that are not options it takes: "unexpected argument" past max_args
	 * (-1: any number), "missing ARGS" below min_args. */
	int min_args, max_args;
};

/* Returned by opts_parse when the command goes on; anything else is the exit code to
 * return now (EXIT_OK after --help, EXIT_USAGE after a usage error, already printed). */
#define OPTS_GO_ON (-1)

/* Parses argv[1..] against spec->opts into dst (the command's options struct, holding its
 * defaults already). Common -j/-v/-h are handled. On OPTS_GO_ON, the words that are not
 * options are argv[optind..argc-1] (getopt's optind). Unknown options, missing or bad
 * values: a usage_error naming the option and what it accepts. */
int opts_parse(const struct cmd_spec *spec, int argc, char **argv, void *dst);

/* Dispatches argv[0] (the subcommand word; "help", -h and --help print the help) on
 * spec->subs: exact names first, then an unambiguous prefix (bpftool's rule). def: what
 * runs with no word at all (NULL: usage error). Returns the subcommand's exit code. */
int opts_dispatch(const struct cmd_spec *spec, int argc, char **argv, const char *def);
/* The subcommand `word` names, exactly or as an unambiguous prefix; NULL with *ambiguous
 * set when it could be more than one. */
const struct subcmd *opts_find_sub(const struct subcmd *subs, const char *word, bool *ambiguous);

/* The --help text, the man page and the completion words, all from the table. */
void opts_print_help(const struct cmd_spec *spec, FILE *f);
/* roff body: SYNOPSIS, DESCRIPTION, SUBCOMMANDS, OPTIONS (every option, its argument, its
 * accepted values and default), NOTES. */
void opts_print_man(const struct cmd_spec *spec, const char *summary, FILE *f);
/* A bash `case` arm body for this command: completes subcommands, options, enum values
 * after an enum option, interfaces after an interface option. */
void opts_print_completion(const struct cmd_spec *spec, const char *name, FILE *f);
/* The options part alone (bpflab's own help and man page): the table's, then -j/-v/-h. */
void opts_print_options(const struct cmd_spec *spec, FILE *f);
void opts_print_man_options(const struct cmd_spec *spec, FILE *f);
/* Every option's "--long -x" words, for a completion list. */
void opts_print_words(const struct cmd_spec *spec, FILE *f);
/* roff escaping shared with the main page. */
void opts_roff(FILE *f, const char *s, size_t n);

/* Prints "bpflab <name>: ..." (name "": "bpflab: ...") and a hint, keeps the message for a --json error record,
 * and returns EXIT_USAGE. */
int usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct opts_hooks {
	void (*print_usage)(const char *name, FILE *f);
	bool (*has_command)(const char *name);
};
extern struct opts_hooks opts_hooks;
void opts_set_hooks(const struct opts_hooks *h);
/* Whether this binary has command `name` (the doctor's "built"); false before the hooks. */
bool opts_command_exists(const char *name);

/* The XDP attach mode every XDP command takes as -m/--xdp-mode (enum xdp_mode values). */
extern const struct opt_enum opts_xdp_modes[];

#endif
