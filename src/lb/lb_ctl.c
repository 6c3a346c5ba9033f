// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The load balancer's control plane on its maps (see lb_ctl.h; the configuration in
 * memory is lb_cfg.c's). The maps are the only state: any process reads the configuration back from them, edits it in memory and
 * applies it; callers serialise that with a flock on the pin folder. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_ctl.h"
#include "maglev.h"
#include "pkt.h"
#include "addr.h"
#include "util.h"
#include "bpfutil.h"

const struct lb_map_desc lb_maps[LB_NMAPS] = {
#define LB_MAP_DESC_(n, div) { .name = #n, .ct_div = div },
	LB_MAPS(LB_MAP_DESC_)
#undef LB_MAP_DESC_
};

_Static_assert(sizeof(struct lb_fds) == LB_NMAPS * sizeof(int), "lb_fds: one int per map");

static const char *const counter_names[LBC__MAX] = {
	[LBC_PASS_NOT_FOR_US] = "pass_not_for_us",
	[LBC_PASS_NOT_IP] = "pass_not_ip",
	[LBC_PASS_NOT_VIP] = "pass_not_vip",
	[LBC_DROP_MALFORMED] = "drop_malformed",
	[LBC_DROP_FRAGMENT] = "drop_fragment",
	[LBC_DROP_IP_OPTIONS] = "drop_ip_options",
	[LBC_DROP_PORT_ZERO] = "drop_port_zero",
	[LBC_DROP_NO_BACKEND] = "drop_no_backend",
	[LBC_DROP_NAT_PORT] = "drop_nat_port",
	[LBC_CT_MISS] = "conntrack_miss",
	[LBC_CT_STALE] = "conntrack_stale",
	[LBC_NAT_PORT_REMAP] = "nat_port_remap",
	[LBC_CT_EVICT] = "conntrack_evict",
	[LBC_CT_GUARDED] = "conntrack_guarded",
	[LBC_TX_BACKEND] = "tx_backend",
	[LBC_REPLY] = "nat_reply",
	[LBC_ICMP_TO_BACKEND] = "icmp_to_backend",
	[LBC_PASS_OTHER_L4] = "pass_vip_other",
	[LBC_TX_ENCAP] = "tx_encap",
	[LBC_ICMP_TOO_BIG] = "icmp_too_big",
	[LBC_DROP_TOO_BIG] = "drop_too_big",
	[LBC_DROP_NO_ROUTE] = "drop_no_route",
	[LBC_DROP_NO_NEIGH] = "drop_no_neigh",
	[LBC_DROP_ENCAP] = "drop_encap",
};

const char *lb_counter_name(int i)
{
	return i >= 0 && i < LBC__MAX ? counter_names[i] : "?";
}

void lb_fds_init(struct lb_fds *f)
{
	for (int i = 0; i < LB_NMAPS; i++)
		f->fd[i] = -1;
}

void lb_fds_close(struct lb_fds *f)
{
	for (int i = 0; i < LB_NMAPS; i++) {
		if (f->fd[i] >= 0)
			close(f->fd[i]);
		f->fd[i] = -1;
	}
}

int lb_meta_read(const struct lb_fds *f, struct lb_meta *c)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(f->config, &k, c) ? -errno : 0;
}

int lb_meta_write(const struct lb_fds *f, const struct lb_meta *c)
{
	__u32 k = 0;
	return bpf_map_update_elem(f->config, &k, c, BPF_ANY) ? -errno : 0;
}

/* A backend's address in the map's value and back (lb.h's layout). */
static void be_addr_get(const struct lb_backend *be, struct lb_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->a = be->addr;
	ip->family = be->flags & LB_BE_V6 ? LB_FAM6 : LB_FAM4;
}

static void be_addr_set(struct lb_backend *be, const struct lb_ip *ip)
{
	be->addr = ip->a;
	if (ip->family == LB_FAM6)
		be->flags |= LB_BE_V6;
}

/* The vip_addrs key of a VIP: its address alone (port and protocol 0). */
static struct lb_vip_key addr_key(const struct lb_vip_key *k)
{
	struct lb_vip_key a;

	memset(&a, 0, sizeof(a));
	a.addr = k->addr;
	a.family = k->family;
	return a;
}

