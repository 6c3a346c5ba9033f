// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writing a generation and flipping to it (see filter_ctl.h). Large tables go in with
 * batch updates: a 100,000-prefix block list is a few hundred thousand entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter_ctl.h"
#include "bpfutil.h"

__u64 filter_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* n values of vsize bytes into keys first..first+n-1. */
static int put_range(int fd, __u32 first, const void *vals, __u32 vsize, __u32 n)
{
	const __u32 chunk = 65536;
	__u32 *keys;
	int err = 0;

	if (!n)
		return 0;
	keys = malloc(sizeof(*keys) * (n < chunk ? n : chunk));
	if (!keys)
		return -ENOMEM;
	for (__u32 off = 0; off < n && !err; off += chunk) {
		__u32 cnt = n - off < chunk ? n - off : chunk;
		for (__u32 i = 0; i < cnt; i++)
			keys[i] = first + off + i;
		if (bpf_map_update_batch(fd, keys, (const char *)vals + (size_t)off * vsize, &cnt, NULL)) {
			err = -errno;
			/* Older kernels: one by one. */
			if (err == -EINVAL || err == -EOPNOTSUPP) {
				err = 0;
				for (__u32 i = 0; i < cnt && !err; i++)
					if (bpf_map_update_elem(fd, &keys[i],
								(const char *)vals + ((size_t)off + i) * vsize, 0))
						err = -errno;
			}
		}
	}
	free(keys);
	return err;
}

static int put_classes(int fd, __u32 gen, __u32 max, const struct fr_classes *c)
{
	return put_range(fd, gen * max, c->b, sizeof(*c->b), c->n);
}

static int write_v6(int fd, __u32 gen, const struct fr_v6ent *v, int n)
{
	struct filter_v6key k, next, *del = NULL;
	size_t ndel = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	/* The other generation's prefixes stay; this one's old ones go. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (next.gen == gen) {
			if (ndel == cap) {
				struct filter_v6key *nd = realloc(del, (cap = cap ? cap * 2 : 256) * sizeof(*nd));
				if (!nd) {
					free(del);
					return -ENOMEM;
				}
				del = nd;
			}
			del[ndel++] = next;
		}
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < ndel; i++)
		bpf_map_delete_elem(fd, &del[i]);
	free(del);
	for (int i = 0; i < n && !err; i++) {
		struct filter_v6key key = { .prefixlen = 8 + v[i].plen, .gen = gen };
		memcpy(key.addr, v[i].addr, 16);
		if (bpf_map_update_elem(fd, &key, &v[i].cls, 0))
			err = -errno;
	}
	return err;
}

int filter_write_gen(const struct filter_fds *f, __u32 gen, const struct fr_tables *t, __u64 seq)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct filter_gen g = t->gen;
	void *zero;

	if (ncpu < 1)
		return ncpu;
	for (int d = 0; d < 2 && !err; d++) {
		int l1 = d ? f->dst4_l1 : f->src4_l1, b = d ? f->dst4_b : f->src4_b;
		err = put_range(l1, gen * FILTER_L1, t->l1[d], sizeof(*t->l1[d]), FILTER_L1);
		if (!err)
			err = put_range(b, gen * FILTER_MAX_BOUNDS, t->bounds[d], sizeof(*t->bounds[d]),
					t->nbounds[d]);
		if (!err)
			err = write_v6(d ? f->dst6 : f->src6, gen, t->v6[d], t->nv6[d]);
		if (!err)
			err = put_classes(d ? f->dst_cls : f->src_cls, gen, FILTER_MAX_ADDR_CLASSES,
					  &t->addr[d]);
		if (!err)
			err = put_range(d ? f->dport_map : f->sport_map, gen * FILTER_PORTS,
					t->port_map[d], sizeof(__u16), FILTER_PORTS);
		if (!err)
			err = put_classes(d ? f->dport_cls : f->sport_cls, gen, FILTER_MAX_PORT_CLASSES,
					  &t->port[d]);
	}
	if (!err)
		err = put_range(f->proto_bits, gen * 256, t->proto, sizeof(t->proto[0]), 256);
	if (!err)
		err = put_range(f->extra_map, gen * FILTER_EXTRA, t->extra_map, sizeof(__u16),
				FILTER_EXTRA);
	if (!err)
		err = put_classes(f->extra_cls, gen, FILTER_MAX_EXTRA_CLASSES, &t->extra);
	if (!err)
		err = put_range(f->rules, gen * FILTER_MAX_RULES, t->rules, sizeof(t->rules[0]),
				t->nrules);
	/* Counters of the slots this generation uses start from zero. */
	zero = calloc((size_t)ncpu * FILTER_MAX_RULES, sizeof(struct filter_rule_stats));
	if (!zero)
		return -ENOMEM;
	if (!err)
		err = put_range(f->rule_stats, gen * FILTER_MAX_RULES, zero,
				ncpu * sizeof(struct filter_rule_stats), t->nrules);
	free(zero);
	g.applied_ns = filter_now_ns();
	g.seq = seq;
	if (!err && bpf_map_update_elem(f->gens, &gen, &g, 0))
		err = -errno;
	return err;
}

