// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The option and subcommand tables: the parser (strict values, ranges, prefixes, unknown
 * options), and that help, man page and completion carry every option of every command. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
#include "opts.h"
#include "bpfutil.h"
#include "commands.h"

struct t_opts {
	bool flag;
	const char *str, *ifname;
	uint64_t n, size;
	uint32_t n32;
	double secs, x;
	int mode, color;
	struct in_addr addr;
	int even;
};

static int parse_even(const char *arg, void *dst, char *why, size_t n)
{
	uint64_t v;
	if (parse_u64(arg, 0, 100, &v) || v % 2) {
		snprintf(why, n, "an even number up to 100");
		return -1;
	}
	*(int *)dst = (int)v;
	return 0;
}

static const struct opt_enum colors[] = {
	{ .name = "red", .value = 1 }, { .name = "green", .value = 2 },
	{ .name = "old-red", .value = 1, .hidden = true }, { .name = NULL }
};

#define O(lname, sopt, otype, field, arg, help) OPTDEF(lname, sopt, otype, struct t_opts, field, arg, help)
static const struct opt_def t_defs[] = {
	{ O("flag", 'f', OPT_FLAG, flag, NULL, "a flag") },
	{ O("str", 's', OPT_STR, str, "S", "a string") },
	{ O("count", 'n', OPT_UINT, n, "N", "a number"), .min = 1, .max = 64, .def = "8" },
	{ O("count32", 0, OPT_U32, n32, "N", "a 32-bit number"), .min = 0, .max = 10 },
	{ O("size", 0, OPT_SIZE, size, "SIZE", "a size"), .min = 4096, .max = 1 << 30 },
	{ O("interval", 'i', OPT_DURATION, secs, "S", "seconds"), .dmin = 0.01, .zero_ok = true },
	{ O("ratio", 0, OPT_DOUBLE, x, "X", "a ratio"), .dmin = 0.5, .dmax = 2 },
	{ O("xdp-mode", 'm', OPT_ENUM, mode, "MODE", "XDP mode"), .values = opts_xdp_modes },
	{ O("color", 0, OPT_ENUM, color, "C", "a color"), .values = colors },
	{ O("iface", 0, OPT_IFACE, ifname, NULL, "an interface") },
	{ O("addr", 'a', OPT_IPV4, addr, NULL, "an address") },
	{ O("even", 0, OPT_FUNC, even, "E", "an even number"), .parse = parse_even },
	{ O("secret", 0, OPT_FLAG, flag, NULL, "not shown"), .hidden = true },
	OPTS_END
};
#undef O

static const struct cmd_spec t_spec = {
	.name = "t", .args = "[WORD]", .about = "A test command.\n", .opts = t_defs, .max_args = 1,
};

/* Parses a NULL-ended word list (argv[0] is the command). */
static int run(struct t_opts *o, const char *const *words)
{
	static char *argv[32];
	int argc = 0;

	memset(o, 0, sizeof(*o));
	for (; words[argc] && argc < 31; argc++)
		argv[argc] = (char *)words[argc];
	argv[argc] = NULL;
	return opts_parse(&t_spec, argc, argv, o);
}

#define RUN(o, ...) run(o, (const char *const[]){ "t", __VA_ARGS__, NULL })

/* The text fn writes, in memory of its own (leaked: a test). */
static char *capture(void (*fn)(const struct cmd_spec *, FILE *), const struct cmd_spec *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(s, f);
	fclose(f);
	return buf;
}