static bool same_addr(const struct lb_vip_key *a, const struct lb_vip_key *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static int vip_by_id(const void *a, const void *b)
{
	const struct lb_cfg_vip *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int lb_cfg_read(const struct lb_fds *f, struct lb_cfg *s)
{
	struct lb_vip_key k, next, *prev = NULL;
	struct lb_vip v;

	memset(s, 0, sizeof(*s));
	while (!bpf_map_get_next_key(f->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(f->vips, &k, &v))
			continue;
		if (s->nvips >= LB_MAX_VIPS)
			break;
		s->vips[s->nvips].key = k;
		s->vips[s->nvips].id = v.id;
		s->vips[s->nvips].encap = v.flags & LB_VIP_ENCAP_MASK;
		s->nvips++;
	}
	/* Hash-map order changes when a key is rewritten in a shared bucket: order by id, so
	 * show, save and apply list VIPs the same way every time. */
	qsort(s->vips, s->nvips, sizeof(s->vips[0]), vip_by_id);
	for (__u32 id = 1; id < LB_MAX_BACKENDS; id++) {
		struct lb_backend be;
		struct lb_cfg_backend *b;
		int vi = -1;

		if (bpf_map_lookup_elem(f->backends, &id, &be))
			return -errno;
		if (!(be.flags & LB_BE_USED))
			continue;
		for (int i = 0; i < s->nvips; i++)
			if (s->vips[i].id == be.vip_id)
				vi = i;
		if (vi < 0)
			continue; /* orphan of an interrupted change: dropped on the next apply */
		b = &s->backends[s->nbackends++];
		memset(b, 0, sizeof(*b));
		b->vip = s->vips[vi].key;
		be_addr_get(&be, &b->addr);
		b->port = be.port;
		memcpy(b->mac, be.mac, 6);
		b->has_mac = !(be.flags >> LB_BE_ENCAP_SHIFT & LB_VIP_ENCAP_MASK);
		b->weight = be.weight;
		b->id = id;
	}
	return 0;
}

static int zero_percpu(int fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct lb_stats *z;
	int err;

	if (ncpu <= 0)
		return ncpu;
	z = calloc(ncpu, sizeof(*z));
	if (!z)
		return -ENOMEM;
	err = bpf_map_update_elem(fd, &id, z, BPF_ANY) ? -errno : 0;
	free(z);
	return err;
}

/* Builds the VIP's table from its backends and swaps it in with one update. */
static int ring_swap(const struct lb_fds *f, const struct lb_meta *cfg, const struct lb_cfg *s,
		     const struct lb_cfg_vip *v)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct maglev_backend *mb = calloc(s->nbackends + 1, sizeof(*mb));
	__u32 *table = calloc(cfg->table_size, sizeof(*table));
	__u32 *keys = calloc(cfg->table_size, sizeof(*keys));
	__u32 n = 0, count = cfg->table_size;
	int fd = -1, err;

	if (!mb || !table || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		if (!lb_vip_eq(&b->vip, &v->key))
			continue;
		mb[n].key = lb_maglev_key(b);
		mb[n].id = b->id;
		mb[n].weight = b->weight;
		n++;
	}
	err = maglev_build(mb, n, table, cfg->table_size);
	if (err)
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_ring", 4, 4, cfg->table_size, &mo);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (__u32 i = 0; i < cfg->table_size; i++)
		keys[i] = i;
	if (bpf_map_update_batch(fd, keys, table, &count, &bo)) {
		err = -errno;
		goto out;
	}
	/* The swap: packets see the whole old table or the whole new one. */
	err = bpf_map_update_elem(f->rings, &v->id, &fd, BPF_ANY) ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	free(mb);
	free(table);
	free(keys);
	return err;
}

/* Did this VIP's set of (backend id, weight) change between old and new? */
static bool vip_dirty(const struct lb_cfg *old, const struct lb_cfg *s, const struct lb_cfg_vip *v)
{
	int n_old = 0, n_new = 0;

	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		bool found = false;
		if (!lb_vip_eq(&b->vip, &v->key))
			continue;
		n_new++;
		for (int j = 0; j < old->nbackends && !found; j++)
			found = old->backends[j].id == b->id && old->backends[j].weight == b->weight &&
				lb_vip_eq(&old->backends[j].vip, &v->key);
		if (!found)
			return true;
	}
	for (int j = 0; j < old->nbackends; j++)
		n_old += lb_vip_eq(&old->backends[j].vip, &v->key);
	return n_old != n_new || lb_cfg_find_vip(old, &v->key) < 0;
}

/* A seed under which no two of s's VIPs share a slot, and the slots; false when none of
 * LB_VIX_SEED_TRIES is (v6 keys that differ only where the hash cannot see: never seen).
 * The seeds tried follow from the one in use, so every rebuild moves every VIP: a flaw
 * in the turning over of halves cannot hide behind a layout that happened to stay. */
