// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Finds bpflab's packet programs through the kernel and reads their verdict reports
 * (src/bpf/verdict.h). No pins: a program is recognised by its two maps' names and
 * types, found from bpf_prog_get_next_id and each program's map ids. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include <bpf/btf.h>

#include "verdicts.h"

/* Reason (and arg) names per kind, from the first program of that kind's BTF: every
 * program of a kind reports the same enum. */
#define MAX_NAMES 128
struct names {
	bool loaded;
	int n;
	char *name[MAX_NAMES];   /* by value; NULL: no enumerator */
};
static struct names reason_names[VK__MAX], arg_names[VK__MAX];

struct vsrc {
	struct verdict_src pub;
	struct verdicts *v;
	int ctl_fd, ring_fd;
	__u64 lost0;
	bool in_rb;
};

struct verdicts {
	verdicts_cb cb;
	void *ctx;
	struct vsrc **src;
	int n, cap;
	__u64 t_enable;          /* CLOCK_MONOTONIC ns: records before it are a killed trace's */
};

/* trace_ctl is per CPU: every CPU's copy is read and written together. */
struct ctl {
	__u32 on, owner_pid;
	__u64 deadline_ns;
	__u64 lost;              /* summed over CPUs */
};

static int ctl_read(int fd, struct ctl *out, struct verdict_ctl *all)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 zero = 0;

	if (ncpu <= 0)
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &zero, all))
		return -errno;
	out->on = all[0].on;
	out->owner_pid = all[0].owner_pid;
	out->deadline_ns = all[0].deadline_ns;
	out->lost = 0;
	for (int i = 0; i < ncpu; i++)
		out->lost += all[i].lost;
	return 0;
}

static int ctl_write(int fd, __u32 on, __u32 owner_pid, __u64 deadline_ns)
{
	int ncpu = libbpf_num_possible_cpus();
	struct verdict_ctl *all;
	struct ctl c;
	__u32 zero = 0;
	int err;

	if (ncpu <= 0)
		return -EINVAL;
	all = calloc(ncpu, sizeof(*all));
	if (!all)
		return -ENOMEM;
	err = ctl_read(fd, &c, all);
	if (!err) {
		for (int i = 0; i < ncpu; i++) {
			all[i].on = on;
			all[i].owner_pid = owner_pid;
			all[i].deadline_ns = deadline_ns;
		}
		if (bpf_map_update_elem(fd, &zero, all, BPF_ANY))
			err = -errno;
	}
	free(all);
	return err;
}

/* ctl_read with its own buffer. */
static int ctl_get(int fd, struct ctl *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct verdict_ctl *all = ncpu > 0 ? calloc(ncpu, sizeof(*all)) : NULL;
	int err;

	if (!all)
		return -ENOMEM;
	err = ctl_read(fd, out, all);
	free(all);
	return err;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct verdicts *verdicts_open(verdicts_cb cb, void *ctx)
{
	struct verdicts *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->cb = cb;
	v->ctx = ctx;
	return v;
}

static enum verdict_kind kind_of(const char *prog_name)
{
	if (!strncmp(prog_name, "count", 5))
		return VK_COUNT;
	if (!strncmp(prog_name, "ping", 4))
		return VK_PING;
	if (!strncmp(prog_name, "lb", 2))
		return VK_LB;
	if (!strncmp(prog_name, "filter", 6))
		return VK_FILTER;
	return VK_NONE;
}

static bool known_ring(const struct verdicts *v, __u32 ring_id)
{
	for (int i = 0; i < v->n; i++)
		if (v->src[i]->pub.ring_map_id == ring_id)
			return true;
	return false;
}

/* The program's trace_ctl and trace_ring, as fds; 0 when it has both. */
static int prog_maps(int prog_fd, int *ctl_fd, __u32 *ctl_id, int *ring_fd, __u32 *ring_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), n, ids[64];

	*ctl_fd = *ring_fd = -1;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	n = info.nr_map_ids;
	if (n == 0)
		return -ENOENT;
	if (n > 64)
		n = 64;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (__u32 i = 0; i < n && i < info.nr_map_ids; i++) {
		struct bpf_map_info mi = {};
		__u32 ml = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &ml)) {
			close(fd);
			continue;
		}
		if (*ctl_fd < 0 && !strcmp(mi.name, VERDICT_CTL_MAP) &&
		    mi.type == BPF_MAP_TYPE_PERCPU_ARRAY &&
		    mi.value_size == sizeof(struct verdict_ctl) &&
		    mi.max_entries == 1) {
			*ctl_fd = fd;
			*ctl_id = mi.id;
		} else if (*ring_fd < 0 && !strcmp(mi.name, VERDICT_RING_MAP) &&
			   mi.type == BPF_MAP_TYPE_RINGBUF) {
			*ring_fd = fd;
			*ring_id = mi.id;
		} else {
			close(fd);
		}
	}
	if (*ctl_fd >= 0 && *ring_fd >= 0)
		return 0;
	if (*ctl_fd >= 0)
		close(*ctl_fd);
	if (*ring_fd >= 0)
		close(*ring_fd);
	*ctl_fd = *ring_fd = -1;
	return -ENOENT;
}

