/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one path that opens, configures and loads lb.bpf.c: `lb start` (and program
 * replacement), the bench cases, tests/prog/test_lb.c and tests/fuzz all go through it,
 * so what is measured and fuzzed is what runs. */
#ifndef BPFLAB_LB_PROG_H
#define BPFLAB_LB_PROG_H

#include <stdbool.h>
#include <linux/types.h>
#include "lb.h"
#include "lb_ctl.h"

struct lb_bpf;
struct bpf_map;

struct lb_prog_cfg {
	__u32 mode;          /* LB_MODE_NAT / LB_MODE_DSR */
	__u32 table_size;    /* Maglev table size per VIP (prime); 0: LB_TABLE_DEFAULT */
	__u32 ct_size;       /* flows per conntrack table, reverse entries; 0: LB_CT_DEFAULT;
			      * rounded up to a power of two (lb_ct_size_round) */
	__be32 snat_addr;    /* nat: IPv4 source address towards IPv4 backends */
	union lb_addr snat6; /* nat: IPv6 source address towards IPv6 backends */
	__u8 mac[6];         /* the LB interface's own MAC */
	bool bench_forget;   /* benchmarks only (lb.bpf.c) */
	__be32 tunnel_src4;  /* encap VIPs: outer IPv4 source */
	union lb_addr tunnel_src6; /* encap VIPs: outer IPv6 source */
	__u32 ifindex;       /* encap VIPs: whose FIB finds next hops; 0: the receiving one */
	/* Conntrack bucket hash seed (lb_ct4_index). 0: lb_fixture_up and `lb start` pick a
	 * random one (lb_ct_seed_new), so placement is unknown outside this balancer;
	 * tests and the fuzzer may fix one to be reproducible. */
	__u32 ct_seed;
	/* --new-flow-limit (lb.bpf.c new_flow_limit): 0, no limit */
	__u32 new_flow_limit;
};

/* Opens the skeleton and sets every const volatile and map size from cfg; not loaded.
 * NULL with errno set (EINVAL: a ct_size outside [LB_CT_MIN, LB_CT_MAX]). */
struct lb_bpf *lb_prog_open(const struct lb_prog_cfg *cfg);
/* Opens as above, reuses the maps of `reuse` when not NULL (a running balancer's pinned
 * maps), loads. Returns the skeleton, or NULL with errno set after printing why. */
struct lb_bpf *lb_prog_load(const struct lb_prog_cfg *cfg, const struct lb_fds *reuse);
/* The skeleton's maps in LB_MAPS order. */
void lb_prog_maps(struct lb_bpf *skel, struct bpf_map *maps[LB_NMAPS]);
/* The loaded skeleton's map fds; the skeleton keeps owning them (no lb_fds_close). */
void lb_fds_from_skel(struct lb_bpf *skel, struct lb_fds *f);
int lb_prog_fd(struct lb_bpf *skel);
void lb_prog_destroy(struct lb_bpf *skel);

/* The metadata a fresh balancer of this configuration starts with (ct_size rounded as
 * lb_prog_open sizes the maps; ct_seed as given: pick one first). */
void lb_meta_init(struct lb_meta *m, const struct lb_prog_cfg *cfg);
/* Program configuration of a running balancer, for a replacement program. */
void lb_prog_cfg_from_meta(struct lb_prog_cfg *cfg, const struct lb_meta *m, const __u8 mac[6]);

/* A balancer on fresh, unpinned maps, configured through the same lb_ctl calls as
 * `lb vip add` and `lb backend add` (lb_cfg_read, lb_cfg_edit, lb_cfg_apply): for
 * tests/prog, tests/fuzz and the bench cases. */
struct lb_fixture {
	struct lb_bpf *skel;
	struct lb_fds fds;     /* owned by skel */
	struct lb_meta meta;
	struct lb_cfg *cfg;    /* the configuration last applied, ids filled in */
	int prog_fd;
};
/* 0 or -errno. On failure fx is left safe for lb_fixture_down. */
int lb_fixture_up(struct lb_fixture *fx, const struct lb_prog_cfg *cfg);
void lb_fixture_down(struct lb_fixture *fx);
/* vip "A.B.C.D:PORT/tcp|udp" or "[V6]:PORT/tcp|udp"; addr "A.B.C.D[:PORT]", "V6" or
 * "[V6]:PORT" (lb_parse_vip, lb_parse_addr_port); 0 or the lb_cfg_edit error. */
int lb_fixture_vip_add(struct lb_fixture *fx, const char *vip);
int lb_fixture_vip_add_encap(struct lb_fixture *fx, const char *vip, __u32 encap);
/* mac NULL: none (encap VIPs' backends are reached through the FIB). */
int lb_fixture_backend_add(struct lb_fixture *fx, const char *vip, const char *addr,
			   const __u8 mac[6], __u16 weight);
/* Applies a whole configuration, as `lb apply` does. */
int lb_fixture_apply(struct lb_fixture *fx, struct lb_cfg *c);

#endif
