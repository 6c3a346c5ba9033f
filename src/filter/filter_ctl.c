// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writing a generation and flipping to it (see filter_ctl.h). Large tables go in with
 * batch updates: a 100,000-prefix block list is a few hundred thousand entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
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

/* The whole global section, read and written in one piece: the bytes of the running
 * generation are written back unchanged, so a packet reading them meanwhile sees them
 * whole (the writers hold the pin folder's lock). */
static int fast_get(const struct filter_fds *f, struct filter_fast *v)
{
	__u32 z = 0;

	return bpf_map_lookup_elem(f->data_fast, &z, v) ? -errno : 0;
}

static int fast_put(const struct filter_fds *f, const struct filter_fast *v)
{
	__u32 z = 0;

	return bpf_map_update_elem(f->data_fast, &z, v, 0) ? -errno : 0;
}

/* Generation gen's part of `tabs`, written in place through mmap: the running
 * generation's bytes are never touched. */
static int write_tabs(const struct filter_fds *f, __u32 gen, const struct fr_tables *t)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	long pg = sysconf(_SC_PAGESIZE);
	size_t sz = (sizeof(struct filter_tabs) + pg - 1) / pg * pg;
	struct filter_tabs *tb;

	if (bpf_obj_get_info_by_fd(f->bss, &info, &ilen))
		return -errno;
	/* Another build's layout (or a second .bss global): refuse rather than write the
	 * tables wrong. */
	if (info.value_size != sizeof(struct filter_tabs) || !(info.map_flags & BPF_F_MMAPABLE))
		return -EPROTO;
	tb = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, f->bss, 0);
	if (tb == MAP_FAILED)
		return -errno;
	for (int d = 0; d < 2; d++) {
		memcpy(tb->l1[gen][d], t->l1[d], sizeof(tb->l1[gen][d]));
		for (int i = 0; i < t->addr[d].n && i < FILTER_MAX_ADDR_CLASSES; i++)
			tb->addr0[gen][d][i] = t->addr[d].b[i].w[0];
		for (int i = 0; i < t->port[d].n && i < FILTER_MAX_PORT_CLASSES; i++)
			tb->port0[gen][d][i] = t->port[d].b[i].w[0];
	}
	for (int p = 0; p < 256; p++)
		tb->proto0[gen][p] = t->proto[p].w[0];
	for (int i = 0; i < t->extra.n && i < FILTER_MAX_EXTRA_CLASSES; i++)
		tb->extra0[gen][i] = t->extra.b[i].w[0];
	munmap(tb, sz);
	return 0;
}

int filter_write_gen(const struct filter_fds *f, __u32 gen, const struct fr_tables *t, __u64 seq)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct filter_gen g = t->gen;
	struct filter_fast *fast;
	void *zero;

	if (ncpu < 1)
		return ncpu;
	gen &= 1;
	err = write_tabs(f, gen, t);
	for (int d = 0; d < 2 && !err; d++) {
		int b = d ? f->dst4_b : f->src4_b;
		err = put_range(b, gen * FILTER_MAX_BOUNDS, t->bounds[d], sizeof(*t->bounds[d]),
				t->nbounds[d]);
		if (!err)
			err = put_range(f->l2, (gen * 2 + d) * FILTER_MAX_L2 * 256, t->l2[d],
					sizeof(__u32), t->nl2[d] * 256);
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
	if (err)
		return err;
	fast = malloc(sizeof(*fast));
	if (!fast)
		return -ENOMEM;
	if (!(err = fast_get(f, fast))) {
		fast->gen[gen & 1] = g;
		memset(fast->rule[gen & 1], 0, sizeof(fast->rule[0]));
		for (int i = 0; i < t->nrules && i < FILTER_MAX_RULES; i++)
			fast->rule[gen & 1][i] = t->rules[i].action | (__u32)t->rules[i].prio << 8;
		err = fast_put(f, fast);
	}
	free(fast);
	return err;
}

/* fast.active is what the program reads: the truth. */
int filter_active(const struct filter_fds *f, __u32 *gen)
{
	struct filter_fast *fast = malloc(sizeof(*fast));
	int err = fast ? fast_get(f, fast) : -ENOMEM;

	if (!err)
		*gen = fast->active & 1;
	free(fast);
	return err;
}

int filter_flip(const struct filter_fds *f, __u32 gen)
{
	struct filter_fast *fast = malloc(sizeof(*fast));
	__u32 z = 0;
	int err = fast ? fast_get(f, fast) : -ENOMEM;

	if (!err) {
		fast->active = gen & 1;
		err = fast_put(f, fast);
	}
	free(fast);
	if (!err && bpf_map_update_elem(f->ctl, &z, &gen, 0))
		err = -errno;
	return err;
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
