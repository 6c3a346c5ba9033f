/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The load balancer's control plane. A configuration in memory (struct lb_cfg: what the
 * user wants) is parsed, edited, compared and written by lb_cfg.c; lb_ctl.c reads one
 * back from the maps and applies a whole new one (Maglev tables swapped in one map
 * update each). Used by `bpflab lb` and, through lb_prog.h, by tests, fuzzer and bench. */
#ifndef BPFLAB_LB_CTL_H
#define BPFLAB_LB_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "lb.h"
#include "lb_health.h"

/* The load balancer's maps, written once: X(name, ct_div). Pinning, map reuse, layout
 * checks, show and the fd table all walk this list. The names are the skeleton's
 * (skel->maps.NAME) and the pinned files'. ct_div 0: a fixed size; else max_entries is
 * --ct-size / ct_div (the conntrack tables hold LB_CT_WAYS flows per entry, a bucket),
 * so a layout check compares everything but the size. */
#define LB_MAPS(X)                    \
	X(config, 0)                  \
	X(vips, 0)                    \
	X(vix, 0)                     \
	X(vix_head, 0)                \
	X(vip_addrs, 0)               \
	X(backends, 0)                \
	X(rings, 0)                   \
	X(conntrack, LB_CT_WAYS)      \
	X(reverse, 1)                 \
	X(conntrack6, LB_CT_WAYS)     \
	X(reverse6, 1)                \
	X(vip_stats, 0)               \
	X(backend_stats, 0)           \
	X(counters, 0)                \
	X(nexthops, 0)

#define LB_MAP_COUNT_(name, div) +1
enum { LB_NMAPS = 0 LB_MAPS(LB_MAP_COUNT_) };
#undef LB_MAP_COUNT_

/* File descriptors of the maps, by name (f->vips) or in list order (f->fd[i]). */
struct lb_fds {
	union {
		struct {
#define LB_MAP_FIELD_(name, div) int name;
			LB_MAPS(LB_MAP_FIELD_)
#undef LB_MAP_FIELD_
		};
		int fd[LB_NMAPS];
	};
};

struct lb_map_desc {
	const char *name;
	__u32 ct_div;    /* 0: fixed size; else max_entries = ct_size / ct_div */
};
extern const struct lb_map_desc lb_maps[LB_NMAPS];

/* Every fd -1: nothing open. */
void lb_fds_init(struct lb_fds *f);

/* An address of either family, as the configuration holds it. Zeroed before it is
 * filled, so two of them compare with lb_ip_eq (or memcmp). */
struct lb_ip {
	union lb_addr a;      /* lb.h's: IPv4 in a.v4, the rest zero */
	__u8 family;          /* LB_FAM4 or LB_FAM6; 0: none */
	__u8 pad[3];
};
/* The longest address text, IPv6 in brackets with a port: "[...]:65535". */
#define LB_ADDR_STRLEN 56

/* A whole configuration, as the user means it. */
struct lb_cfg_vip {
	struct lb_vip_key key;
	__u32 id;             /* assigned by lb_cfg_apply */
	__u32 encap;          /* enum lb_encap */
	struct lb_check check; /* type NONE: not checked (kept in the pinned "checks" map, lb_health.h) */
};
struct lb_cfg_backend {
	struct lb_vip_key vip;
	struct lb_ip addr;    /* the VIP's family, or either with encap (lb_family_refusal) */
	__be16 port;          /* 0: the VIP's port */
	__u8 mac[6];
	bool has_mac;
	__u16 weight;
	__u32 id;             /* assigned by lb_cfg_apply */
};
struct lb_cfg {
	int nvips, nbackends;
	struct lb_cfg_vip vips[LB_MAX_VIPS];
	struct lb_cfg_backend backends[LB_MAX_BACKENDS];
};

