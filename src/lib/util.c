// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shared plumbing for every command. */
#define _GNU_SOURCE
#include "util.h"
#include "netns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <time.h>
#include <unistd.h>

struct global_opts g_opts;
volatile sig_atomic_t exiting;

/* What was said on stderr, so that with --json a failing command can also say it on
 * stdout as one {"type":"error"} record (see cli.c). */
static char said[WARN_KEEP][256];
static int nsaid;

static void keep(const char *fmt, va_list ap)
{
	char *m;
	size_t n;

	if (nsaid >= WARN_KEEP)
		return;
	m = said[nsaid];
	vsnprintf(m, sizeof(said[0]), fmt, ap);
	n = strlen(m);
	while (n && m[n - 1] == '\n')
		m[--n] = 0;
	if (n)
		nsaid++;
}

void warn_keep(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	keep(fmt, ap);
	va_end(ap);
}

int warn_kept(const char **msgs, int cap)
{
	int n = nsaid < cap ? nsaid : cap;
	for (int i = 0; i < n; i++)
		msgs[i] = said[i];
	return n;
}

static void vpr(bool warning, const char *fmt, va_list ap)
{
	if (warning) {
		va_list aq;
		va_copy(aq, ap);
		keep(fmt, aq);
		va_end(aq);
	}
	if (g_opts.cmd)
		fprintf(stderr, "bpflab %s: ", g_opts.cmd);
	else
		fputs("bpflab: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpr(true, fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpr(false, fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;
	if (!g_opts.verbose)
		return;
	va_start(ap, fmt);
	vpr(false, fmt, ap);
	va_end(ap);
}

static void on_signal(int sig)
{
	exiting = 1;
}

void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking poll() must return so the loop sees `exiting`. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	/* Digits only: no sign, no space, no 0x (strtoull would take all three). */
	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		if (v > (UINT64_MAX - (*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char digits[32];
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n + 1);
	switch (digits[n - 1]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	}
	if (shift)
		digits[--n] = 0;
	if (parse_u64(digits, 0, UINT64_MAX >> shift, &v))
		return -EINVAL;
	v <<= shift;
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double min, double max, double *out)
{
	const char *p = s;
	int whole = 0, frac = 0;
	double v;

	/* DIGITS[.DIGITS]: no sign, exponent, hex float, inf or nan (strtod takes them all,
	 * and 1e-300 as an interval made a loop that never ended). */
	if (!s)
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++, whole++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, frac++;
	}
	if (*p || whole + frac == 0 || whole > 9 || frac > 9)
		return -EINVAL;
	v = strtod(s, NULL);
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_duration(const char *s, double *seconds)
{
	return parse_seconds(s, 0, DURATION_MAX, seconds);
}

int iface_check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= IFNAMSIZ) {
		pr_warn("invalid interface name '%s': must be 1 to %d characters\n",
			name ? name : "", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		pr_warn("invalid interface name '%s'\n", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = name[i];
		/* The kernel refuses '/', ':' and white space; we also keep names printable. */
		if (c == '/' || c == ':' || isspace(c) || !isprint(c)) {
			pr_warn("invalid interface name '%s': character '%c' is not allowed\n",
				name, isprint(c) ? c : '?');
			return -EINVAL;
		}
	}
	return 0;
}

int iface_resolve(const char *name, int *ifindex)
{
	unsigned int idx;
	char ns[64];

	if (iface_check_name(name))
		return -EINVAL;
	idx = if_nametoindex(name);
	if (!idx) {
		int err = -errno;
		netns_current_name(ns, sizeof(ns));
		pr_warn("no interface '%s'%s%s%s: %s\n", name, *ns ? " in network namespace '" : "",
			ns, *ns ? "'" : "", strerr(err));
		return -ENODEV;
	}
	*ifindex = idx;
	return 0;
}

int run_cmd(char *const argv[], bool quiet)
{
	pid_t pid;
	int status;

	if (g_opts.verbose) {
		fputs("bpflab: +", stderr);
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int run_cmdf(bool quiet, const char *fmt, ...)
{
	char buf[1024], *argv[64], *save = NULL, *tok;
	int argc = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Arguments are ours (names already validated), so splitting on spaces is safe. */
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return run_cmd(argv, quiet);
}

bool is_root(void)
{
	return geteuid() == 0;
}

static const struct {
	unsigned bit;
	int cap;
	const char *name;
} cap_table[] = {
	{ CAPN_BPF, CAP_BPF, "CAP_BPF" },
	{ CAPN_PERFMON, CAP_PERFMON, "CAP_PERFMON" },
	{ CAPN_NET_ADMIN, CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAPN_SYS_ADMIN, CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAPN_DAC_OVERRIDE, CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE" },
};

unsigned caps_missing(unsigned need)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	unsigned missing = 0;
	uint64_t eff;

	/* The effective set, not the uid: root in a container may lack them, and a
	 * non-root process may hold exactly these. */
	if (syscall(SYS_capget, &h, d))
		return need;
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	for (size_t i = 0; i < ARRAY_SIZE(cap_table); i++)
		if ((need & cap_table[i].bit) && !(eff & (1ULL << cap_table[i].cap)))
			missing |= cap_table[i].bit;
	return missing;
}

void caps_names(unsigned caps, char *buf, size_t len)
{
	size_t o = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cap_table) && o < len; i++)
		if (caps & cap_table[i].bit)
			o += snprintf(buf + o, len - o, "%s%s", o ? ", " : "", cap_table[i].name);
}

int require_caps(const char *what, unsigned need, const char *why)
{
	unsigned missing = caps_missing(need);
	char names[128], all[128], set[128] = "";
	size_t o = 0;

	if (!missing)
		return 0;
	caps_names(missing, names, sizeof(names));
	caps_names(need, all, sizeof(all));
	/* pr_warn already says "bpflab CMD: ". */
	if (!strncmp(what, "bpflab ", 7))
		what += 7;
	/* setpriv's spelling: +bpf,+net_admin */
	for (const char *p = all; *p && o + 2 < sizeof(set); p++) {
		if (!strncmp(p, "CAP_", 4)) {
			set[o++] = '+';
			p += 3;
		} else if (*p != ' ') {
			set[o++] = *p == ',' ? ',' : (char)tolower((unsigned char)*p);
		}
	}
	set[o] = 0;
	if (is_root())
		/* Telling root to "run as root" helps nobody: its capability set is the problem. */
		pr_warn("%s needs %s (%s); this process runs as root but lacks %s: its capability "
			"bounding set was reduced (a container, capsh --drop, systemd "
			"CapabilityBoundingSet=); give it back %s\n", what, all, why, names, names);
	else
		pr_warn("%s needs %s (%s); this process lacks %s: run it as root (e.g. sudo) or "
			"with exactly those (setpriv --inh-caps=%s --ambient-caps=%s)\n", what, all,
			why, names, set, set);
	return EXIT_NOPERM;
}

int require_root(const char *what)
{
	return require_caps(what, CAPN_BPF | CAPN_PERFMON | CAPN_NET_ADMIN | CAPN_SYS_ADMIN,
			    "CAP_BPF and CAP_PERFMON to load programs, CAP_NET_ADMIN to attach them "
			    "to interfaces, CAP_SYS_ADMIN to mount bpffs/tracefs and read program "
			    "names by id");
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *strerr(int err)
{
	return strerror(err < 0 ? -err : err);
}

int iface_mac(const char *ifname, unsigned char mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}
