/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The load balancer's control plane on its maps: parse VIPs and backends, read the
 * configuration back from the maps, and apply a whole new one (Maglev tables swapped in
 * one map update each). Used by `bpflab lb` and by the fixtures in tests/prog/test_lb.c. */
#ifndef BPFLAB_LB_CTL_H
#define BPFLAB_LB_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "lb.h"

struct lb_bpf;

/* File descriptors of the load balancer's maps; the order of LB_MAP_NAMES. */
struct lb_fds {
	int config, vips, vip_addrs, backends, rings, conntrack, reverse, vip_stats,
	    backend_stats, counters;
};
#define LB_NMAPS 10
extern const char *const lb_map_names[LB_NMAPS];
static inline int *lb_fd_at(struct lb_fds *f, int i) { return &((int *)f)[i]; }

/* A whole configuration, as the user means it. */
struct lb_cfg_vip {
	struct lb_vip_key key;
	__u32 id;             /* assigned by lb_state_apply */
};
struct lb_cfg_backend {
	struct lb_vip_key vip;
	__be32 addr;
	__be16 port;          /* 0: the VIP's port */
	__u8 mac[6];
	bool has_mac;
	__u16 weight;
	__u32 id;             /* assigned by lb_state_apply */
};
struct lb_state {
	int nvips, nbackends;
	struct lb_cfg_vip vips[LB_MAX_VIPS];
	struct lb_cfg_backend backends[LB_MAX_BACKENDS];
};

/* "A.B.C.D:PORT/tcp|udp" */
int lb_parse_vip(const char *s, struct lb_vip_key *k);
/* "A.B.C.D[:PORT]"; port 0 when not given */
int lb_parse_addr_port(const char *s, __be32 *addr, __be16 *port);
int lb_parse_mac(const char *s, __u8 mac[6]);
void lb_fmt_vip(const struct lb_vip_key *k, char *buf, size_t len);
void lb_fmt_addr_port(__be32 addr, __be16 port, char *buf, size_t len);
void lb_fmt_mac(const __u8 mac[6], char *buf, size_t len);
const char *lb_mode_str(__u32 mode);
const char *lb_counter_name(int i);

/* State editing in memory: -ENOENT unknown VIP/backend, -EEXIST duplicate, -ENOSPC full. */
int lb_state_vip_add(struct lb_state *s, const struct lb_vip_key *k);
int lb_state_vip_del(struct lb_state *s, const struct lb_vip_key *k);
struct lb_cfg_backend *lb_state_backend_find(struct lb_state *s, const struct lb_vip_key *vip,
					     __be32 addr, __be16 port);
int lb_state_backend_add(struct lb_state *s, const struct lb_cfg_backend *b);
int lb_state_backend_del(struct lb_state *s, const struct lb_vip_key *vip, __be32 addr,
			 __be16 port);
int lb_state_find_vip(const struct lb_state *s, const struct lb_vip_key *k);

/* Parses a config file (lines "vip V", "backend V ADDR[:PORT] [weight W] [mac M]", '#'
 * comments) into s. On error prints "FILE:LINE: why" and returns -EINVAL. */
int lb_state_parse_file(const char *path, struct lb_state *s);

int lb_fds_from_skel(struct lb_bpf *skel, struct lb_fds *f);
void lb_fds_close(struct lb_fds *f);
int lb_config_read(const struct lb_fds *f, struct lb_config *c);
int lb_config_write(const struct lb_fds *f, const struct lb_config *c);

int lb_state_read(const struct lb_fds *f, struct lb_state *s);
/* Makes the maps hold s (ids filled in). Each VIP's table is swapped whole; new backends
 * are written before any table names them, old ones removed after no table does.
 * Backends without a MAC must have one by now (-EINVAL). */
int lb_state_apply(const struct lb_fds *f, struct lb_config *cfg, struct lb_state *s);

/* Reads a VIP's Maglev table into `table` (cfg->ring_size entries). */
int lb_ring_read(const struct lb_fds *f, __u32 vip_id, __u32 *table, __u32 size);

/* Per-CPU values summed. */
int lb_stats_read(int fd, __u32 id, struct lb_stats *out);
int lb_counters_read(const struct lb_fds *f, struct lb_counters *out);

#endif
