/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Inside `bpflab lb`: the options, a running balancer as the command sees it (its pin
 * folder, lock and maps), and the parts in cmd_lb.c, lb_start.c and lb_show.c. */
#ifndef BPFLAB_LB_CMD_H
#define BPFLAB_LB_CMD_H

#include <stdbool.h>
#include <net/if.h>
#include "bpfutil.h"
#include "lb.h"
#include "lb_ctl.h"

/* An address per family (family 0: not given). */
struct lb_fam_addrs {
	struct lb_ip v4, v6;
};

struct lb_opts {
	const char *iface, *config, *mac;
	__u32 mode, table_size, ct_size;
	struct lb_fam_addrs snat;       /* start --snat */
	__u32 encap;                    /* vip add --encap: enum lb_encap */
	struct lb_fam_addrs tunnel_src; /* start --tunnel-src */
	enum xdp_mode xdp_mode;
	int weight;           /* -1: not given */
	long long new_flow_limit; /* start --new-flow-limit; -1: not given */
	bool watch, dry_run, allow_empty, rate;
	double interval, duration;
};

struct lb_inst {
	char ifname[IF_NAMESIZE];
	char dir[256];
	int lock_fd;
	struct lb_fds fds;
	struct lb_meta meta;
};

/* The balancer of this netns: the one named, or the only one. 0 or an exit code. */
int inst_find(const char *iface, struct lb_inst *in);
/* Opens the pinned maps and checks their layout; with `lock`, holds the balancer's lock
 * until inst_close. Unless allow_dead, a balancer whose link is gone (interface deleted)
 * is refused, saying how to clean up. 0 or an exit code, after printing why. */
int inst_open(struct lb_inst *in, bool lock, bool allow_dead);
void inst_close(struct lb_inst *in);
/* 0 while the balancer's link is attached; else says it is gone and how to clean up. */
int inst_check_link(const struct lb_inst *in);
/* XDP_TX out of ifname cannot leave (native XDP on a veth whose peer has none): true, with
 * the line to warn with in why. */
bool lb_tx_doomed(const char *ifname, int ifindex, enum xdp_mode xm, char *why, size_t len);

/* The balancer's source addresses per family, from its metadata (family 0: none). */
void lb_meta_sources(const struct lb_meta *m, struct lb_fam_addrs *snat, struct lb_fam_addrs *tsrc);
/* Finds backend MACs through ARP or neighbour discovery, then applies s. 0 or an exit code. */
int lb_apply_cfg(struct lb_inst *in, struct lb_cfg *s);
/* Warns about VIPs of s that have no backend of weight > 0 and had one in old (or were
 * not in old; old may be NULL). */
void lb_warn_dropping(const struct lb_inst *in, const struct lb_cfg *old, const struct lb_cfg *s);

int lb_start(const char *ifname, struct lb_opts *o);
int lb_stop(const char *ifname);
int lb_show(struct lb_inst *in, struct lb_opts *o);
/* lb_apply.c: apply FILE (NULL: flush), save. */
int lb_apply(struct lb_inst *in, const char *file, struct lb_opts *o);
int lb_save(struct lb_inst *in);
/* cmd_lb.c, shared with lb_apply.c: the pinned configuration, with the failure printed;
 * the "changed" record or line of an edit (d: what an apply changed, or NULL). */
int lb_read_cfg(struct lb_inst *in, struct lb_cfg *s);
int lb_edit_result(struct lb_inst *in, const char *what, const char *detail,
		   const struct lb_diff *d);
/* lb_decap.c: `lb decap IFACE`, with its own option table. */
int lb_decap_main(int argc, char **argv);
extern const struct cmd_spec lb_decap_spec;

#endif
