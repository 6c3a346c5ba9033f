// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab bench` row for trace: what a packet costs count's program while a trace runs,
 * that is with its verdict report on (src/bpf/verdict.h), beside the `count` row, which
 * is the same program with no trace running (the report off: one flag read). The trace's
 * own tracepoint programs cannot run under BPF_PROG_TEST_RUN (tp_btf has no test run):
 * their cost per event is measured from the kernel's BPF statistics, docs/trace.md. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchcase.h"
#include "verdicts.h"

struct traced {
	void *priv;
	void (*cleanup)(struct bench_prog *b);
	struct verdicts *v;
	struct ring_buffer *rb;
};

static int drop_record(void *ctx, const struct verdict_src *src, const struct verdict_rec *r)
{
	return 0;
}

static void traced_cleanup(struct bench_prog *b)
{
	struct traced *t = b->priv;

	verdicts_close(t->v);
	ring_buffer__free(t->rb);
	b->priv = t->priv;
	if (t->cleanup)
		t->cleanup(b);
	free(t);
}

/* The bench drains events_fd itself: hand it count's verdict ring. */
static int ring_fd_of(struct verdicts *v)
{
	const struct verdict_src *s = verdicts_count(v) > 0 ? verdicts_src(v, 0) : NULL;

	return s ? bpf_map_get_fd_by_id(s->ring_map_id) : -ENOENT;
}

int trace_bench_count_setup(struct bench_prog *b)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct traced *t;
	int err = count_bench_setup(b);

	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->priv = b->priv;
	t->cleanup = b->cleanup;
	b->priv = t;
	b->cleanup = traced_cleanup;
	b->name = "count (trace running)";
	b->baseline = "xdp_pass";
	if (bpf_obj_get_info_by_fd(b->prog_fd, &info, &len))
		return -errno;
	t->v = verdicts_open(drop_record, NULL);
	if (!t->v)
		return -errno;
	/* This program only: other tracers' and tests' programs are left alone. */
	if ((err = verdicts_add_prog(t->v, info.id)) < 0)
		return err;
	if ((err = verdicts_enable(t->v, &t->rb)) < 0)
		return err;
	if (err == 0)
		return -ENOENT;
	b->events_fd = ring_fd_of(t->v);
	if (b->events_fd < 0)
		b->events_fd = 0;
	return 0;
}