static inline bool lb_vip_eq(const struct lb_vip_key *a, const struct lb_vip_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The port a backend is reached on: its own, or the VIP's. */
static inline __be16 lb_be_port(const struct lb_cfg_backend *b)
{
	return b->port ? b->port : b->vip.port;
}

/* The VIP key <-> address, port, protocol (the key is lb.h's, the map's). */
void lb_vip_key_set(struct lb_vip_key *k, const struct lb_ip *ip, __be16 port, __u8 proto);
void lb_vip_key_ip(const struct lb_vip_key *k, struct lb_ip *ip);
void lb_ip4(struct lb_ip *ip, __be32 a);
bool lb_ip_eq(const struct lb_ip *a, const struct lb_ip *b);
/* Why ip can be no service's or backend's (unspecified, broadcast, loopback, multicast,
 * link-local, IPv4-mapped or -compatible IPv6), or NULL. */
const char *lb_ip_refusal(const struct lb_ip *ip);

/* Parsers of what users type. 0; -EINVAL malformed, -EADDRNOTAVAIL a well-formed address
 * that can be no service's (lb_ip_refusal); why (may be NULL) says which, naming the text.
 * VIP: "A.B.C.D:PORT/tcp|udp" or "[IPV6]:PORT/tcp|udp". */
int lb_parse_vip_why(const char *s, struct lb_vip_key *k, char *why, size_t wl);
int lb_parse_vip(const char *s, struct lb_vip_key *k);
/* A bare address of either family (--snat, --tunnel-src). */
int lb_parse_ip(const char *s, struct lb_ip *ip, char *why, size_t wl);
/* "A.B.C.D[:PORT]", "IPV6" or "[IPV6][:PORT]"; port 0 when not given. */
int lb_parse_ip_port(const char *s, struct lb_ip *ip, __be16 *port, char *why, size_t wl);
int lb_parse_addr_port(const char *s, struct lb_ip *ip, __be16 *port);
/* Why the address at the start of s (a VIP or ADDR[:PORT]) is refused, or NULL. */
const char *lb_addr_refusal(const char *s);
int lb_parse_mac(const char *s, __u8 mac[6]);
void lb_fmt_ip(const struct lb_ip *ip, char *buf, size_t len);
/* "A.B.C.D:PORT", "[IPV6]:PORT", or the bare address when port is 0. */
void lb_fmt_ip_port(const struct lb_ip *ip, __be16 port, char *buf, size_t len);
void lb_fmt_addr_port(const struct lb_ip *ip, __be16 port, char *buf, size_t len);
void lb_fmt_vip(const struct lb_vip_key *k, char *buf, size_t len);
void lb_fmt_mac(const __u8 mac[6], char *buf, size_t len);
const char *lb_mode_str(__u32 mode);
const char *lb_counter_name(int i);
/* Can a backend of this address serve this VIP? nat rewrites addresses within a family
 * and dsr only MACs, so both need the VIP's family; encap carries any packet in any
 * outer family. NULL when it can, else why not. */
const char *lb_family_refusal(const struct lb_vip_key *vip, __u32 encap, const struct lb_ip *be);

/* State editing in memory: -ENOENT unknown VIP/backend, -EEXIST duplicate, -ENOSPC full. */
int lb_cfg_vip_add(struct lb_cfg *s, const struct lb_vip_key *k);
int lb_cfg_vip_del(struct lb_cfg *s, const struct lb_vip_key *k);
struct lb_cfg_backend *lb_cfg_backend_find(struct lb_cfg *s, const struct lb_vip_key *vip,
					     const struct lb_ip *addr, __be16 port);
int lb_cfg_backend_add(struct lb_cfg *s, const struct lb_cfg_backend *b);
int lb_cfg_backend_del(struct lb_cfg *s, const struct lb_vip_key *vip,
		       const struct lb_ip *addr, __be16 port);
int lb_cfg_find_vip(const struct lb_cfg *s, const struct lb_vip_key *k);
/* The VIP's enum lb_encap (LB_ENCAP_NONE when not in s). */
__u32 lb_cfg_vip_encap(const struct lb_cfg *s, const struct lb_vip_key *k);
/* "ipip" / "gue" / "none" <-> enum lb_encap; -1 for anything else. */
int lb_encap_parse(const char *s);
const char *lb_encap_str(__u32 encap);

/* One change, as `lb vip` and `lb backend` make it. */
enum lb_edit_op { LB_VIP_ADD, LB_VIP_DEL, LB_BACKEND_ADD, LB_BACKEND_DEL, LB_BACKEND_SET };
struct lb_edit {
	enum lb_edit_op op;
	struct lb_vip_key vip;
	struct lb_cfg_backend backend;  /* backend ops: vip, addr, port; add: weight, mac */
	bool set_weight, set_mac;       /* LB_BACKEND_SET: what changes */
	__u32 vip_encap;                /* LB_VIP_ADD: enum lb_encap */
};
/* Applies e to c in memory. VIP ops: -EEXIST, -ENOENT, -ENOSPC. Backend ops: -ENXIO no
 * such VIP, -EEXIST already there, -ENOENT not in the VIP, -ENOSPC full. */
int lb_cfg_edit(struct lb_cfg *c, const struct lb_edit *e);

/* The VIPs of c that have no backend of weight > 0 (their packets are dropped). */
bool lb_cfg_vip_has_backend(const struct lb_cfg *c, const struct lb_vip_key *k);

/* A backend's identity for Maglev (its permutation): address and port, v4 and v6 apart. */
__u64 lb_maglev_key(const struct lb_cfg_backend *b);

/* Writes c as a config file that lb_cfg_parse_file reads back to the same c. */
void lb_cfg_write_file(const struct lb_cfg *c, FILE *f);

/* What applying `to` over `from` changes; moved_share: of all flows of VIPs kept, the
 * share Maglev places on another backend (from the old and the new tables). */
struct lb_diff {
	int vips_added, vips_removed, backends_added, backends_removed, backends_reweighted,
	    backends_remac;
	int vips_rechecked;  /* health check added, removed or changed */
	int vips_reencap;    /* encap changed */
	double moved_share;
};
enum lb_change_kind { LB_CH_VIP_ADD, LB_CH_VIP_DEL, LB_CH_BACKEND_ADD, LB_CH_BACKEND_DEL,
		      LB_CH_BACKEND_WEIGHT, LB_CH_BACKEND_MAC, LB_CH_VIP_MOVED, LB_CH_VIP_CHECK,
		      LB_CH_VIP_ENCAP };
/* One change: old/new backend as they apply (NULL when none); for LB_CH_VIP_MOVED,
 * share is the part of the VIP's table that names another backend. */
typedef void (*lb_change_fn)(void *ctx, enum lb_change_kind kind, const struct lb_vip_key *vip,
			     const struct lb_cfg_backend *old, const struct lb_cfg_backend *new,
			     double share);
/* Compares; fn (may be NULL) sees every change. 0 or -ENOMEM, -EINVAL (table_size). */
int lb_cfg_diff(const struct lb_cfg *from, const struct lb_cfg *to, __u32 table_size,
		struct lb_diff *d, lb_change_fn fn, void *ctx);

/* Parses a config file (lines "vip V", "backend V ADDR[:PORT] [weight W] [mac M]", '#'
 * comments) into s. On error prints "FILE:LINE: why" and returns -EINVAL. */
int lb_cfg_parse_file(const char *path, struct lb_cfg *s);

void lb_fds_close(struct lb_fds *f);
int lb_meta_read(const struct lb_fds *f, struct lb_meta *c);
int lb_meta_write(const struct lb_fds *f, const struct lb_meta *c);

int lb_cfg_read(const struct lb_fds *f, struct lb_cfg *s);
/* Makes the maps hold s (ids filled in). Each VIP's table is swapped whole; new backends
 * are written before any table names them, old ones removed after no table does.
 * Backends without a MAC must have one by now (-EINVAL). */
int lb_cfg_apply(const struct lb_fds *f, struct lb_meta *cfg, struct lb_cfg *s);

/* Reads a VIP's Maglev table into `table` (cfg->table_size entries). */
int lb_ring_read(const struct lb_fds *f, __u32 vip_id, __u32 *table, __u32 size);

/* Per-CPU values summed. */
int lb_stats_read(int fd, __u32 id, struct lb_stats *out);
int lb_counters_read(const struct lb_fds *f, struct lb_counters *out);

#endif
