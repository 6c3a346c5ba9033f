// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open + configure + load for count.bpf.c: the only place that writes its .rodata. */
#include <errno.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "count_prog.h"
#include "count.skel.h"

struct count_bpf *count_prog_load(const struct count_prog_cfg *cfg)
{
	struct count_bpf *skel = count_bpf__open();
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the count program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	skel->rodata->verdict = cfg->drop ? XDP_DROP : XDP_PASS;
	err = count_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the count program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		count_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

int count_prog_fd(struct count_bpf *skel)
{
	return bpf_program__fd(skel->progs.count_xdp);
}

int count_prog_stats(struct count_bpf *skel, struct count_stats *sum, __u64 *counter)
{
	__u32 key = 0;

	if (counter)
		*counter = *(volatile __u64 *)&skel->bss->counter;
	return percpu_sum_u64(bpf_map__fd(skel->maps.stats), &key, (__u64 *)sum,
			      sizeof(*sum) / sizeof(__u64));
}
