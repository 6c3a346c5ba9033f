// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The kernel's SYNPROXY behind the XDP SYN cookies: one nftables table per interface and
 * the sysctls the SYNPROXY needs (synproxy.h says why the table's comment keeps them). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "util.h"
#include "syncookie.h"
#include "synproxy.h"

#define TABLE_PREFIX "bpflab_syn_"

/* What the SYNPROXY needs (the kernel's xdp_synproxy selftest and nft's synproxy docs):
 * tcp_syncookies=2 so the kernel's cookie check accepts cookies it did not send itself
 * during a flood of its own, timestamps to carry the options a cookie cannot, and
 * conntrack not picking up flows from a lone ACK (loose=0), so that an ACK without a flow
 * is INVALID and reaches the synproxy statement. */
static const struct sysctl_want {
	const char *key;  /* as recorded in the comment */
	const char *path;
	int value;
} wants[] = {
	{ "tcp_syncookies", "/proc/sys/net/ipv4/tcp_syncookies", 2 },
	{ "tcp_timestamps", "/proc/sys/net/ipv4/tcp_timestamps", 1 },
	{ "nf_conntrack_tcp_loose", "/proc/sys/net/netfilter/nf_conntrack_tcp_loose", 0 },
};
#define NWANTS (int)(sizeof(wants) / sizeof(wants[0]))

static int sysctl_read(const char *path, int *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int sysctl_write(const char *path, int v)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static void table_name(const char *ifname, char *out, size_t n)
{
	size_t i = snprintf(out, n, TABLE_PREFIX);

	/* nft names take letters, digits and _ unquoted: an interface's - or . becomes _ */
	for (const char *p = ifname; *p && i + 1 < n; p++)
		out[i++] = isalnum((unsigned char)*p) ? *p : '_';
	out[i] = 0;
}

/* Runs `nft ARGS` and collects its stdout. 0 or -errno (-ENOENT when nft says the table
 * is not there). */
static int nft_out(const char *args, char *buf, size_t n)
{
	char cmd[256];
	size_t len = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "nft %s 2>/dev/null", args);
	if (g_opts.verbose)
		fprintf(stderr, "bpflab: + %s\n", cmd);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (len + 1 < n) {
		size_t r = fread(buf + len, 1, n - 1 - len, f);
		if (!r)
			break;
		len += r;
	}
	buf[len] = 0;
	st = pclose(f);
	if (st < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}

/* Applies a ruleset script in one transaction (nft -f: all of it or nothing). */
static int nft_script(const char *script)
{
	FILE *f;
	int st;

	if (g_opts.verbose)
		fprintf(stderr, "bpflab: + nft -f - <<EOF\n%sEOF\n", script);
	f = popen("nft -f -", "w");
	if (!f)
		return -errno;
	fputs(script, f);
	st = pclose(f);
	if (st < 0)
		return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EINVAL;
}

/* The values a table's comment recorded; -1 where it recorded none. 0, or -ENOENT. */
static int table_saved(const char *table, int saved[NWANTS])
{
	char args[128], out[8192], *c;

	snprintf(args, sizeof(args), "list table inet %s", table);
	if (nft_out(args, out, sizeof(out)))
		return -ENOENT;
	c = strstr(out, "comment \"");
	for (int i = 0; i < NWANTS; i++) {
		char key[64], *k;

		saved[i] = -1;
		snprintf(key, sizeof(key), " %s=", wants[i].key);
		if (c && (k = strstr(c, key)))
			saved[i] = atoi(k + strlen(key));
	}
	return 0;
}

/* The first bpflab SYNPROXY table in this netns other than `except` (or ""). 1 found. */
static int other_table(const char *except, char *found, size_t n)
{
	char out[8192], *line, *save = NULL;

	if (nft_out("list tables inet", out, sizeof(out)))
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		if (sscanf(line, "table inet %63s", name) != 1)
			continue;
		if (strncmp(name, TABLE_PREFIX, strlen(TABLE_PREFIX)) || !strcmp(name, except))
			continue;
		snprintf(found, n, "%s", name);
		return 1;
	}
	return 0;
}

int synproxy_active(const char *ifname)
{
	char t[64], out[512], args[128];

	table_name(ifname, t, sizeof(t));
	snprintf(args, sizeof(args), "list table inet %s", t);
	return nft_out(args, out, sizeof(out)) == 0;
}

static void restore(const int saved[NWANTS])
{
	for (int i = 0; i < NWANTS; i++) {
		int err;

		if (saved[i] < 0)
			continue;
		err = sysctl_write(wants[i].path, saved[i]);
		if (err)
			pr_warn("could not restore %s to %d: %s\n", wants[i].path, saved[i],
				strerr(err));
	}
}

int synproxy_stop(const char *ifname)
{
	char t[64], other[64], cmd[128];
	int saved[NWANTS], err;

	table_name(ifname, t, sizeof(t));
	if (table_saved(t, saved))
		return 0; /* nothing of ours here */
	snprintf(cmd, sizeof(cmd), "delete table inet %s\n", t);
	err = nft_script(cmd);
	if (err) {
		pr_warn("could not delete nftables table inet %s: %s\n", t, strerr(err));
		return err;
	}
	/* Another interface of this netns still runs a SYNPROXY: the sysctls stay as it
	 * needs them; its table keeps the values to restore. */
	if (!other_table(t, other, sizeof(other)))
		restore(saved);
	return 0;
}

static int ports_str(const struct synproxy_cfg *cfg, char *out, size_t n)
{
	size_t len = 0;

	for (int i = 0; i < cfg->nports && len < n; i++) {
		if (cfg->ports[i].lo == cfg->ports[i].hi)
			len += snprintf(out + len, n - len, "%s%u", i ? ", " : "", cfg->ports[i].lo);
		else
			len += snprintf(out + len, n - len, "%s%u-%u", i ? ", " : "",
					cfg->ports[i].lo, cfg->ports[i].hi);
	}
	return len < n ? 0 : -E2BIG;
}

int synproxy_start(const struct synproxy_cfg *cfg)
{
	char t[64], other[64], ports[SYNPROXY_MAX_PORTS * 13], comment[200], script[2048];
	unsigned mss4 = cfg->mss4 ? cfg->mss4 : SYN_DEFAULT_MSS4;
	unsigned mss6 = cfg->mss6 ? cfg->mss6 : SYN_DEFAULT_MSS6;
	unsigned ws = cfg->wscale ? cfg->wscale : SYN_DEFAULT_WSCALE;
	int saved[NWANTS], err;
	size_t len;

	if (cfg->nports <= 0 || ports_str(cfg, ports, sizeof(ports)))
		return -EINVAL;
	err = synproxy_stop(cfg->ifname); /* what a killed run left */
	if (err)
		return err;
	table_name(cfg->ifname, t, sizeof(t));
	/* The values from before any bpflab SYNPROXY: another table of this netns has them
	 * when one runs; else they are the current ones. */
	if (!other_table(t, other, sizeof(other)) || table_saved(other, saved)) {
		for (int i = 0; i < NWANTS; i++)
			if (sysctl_read(wants[i].path, &saved[i]))
				saved[i] = -1;
	}
	len = snprintf(comment, sizeof(comment), "bpflab filter --synproxy; restore:");
	for (int i = 0; i < NWANTS; i++)
		if (saved[i] >= 0)
			len += snprintf(comment + len, sizeof(comment) - len, " %s=%d",
					wants[i].key, saved[i]);
	/* raw prerouting: SYNs are not tracked, so the synproxy statement sees them
	 * (when XDP is not answering them first); input: what conntrack calls INVALID or
	 * UNTRACKED on these ports is the proxy's (a validated ACK, or a SYN), and an
	 * INVALID packet the proxy did not take is dropped. */
	snprintf(script, sizeof(script),
		 "table inet %s {\n"
		 "  comment \"%s\"\n"
		 "  chain pre {\n"
		 "    type filter hook prerouting priority raw; policy accept;\n"
		 "    iifname \"%s\" tcp dport { %s } tcp flags & (fin|syn|rst|ack) == syn notrack\n"
		 "  }\n"
		 "  chain in {\n"
		 "    type filter hook input priority filter; policy accept;\n"
		 "    iifname \"%s\" meta nfproto ipv4 tcp dport { %s } ct state invalid,untracked"
		 " synproxy mss %u wscale %u timestamp sack-perm\n"
		 "    iifname \"%s\" meta nfproto ipv6 tcp dport { %s } ct state invalid,untracked"
		 " synproxy mss %u wscale %u timestamp sack-perm\n"
		 "    iifname \"%s\" tcp dport { %s } ct state invalid drop\n"
		 "  }\n"
		 "}\n",
		 t, comment, cfg->ifname, ports, cfg->ifname, ports, mss4, ws, cfg->ifname, ports,
		 mss6, ws, cfg->ifname, ports);
	err = nft_script(script);
	if (err) {
		pr_warn("could not add the nftables SYNPROXY table inet %s (%s)%s\n", t,
			strerr(err), err == -ENOENT ? ": is nft installed (Debian: nftables)?" : "");
		return err;
	}
	for (int i = 0; i < NWANTS; i++) {
		err = sysctl_write(wants[i].path, wants[i].value);
		if (err) {
			pr_warn("could not set %s to %d: %s\n", wants[i].path, wants[i].value,
				strerr(err));
			synproxy_stop(cfg->ifname);
			return err;
		}
	}
	return 0;
}

static int add_range(struct synproxy_cfg *cfg, const char *s, char *err, size_t errlen)
{
	char lo[16], *dash;
	uint64_t a, b;

	if (strlen(s) >= sizeof(lo) || !*s) {
		snprintf(err, errlen, "'%s' is not a port or a range LO-HI", s);
		return -1;
	}
	snprintf(lo, sizeof(lo), "%s", s);
	dash = strchr(lo, '-');
	if (dash)
		*dash = 0;
	if (parse_u64(lo, 1, 65535, &a) || (dash && parse_u64(dash + 1, 1, 65535, &b))) {
		snprintf(err, errlen, "'%s' is not a port (1-65535) or a range LO-HI", s);
		return -1;
	}
	if (!dash)
		b = a;
	if (a > b) {
		snprintf(err, errlen, "port range '%s' ends before it starts", s);
		return -1;
	}
	if (cfg->nports >= SYNPROXY_MAX_PORTS) {
		snprintf(err, errlen, "more than %d ports or ranges", SYNPROXY_MAX_PORTS);
		return -1;
	}
	cfg->ports[cfg->nports].lo = (__u16)a;
	cfg->ports[cfg->nports].hi = (__u16)b;
	cfg->nports++;
	return 0;
}

int synproxy_parse_ports(const char *arg, struct synproxy_cfg *cfg, char *err, size_t errlen)
{
	char buf[1024], *tok, *save = NULL;
	size_t n = strlen(arg);

	cfg->nports = 0;
	if (!n || n >= sizeof(buf) || arg[0] == ',' || arg[n - 1] == ',' || strstr(arg, ",,")) {
		snprintf(err, errlen, "'%s' is not a list of ports, e.g. 80,443,8000-8010", arg);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (add_range(cfg, tok, err, errlen))
			return -1;
	return 0;
}

void synproxy_each_port(const struct synproxy_cfg *cfg, void (*fn)(__u16 port, void *arg),
			void *arg)
{
	for (int i = 0; i < cfg->nports; i++)
		for (unsigned p = cfg->ports[i].lo; p <= cfg->ports[i].hi; p++)
			fn((__u16)p, arg);
}
