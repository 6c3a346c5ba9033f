// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Asking the kernel what is there and running programs on test packets (see bpfutil.h):
 * XDP modes, the programs attached to an interface, BPF_PROG_TEST_RUN, per-CPU sums. */
#define _GNU_SOURCE
#include "bpfutil.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int xdp_mode_parse(const char *s, enum xdp_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = XDP_MODE_AUTO;
	else if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*mode = XDP_MODE_GENERIC;
	else {
		pr_warn("invalid --mode '%s': use auto, native or generic\n", s);
		return -EINVAL;
	}
	return 0;
}

const char *xdp_mode_str(enum xdp_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_GENERIC: return "generic";
	default: return "auto";
	}
}

int xdp_query_present(int ifindex, struct xdp_present *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err, fd;

	memset(out, 0, sizeof(*out));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (!q.prog_id)
		return 0;
	out->prog_id = q.prog_id;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV: out->mode = "native"; break;
	case XDP_ATTACHED_SKB: out->mode = "generic"; break;
	case XDP_ATTACHED_HW: out->mode = "offload"; break;
	default: out->mode = "multi"; break;
	}
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(out->name, sizeof(out->name), "%s", info.name);
		close(fd);
	}
	return 1;
}

static void prog_name_of(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = 0;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

int iface_programs(int ifindex, struct iface_prog *out, int cap)
{
	static const struct { const char *hook; __u32 type; } tcx[] = {
		{ "tcx_ingress", BPFLAB_TCX_INGRESS }, { "tcx_egress", BPFLAB_TCX_EGRESS },
	};
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int n = 0, err;

	/* XDP: one program per mode (a driver and a generic one can coexist). */
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	{
		const struct { __u32 id; const char *mode; } x[] = {
			{ q.drv_prog_id, "native" }, { q.skb_prog_id, "generic" }, { q.hw_prog_id, "offload" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(x) && n < cap; i++) {
			if (!x[i].id)
				continue;
			out[n].id = x[i].id;
			out[n].hook = "xdp";
			out[n].mode = x[i].mode;
			prog_name_of(x[i].id, out[n].name, sizeof(out[n].name));
			n++;
		}
	}
	/* tcx: a list per direction; kernels without tcx answer EINVAL, which means none. */
	for (size_t t = 0; t < ARRAY_SIZE(tcx); t++) {
		__u32 ids[IFACE_PROGS_MAX];
		LIBBPF_OPTS(bpf_prog_query_opts, pq, .prog_ids = ids, .prog_cnt = ARRAY_SIZE(ids));

		/* BPF_PROG_QUERY's target_fd is a union with target_ifindex. */
		if (bpf_prog_query_opts(ifindex, (enum bpf_attach_type)tcx[t].type, &pq))
			continue;
		for (__u32 i = 0; i < pq.prog_cnt && i < ARRAY_SIZE(ids) && n < cap; i++) {
			out[n].id = ids[i];
			out[n].hook = tcx[t].hook;
			out[n].mode = "link";
			prog_name_of(ids[i], out[n].name, sizeof(out[n].name));
			n++;
		}
	}
	return n;
}

/* The XDP bpf_link on ifindex, by id; 0 when the program is attached without a link. */

int test_run_xdp(int prog_fd, struct test_run *t)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	cpu_set_t old, one;
	bool pinned = false;
	int err;

	o.data_in = t->in;
	o.data_size_in = t->in_len;
	o.data_out = t->out;
	o.data_size_out = t->out ? t->out_cap : 0;
	o.repeat = t->repeat > 0 ? t->repeat : 1;
	if (t->cpu >= 0 && !sched_getaffinity(0, sizeof(old), &old)) {
		CPU_ZERO(&one);
		CPU_SET(t->cpu, &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
		if (!pinned)
			return -errno;
	}
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	if (err)
		return err;
	t->out_len = o.data_size_out;
	t->retval = o.retval;
	t->duration = o.duration;
	return 0;
}

int percpu_sum_u64(int map_fd, const void *key, __u64 *out, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* The kernel hands back one value per possible CPU, each rounded up to 8 bytes:
	 * with __u64-only values that is exactly n words per CPU. */
	v = calloc((size_t)ncpu * n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, key, v)) {
		int err = -errno;
		free(v);
		return err;
	}
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (size_t i = 0; i < n; i++)
			out[i] += v[(size_t)cpu * n + i];
	free(v);
	return 0;
}

const char *xdp_action_str(__u32 act)
{
	static const char *names[] = { "aborted", "drop", "pass", "tx", "redirect" };
	return act < ARRAY_SIZE(names) ? names[act] : "unknown";
}
