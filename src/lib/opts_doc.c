// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The help text, man page and bash completion, made from the option and subcommand tables
 * the parser (opts.c) walks: what is parsed is what is documented. */
#include "opts.h"
#include "opts_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* ---- help ---- */

/* Word-wraps s at width columns, the first line after `col` characters already printed,
 * the next ones indented by `indent`. */
static void wrap(FILE *f, const char *s, int col, int indent, int width)
{
	while (*s) {
		size_t w = strcspn(s, " ");
		if (col > indent && col + 1 + (int)w > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, w, f);
		col += (int)w;
		s += w;
		while (*s == ' ')
			s++;
	}
	fputc('\n', f);
}

/* The option's help line: its help, what it accepts, its default, where it applies. */
static void opt_text(const struct opt_def *d, char *b, size_t n)
{
	char acc[256];
	size_t len;

	opts_accepted(d, acc, sizeof(acc));
	len = snprintf(b, n, "%s", d->help ? d->help : "");
	/* A plain duration says itself in its help ("stop after S seconds"). */
	if (d->type == OPT_DURATION && !d->dmin && !d->dmax)
		acc[0] = 0;
	if (*acc && len < n && d->type != OPT_IFACE)
		len += snprintf(b + len, n - len, "; %s %s", opts_arg_name(d), acc);
	if (d->def && len < n)
		len += snprintf(b + len, n - len, " (default %s)", d->def);
	if (d->only && len < n)
		snprintf(b + len, n - len, " (%s only)", d->only);
}

static int opt_head(const struct opt_def *d, char *b, size_t n)
{
	const char *a = opts_arg_name(d);

	if (d->short_opt)
		return snprintf(b, n, "  -%c, --%s%s%s", d->short_opt, d->name, a ? " " : "", a ? a : "");
	return snprintf(b, n, "      --%s%s%s", d->name, a ? " " : "", a ? a : "");
}

#define HELP_COL 24
#define HELP_WIDTH 92

static void print_opt_help(FILE *f, const struct opt_def *d, const char *help_override)
{
	char head[96], text[768];
	int len = opt_head(d, head, sizeof(head));

	if (help_override)
		snprintf(text, sizeof(text), "%s", help_override);
	else
		opt_text(d, text, sizeof(text));
	fputs(head, f);
	if (len + 1 >= HELP_COL) {
		fprintf(f, "\n%*s", HELP_COL, "");
		len = HELP_COL;
	} else {
		fprintf(f, "%*s", HELP_COL - len, "");
		len = HELP_COL;
	}
	wrap(f, text, len, HELP_COL, HELP_WIDTH);
}

void opts_print_options(const struct cmd_spec *spec, FILE *f)
{
	for (size_t i = 0; i < opts_count(spec->opts); i++)
		if (!spec->opts[i].hidden)
			print_opt_help(f, &spec->opts[i], NULL);
	print_opt_help(f, &opts_common_defs[0], spec->json_help);
	for (size_t i = 1; i < OPTS_NCOMMON; i++)
		print_opt_help(f, &opts_common_defs[i], NULL);
}

void opts_print_help(const struct cmd_spec *spec, FILE *f)
{
	if (spec->help_fn) {
		spec->help_fn(f);
		return;
	}
	fprintf(f, "usage: bpflab %s%s%s\n", spec->name, spec->args ? " " : "",
		spec->args ? spec->args : "");
	for (const struct subcmd *s = spec->subs; s && s->name; s++)
		fprintf(f, "       bpflab %s %s%s%s\n", spec->name, s->name, s->args && *s->args ? " " : "",
			s->args ? s->args : "");
	if (spec->about)
		fprintf(f, "\n%s", spec->about);
	if (spec->subs) {
		fprintf(f, "\nsubcommands (any unambiguous prefix works):\n");
		for (const struct subcmd *s = spec->subs; s && s->name; s++) {
			/* A name longer than the column (drain-node) gets a line of its own rather
			 * than running into its summary. */
			if (strlen(s->name) > 9)
				fprintf(f, "  %s\n%12s", s->name, "");
			else
				fprintf(f, "  %-10s", s->name);
			wrap(f, s->summary ? s->summary : "", 12, 12, HELP_WIDTH);
		}
	}
	fprintf(f, "\noptions:\n");
	opts_print_options(spec, f);
	if (spec->notes)
		fprintf(f, "\n%s", spec->notes);
	if (spec->help_tail)
		spec->help_tail(f);
}

