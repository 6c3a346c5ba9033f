// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Typed option and subcommand tables (see opts.h): the parser and the subcommand dispatch.
 * The help, man page and completion made from the same tables are in opts_doc.c. */
#include "opts.h"
#include "opts_int.h"
#include "util.h"
#include "addr.h"
#include "bpfutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts_hooks opts_hooks;

const struct opt_enum opts_xdp_modes[] = {
	{ .name = "auto", .value = XDP_MODE_AUTO },
	{ .name = "native", .value = XDP_MODE_NATIVE },
	{ .name = "skb", .value = XDP_MODE_GENERIC },
	{ .name = "generic", .value = XDP_MODE_GENERIC },
	/* ip-link's and xdp-tools' word for native. */
	{ .name = "drv", .value = XDP_MODE_NATIVE, .hidden = true },
	{ .name = NULL }
};

void opts_set_hooks(const struct opts_hooks *h)
{
	opts_hooks = *h;
}

bool opts_command_exists(const char *name)
{
	return opts_hooks.has_command && opts_hooks.has_command(name);
}

int usage_error(const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn_keep("%s", msg);
	if (!*name) {
		/* bpflab's own options, before any command. */
		fprintf(stderr, "bpflab: %s\nsee 'bpflab help'\n", msg);
		return EXIT_USAGE;
	}
	fprintf(stderr, "bpflab %s: %s", name, msg);
	fprintf(stderr, "\nsee 'bpflab %s --help'\n", name);
	return EXIT_USAGE;
}

/* ---- the table ---- */

const struct opt_def opts_common_defs[OPTS_NCOMMON] = {
	{ .name = "json", .short_opt = 'j', .help = "machine-readable output (JSON; JSON Lines for streams)" },
	{ .name = "verbose", .short_opt = 'v', .help = "show libbpf's messages and the commands bpflab runs" },
	{ .name = "help", .short_opt = 'h', .help = "this text (also: bpflab CMD help)" },
};

size_t opts_count(const struct opt_def *d)
{
	size_t n = 0;
	while (d && d[n].name)
		n++;
	return n;
}

bool opts_takes_arg(const struct opt_def *d)
{
	return d->type != OPT_FLAG;
}

const char *opts_arg_name(const struct opt_def *d)
{
	if (d->arg)
		return d->arg;
	switch (d->type) {
	case OPT_FLAG: return NULL;
	case OPT_UINT: case OPT_U32: return "N";
	case OPT_SIZE: return "BYTES";
	case OPT_DOUBLE: return "X";
	case OPT_DURATION: return "S";
	case OPT_ENUM: return "WORD";
	case OPT_IFACE: return "IFACE";
	case OPT_IPV4: return "ADDR";
	case OPT_FILE: return "FILE";
	default: return "ARG";
	}
}

static void fmt_size(char *b, size_t n, uint64_t v)
{
	if (v && !(v % (1ull << 30)))
		snprintf(b, n, "%" PRIu64 "G", v >> 30);
	else if (v && !(v % (1ull << 20)))
		snprintf(b, n, "%" PRIu64 "M", v >> 20);
	else if (v && !(v % (1ull << 10)))
		snprintf(b, n, "%" PRIu64 "K", v >> 10);
	else
		snprintf(b, n, "%" PRIu64, v);
}

static double dmax_of(const struct opt_def *d)
{
	return d->dmax > 0 ? d->dmax : DURATION_MAX;
}

static uint64_t umax_of(const struct opt_def *d)
{
	if (d->max)
		return d->max;
	return d->type == OPT_U32 ? UINT32_MAX : UINT64_MAX;
}