static bool vix_place(const struct lb_cfg *s, struct lb_vix_slot *slots, __u32 prev,
		      __u32 *seed)
{
	for (__u32 t = 0; t < LB_VIX_SEED_TRIES; t++) {
		bool clash = false;

		*seed = lb_mix32(prev + 1 + t);
		memset(slots, 0, LB_VIX_SLOTS * sizeof(*slots));
		for (int i = 0; i < s->nvips && !clash; i++) {
			struct lb_vix_slot *sl = &slots[lb_vix_index(&s->vips[i].key, *seed)];

			clash = sl->key.family != 0;
			sl->key = s->vips[i].key;
			sl->vip.id = s->vips[i].id;
			sl->vip.flags = s->vips[i].encap;
		}
		if (!clash)
			return true;
	}
	memset(slots, 0, LB_VIX_SLOTS * sizeof(*slots));
	return false;
}

/* The VIP index (lb.h) made to hold exactly s's VIPs: the half packets do not read is
 * rewritten whole, then the head names it. */
static int vix_build(const struct lb_fds *f, const struct lb_cfg *s)
{
	struct lb_vix_slot *slots = calloc(LB_VIX_SLOTS, sizeof(*slots));
	__u32 *keys = calloc(LB_VIX_SLOTS, sizeof(*keys));
	struct lb_vix_head hd;
	__u32 zero = 0, next, n = LB_VIX_SLOTS;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int err = 0;

	if (!slots || !keys) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(f->vix_head, &zero, &hd)) {
		err = -errno;
		goto out;
	}
	next = !(hd.half & 1);
	/* A packet that read the head before it last turned may still be reading this half:
	 * an RCU grace period (MEMBARRIER_CMD_GLOBAL waits for one) outlasts every XDP run.
	 * Kernels with nohz_full refuse it; a tenth of a second outlasts them as well. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(100000);
	hd.ready[next] = vix_place(s, slots, hd.seed[hd.half & 1], &hd.seed[next]);
	for (__u32 i = 0; i < LB_VIX_SLOTS; i++)
		keys[i] = next * LB_VIX_SLOTS + i;
	if (bpf_map_update_batch(f->vix, keys, slots, &n, &bo)) {
		err = -errno;
		goto out;
	}
	/* Two writes, so that no read of the head can pair the new half with the seed it
	 * had before: first the half's seed and readiness, while packets read the other. */
	if (bpf_map_update_elem(f->vix_head, &zero, &hd, BPF_EXIST)) {
		err = -errno;
		goto out;
	}
	hd.half = next;
	if (bpf_map_update_elem(f->vix_head, &zero, &hd, BPF_EXIST))
		err = -errno;
out:
	free(slots);
	free(keys);
	return err;
}