/* The enum the program's variable `var` has, into nm: LBC_DROP_NO_BACKEND as
 * "drop_no_backend" (the prefix to the first '_' is the enum's, not the reason's).
 * Enumerators with "__" (LBC__MAX) are bounds, not reasons. */
static void load_enum(const struct btf *btf, const char *var, struct names *nm)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	int id = btf__find_by_name_kind(btf, var, BTF_KIND_VAR);

	if (id <= 0)
		return;
	t = btf__type_by_id(btf, id);
	id = t->type;
	t = btf__type_by_id(btf, id);
	while (t && (btf_is_const(t) || btf_is_volatile(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_enum(t))
		return;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *s = btf__name_by_offset(btf, e->name_off), *u;
		char *c;

		if (!s || strstr(s, "__") || e->val < 0 || e->val >= MAX_NAMES || nm->name[e->val])
			continue;
		u = strchr(s, '_');
		c = strdup(u ? u + 1 : s);
		if (!c)
			continue;
		for (char *q = c; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q += 'a' - 'A';
		nm->name[e->val] = c;
		if (e->val >= nm->n)
			nm->n = e->val + 1;
	}
}

static void load_names(__u32 btf_id, enum verdict_kind k)
{
	struct btf *btf;

	if (k >= VK__MAX || reason_names[k].loaded || !btf_id)
		return;
	btf = btf__load_from_kernel_by_id(btf_id);
	if (!btf)
		return;
	load_enum(btf, VERDICT_REASON_VAR, &reason_names[k]);
	load_enum(btf, VERDICT_ARG_VAR, &arg_names[k]);
	reason_names[k].loaded = arg_names[k].loaded = true;
	btf__free(btf);
}

/* 1 added, 0 not a packet program with both maps or known already, -errno. */
static int add_prog(struct verdicts *v, __u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ctl_id = 0, ring_id = 0;
	int fd = bpf_prog_get_fd_by_id(id), ctl_fd, ring_fd;
	struct vsrc *s;

	if (fd < 0)
		return 0; /* gone since, or not ours to open */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    (info.type != BPF_PROG_TYPE_XDP && info.type != BPF_PROG_TYPE_SCHED_CLS) ||
	    prog_maps(fd, &ctl_fd, &ctl_id, &ring_fd, &ring_id)) {
		close(fd);
		return 0;
	}
	close(fd);
	/* Programs of one object share their maps: one source per ring. */
	if (known_ring(v, ring_id)) {
		close(ctl_fd);
		close(ring_fd);
		return 0;
	}
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 8;
		struct vsrc **p = realloc(v->src, cap * sizeof(*p));
		if (!p)
			goto nomem;
		v->src = p;
		v->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->v = v;
	s->ctl_fd = ctl_fd;
	s->ring_fd = ring_fd;
	s->pub.prog_id = id;
	snprintf(s->pub.prog_name, sizeof(s->pub.prog_name), "%s", info.name);
	s->pub.kind = kind_of(info.name);
	load_names(info.btf_id, s->pub.kind);
	s->pub.ctl_map_id = ctl_id;
	s->pub.ring_map_id = ring_id;
	v->src[v->n++] = s;
	return 1;
nomem:
	close(ctl_fd);
	close(ring_fd);
	return -ENOMEM;
}

int verdicts_add_prog(struct verdicts *v, __u32 prog_id)
{
	int fd = bpf_prog_get_fd_by_id(prog_id), r;

	if (fd < 0)
		return -errno;
	close(fd);
	for (int i = 0; i < v->n; i++)
		if (v->src[i]->pub.prog_id == prog_id)
			return 0;
	r = add_prog(v, prog_id);
	if (r == 0) {
		/* Known ring (another program of the same object) or not a packet program. */
		int ctl_fd, ring_fd;
		__u32 a, b;

		fd = bpf_prog_get_fd_by_id(prog_id);
		if (fd < 0)
			return -errno;
		r = prog_maps(fd, &ctl_fd, &a, &ring_fd, &b);
		close(fd);
		if (r)
			return -ENOENT;
		close(ctl_fd);
		close(ring_fd);
		return 0;
	}
	return r;
}

int verdicts_find(struct verdicts *v)
{
	__u32 id = 0;
	int found = 0, r;

	while (!bpf_prog_get_next_id(id, &id)) {
		r = add_prog(v, id);
		if (r < 0)
			return r;
		found += r;
	}
	if (errno != ENOENT)
		return -errno;
	return found;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct vsrc *s = ctx;
	const struct verdict_rec *r = data;

	if (size < sizeof(*r) || r->ts_ns < s->v->t_enable)
		return 0;
	return s->v->cb ? s->v->cb(s->v->ctx, &s->pub, r) : 0;
}

