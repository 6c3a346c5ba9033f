// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The conntrack tables from user space (lb_ct.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include "lb_ct.h"

_Static_assert(sizeof(struct lb_ct4_slot) == 16, "lb_ct4_slot: 16 bytes (lb.h)");
_Static_assert(sizeof(struct lb_ct6_slot) == 32, "lb_ct6_slot: 32 bytes (lb.h)");
_Static_assert((LB_CT_MIN & (LB_CT_MIN - 1)) == 0 && (LB_CT_MAX & (LB_CT_MAX - 1)) == 0 &&
	       LB_CT_MIN >= LB_CT_WAYS, "conntrack sizes: powers of two, at least one bucket");

/* Buckets read per batch: 64 KiB of IPv4 table, 128 KiB of IPv6. */
#define CT_BATCH 1024

__u32 lb_ct_size_round(__u64 n)
{
	__u64 p = LB_CT_MIN;

	if (n < LB_CT_MIN || n > LB_CT_MAX)
		return 0;
	while (p < n)
		p <<= 1;
	return (__u32)p;
}

__u32 lb_ct_seed_new(void)
{
	__u32 s = 0;

	/* getrandom cannot fail for 4 bytes once the pool is ready; if it ever does, a
	 * clock-derived seed still differs between balancers, which is all it must do. */
	while (!s) {
		if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			s = lb_mix32((__u32)ts.tv_nsec ^ (__u32)getpid() << 16);
		}
	}
	return s;
}

static __u32 ct_mask(const struct lb_meta *m)
{
	return m->ct_size / LB_CT_WAYS - 1;
}

/* The flow with key k (klen bytes) in bucket idx of a family's table. */
static int ct_lookup(int fd, int fam, __u32 idx, const void *k, size_t klen, struct lb_ct *v)
{
	union {
		struct lb_ct4_bucket b4;
		struct lb_ct6_bucket b6;
	} b;

	if (bpf_map_lookup_elem(fd, &idx, &b))
		return -errno;
	for (int i = 0; i < LB_CT_WAYS; i++) {
		const struct lb_ct *sv = fam == LB_FAM6 ? &b.b6.s[i].v : &b.b4.s[i].v;
		const void *sk = fam == LB_FAM6 ? (const void *)&b.b6.s[i].key : &b.b4.s[i].key;

		if (sv->backend_id && !memcmp(sk, k, klen)) {
			*v = *sv;
			return 0;
		}
	}
	return -ENOENT;
}

int lb_ct4_lookup(int fd, const struct lb_meta *m, const struct lb_ct4_key *k, struct lb_ct *v)
{
	return ct_lookup(fd, LB_FAM4, lb_ct4_index(k, m->ct_seed, ct_mask(m)), k, sizeof(*k), v);
}

int lb_ct6_lookup(int fd, const struct lb_meta *m, const struct lb_ct6_key *k, struct lb_ct *v)
{
	return ct_lookup(fd, LB_FAM6, lb_ct6_index(k, m->ct_seed, ct_mask(m)), k, sizeof(*k), v);
}

static size_t bucket_size(int fam)
{
	return fam == LB_FAM6 ? sizeof(struct lb_ct6_bucket) : sizeof(struct lb_ct4_bucket);
}

/* The table's number of buckets, after checking it is a table of this family's. */
static int ct_buckets(int fd, int fam, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != bucket_size(fam))
		return -EPROTO;
	*n = info.max_entries;
	return 0;
}

static void slot_flow(const void *bucket, int fam, __u32 i, struct lb_ct_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = (__u8)fam;
	f->slot = i;
	if (fam == LB_FAM6) {
		const struct lb_ct6_slot *s = &((const struct lb_ct6_bucket *)bucket)->s[i];

		f->saddr = s->key.saddr;
		f->sport = s->key.sport;
		f->vip_id = s->key.vip_id;
		f->v = s->v;
	} else {
		const struct lb_ct4_slot *s = &((const struct lb_ct4_bucket *)bucket)->s[i];

		f->saddr.v4 = s->key.saddr;
		f->sport = s->key.sport;
		f->vip_id = s->key.vip_id;
		f->v = s->v;
	}
}

int lb_ct_walk(int fd, int fam, lb_ct_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	size_t bsz = bucket_size(fam);
	__u32 nb, *keys = NULL, out = 0, done = 0;
	void *vals = NULL, *in = NULL;
	int err = ct_buckets(fd, fam, &nb);

	if (err)
		return err;
	keys = calloc(CT_BATCH, sizeof(*keys));
	vals = calloc(CT_BATCH, bsz);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!err && done < nb) {
		__u32 count = CT_BATCH;
		bool last = false;

		if (bpf_map_lookup_batch(fd, in, &out, keys, vals, &count, &bo)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			last = true; /* the end of the array, with count buckets before it */
		}
		for (__u32 b = 0; b < count && !err; b++) {
			const void *bucket = (const char *)vals + (size_t)b * bsz;

			for (__u32 i = 0; i < LB_CT_WAYS && !err; i++) {
				struct lb_ct_flow f;

				slot_flow(bucket, fam, i, &f);
				if (!f.v.backend_id)
					continue;
				f.bucket = keys[b];
				err = fn(ctx, &f);
			}
		}
		done += count;
		in = &out;
		if (last || !count)
			break;
	}
out:
	free(keys);
	free(vals);
	return err;
}

static int count_one(void *ctx, const struct lb_ct_flow *f)
{
	(void)f;
	++*(long long *)ctx;
	return 0;
}

long long lb_ct_count(int fd, int fam)
{
	long long n = 0;
	int err = lb_ct_walk(fd, fam, count_one, &n);

	return err ? err : n;
}

int lb_ct_clear(int fd, int fam)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	size_t bsz = bucket_size(fam);
	__u32 nb, *keys = NULL;
	void *zero = NULL;
	int err = ct_buckets(fd, fam, &nb);

	if (err)
		return err;
	keys = calloc(CT_BATCH, sizeof(*keys));
	zero = calloc(CT_BATCH, bsz);
	if (!keys || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 at = 0; at < nb && !err; at += CT_BATCH) {
		__u32 count = nb - at < CT_BATCH ? nb - at : CT_BATCH;

		for (__u32 i = 0; i < count; i++)
			keys[i] = at + i;
		if (bpf_map_update_batch(fd, keys, zero, &count, &bo))
			err = -errno;
	}
out:
	free(keys);
	free(zero);
	return err;
}