/* ---- man page ---- */

void opts_roff(FILE *f, const char *s, size_t n)
{
	bool bol = true;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		/* A line starting with . or ' would be a roff request. */
		if (bol && (c == '.' || c == '\''))
			fputs("\\&", f);
		if (c == '\\')
			fputs("\\e", f);
		else if (c == '-')
			fputs("\\-", f);
		else
			fputc(c, f);
		bol = c == '\n';
	}
}

static void roff_str(FILE *f, const char *s)
{
	if (s)
		opts_roff(f, s, strlen(s));
}

static void man_opt(FILE *f, const struct opt_def *d, const char *help_override)
{
	const char *a = opts_arg_name(d);
	char text[768];

	fputs(".TP\n", f);
	if (d->short_opt)
		fprintf(f, "\\fB\\-%c\\fR, ", d->short_opt);
	fputs("\\fB\\-\\-", f);
	roff_str(f, d->name);
	fputs("\\fR", f);
	if (a) {
		fputs(" \\fI", f);
		roff_str(f, a);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	if (help_override)
		snprintf(text, sizeof(text), "%s", help_override);
	else
		opt_text(d, text, sizeof(text));
	roff_str(f, text);
	fputc('\n', f);
}

void opts_print_man_options(const struct cmd_spec *spec, FILE *f)
{
	for (size_t i = 0; i < opts_count(spec->opts); i++)
		if (!spec->opts[i].hidden)
			man_opt(f, &spec->opts[i], NULL);
	man_opt(f, &opts_common_defs[0], spec->json_help);
	for (size_t i = 1; i < OPTS_NCOMMON; i++)
		man_opt(f, &opts_common_defs[i], NULL);
}

/* "\fBbpflab lab up\fR [--name NAME]": the words in bold, their arguments plain. */
static void man_line(FILE *f, const char *pre, const char *lead, const char *w1, const char *w2,
		     const char *args)
{
	fprintf(f, "%s\\fB%s", pre, lead);
	roff_str(f, w1);
	if (w2) {
		fputc(' ', f);
		roff_str(f, w2);
	}
	fputs("\\fR ", f);
	roff_str(f, args);
	fputc('\n', f);
}

void opts_print_man(const struct cmd_spec *spec, const char *summary, FILE *f)
{
	fprintf(f, ".SH SYNOPSIS\n.nf\n");
	man_line(f, "", "bpflab ", spec->name, NULL, spec->args);
	for (const struct subcmd *s = spec->subs; s && s->name; s++)
		man_line(f, "", "bpflab ", spec->name, s->name, s->args);
	fprintf(f, ".fi\n.SH DESCRIPTION\n");
	roff_str(f, summary);
	fputs(".\n.PP\n.nf\n", f);
	roff_str(f, spec->about);
	fputs(".fi\n", f);
	if (spec->subs) {
		fputs(".SH SUBCOMMANDS\nAny unambiguous prefix of a subcommand works.\n", f);
		for (const struct subcmd *s = spec->subs; s && s->name; s++) {
			man_line(f, ".TP\n", "", s->name, NULL, s->args);
			roff_str(f, s->summary);
			fputc('\n', f);
		}
	}
	fputs(".SH OPTIONS\n", f);
	opts_print_man_options(spec, f);
	for (const struct subcmd *s = spec->subs; s && s->name; s++) {
		if (!s->spec || s->spec == spec || !opts_count(s->spec->opts))
			continue;
		fputs(".SS ", f);
		roff_str(f, s->name);
		fputs(" options\n", f);
		for (size_t i = 0; i < opts_count(s->spec->opts); i++)
			if (!s->spec->opts[i].hidden)
				man_opt(f, &s->spec->opts[i], NULL);
	}
	if (spec->notes) {
		fputs(".SH NOTES\n.nf\n", f);
		roff_str(f, spec->notes);
		fputs(".fi\n", f);
	}
}

/* ---- bash completion ---- */

/* `case $prev in` arms: what follows an option that takes a value. */
static void comp_values(FILE *f, const struct opt_def *defs, const char *sub)
{
	for (size_t i = 0; i < opts_count(defs); i++) {
		const struct opt_def *d = &defs[i];
		if (!opts_takes_arg(d) || (sub && !opts_only_has(d->only, sub)))
			continue;
		fprintf(f, "      --%s", d->name);
		if (d->short_opt)
			fprintf(f, "|-%c", d->short_opt);
		fputs(") ", f);
		switch (d->type) {
		case OPT_ENUM:
			fputs("COMPREPLY=($(compgen -W \"", f);
			for (const struct opt_enum *e = d->values; e && e->name; e++)
				if (!e->hidden)
					fprintf(f, "%s ", e->name);
			fputs("\" -- \"$cur\")) ;;\n", f);
			break;
		case OPT_IFACE:
			fputs("COMPREPLY=($(compgen -W \"$(_bpflab_ifaces)\" -- \"$cur\")) ;;\n", f);
			break;
		case OPT_FILE:
			fputs("COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n", f);
			break;
		default:
			/* A number or a name: nothing to offer, and no file names either. */
			fputs("COMPREPLY=() ;;\n", f);
		}
	}
}

static void comp_words(FILE *f, const struct opt_def *defs, const char *sub)
{
	for (size_t i = 0; i < opts_count(defs); i++) {
		if (defs[i].hidden || (sub && !opts_only_has(defs[i].only, sub)))
			continue;
		fprintf(f, "--%s ", defs[i].name);
		if (defs[i].short_opt)
			fprintf(f, "-%c ", defs[i].short_opt);
	}
	fputs("-j --json -v --verbose -h --help", f);
}

void opts_print_words(const struct cmd_spec *spec, FILE *f)
{
	comp_words(f, spec->opts, NULL);
}

static void comp_spec(FILE *f, const struct cmd_spec *spec, const char *sub, const char *indent)
{
	fprintf(f, "%scase $prev in\n", indent);
	comp_values(f, spec->opts, sub);
	fprintf(f, "%s*)\n", indent);
	fprintf(f, "%s  if [[ $cur == -* ]]; then\n%s    COMPREPLY=($(compgen -W \"", indent, indent);
	comp_words(f, spec->opts, sub);
	fprintf(f, "\" -- \"$cur\"))\n");
	if (spec->first_arg == OPT_IFACE)
		fprintf(f, "%s  else\n%s    COMPREPLY=($(compgen -W \"$(_bpflab_ifaces)\" -- \"$cur\"))\n",
			indent, indent);
	else if (spec->first_arg == OPT_FILE)
		fprintf(f, "%s  else\n%s    COMPREPLY=($(compgen -f -- \"$cur\"))\n", indent, indent);
	fprintf(f, "%s  fi ;;\n%sesac\n", indent, indent);
}

void opts_print_completion(const struct cmd_spec *spec, const char *name, FILE *f)
{
	fprintf(f, "  %s)\n", name);
	if (!spec->subs) {
		comp_spec(f, spec, NULL, "    ");
		fputs("    ;;\n", f);
		return;
	}
	/* The subcommand is the first word after the command that is not an option. */
	fputs("    if [ -z \"$sub\" ]; then\n      COMPREPLY=($(compgen -W \"", f);
	for (const struct subcmd *s = spec->subs; s && s->name; s++)
		fprintf(f, "%s ", s->name);
	fputs("help\" -- \"$cur\"))\n      return\n    fi\n    case $sub in\n", f);
	for (const struct subcmd *s = spec->subs; s && s->name; s++) {
		const struct cmd_spec *ss = s->spec ? s->spec : spec;
		fprintf(f, "    %s)\n", s->name);
		comp_spec(f, ss, s->name, "      ");
		fputs("      ;;\n", f);
	}
	fputs("    esac ;;\n", f);
}
