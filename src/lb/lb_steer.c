// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loads and attaches steer.bpf.c for `lb health` (see lb_steer.h). Its links
 * are not pinned: they go with the checker, also on kill -9. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "lb_cmd.h"
#include "lb_steer.h"
#include "steer.skel.h"

struct lb_steer {
	struct steer_bpf *skel;
	int egress, ingress;      /* tcx link fds */
	struct lb_steer_be cur[LB_MAX_BACKENDS];
};

int lb_steer_load(struct lb_steer **out)
{
	struct lb_steer *st = calloc(1, sizeof(*st));
	int err;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	st->egress = st->ingress = -1;
	st->skel = steer_bpf__open_and_load();
	if (!st->skel) {
		err = -errno;
		free(st);
		return err ? err : -EINVAL;
	}
	*out = st;
	return 0;
}

int lb_steer_prog_fd(const struct lb_steer *st, int ingress)
{
	return bpf_program__fd(ingress ? st->skel->progs.lb_steer_ingress
				       : st->skel->progs.lb_steer_egress);
}

int lb_steer_flows_fd(const struct lb_steer *st)
{
	return bpf_map__fd(st->skel->maps.steer_flows);
}

int lb_steer_counters(const struct lb_steer *st, __u64 *v)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(st->skel->maps.steer_stats);
	__u64 *per;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (__u32 k = 0; k < LB_STEER__MAX; k++) {
		v[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, per)) {
			int err = -errno;
			free(per);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			v[k] += per[c];
	}
	free(per);
	return 0;
}

int lb_steer_attach(struct lb_steer **out, const struct lb_inst *in)
{
	struct lb_steer *st;
	int err;

	*out = NULL;
	err = lb_steer_load(&st);
	if (err)
		return err;
	/* bpf_link_create: this libbpf may predate bpf_program__attach_tcx. */
	st->egress = bpf_link_create(lb_steer_prog_fd(st, 0),
				     in->meta.ifindex, (enum bpf_attach_type)BPFLAB_TCX_EGRESS, NULL);
	if (st->egress < 0) {
		err = -errno;
		goto fail;
	}
	st->ingress = bpf_link_create(lb_steer_prog_fd(st, 1),
				      in->meta.ifindex, (enum bpf_attach_type)BPFLAB_TCX_INGRESS, NULL);
	if (st->ingress < 0) {
		err = -errno;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	lb_steer_detach(st);
	return err;
}

void lb_steer_sync(struct lb_steer *st, const struct lb_cfg *s, const struct lb_meta *m)
{
	static struct lb_steer_be want[LB_MAX_BACKENDS];
	int fd;

	if (!st)
		return;
	fd = bpf_map__fd(st->skel->maps.steer_be);
	memset(want, 0, sizeof(want));
	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		int v = lb_cfg_find_vip(s, &b->vip);
		int encap = lb_cfg_vip_encap(s, &b->vip);
		struct lb_steer_be *w;

		if (v < 0 || s->vips[v].check.type == LB_CHECK_NONE || b->id >= LB_MAX_BACKENDS ||
		    (m->mode != LB_MODE_DSR && encap == LB_ENCAP_NONE) || !lb_steer_covers(b))
			continue;
		w = &want[b->id];
		w->vip = b->vip.addr;
		w->be = b->addr.a;
		w->vip_port = b->vip.port;
		w->be_port = lb_be_port(b);
		w->proto = b->vip.proto;
		w->used = 1;
		w->encap = (__u8)encap;
		w->family = b->vip.family;
		if (encap && w->family == LB_FAM4)
			w->tunnel_src.v4 = m->tunnel_src4;
		else if (encap)
			w->tunnel_src = m->tunnel_src6;
	}
	for (__u32 id = 0; id < LB_MAX_BACKENDS; id++) {
		if (!memcmp(&want[id], &st->cur[id], sizeof(want[id])))
			continue;
		if (!bpf_map_update_elem(fd, &id, &want[id], BPF_ANY))
			st->cur[id] = want[id];
	}
}

bool lb_steer_covers(const struct lb_cfg_backend *b)
{
	return b->vip.family == b->addr.family &&
	       (b->vip.family == LB_FAM4 || b->vip.family == LB_FAM6);
}

void lb_steer_detach(struct lb_steer *st)
{
	if (!st)
		return;
	if (st->ingress >= 0)
		close(st->ingress);
	if (st->egress >= 0)
		close(st->egress);
	steer_bpf__destroy(st->skel);
	free(st);
}