static bool alive(__u32 pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

void verdicts_keepalive(struct verdicts *v)
{
	for (int i = 0; i < v->n; i++) {
		struct vsrc *s = v->src[i];
		struct ctl c;

		if (!s->pub.on || ctl_get(s->ctl_fd, &c) || c.owner_pid != (__u32)getpid())
			continue;
		ctl_write(s->ctl_fd, 1, c.owner_pid, mono_ns() + VERDICT_LEASE_NS);
	}
}

int verdicts_enable(struct verdicts *v, struct ring_buffer **rb)
{
	__u32 me = getpid();
	int on = 0;

	if (!v->t_enable)
		v->t_enable = mono_ns();
	verdicts_keepalive(v);
	for (int i = 0; i < v->n; i++) {
		struct vsrc *s = v->src[i];
		struct ctl c;

		if (s->pub.on) {
			on++;
			continue;
		}
		if (ctl_get(s->ctl_fd, &c))
			continue;
		s->pub.busy_pid = s->pub.stale_pid = 0;
		if (c.on && c.owner_pid != me) {
			/* A live owner whose lease ran out is stuck or gone: taken over too. */
			if (alive(c.owner_pid) && c.deadline_ns >= mono_ns()) {
				s->pub.busy_pid = c.owner_pid;
				continue;
			}
			s->pub.stale_pid = c.owner_pid ? c.owner_pid : ~0u;
		}
		if (!s->in_rb) {
			if (!*rb) {
				*rb = ring_buffer__new(s->ring_fd, on_sample, s, NULL);
				if (!*rb)
					return -errno;
			} else if (ring_buffer__add(*rb, s->ring_fd, on_sample, s)) {
				return -errno;
			}
			s->in_rb = true;
		}
		s->lost0 = c.lost;
		if (ctl_write(s->ctl_fd, 1, me, mono_ns() + VERDICT_LEASE_NS))
			continue;
		s->pub.on = true;
		on++;
	}
	return on;
}

void verdicts_disable(struct verdicts *v)
{
	if (!v)
		return;
	for (int i = 0; i < v->n; i++) {
		struct vsrc *s = v->src[i];
		struct ctl c;

		if (!s->pub.on)
			continue;
		if (!ctl_get(s->ctl_fd, &c) && c.owner_pid == (__u32)getpid())
			ctl_write(s->ctl_fd, 0, 0, 0);
		s->pub.on = false;
	}
}

void verdicts_close(struct verdicts *v)
{
	if (!v)
		return;
	verdicts_disable(v);
	for (int i = 0; i < v->n; i++) {
		close(v->src[i]->ctl_fd);
		close(v->src[i]->ring_fd);
		free(v->src[i]);
	}
	free(v->src);
	free(v);
}

int verdicts_count(const struct verdicts *v)
{
	return v->n;
}

const struct verdict_src *verdicts_src(const struct verdicts *v, int i)
{
	return i >= 0 && i < v->n ? &v->src[i]->pub : NULL;
}

__u64 verdicts_lost(const struct verdicts *v)
{
	__u64 sum = 0;

	for (int i = 0; i < v->n; i++) {
		struct ctl c;

		if (v->src[i]->pub.on && !ctl_get(v->src[i]->ctl_fd, &c) &&
		    c.lost >= v->src[i]->lost0)
			sum += c.lost - v->src[i]->lost0;
	}
	return sum;
}

const char *verdicts_kind_name(enum verdict_kind k)
{
	static const char *names[VK__MAX] = { "?", "count", "ping", "lb", "filter" };

	return k < VK__MAX ? names[k] : "?";
}

const char *verdicts_verdict_name(__u8 hook, __u32 verdict)
{
	static const char *xdp[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
				     "XDP_REDIRECT" };
	static const char *tc[] = { "TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT",
				    "TC_ACT_PIPE", "TC_ACT_STOLEN", "TC_ACT_QUEUED",
				    "TC_ACT_REPEAT", "TC_ACT_REDIRECT", "TC_ACT_TRAP" };

	if (hook == VH_XDP)
		return verdict < sizeof(xdp) / sizeof(xdp[0]) ? xdp[verdict] : "XDP_?";
	if (verdict == (__u32)-1)
		return "TC_ACT_UNSPEC";
	return verdict < sizeof(tc) / sizeof(tc[0]) ? tc[verdict] : "TC_ACT_?";
}

bool verdicts_is_drop(__u8 hook, __u32 verdict)
{
	if (hook == VH_XDP)
		return verdict == 0 || verdict == 1; /* XDP_ABORTED, XDP_DROP */
	return verdict == 2;                         /* TC_ACT_SHOT */
}

static const char *name_of(const struct names *nm, __u32 v)
{
	return v < (__u32)nm->n && nm->name[v] ? nm->name[v] : NULL;
}

const char *verdicts_reason(const struct verdict_rec *r, char *buf, size_t len)
{
	enum verdict_kind k = r->kind < VK__MAX ? r->kind : VK_NONE;
	const char *n = name_of(&reason_names[k], r->reason);
	const char *a = r->arg ? name_of(&arg_names[k], r->arg) : NULL;

	if (k == VK_FILTER && r->arg)  /* arg: the rule's prio + 1 */
		snprintf(buf, len, "%s%srule_%u", n ? n : "", n ? "_" : "", r->arg - 1);
	else if (n && a)
		snprintf(buf, len, "%s_%s", n, a);
	else if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "%s_%u", verdicts_kind_name(k), r->reason);
	return buf;
}
