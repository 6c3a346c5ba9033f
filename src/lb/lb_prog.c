// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open, configure and load lb.bpf.c (see lb_prog.h), and the unpinned fixture built on
 * it. Everything that runs the balancer's program comes through here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_prog.h"
#include "lb_ct.h"
#include "lb.skel.h"
#include "util.h"
#include "bpfutil.h"
#include "verdict.h"

void lb_prog_maps(struct lb_bpf *skel, struct bpf_map *maps[LB_NMAPS])
{
	int i = 0;

#define LB_MAP_SKEL_(name, div) maps[i++] = skel->maps.name;
	LB_MAPS(LB_MAP_SKEL_)
#undef LB_MAP_SKEL_
}

void lb_fds_from_skel(struct lb_bpf *skel, struct lb_fds *f)
{
	struct bpf_map *maps[LB_NMAPS];

	lb_prog_maps(skel, maps);
	for (int i = 0; i < LB_NMAPS; i++)
		f->fd[i] = bpf_map__fd(maps[i]);
}

int lb_prog_fd(struct lb_bpf *skel)
{
	return bpf_program__fd(skel->progs.lb_xdp);
}

void lb_prog_destroy(struct lb_bpf *skel)
{
	lb_bpf__destroy(skel);
}

struct lb_bpf *lb_prog_open(const struct lb_prog_cfg *cfg)
{
	__u32 ct = lb_ct_size_round(cfg->ct_size ? cfg->ct_size : LB_CT_DEFAULT);
	struct bpf_map *maps[LB_NMAPS];
	struct lb_bpf *skel;
	struct bpf_map *m;
	int n = 0;

	if (!ct) {
		errno = EINVAL;
		return NULL;
	}
	skel = lb_bpf__open();
	if (!skel)
		return NULL;
	/* A map added to lb_maps.h but not to LB_MAPS would be neither pinned nor reused.
	 * verdict.h's trace maps belong to each loaded program, never pinned or shared. */
	bpf_object__for_each_map(m, skel->obj)
		n += !bpf_map__is_internal(m) && strcmp(bpf_map__name(m), VERDICT_CTL_MAP) &&
		     strcmp(bpf_map__name(m), VERDICT_RING_MAP);
	if (n != LB_NMAPS) {
		pr_warn("lb.bpf.c has %d maps, LB_MAPS in lb_ctl.h lists %d: update LB_MAPS\n",
			n, LB_NMAPS);
		lb_bpf__destroy(skel);
		errno = EPROTO;
		return NULL;
	}
	skel->rodata->lb_mode = cfg->mode;
	skel->rodata->table_size = cfg->table_size ? cfg->table_size : LB_TABLE_DEFAULT;
	skel->rodata->snat_addr = cfg->snat_addr;
	skel->rodata->bench_forget = cfg->bench_forget;
	skel->rodata->tunnel_src4 = cfg->tunnel_src4;
	memcpy((void *)&skel->rodata->snat6, &cfg->snat6, sizeof(cfg->snat6));
	memcpy((void *)&skel->rodata->tunnel_src6, &cfg->tunnel_src6, sizeof(cfg->tunnel_src6));
	skel->rodata->lb_ifindex = cfg->ifindex;
	memcpy((void *)skel->rodata->lb_mac, cfg->mac, 6);
	skel->rodata->ct_seed = cfg->ct_seed;
	skel->rodata->new_flow_limit = cfg->new_flow_limit;
	skel->rodata->ct_mask = ct / LB_CT_WAYS - 1;
	lb_prog_maps(skel, maps);
	for (int i = 0; i < LB_NMAPS; i++)
		if (lb_maps[i].ct_div)
			bpf_map__set_max_entries(maps[i], ct / lb_maps[i].ct_div);
	return skel;
}

struct lb_bpf *lb_prog_load(const struct lb_prog_cfg *cfg, const struct lb_fds *reuse)
{
	struct lb_bpf *skel = lb_prog_open(cfg);
	struct bpf_map *maps[LB_NMAPS];
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the lb program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	lb_prog_maps(skel, maps);
	for (int i = 0; reuse && i < LB_NMAPS; i++) {
		err = bpf_map__reuse_fd(maps[i], reuse->fd[i]);
		if (err) {
			pr_warn("cannot reuse pinned map '%s': %s\n", lb_maps[i].name, strerr(err));
			goto fail;
		}
	}
	err = lb_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the lb program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		goto fail;
	}
	return skel;
