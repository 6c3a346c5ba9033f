/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Health probes that go through the path clients use (dsr): the checker connects to the
 * backend's own address with SO_MARK = lb_steer_mark(id); steer.bpf.c on the LB's
 * interface rewrites those packets to VIP:port on egress (the backend's MAC is already
 * the destination: it is the neighbour of its address), and the backend's answers from
 * VIP:port back to the backend's address on ingress, so the socket sees its own flow.
 * A backend that does not hold the VIP never answers: the check fails. */
#ifndef BPFLAB_LB_STEER_H
#define BPFLAB_LB_STEER_H

#include <linux/types.h>

#define LB_STEER_MAGIC 0x6c620000u  /* 'lb' in the mark's high half; low half: backend id */
#define LB_STEER_FLOWS 4096

/* steer_be: backend id -> where its probes really go. */
struct lb_steer_be {
	__be32 vip_addr, be_addr;
	__be16 vip_port, be_port;
	__u8 proto, used, pad[2];
};

/* steer_flows: a probe flow as the backend answers it (VIP:port -> LB:sport). */
struct lb_steer_flow {
	__be32 vip_addr, lb_addr;
	__be16 vip_port, lb_port;
	__u8 proto, pad[3];
};

/* steer_stats (per CPU): probes rewritten to VIP:port, answers rewritten back, and ours
 * (marked, or answering a probe flow) left unchanged because their lengths lie (a version
 * not 4, a total length beyond the frame or short of the L4 header, a TCP data offset or
 * UDP length outside the IP payload). */
enum lb_steer_counter { LB_STEER_STEERED, LB_STEER_RESTORED, LB_STEER_MALFORMED, LB_STEER__MAX };

static inline __u32 lb_steer_mark(__u32 id)
{
	return LB_STEER_MAGIC | (id & 0xffff);
}

#ifndef __bpf__
struct lb_steer;
struct lb_inst;
struct lb_cfg;
/* Opens and loads steer.bpf.c, nothing attached (the first half of lb_steer_attach; the
 * fuzzer loads it through here). 0 or -errno. */
int lb_steer_load(struct lb_steer **out);
int lb_steer_prog_fd(const struct lb_steer *st, int ingress);
int lb_steer_flows_fd(const struct lb_steer *st);
/* steer_stats summed over CPUs into v[LB_STEER__MAX]. 0 or -errno. */
int lb_steer_counters(const struct lb_steer *st, __u64 *v);
/* Loads steer.bpf.c and attaches it (tcx links, gone with the process) to in's interface.
 * 0 or -errno. */
int lb_steer_attach(struct lb_steer **out, const struct lb_inst *in);
/* The backends of checked VIPs of s into steer_be. */
void lb_steer_sync(struct lb_steer *st, const struct lb_cfg *s);
void lb_steer_detach(struct lb_steer *st);
#endif

#endif