/* What an option accepts, in words: for errors, help and the man page alike. */
void opts_accepted(const struct opt_def *d, char *b, size_t n)
{
	char lo[24], hi[24];
	size_t len = 0;

	b[0] = 0;
	switch (d->type) {
	case OPT_UINT:
	case OPT_U32:
		if (umax_of(d) == UINT64_MAX || umax_of(d) == UINT32_MAX)
			snprintf(b, n, "an integer from %" PRIu64, d->min);
		else
			snprintf(b, n, "an integer from %" PRIu64 " to %" PRIu64, d->min, umax_of(d));
		break;
	case OPT_SIZE:
		fmt_size(lo, sizeof(lo), d->min);
		fmt_size(hi, sizeof(hi), umax_of(d));
		snprintf(b, n, "bytes from %s to %s, digits with an optional K, M or G", lo, hi);
		break;
	case OPT_DOUBLE:
	case OPT_DURATION: {
		const char *what = d->type == OPT_DURATION ? "seconds" : "a number";
		len = snprintf(b, n, "%s as DIGITS[.DIGITS]", what);
		if (d->zero_ok && d->dmin > 0)
			len += snprintf(b + len, n - len, ": 0 or at least %g", d->dmin);
		else if (d->dmin > 0)
			len += snprintf(b + len, n - len, ", at least %g", d->dmin);
		if (d->dmax > 0 && len < n)
			snprintf(b + len, n - len, "%s %g", d->dmin > 0 ? " and at most" : ", at most", d->dmax);
		break;
	}
	case OPT_ENUM:
		for (const struct opt_enum *e = d->values; e && e->name && len + 1 < n; e++) {
			if (e->hidden)
				continue;
			len += snprintf(b + len, n - len, "%s%s", len ? ", " : "one of ", e->name);
		}
		break;
	case OPT_IPV4:
		snprintf(b, n, "an IPv4 address, a.b.c.d");
		break;
	case OPT_IFACE:
		snprintf(b, n, "an interface name");
		break;
	default:
		break;
	}
}

static int bad_value(const char *cmd, const struct opt_def *d, const char *arg, const char *why)
{
	char acc[256];

	if (!why || !*why) {
		opts_accepted(d, acc, sizeof(acc));
		why = acc;
	}
	if (*why)
		return usage_error(cmd, "invalid --%s '%s': %s", d->name, arg, why);
	return usage_error(cmd, "invalid --%s '%s'", d->name, arg);
}

static int set_value(const char *cmd, const struct opt_def *d, const char *arg, void *dst)
{
	char *p = (char *)dst + d->off;
	char why[256] = "";
	uint64_t u;
	double v;

	switch (d->type) {
	case OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case OPT_STR:
	case OPT_FILE:
		if (!*arg)
			return usage_error(cmd, "invalid --%s '': must not be empty", d->name);
		*(const char **)p = arg;
		return 0;
	case OPT_UINT:
	case OPT_U32:
		if (parse_u64(arg, d->min, umax_of(d), &u))
			return bad_value(cmd, d, arg, NULL);
		if (d->type == OPT_U32)
			*(uint32_t *)p = (uint32_t)u;
		else
			*(uint64_t *)p = u;
		return 0;
	case OPT_SIZE:
		if (parse_size(arg, d->min, umax_of(d), &u))
			return bad_value(cmd, d, arg, NULL);
		*(uint64_t *)p = u;
		return 0;
	case OPT_DOUBLE:
	case OPT_DURATION:
		if (parse_seconds(arg, 0, dmax_of(d), &v) || (v < d->dmin && !(d->zero_ok && v == 0)))
			return bad_value(cmd, d, arg, NULL);
		*(double *)p = v;
		return 0;
	case OPT_ENUM:
		for (const struct opt_enum *e = d->values; e && e->name; e++) {
			if (!strcmp(e->name, arg)) {
				*(int *)p = e->value;
				return 0;
			}
		}
		return bad_value(cmd, d, arg, NULL);
	case OPT_IFACE:
		if (iface_check_name(arg))
			return EXIT_USAGE;
		*(const char **)p = arg;
		return 0;
	case OPT_IPV4:
		if (parse_ipv4(arg, (struct in_addr *)p))
			return bad_value(cmd, d, arg, NULL);
		return 0;
	case OPT_FUNC:
		if (d->parse(arg, p, why, sizeof(why)))
			return bad_value(cmd, d, arg, why);
		return 0;
	}
	return usage_error(cmd, "--%s: unknown option type", d->name);
}

