/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What an interface's driver says about itself: ethtool statistics (SIOCETHTOOL, the
 * ioctl ethtool uses), whether XDP_TX can leave a veth, and whether the interface still
 * exists. Feature-free: ping, count, lb and bench call it. */
#ifndef BPFLAB_IFSTATS_H
#define BPFLAB_IFSTATS_H

#include <stdbool.h>
#include <stdint.h>

/* A veth's XDP counters, each summed over its queues (the driver reports them per queue:
 * rx_queue_N_xdp_tx, rx_queue_N_xdp_tx_errors, tx_queue_N_xdp_xmit[_errors]). */
struct ifstats_xdp {
	uint64_t xdp_tx;        /* XDP_TX frames the peer took */
	uint64_t xdp_tx_err;    /* XDP_TX frames the driver dropped (peer without NAPI) */
	uint64_t xdp_xmit;      /* frames redirected into this device that reached the peer */
	uint64_t xdp_xmit_err;  /* ... and those the driver dropped */
	int peer_ifindex;       /* the peer's ifindex (in its own namespace), 0 if unknown */
};

/* The interface's driver name ("veth", "virtio_net"...) into buf; "" if the kernel does
 * not say. 0 or -errno. */
int ifstats_driver(const char *ifname, char *buf, size_t len);
bool ifstats_is_veth(const char *ifname);

/* Every ethtool statistic of ifname (ethtool -S, through the ioctl) to fn, by the
 * driver's name for it. sock: an AF_INET socket of the namespace ifname is in, or -1 for
 * one of the current namespace. 0, or -errno (-EOPNOTSUPP: the driver has none). */
int ifstats_each(int sock, const char *ifname,
		 void (*fn)(void *ctx, const char *name, uint64_t value), void *ctx);

/* Reads the counters above from ethtool -S (the ioctl, in the current namespace).
 * 0, or -errno (-EOPNOTSUPP: the driver has none of them, i.e. not a veth). */
int ifstats_xdp_read(const char *ifname, struct ifstats_xdp *out);

/* Can a native-mode XDP_TX on veth IFNAME reach its peer? Only if the peer has a native
 * XDP program: veth_xdp_flush() kicks the peer's NAPI only then (with GRO alone the frames
 * sit in the peer's ring: xdp_tx counts them sent, nobody receives them), and without
 * NAPI at all the driver drops them (xdp_tx_errors). The peer is found by its ethtool
 * peer_ifindex and IFLA_LINK_NETNSID; a namespace other than ours is looked for among
 * /run/netns and the processes' namespaces, and asked (bpf_xdp_query) from a forked
 * child that enters it. Returns 1: it has one; 0: it has none; -errno: could not tell
 * (not a veth, peer namespace not found...). why (may be NULL) gets one line. */
int ifstats_veth_peer_xdp(const char *ifname, int ifindex, char *why, size_t whylen);

/* True when IFNAME no longer names IFINDEX (deleted, or deleted and re-created: a new
 * interface under the old name has none of our programs). Cheap (one ioctl): call it
 * a few times a second from watch loops. */
bool ifstats_iface_gone(const char *ifname, int ifindex);

#endif
