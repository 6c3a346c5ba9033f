/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The load balancer's maps. All are pinned under /sys/fs/bpf/bpflab/lb/IFACE[@netns]/ by
 * their names, and any bpflab process changes them (under a flock on that folder). */
#ifndef BPFLAB_LB_MAPS_H
#define BPFLAB_LB_MAPS_H

#include "lb.h"

/* struct lb_meta: how the set was made (layout version, mode, sizes); user space only.
 * The pinned name stays "config" so running balancers survive an upgrade. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_meta);
} config SEC(".maps");

/* VIP address:port/proto (either family) -> its id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, struct lb_vip_key);
	__type(value, struct lb_vip);
} vips SEC(".maps");

/* The VIP index (lb.h): two halves of slots, and which half is read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * LB_VIX_SLOTS);
	__type(key, __u32);
	__type(value, struct lb_vix_slot);
} vix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_vix_head);
} vix_head SEC(".maps");

/* VIP address (struct lb_vip_key with port 0, proto 0) -> number of VIPs on it:
 * fragments, options and broken headers cannot be matched on a port, but we still know
 * they were meant for us. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, struct lb_vip_key);
	__type(value, __u32);
} vip_addrs SEC(".maps");

/* Backend id -> address, port, MAC, weight, VIP. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
} backends SEC(".maps");

/* The Maglev table of one VIP: slot -> backend id. User space builds a whole new one and
 * swaps it into `rings` with one update, so packets see the old table or the new one. */
struct lb_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP); /* the size is chosen at `lb start` */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

/* VIP id -> its Maglev table. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct lb_ring);
} rings SEC(".maps");

/* Conntrack, one table per family: client address:port + VIP id -> backend (and NAT
 * port), in buckets of LB_CT_WAYS slots (lb.h, "The conntrack tables"). Sized at
 * `lb start`: --ct-size / LB_CT_WAYS buckets, a power of two (ct_mask in lb.bpf.c). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_CT_DEFAULT / LB_CT_WAYS);
	__type(key, __u32);
	__type(value, struct lb_ct4_bucket);
} conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_CT_DEFAULT / LB_CT_WAYS);
	__type(key, __u32);
	__type(value, struct lb_ct6_bucket);
} conntrack6 SEC(".maps");

/* NAT: backend address:port -> LB:nat_port reply -> the client and VIP to rewrite it to. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CT_DEFAULT);
	__type(key, struct lb_rev4_key);
	__type(value, struct lb_rev4);
} reverse SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CT_DEFAULT);
	__type(key, struct lb_rev6_key);
	__type(value, struct lb_rev6);
} reverse6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_stats);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_stats);
} backend_stats SEC(".maps");

/* Backend id -> its next hop as the FIB last said (struct lb_nh), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_nh);
} nexthops SEC(".maps");

/* Drops by reason, conntrack misses, NAT port failures, ... (enum lb_counter). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_counters);
} counters SEC(".maps");

#endif