int filter_active(const struct filter_fds *f, __u32 *gen)
{
	__u32 z = 0;

	if (bpf_map_lookup_elem(f->ctl, &z, gen))
		return -errno;
	*gen &= 1;
	return 0;
}

int filter_flip(const struct filter_fds *f, __u32 gen)
{
	__u32 z = 0;

	return bpf_map_update_elem(f->ctl, &z, &gen, 0) ? -errno : 0;
}

int filter_install(const struct filter_fds *f, const struct fr_tables *t, __u32 *newgen)
{
	struct filter_gen old = {};
	__u32 cur, next;
	int err = filter_active(f, &cur);

	if (err)
		return err;
	bpf_map_lookup_elem(f->gens, &cur, &old);
	next = cur ^ 1;
	if ((err = filter_write_gen(f, next, t, old.seq + 1)))
		return err;
	if ((err = filter_flip(f, next)))
		return err;
	*newgen = next;
	return 0;
}

int filter_read_running(const struct filter_fds *f, struct filter_running *r)
{
	int ncpu = libbpf_num_possible_cpus(), err;
	__u32 z = 0;
	struct filter_stats *ps;

	memset(r, 0, sizeof(*r));
	if ((err = filter_active(f, &r->gen)))
		return err;
	if (bpf_map_lookup_elem(f->gens, &r->gen, &r->g))
		return -errno;
	for (__u32 i = 0; i < r->g.nrules && i < FILTER_MAX_RULES; i++) {
		__u32 k = r->gen * FILTER_MAX_RULES + i;
		if (bpf_map_lookup_elem(f->rules, &k, &r->rules[i]))
			return -errno;
		if ((err = percpu_sum_u64(f->rule_stats, &k, (__u64 *)&r->stats[i], 3)))
			return err;
	}
	ps = calloc(ncpu, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	if (bpf_map_lookup_elem(f->stats, &z, ps)) {
		err = -errno;
		free(ps);
		return err;
	}
	for (int c = 0; c < ncpu; c++)
		for (int i = 0; i < FS__N; i++)
			r->c[i] += ps[c].c[i];
	free(ps);
	return 0;
}

static int top_cmp(const void *a, const void *b)
{
	const struct filter_top *x = a, *y = b;

	return x->drops < y->drops ? 1 : x->drops > y->drops ? -1 : 0;
}

int filter_read_top(const struct filter_fds *f, struct filter_top *out, int n)
{
	struct filter_src_key k, next;
	void *prev = NULL;
	struct filter_top *all = NULL;
	size_t nall = 0, cap = 0;
	int got;

	while (!bpf_map_get_next_key(f->top_src, prev, &next)) {
		__u64 v[2];
		if (!percpu_sum_u64(f->top_src, &next, v, 2)) {
			if (nall == cap) {
				struct filter_top *na = realloc(all, (cap = cap ? cap * 2 : 64) * sizeof(*na));
				if (!na)
					break;
				all = na;
			}
			all[nall++] = (struct filter_top){ .k = next, .drops = v[0], .bytes = v[1] };
		}
		k = next;
		prev = &k;
	}
	if (nall)
		qsort(all, nall, sizeof(*all), top_cmp);
	got = nall < (size_t)n ? (int)nall : n;
	if (got)
		memcpy(out, all, got * sizeof(*out));
	free(all);
	return got;
}
