// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* filter's benchmark cases (src/bench/bench_cases.def), a packet from one of the listed
 * prefixes, its rule lookup and drop against the bare XDP drop: the figure,
 * 100,000 IPv4 prefixes in one deny rule (a block list), and the same list with 1,000
 * other multi-field rules beside it (every field then has to be looked up). The block
 * list with --synproxy is syncookie_bench.c's case. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "benchcase.h"
#include "filter_prog.h"
#include "filter_ctl.h"
#include "synproxy.h"

/* Writes the 100,000-prefix list to a temp file (list_path) and the rule text naming it. */
int filter_bench_rules(char **textp, char *list_path, size_t list_len);

struct filter_bench {
	struct filter_bpf *skel;
};

static void filter_bench_cleanup(struct bench_prog *b)
{
	struct filter_bench *fb = b->priv;

	filter_prog_destroy(fb->skel);
	free(fb);
}

static int bench_rules(char **textp, char *list_path, size_t list_len, int nrules)
{
	int fd;
	FILE *f;
	size_t cap = 1 << 20, len = 0;
	char *text;

	snprintf(list_path, list_len, "/tmp/bpflab-filter-bench-XXXXXX");
	fd = mkstemp(list_path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	for (int i = 0; i < 100000; i++) {
		__u32 a = i < 65536 ? (10u << 24) | ((__u32)i << 8) : 0x64400000u + ((__u32)(i - 65536) << 8);
		fprintf(f, "%u.%u.%u.0/24\n", a >> 24, a >> 16 & 255, a >> 8 & 255);
	}
	fclose(f);
	text = malloc(cap);
	if (!text)
		return -ENOMEM;
	len += snprintf(text + len, cap - len, "5 deny src @%s\n", list_path);
	for (int i = 0; i < nrules; i++)
		len += snprintf(text + len, cap - len,
				"%d %s src 172.%d.%d.0/24 dst 198.18.%d.0/24 proto tcp sport 1024-65535 "
				"dport %d,%d-%d flags syn,!ack\n", 100 + i, i % 3 ? "deny" : "allow",
				16 + i % 16, i / 16, i % 200, 1000 + i, 3000 + i, 3000 + i + i % 7);
	*textp = text;
	return 0;
}

/* The same rules as tests/prog/test_filter.c's scale test. */
int filter_bench_rules(char **textp, char *list_path, size_t list_len)
{
	return bench_rules(textp, list_path, list_len, 1000);
}

static int bench_setup_syn(struct bench_prog *b, int nrules, const char *name,
			   const struct synproxy_cfg *syn)
{
	struct filter_bench *fb = calloc(1, sizeof(*fb));
	struct fr_tables *t = calloc(1, sizeof(*t));
	struct filter_fds fds;
	struct pkt_spec ps;
	struct fr_set s;
	char *text = NULL, list[64], err[512];
	__u32 gen;
	int e;

	if (!fb || !t) {
		e = -ENOMEM;
		goto out;
	}
	if ((e = bench_rules(&text, list, sizeof(list), nrules)))
		goto out;
	e = fr_parse("bench.rules", text, &s, err, sizeof(err));
	unlink(list);
	if (e)
		goto out;
	e = fr_compile(&s, t, err, sizeof(err));
	fr_set_free(&s);
	if (e)
		goto out;
	fb->skel = filter_prog_load(&(struct filter_prog_cfg){ .syn = syn });
	if (!fb->skel) {
		e = -errno;
		goto out;
	}
	filter_fds_from_skel(fb->skel, &fds);
	if ((e = filter_install(&fds, t, &gen)))
		goto out;
	b->name = name;
	b->prog_fd = filter_prog_fd(fb->skel);
	if (!syn) {
		pkt_spec_default(&ps);
		inet_pton(AF_INET, "10.77.3.4", &ps.src4); /* in 10.77.3.0/24, one of the 100,000 */
		ps.proto = IPPROTO_UDP;
		ps.sport = 40000;
		ps.dport = 9;
		b->baseline = "xdp_drop";
		b->pkt_len = pkt_build(&ps, b->pkt);
		b->expect_retval = XDP_DROP;
	}
	b->priv = fb;
	b->cleanup = filter_bench_cleanup;
	fb = NULL;
out:
	if (fb) {
		if (fb->skel)
			filter_prog_destroy(fb->skel);
		free(fb);
	}
	if (t)
		fr_tables_free(t);
	free(t);
	free(text);
	return e < 0 ? e : e ? -EINVAL : 0;
}

static int bench_setup(struct bench_prog *b, int nrules, const char *name)
{
	return bench_setup_syn(b, nrules, name, NULL);
}

/* The filter with the 100,000 prefixes and --synproxy PORT (syncookie_bench.c): what
 * `filter start --synproxy` runs. The packet, baseline and verdict are the caller's. */
int filter_bench_syn_setup(struct bench_prog *b, const char *name, __u16 port);

int filter_bench_syn_setup(struct bench_prog *b, const char *name, __u16 port)
{
	struct synproxy_cfg syn = { .nports = 1, .ports = { { port, port } } };

	return bench_setup_syn(b, 0, name, &syn);
}

int filter_bench_setup(struct bench_prog *b)
{
	return bench_setup(b, 1000, "filter, 100k prefixes");
}

int filter_bench_blocklist_setup(struct bench_prog *b);

int filter_bench_blocklist_setup(struct bench_prog *b)
{
	return bench_setup(b, 0, "filter, 100k prefixes only");
}