/* What a parse says on stderr. */
static char *stderr_of(const char *const *words)
{
	static char buf[4096];
	struct t_opts o;
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	run(&o, words);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	/* One TAP line per check. */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

static void man_of(const struct cmd_spec *s, FILE *f)
{
	opts_print_man(s, "summary", f);
}

static void comp_of(const struct cmd_spec *s, FILE *f)
{
	opts_print_completion(s, s->name, f);
}

/* roff writes "-" as "\-". */
/* roff writes every '-' as "\\-": a name as the man page spells it, after PREFIX. */
static bool man_has(const char *man, const char *prefix, const char *name)
{
	char want[96];
	size_t k = snprintf(want, sizeof(want), "%s", prefix);
	for (const char *p = name; *p && k + 3 < sizeof(want); p++)
		k += snprintf(want + k, sizeof(want) - k, *p == '-' ? "\\-" : "%c", *p);
	return strstr(man, want) != NULL;
}

static bool man_has_opt(const char *man, const char *name)
{
	return man_has(man, "\\-\\-", name);
}

static void test_values(void)
{
	struct t_opts o;

	is_int(RUN(&o, "-f", "--str", "x", "-n", "64", "--count32=10"), OPTS_GO_ON, "good options parse");
	ok(o.flag && !strcmp(o.str, "x") && o.n == 64 && o.n32 == 10, "and land in their fields");
	is_int(RUN(&o, "--size", "256K", "-i", "0", "--ratio", "0.5"), OPTS_GO_ON, "size, 0 interval, ratio");
	ok(o.size == 256 * 1024 && o.secs == 0 && o.x == 0.5, "values: %llu %g %g",
	   (unsigned long long)o.size, o.secs, o.x);
	is_int(RUN(&o, "-m", "skb"), OPTS_GO_ON, "-m skb");
	is_int(o.mode, XDP_MODE_GENERIC, "skb is generic");
	is_int(RUN(&o, "--xdp-mode", "native"), OPTS_GO_ON, "--xdp-mode native");
	is_int(o.mode, XDP_MODE_NATIVE, "native");
	is_int(RUN(&o, "--xdp-mode", "drv"), OPTS_GO_ON, "drv, a hidden spelling, still parses");
	is_int(o.mode, XDP_MODE_NATIVE, "drv is native");
	is_int(RUN(&o, "--color", "old-red"), OPTS_GO_ON, "hidden enum value");
	is_int(o.color, 1, "old-red is red");
	is_int(RUN(&o, "-a", "10.0.0.1", "--iface", "veth0", "--even", "42"), OPTS_GO_ON, "addr, iface, func");
	ok(o.addr.s_addr == htonl(0x0a000001) && !strcmp(o.ifname, "veth0") && o.even == 42,
	   "address, interface and custom value");
	is_int(RUN(&o, "--rat", "1.5"), OPTS_GO_ON, "an unambiguous prefix of a long option");
	ok(o.x == 1.5, "--rat is --ratio");
	is_int(RUN(&o, "--cou", "3"), EXIT_USAGE, "an ambiguous one (--count, --count32) is refused");
	is_int(RUN(&o, "word", "-f"), OPTS_GO_ON, "a word before options");
	ok(o.flag && optind == 2, "options after a word are parsed; the word is left (optind %d)", optind);

	static const char *const bad[][3] = {
		{ "-n", "0" }, { "-n", "65" }, { "-n", "0x10" }, { "-n", "+1" }, { "-n", " 1" },
		{ "-n", "1e3" }, { "--count32", "11" }, { "--count32", "-1" }, { "--size", "4095" },
		{ "--size", "2G" }, { "--size", "1T" }, { "--size", "1.5M" }, { "-i", "0.001" },
		{ "-i", "1e-300" }, { "-i", "inf" }, { "-i", "-1" }, { "-i", "1s" }, { "--ratio", "3" },
		{ "--ratio", "0" }, { "-m", "turbo" }, { "-m", "" }, { "--color", "blue" },
		{ "--iface", "a/b" }, { "--iface", "0123456789abcdefg" }, { "-a", "10.0.0.01" },
		{ "-a", "1.2.3" }, { "--even", "3" }, { "--str", "" }, { "--nope" }, { "-q" },
		{ "--count" }, { "-n" }, { "--flag=1" }, { "--c", "1" }, { "one", "two" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = bad[i][1] ? RUN(&o, bad[i][0], bad[i][1]) : RUN(&o, bad[i][0]);
		is_int(rc, EXIT_USAGE, "refused with exit 2: %s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
	}
}

static void test_messages(void)
{
	const char *m;

	m = stderr_of((const char *const[]){ "t", "-n", "99", NULL });
	ok(strstr(m, "bpflab t: invalid --count '99': an integer from 1 to 64") &&
	   strstr(m, "see 'bpflab t --help'"), "a range error names the option (long, though -n was "
	   "typed) and its range: %s", m);
	m = stderr_of((const char *const[]){ "t", "-m", "turbo", NULL });
	ok(strstr(m, "invalid --xdp-mode 'turbo': one of auto, native, skb, generic"),
	   "an enum error lists the values, not the hidden ones: %s", m);
	m = stderr_of((const char *const[]){ "t", "--count", NULL });
	ok(strstr(m, "--count needs a value N: an integer from 1 to 64"), "a missing value: %s", m);
	m = stderr_of((const char *const[]){ "t", "--nope", NULL });
	ok(strstr(m, "unknown option '--nope'"), "an unknown long option: %s", m);
	m = stderr_of((const char *const[]){ "t", "-q", NULL });
	ok(strstr(m, "unknown option '-q'"), "an unknown short option: %s", m);
	m = stderr_of((const char *const[]){ "t", "--even", "3", NULL });
	ok(strstr(m, "invalid --even '3': an even number up to 100"), "a custom parser's why: %s", m);
	m = stderr_of((const char *const[]){ "t", "--cou", "1", NULL });
	ok(strstr(m, "ambiguous option '--cou': --count, --count32"), "an ambiguous prefix: %s", m);
	m = stderr_of((const char *const[]){ "t", "--flag=1", NULL });
	ok(strstr(m, "--flag takes no value"), "a flag given a value: %s", m);
	m = stderr_of((const char *const[]){ "t", "a", "b", NULL });
	ok(strstr(m, "unexpected argument 'b'"), "one word too many: %s", m);
}

static void test_help_man(void)
{
	const char *help = capture(opts_print_help, &t_spec);
	const char *man = capture(man_of, &t_spec);
	const char *comp = capture(comp_of, &t_spec);

	ok(!strncmp(help, "usage: bpflab t [WORD]\n", 23), "help starts with usage");
	for (const struct opt_def *d = t_defs; d->name; d++) {
		char want[64];
		snprintf(want, sizeof(want), "--%s", d->name);
		if (d->hidden) {
			ok(!strstr(help, want) && !man_has_opt(man, d->name) && !strstr(comp, want),
			   "hidden %s is in neither help, man page nor completion", want);
			continue;
		}
		ok(strstr(help, want), "help has %s", want);
		ok(man_has_opt(man, d->name), "man page has %s", want);
		ok(strstr(comp, want), "completion has %s", want);
	}
	ok(strstr(help, "native, skb, generic") && !strstr(help, "drv"), "help lists the XDP modes, not the hidden one");
	ok(strstr(help, "from 1 to 64") && strstr(help, "(default 8)"), "help says the range and the default");
	ok(strstr(comp, "auto native skb generic"), "completion offers the XDP modes after -m");
	ok(strstr(comp, "_bpflab_ifaces"), "completion offers interfaces after --iface");
	ok(strstr(man, ".SH OPTIONS") && strstr(man, ".SH SYNOPSIS"), "man page has its sections");
}

static int sub_a(int argc, char **argv) { (void)argv; return 10 + argc; }
static int sub_b(int argc, char **argv) { (void)argc; (void)argv; return 20; }

static void test_subs(void)
{
	static const struct subcmd subs[] = {
		{ .name = "start", .summary = "s", .fn = sub_a },
		{ .name = "status", .summary = "s", .fn = sub_b },
		{ .name = "down", .summary = "d", .fn = sub_b },
		{ .name = NULL }
	};
	static const struct opt_def none[] = { OPTS_END };
	static const struct cmd_spec spec = { .name = "sc", .opts = none, .subs = subs };
	char *av[][3] = { { "start", "x" }, { "sta" }, { "statu" }, { "d" }, { "nope" }, { "st" } };
	bool amb;

	ok(opts_find_sub(subs, "start", &amb) == &subs[0], "exact name");
	ok(opts_find_sub(subs, "stat", &amb) == &subs[1], "unambiguous prefix");
	ok(!opts_find_sub(subs, "sta", &amb) && amb, "ambiguous prefix");
	ok(!opts_find_sub(subs, "x", &amb) && !amb, "unknown");
	is_int(opts_dispatch(&spec, 2, av[0], NULL), 12, "dispatch passes argv on");
	is_int(opts_dispatch(&spec, 1, av[2], NULL), 20, "a prefix dispatches");
	is_int(opts_dispatch(&spec, 1, av[3], NULL), 20, "a one-letter prefix dispatches");
	is_int(opts_dispatch(&spec, 1, av[1], NULL), EXIT_USAGE, "an ambiguous prefix is a usage error");
	is_int(opts_dispatch(&spec, 1, av[4], NULL), EXIT_USAGE, "an unknown subcommand is a usage error");
	is_int(opts_dispatch(&spec, 0, av[5], NULL), EXIT_USAGE, "no subcommand and no default: usage error");
	is_int(opts_dispatch(&spec, 0, av[5], "status"), 20, "the default runs without a word");
}

static void test_commands(void)
{
	static const char *const names[] = { "doctor", "count", "bench", "exec", "verify", "ping",
					     "lb", "lab" };
	bool amb;

	ok(find_command_prefix("cou", &amb) == find_command("count"), "command prefix: cou is count");
	ok(!find_command_prefix("l", &amb) && amb, "command prefix: l is ambiguous (lab, lb)");
	ok(find_command_prefix("v", &amb) == find_command("verify"), "command prefix: v is verify");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct command *c = find_command(names[i]);
		const char *help, *man;

		if (!ok(c && c->spec, "%s has an option table", names[i]))
			continue;
		/* A table is sound: names and letters once, none of the common -j/-v/-h. */
		for (const struct opt_def *d = c->spec->opts; d->name; d++) {
			bool dup = d->short_opt && strchr("jvh", d->short_opt);
			for (const struct opt_def *e = d + 1; e->name; e++)
				dup |= !strcmp(d->name, e->name) || (d->short_opt && d->short_opt == e->short_opt);
			ok(!dup && d->help && *d->help, "%s: --%s is named once, has a letter of its own "
			   "and a help text", names[i], d->name);
		}
		help = capture(opts_print_help, c->spec);
		man = capture(man_of, c->spec);
		for (const struct opt_def *d = c->spec->opts; d->name; d++) {
			char want[64];
			if (d->hidden)
				continue;
			snprintf(want, sizeof(want), "--%s", d->name);
			ok(strstr(help, want) && man_has_opt(man, d->name), "%s: help and man page have %s",
			   names[i], want);
		}
		for (const struct subcmd *s = c->spec->subs; s && s->name; s++)
			ok(strstr(help, s->name) && man_has(man, "", s->name), "%s: help and man page have %s",
			   names[i], s->name);
	}
}

int main(void)
{
	test_values();
	test_messages();
	test_help_man();
	test_subs();
	test_commands();
	return tap_done();
}