int lb_cfg_apply(const struct lb_fds *f, struct lb_meta *cfg, struct lb_cfg *s)
{
	struct lb_cfg *old = calloc(1, sizeof(*old));
	bool *vip_used = calloc(LB_MAX_VIPS, sizeof(bool));
	bool *be_used = calloc(LB_MAX_BACKENDS, sizeof(bool));
	int err;

	if (!old || !vip_used || !be_used) {
		err = -ENOMEM;
		goto out;
	}
	err = lb_cfg_read(f, old);
	if (err)
		goto out;
	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		__u32 encap = lb_cfg_vip_encap(s, &b->vip);

		/* Encap backends are reached through the FIB's next hop, not their own MAC. */
		if (!b->has_mac && !encap) {
			err = -EINVAL;
			goto out;
		}
		if (lb_family_refusal(&b->vip, encap, &b->addr)) {
			err = -EAFNOSUPPORT;
			goto out;
		}
	}

	/* Ids: what exists keeps its id (and so its flows and counters). */
	for (int i = 0; i < s->nvips; i++) {
		int o = lb_cfg_find_vip(old, &s->vips[i].key);
		s->vips[i].id = o >= 0 ? old->vips[o].id : LB_MAX_VIPS;
		if (o >= 0)
			vip_used[s->vips[i].id] = true;
	}
	for (int o = 0; o < old->nvips; o++)
		vip_used[old->vips[o].id] = true; /* not reused within one apply */
	for (int i = 0; i < s->nvips; i++) {
		if (s->vips[i].id < LB_MAX_VIPS)
			continue;
		for (__u32 id = 0; id < LB_MAX_VIPS; id++) {
			if (!vip_used[id]) {
				vip_used[id] = true;
				s->vips[i].id = id;
				break;
			}
		}
		if (s->vips[i].id >= LB_MAX_VIPS) {
			err = -ENOSPC;
			goto out;
		}
	}
	for (int i = 0; i < old->nbackends; i++)
		be_used[old->backends[i].id] = true;
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		struct lb_cfg_backend *ob = lb_cfg_backend_find(old, &b->vip, &b->addr, b->port);
		b->id = ob ? ob->id : 0;
	}
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		__u32 tries = 0;
		if (b->id)
			continue;
		/* A cursor, so that a just-freed id (whose flows may linger) is not reused soon. */
		do {
			cfg->next_backend = cfg->next_backend % (LB_MAX_BACKENDS - 1) + 1;
		} while (be_used[cfg->next_backend] && ++tries < LB_MAX_BACKENDS);
		if (be_used[cfg->next_backend]) {
			err = -ENOSPC;
			goto out;
		}
		b->id = cfg->next_backend;
		be_used[b->id] = true;
		zero_percpu(f->backend_stats, b->id);
	}

	/* 1. Backends: new ones appear before any table names them. */
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		int vi = lb_cfg_find_vip(s, &b->vip);
		struct lb_backend be = {
			.port = lb_be_port(b), .vip_id = s->vips[vi].id,
			.weight = b->weight,
			.flags = LB_BE_USED | s->vips[vi].encap << LB_BE_ENCAP_SHIFT,
		};
		be_addr_set(&be, &b->addr);
		memcpy(be.mac, b->mac, 6);
		if (bpf_map_update_elem(f->backends, &b->id, &be, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* 2. Tables, whole, one swap per VIP that changed. */
	for (int i = 0; i < s->nvips; i++) {
		if (!vip_dirty(old, s, &s->vips[i]))
			continue;
		if (lb_cfg_find_vip(old, &s->vips[i].key) < 0)
			zero_percpu(f->vip_stats, s->vips[i].id);
		err = ring_swap(f, cfg, s, &s->vips[i]);
		if (err)
			goto out;
	}
	/* 3. VIPs: the address first, then the VIP itself. */
	for (int i = 0; i < s->nvips; i++) {
		struct lb_vip v = { .id = s->vips[i].id, .flags = s->vips[i].encap };
		struct lb_vip_key ak = addr_key(&s->vips[i].key);
		__u32 n = 0;
		for (int j = 0; j < s->nvips; j++)
			n += same_addr(&s->vips[j].key, &s->vips[i].key);
		if (bpf_map_update_elem(f->vip_addrs, &ak, &n, BPF_ANY) ||
		    bpf_map_update_elem(f->vips, &s->vips[i].key, &v, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* ... and the index of them, before gone VIPs lose their tables. */
	err = vix_build(f, s);
	if (err)
		goto out;
	/* 4. Gone VIPs: the VIP first, then its table and, when unused, its address. */
	for (int o = 0; o < old->nvips; o++) {
		struct lb_vip_key *k = &old->vips[o].key;
		bool addr_used = false;
		if (lb_cfg_find_vip(s, k) >= 0)
			continue;
		bpf_map_delete_elem(f->vips, k);
		bpf_map_delete_elem(f->rings, &old->vips[o].id);
		for (int j = 0; j < s->nvips; j++)
			addr_used |= same_addr(&s->vips[j].key, k);
		if (!addr_used) {
			struct lb_vip_key ak = addr_key(k);

			bpf_map_delete_elem(f->vip_addrs, &ak);
		}
	}
	/* 5. Gone backends, now that no table names them; their flows re-balance. */
	for (int o = 0; o < old->nbackends; o++) {
		struct lb_backend zero = {};
		bool kept = false;
		for (int i = 0; i < s->nbackends && !kept; i++)
			kept = s->backends[i].id == old->backends[o].id;
		if (!kept)
			bpf_map_update_elem(f->backends, &old->backends[o].id, &zero, BPF_ANY);
	}
	cfg->generation++;
	err = lb_meta_write(f, cfg);
out:
	free(old);
	free(vip_used);
	free(be_used);
	return err;
}

int lb_ring_read(const struct lb_fds *f, __u32 vip_id, __u32 *table, __u32 size)
{
	__u32 map_id, count = size, out_batch = 0;
	__u32 *keys = calloc(size, sizeof(*keys));
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd, err = 0;

	if (!keys)
		return -ENOMEM;
	if (bpf_map_lookup_elem(f->rings, &vip_id, &map_id)) {
		free(keys);
		return -errno;
	}
	fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0) {
		free(keys);
		return -errno;
	}
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, table, &count, &bo) && errno != ENOENT)
		err = -errno;
	else if (count != size)
		err = -EIO;
	close(fd);
	free(keys);
	return err;
}

_Static_assert(sizeof(struct lb_stats) == 3 * sizeof(__u64), "lb_stats: __u64 counters only");

int lb_stats_read(int fd, __u32 id, struct lb_stats *out)
{
	return percpu_sum_u64(fd, &id, &out->packets, sizeof(*out) / sizeof(__u64));
}

int lb_counters_read(const struct lb_fds *f, struct lb_counters *out)
{
	__u32 k = 0;

	/* The whole value per CPU (the guard's window words too, summed to nothing useful):
	 * the kernel copies value_size bytes per CPU, so n must be all of it. */
	_Static_assert(sizeof(*out) % sizeof(__u64) == 0, "lb_counters: __u64 words only");
	return percpu_sum_u64(f->counters, &k, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}