fail:
	lb_bpf__destroy(skel);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void lb_meta_init(struct lb_meta *m, const struct lb_prog_cfg *cfg)
{
	*m = (struct lb_meta){
		.layout_version = LB_LAYOUT_VERSION, .mode = cfg->mode,
		.table_size = cfg->table_size ? cfg->table_size : LB_TABLE_DEFAULT,
		.ct_size = lb_ct_size_round(cfg->ct_size ? cfg->ct_size : LB_CT_DEFAULT),
		.snat_addr = cfg->snat_addr, .tunnel_src4 = cfg->tunnel_src4, .ifindex = cfg->ifindex,
		.ct_seed = cfg->ct_seed, .snat6 = cfg->snat6, .tunnel_src6 = cfg->tunnel_src6,
		.new_flow_limit = cfg->new_flow_limit,
	};
}

void lb_prog_cfg_from_meta(struct lb_prog_cfg *cfg, const struct lb_meta *m, const __u8 mac[6])
{
	*cfg = (struct lb_prog_cfg){ .mode = m->mode, .table_size = m->table_size,
				     .ct_size = m->ct_size, .ct_seed = m->ct_seed,
				     .new_flow_limit = m->new_flow_limit,
				     .snat_addr = m->snat_addr,
				     .tunnel_src4 = m->tunnel_src4, .ifindex = m->ifindex,
				     .snat6 = m->snat6, .tunnel_src6 = m->tunnel_src6 };
	if (mac)
		memcpy(cfg->mac, mac, 6);
}

int lb_fixture_up(struct lb_fixture *fx, const struct lb_prog_cfg *cfg)
{
	struct lb_prog_cfg pc = *cfg;

	memset(fx, 0, sizeof(*fx));
	lb_fds_init(&fx->fds);
	fx->prog_fd = -1;
	fx->cfg = calloc(1, sizeof(*fx->cfg));
	if (!fx->cfg)
		return -ENOMEM;
	if (!pc.ct_seed)
		pc.ct_seed = lb_ct_seed_new();
	fx->skel = lb_prog_load(&pc, NULL);
	if (!fx->skel)
		return -errno;
	lb_fds_from_skel(fx->skel, &fx->fds);
	fx->prog_fd = lb_prog_fd(fx->skel);
	lb_meta_init(&fx->meta, &pc);
	return lb_meta_write(&fx->fds, &fx->meta);
}

void lb_fixture_down(struct lb_fixture *fx)
{
	lb_bpf__destroy(fx->skel);
	free(fx->cfg);
	memset(fx, 0, sizeof(*fx));
}

/* What `lb vip add` and `lb backend add` do after parsing: read back, edit, apply. */
static int fixture_edit(struct lb_fixture *fx, const struct lb_edit *e)
{
	int err = lb_cfg_read(&fx->fds, fx->cfg);

	if (!err)
		err = lb_cfg_edit(fx->cfg, e);
	if (!err)
		err = lb_cfg_apply(&fx->fds, &fx->meta, fx->cfg);
	return err;
}

int lb_fixture_vip_add(struct lb_fixture *fx, const char *vip)
{
	struct lb_edit e = { .op = LB_VIP_ADD };
	int err = lb_parse_vip(vip, &e.vip);

	return err ? err : fixture_edit(fx, &e);
}

int lb_fixture_vip_add_encap(struct lb_fixture *fx, const char *vip, __u32 encap)
{
	struct lb_edit e = { .op = LB_VIP_ADD, .vip_encap = encap };
	int err = lb_parse_vip(vip, &e.vip);

	return err ? err : fixture_edit(fx, &e);
}

int lb_fixture_backend_add(struct lb_fixture *fx, const char *vip, const char *addr,
			   const __u8 mac[6], __u16 weight)
{
	struct lb_edit e = { .op = LB_BACKEND_ADD };
	int err = lb_parse_vip(vip, &e.vip);

	if (!err)
		err = lb_parse_addr_port(addr, &e.backend.addr, &e.backend.port);
	if (err)
		return err;
	e.backend.weight = weight;
	e.backend.has_mac = mac != NULL;
	if (mac)
		memcpy(e.backend.mac, mac, 6);
	return fixture_edit(fx, &e);
}

int lb_fixture_apply(struct lb_fixture *fx, struct lb_cfg *c)
{
	int err = lb_cfg_apply(&fx->fds, &fx->meta, c);

	if (!err && c != fx->cfg)
		*fx->cfg = *c; /* in the caller's order, ids filled in */
	return err;
}
