// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open, configure and load filter.bpf.c (see filter_prog.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter_prog.h"
#include "filter.skel.h"
#include "syncookie.h"
#include "synproxy.h"
#include "util.h"
#include "verdict.h"

static void syn_port_cb(__u16 port, void *words)
{
	syncookie_port_set(words, port);
}

struct filter_bpf *filter_prog_load(const struct filter_prog_cfg *cfg)
{
	struct filter_bpf *skel = filter_bpf__open();
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the filter program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	if (cfg->no_event_limit)
		skel->rodata->event_gap_ns = 0;
	if (cfg->top_shift)
		skel->rodata->top_shift = cfg->top_shift == 255 ? 0 : cfg->top_shift;
	if (cfg->syn && cfg->syn->nports) {
		synproxy_each_port(cfg->syn, syn_port_cb, (void *)skel->rodata->syn_ports);
		if (cfg->syn->mss4)
			skel->rodata->syn_mss4 = cfg->syn->mss4;
		if (cfg->syn->mss6)
			skel->rodata->syn_mss6 = cfg->syn->mss6;
		if (cfg->syn->wscale)
			skel->rodata->syn_wscale = cfg->syn->wscale;
		skel->rodata->syn_enabled = 1;
	}
	err = filter_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the filter program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		filter_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

int filter_prog_fd(struct filter_bpf *skel)
{
	return bpf_program__fd(skel->progs.filter_xdp);
}

void filter_prog_destroy(struct filter_bpf *skel)
{
	filter_bpf__destroy(skel);
}

void filter_fds_from_skel(struct filter_bpf *skel, struct filter_fds *f)
{
#define FILTER_SKFD_(n) f->n = bpf_map__fd(skel->maps.n);
	FILTER_MAPS(FILTER_SKFD_)
#undef FILTER_SKFD_
}

int filter_fds_open(const char *dir, struct filter_fds *f)
{
	char p[512];
	int err = 0;

#define FILTER_OPEN_(n) \
	snprintf(p, sizeof(p), "%s/%s", dir, #n); \
	f->n = bpf_obj_get(p); \
	if (f->n < 0 && !err) \
		err = -errno;
	FILTER_MAPS(FILTER_OPEN_)
#undef FILTER_OPEN_
	return err;
}

void filter_fds_close(struct filter_fds *f)
{
#define FILTER_CLOSE_(n) if (f->n >= 0) close(f->n); f->n = -1;
	FILTER_MAPS(FILTER_CLOSE_)
#undef FILTER_CLOSE_
}

int filter_prog_pin_objs(struct filter_bpf *skel, const char **names, int *fds, int cap)
{
	struct bpf_map *m;
	int n = 0;

	bpf_object__for_each_map(m, skel->obj) {
		if ((m == skel->maps.data_fast || m == skel->maps.bss) && n < cap) {
			/* The global sections `apply` writes: by their skeleton names. */
			names[n] = m == skel->maps.data_fast ? "data_fast" : "bss";
			fds[n++] = bpf_map__fd(m);
			continue;
		}
		/* verdict.h's trace maps belong to each loaded program: never pinned. */
		if (bpf_map__is_internal(m) || n >= cap ||
		    !strcmp(bpf_map__name(m), VERDICT_CTL_MAP) ||
		    !strcmp(bpf_map__name(m), VERDICT_RING_MAP))
			continue;
		names[n] = bpf_map__name(m);
		fds[n++] = bpf_map__fd(m);
	}
	return n;
}

int filter_prog_syn_stats_fd(struct filter_bpf *skel)
{
	struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, "syn_stats");

	return m ? bpf_map__fd(m) : -1;
}
