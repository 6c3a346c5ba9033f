// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open + configure + load for syncookie.bpf.c: the only place that writes its .rodata. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "syncookie_prog.h"
#include "syncookie.skel.h"

static const char *const stat_names[SYN_STAT_MAX] = {
	[SYN_SYNACK] = "synack",
	[SYN_ACK_OK] = "ack_ok",
	[SYN_ACK_BAD] = "ack_bad",
	[SYN_ESTABLISHED] = "established",
	[SYN_BAD_CSUM] = "bad_csum",
	[SYN_BAD_FLAGS] = "bad_flags",
	[SYN_BAD_ADDR] = "bad_addr",
	[SYN_FRAGMENT] = "fragment",
	[SYN_DATA] = "syn_data",
	[SYN_ERROR] = "error",
};

const char *syncookie_stat_name(int i)
{
	return i >= 0 && i < SYN_STAT_MAX ? stat_names[i] : NULL;
}

struct syncookie_bpf *syncookie_prog_load(const struct syncookie_prog_cfg *cfg)
{
	struct syncookie_bpf *skel = syncookie_bpf__open();
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the syncookie program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	skel->rodata->syn_enabled = 1;
	for (int i = 0; i < cfg->nports; i++)
		syncookie_port_set(skel->rodata->syn_ports, cfg->ports[i]);
	skel->rodata->syn_mss4 = cfg->mss4;
	skel->rodata->syn_mss6 = cfg->mss6;
	skel->rodata->syn_wscale = cfg->wscale;
	skel->rodata->syn_ttl = cfg->ttl;
	err = syncookie_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the syncookie program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		syncookie_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

int syncookie_prog_fd(struct syncookie_bpf *skel)
{
	return bpf_program__fd(skel->progs.syncookie_xdp);
}

int syncookie_prog_stats_fd(struct syncookie_bpf *skel)
{
	return bpf_map__fd(skel->maps.syn_stats);
}

void syncookie_prog_destroy(struct syncookie_bpf *skel)
{
	syncookie_bpf__destroy(skel);
}

int syncookie_read_stats(int map_fd, __u64 *out)
{
	for (__u32 k = 0; k < SYN_STAT_MAX; k++) {
		int err = percpu_sum_u64(map_fd, &k, &out[k], 1);

		if (err)
			return err;
	}
	return 0;
}

int syncookie_reset_stats(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *zero;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (__u32 k = 0; k < SYN_STAT_MAX; k++) {
		if (bpf_map_update_elem(map_fd, &k, zero, BPF_ANY)) {
			int err = -errno;

			free(zero);
			return err;
		}
	}
	free(zero);
	return 0;
}
