// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The filter in front of lb on one interface. XDP has one program slot, and libxdp's
 * dispatcher does not load here, so the chain is our own: lb's bpf_link (pinned by lb)
 * is switched to the filter's program with bpf_link_update, and lb's program goes into the
 * filter's next_prog slot 0, which every pass tail-calls. lb's link and pins stay lb's;
 * `filter stop` puts lb's program back on its link. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter_cmd.h"
#include "bpfutil.h"
#include "util.h"

static int lb_link_open(const struct finst *in, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char dir[256], p[300];
	int fd;

	if (pin_dir_path("lb", in->ifname, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	snprintf(p, sizeof(p), "%s/link", dir);
	fd = bpf_obj_get(p);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;
		close(fd);
		return err;
	}
	*prog_id = info.prog_id;
	return fd;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int filter_chain_lb(struct finst *in, int filter_prog_fd)
{
	__u32 lb_id, z = 0;
	int link = lb_link_open(in, &lb_id), lb_fd, err = 0;
	DECLARE_LIBBPF_OPTS(bpf_link_update_opts, o, .flags = BPF_F_REPLACE);

	if (link < 0) {
		pr_warn("--then lb: no load balancer runs on %s (start it first: 'bpflab lb start "
			"%s ...'): %s\n", in->ifname, in->ifname, strerr(link));
		return link;
	}
	if (lb_id == prog_id_of(filter_prog_fd)) {
		close(link);
		return 0;
	}
	lb_fd = bpf_prog_get_fd_by_id(lb_id);
	if (lb_fd < 0) {
		err = -errno;
		goto out;
	}
	if (bpf_map_update_elem(in->fds.next_prog, &z, &lb_fd, 0)) {
		err = -errno;
		pr_warn("lb's program (id %u) cannot be chained behind the filter: %s\n", lb_id,
			strerr(err));
		goto out;
	}
	o.old_prog_fd = lb_fd;
	if (bpf_link_update(link, filter_prog_fd, &o)) {
		err = -errno;
		pr_warn("switching lb's link on %s to the filter failed: %s\n", in->ifname,
			strerr(err));
		bpf_map_delete_elem(in->fds.next_prog, &z);
	}
out:
	if (lb_fd >= 0)
		close(lb_fd);
	close(link);
	return err;
}

int filter_unchain_lb(struct finst *in)
{
	__u32 lb_id, z = 0, next_id = 0;
	int link = lb_link_open(in, &lb_id), next_fd, err = 0;

	if (link < 0)
		return 0; /* lb is gone: nothing to give back */
	if (bpf_map_lookup_elem(in->fds.next_prog, &z, &next_id) || !next_id) {
		close(link);
		return 0;
	}
	next_fd = bpf_prog_get_fd_by_id(next_id);
	if (next_fd < 0 || bpf_link_update(link, next_fd, NULL)) {
		err = -errno;
		pr_warn("giving lb's link on %s its program back failed: %s\n", in->ifname,
			strerr(err));
	}
	if (next_fd >= 0)
		close(next_fd);
	close(link);
	return err;
}

bool filter_chain_alive(struct finst *in)
{
	char p[300], dir[256];
	__u32 lb_id;
	int link = lb_link_open(in, &lb_id), prog;
	bool alive;

	if (link < 0)
		return false;
	close(link);
	snprintf(p, sizeof(p), "%s/prog", in->dir);
	prog = bpf_obj_get(p);
	if (prog < 0)
		return false;
	/* Chained means: lb's link is attached and runs our program. */
	alive = prog_id_of(prog) == lb_id;
	close(prog);
	if (alive && !pin_dir_path("lb", in->ifname, dir, sizeof(dir))) {
		snprintf(p, sizeof(p), "%s/link", dir);
		alive = pinned_link_alive(p) > 0;
	}
	return alive;
}