/* Whether a comma list ("start,stop") holds word. */
bool opts_only_has(const char *only, const char *word)
{
	size_t n = strlen(word);

	if (!only)
		return true;
	for (const char *p = only; *p;) {
		size_t w = strcspn(p, ",");
		if (w == n && !strncmp(p, word, n))
			return true;
		p += w;
		p += *p == ',';
	}
	return false;
}

static bool is_sub(const struct subcmd *subs, const char *word)
{
	for (const struct subcmd *s = subs; s && s->name; s++)
		if (!strcmp(s->name, word))
			return true;
	return false;
}

/* getopt_long's val for option i: its letter, or a value no letter has. */
static int opt_val(const struct opt_def *d, size_t i)
{
	return d->short_opt ? d->short_opt : 256 + (int)i;
}

#define OPTS_MAX 64

/* What getopt_long refused: a flag given a value, an ambiguous prefix, or nothing we have. */
static int bad_option(const struct cmd_spec *spec, const char *word, int val)
{
	const struct opt_def *defs = spec->opts;
	char names[256] = "";
	size_t n = opts_count(defs), len, hits = 0, nl = 0;

	for (size_t i = 0; val && i < n; i++)
		if (opt_val(&defs[i], i) == val && !opts_takes_arg(&defs[i]))
			return usage_error(spec->name, "--%s takes no value", defs[i].name);
	if (val == 'j' || val == 'v' || val == 'h')
		return usage_error(spec->name, "'%s' takes no value", word);
	if (val > 0 && val < 256)
		return usage_error(spec->name, "unknown option '-%c'", val);
	if (!strncmp(word, "--", 2)) {
		len = strcspn(word + 2, "=");
		for (size_t i = 0; i < n + OPTS_NCOMMON; i++) {
			const char *name = i < n ? defs[i].name : opts_common_defs[i - n].name;
			if (strncmp(name, word + 2, len) || (i < n && defs[i].hidden))
				continue;
			hits++;
			nl += snprintf(names + nl, sizeof(names) - nl, "%s--%s", nl ? ", " : "", name);
			if (nl >= sizeof(names))
				nl = sizeof(names) - 1;
		}
		if (hits > 1)
			return usage_error(spec->name, "ambiguous option '%s': %s", word, names);
	}
	return usage_error(spec->name, "unknown option '%s'", word);
}

