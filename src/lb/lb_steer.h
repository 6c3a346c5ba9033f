/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Health probes that go through the path clients use (dsr and encap VIPs): the checker
 * connects to the backend's own address with SO_MARK = lb_steer_mark(id); steer.bpf.c on
 * the LB's interface rewrites those packets to VIP:port on egress and the backend's
 * answers from VIP:port back to the backend's address on ingress, so the socket sees its
 * own flow. A backend that does not hold the VIP never answers: the check fails. IPv4 and
 * IPv6 alike, the VIP and the backend of one family (a rewrite cannot change the family).
 * Ours to touch: untagged IPv4 without options and not a fragment, or IPv6 whose next
 * header is TCP/UDP (no extension header: the checker's sockets send none).
 *
 * dsr: the backend's MAC is already the destination (it is the neighbour of its address,
 * resolved by ARP or neighbour discovery for the socket).
 * encap (IPIP/GUE VIPs, either mode): the rewritten packet is then put in the tunnel lb
 * itself would use (docs/lb.md "Encapsulation"), of the backend's family: IPv4 from
 * tunnel_src to the backend, tos of the inner packet, id 0, DF, TTL 64, protocol 4; IPv6
 * traffic class of the inner, flow label the probe's source port, hop limit 64, next
 * header 41; GUE: protocol / next header 17 and a UDP header from lb_steer_gue_sport() to
 * LB_GUE_PORT, checksum 0 (RFC 6935 for IPv6: the inner packet has its own). The outer
 * length covers the inner packet's own length (bytes after it stay after it). The
 * Ethernet header stays: the kernel routed the probe to the backend's address, the outer
 * destination, so its next hop is the tunnel's. The backend's `lb decap` strips it, its
 * VIP on lo answers, and the answer comes back unencapsulated, as to any client. A marked
 * probe that cannot be encapsulated is dropped (counted): sent bare it would reach the
 * backend's own address and prove nothing. */
#ifndef BPFLAB_LB_STEER_H
#define BPFLAB_LB_STEER_H

#include <linux/types.h>
#include "lb.h"

#define LB_STEER_MAGIC 0x6c620000u  /* 'lb' in the mark's high half; low half: backend id */
#define LB_STEER_FLOWS 4096

/* steer_be: backend id -> where its probes really go (addresses as lb.h holds them). */
struct lb_steer_be {
	union lb_addr vip, be;
	union lb_addr tunnel_src; /* encap: the outer source, lb's --tunnel-src of the family */
	__be16 vip_port, be_port;
	__u8 proto, used;
	__u8 encap;          /* enum lb_encap of the VIP: 0 steered on L2 (dsr) */
	__u8 family;         /* LB_FAM4 / LB_FAM6: of the VIP and the backend */
};

/* steer_flows: a probe flow as the backend answers it (VIP:port -> LB:sport). */
struct lb_steer_flow {
	union lb_addr vip, lb;
	__be16 vip_port, lb_port;
	__u8 proto, family, pad[2];
};

/* steer_stats (per CPU): probes rewritten to VIP:port, answers rewritten back, and ours
 * (marked, or answering a probe flow) left unchanged because their lengths lie (a version
 * not 4, a total length beyond the frame or short of the L4 header, a TCP data offset or
 * UDP length outside the IP payload). */
/* Of the steered: encapsulated ones; and marked probes dropped because the tunnel header
 * could not be added. */
enum lb_steer_counter {
	LB_STEER_STEERED, LB_STEER_RESTORED, LB_STEER_MALFORMED, LB_STEER_ENCAP,
	LB_STEER_DROP_ENCAP, LB_STEER__MAX
};

static inline __u32 lb_steer_mark(__u32 id)
{
	return LB_STEER_MAGIC | (id & 0xffff);
}

/* A GUE probe's outer source port: its own source port folded into lb's GUE range (one
 * per probe flow, stable for the flow; host order). */
static inline __u16 lb_steer_gue_sport(__u16 probe_sport)
{
	return 49152 | (probe_sport & 0x3fff);
}

#ifndef __bpf__
#include <stdbool.h>
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
/* The backends of checked VIPs of s into steer_be: in m->mode dsr all of them, in nat
 * those of encap VIPs (the others are checked at their own address, as lb's own packets
 * go); the outer sources of encap probes are m->tunnel_src4 / tunnel_src6. */
void lb_steer_sync(struct lb_steer *st, const struct lb_cfg *s, const struct lb_meta *m);
void lb_steer_detach(struct lb_steer *st);
/* Whether the steering can take b's probes: VIP and backend of one family (a mixed
 * encap VIP's backend is probed at its own address). */
struct lb_cfg_backend;
bool lb_steer_covers(const struct lb_cfg_backend *b);
#endif

#endif