int opts_parse(const struct cmd_spec *spec, int argc, char **argv, void *dst)
{
	const struct opt_def *defs = spec->opts;
	size_t n = opts_count(defs), k = 0;
	struct option lo[OPTS_MAX + 4];
	char so[3 * OPTS_MAX + 8];
	int c, rc;

	if (n > OPTS_MAX)
		return usage_error(spec->name, "too many options in its table");
	/* '+': stop at the first word that is not an option; ':': say "needs a value". */
	if (spec->stop_at_arg)
		so[k++] = '+';
	so[k++] = ':';
	for (size_t i = 0; i < n; i++) {
		lo[i] = (struct option){ defs[i].name, opts_takes_arg(&defs[i]) ? required_argument
			: no_argument, NULL, opt_val(&defs[i], i) };
		if (defs[i].short_opt) {
			so[k++] = (char)defs[i].short_opt;
			if (opts_takes_arg(&defs[i]))
				so[k++] = ':';
		}
	}
	for (size_t i = 0; i < OPTS_NCOMMON; i++) {
		lo[n + i] = (struct option){ opts_common_defs[i].name, no_argument, NULL,
					     opts_common_defs[i].short_opt };
		so[k++] = (char)opts_common_defs[i].short_opt;
	}
	lo[n + OPTS_NCOMMON] = (struct option){};
	so[k] = 0;

	/* `bpflab CMD help`, as bpftool takes it. */
	if (argc == 2 && !strcmp(argv[1], "help")) {
		opts_print_help(spec, stdout);
		return EXIT_OK;
	}
	/* --json first, wherever it is: an error in an earlier option is then a JSON record too. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			g_opts.json = true;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt_def *d = NULL;

		switch (c) {
		case 'j': g_opts.json = true; continue;
		case 'v': g_opts.verbose = true; continue;
		case 'h':
			opts_print_help(spec, stdout);
			return EXIT_OK;
		case '?':
			return bad_option(spec, argv[optind - 1], optopt);
		}
		for (size_t i = 0; i < n && !d; i++)
			if (opt_val(&defs[i], i) == (c == ':' ? optopt : c))
				d = &defs[i];
		if (!d)
			return usage_error(spec->name, "unknown option '%s'", argv[optind - 1]);
		if (c == ':') {
			char acc[256];
			opts_accepted(d, acc, sizeof(acc));
			return usage_error(spec->name, "--%s needs a value %s%s%s", d->name, opts_arg_name(d),
					   *acc ? ": " : "", acc);
		}
		/* A table shared by subcommands: argv[0] is the subcommand (opts_dispatch); before
		 * it (`bpflab lab --name x up`) nothing is refused yet. */
		if (spec->subs && d->only && is_sub(spec->subs, argv[0]) && !opts_only_has(d->only, argv[0]))
			return usage_error(spec->name, "--%s is not an option of '%s %s' (it is one of: %s)",
					   d->name, spec->name, argv[0], d->only);
		if ((rc = set_value(spec->name, d, optarg, dst)))
			return rc;
	}
	if (spec->max_args >= 0 && argc - optind > spec->max_args)
		return usage_error(spec->name, "unexpected argument '%s'", argv[optind + spec->max_args]);
	if (argc - optind < spec->min_args)
		return usage_error(spec->name, "missing arguments: bpflab %s %s", spec->name,
				   spec->args ? spec->args : "");
	return OPTS_GO_ON;
}

/* ---- subcommands ---- */

const struct subcmd *opts_find_sub(const struct subcmd *subs, const char *word, bool *ambiguous)
{
	const struct subcmd *hit = NULL;
	size_t len = strlen(word);

	*ambiguous = false;
	for (const struct subcmd *s = subs; s && s->name; s++)
		if (!strcmp(s->name, word))
			return s;
	if (!len)
		return NULL;
	for (const struct subcmd *s = subs; s && s->name; s++) {
		if (strncmp(s->name, word, len))
			continue;
		if (hit) {
			*ambiguous = true;
			return NULL;
		}
		hit = s;
	}
	return hit;
}

static void sub_names(const struct subcmd *subs, const char *prefix, char *b, size_t n)
{
	size_t len = 0;

	b[0] = 0;
	for (const struct subcmd *s = subs; s && s->name && len + 1 < n; s++)
		if (!prefix || !strncmp(s->name, prefix, strlen(prefix)))
			len += snprintf(b + len, n - len, "%s%s", len ? ", " : "", s->name);
}

int opts_dispatch(const struct cmd_spec *spec, int argc, char **argv, const char *def)
{
	const char *word = argc > 0 ? argv[0] : def;
	const struct subcmd *s;
	char names[256];
	bool amb;

	if (!word) {
		sub_names(spec->subs, NULL, names, sizeof(names));
		return usage_error(spec->name, "missing subcommand: %s", names);
	}
	if (!strcmp(word, "help") || !strcmp(word, "-h") || !strcmp(word, "--help")) {
		opts_print_help(spec, stdout);
		return EXIT_OK;
	}
	s = opts_find_sub(spec->subs, word, &amb);
	if (!s) {
		sub_names(spec->subs, amb ? word : NULL, names, sizeof(names));
		if (amb)
			return usage_error(spec->name, "ambiguous subcommand '%s': %s", word, names);
		return usage_error(spec->name, "unknown subcommand '%s' (%s)", word, names);
	}
	if (argc == 2 && !strcmp(argv[1], "help")) {
		opts_print_help(s->spec ? s->spec : spec, stdout);
		return EXIT_OK;
	}
	if (argc == 0) {
		static char *none[2];
		none[0] = (char *)s->name;
		return s->fn(1, none);
	}
	return s->fn(argc, argv);
}

