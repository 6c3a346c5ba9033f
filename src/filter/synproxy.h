/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel side of `bpflab filter --synproxy PORTS`: the nftables SYNPROXY that takes the
 * ACKs the XDP responder (syncookie.bpf.h) validated and opens the real connections, and
 * the sysctls it needs. Everything lives in the interface's network namespace (the caller
 * is already in it: bpflab --netns), in one nftables table per interface,
 * `inet bpflab_syn_IFACE`, whose comment keeps the sysctl values found before the first
 * start: a kill -9 leaves the table, and the next start or stop finds the values there. */
#ifndef BPFLAB_SYNPROXY_H
#define BPFLAB_SYNPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

#define SYNPROXY_MAX_PORTS 64   /* ports or ranges on the command line */

struct synproxy_cfg {
	char ifname[IF_NAMESIZE];
	struct { __u16 lo, hi; } ports[SYNPROXY_MAX_PORTS];
	int nports;
	__u16 mss4, mss6;        /* 0: SYN_DEFAULT_MSS4/6 */
	__u8 wscale;             /* 0: SYN_DEFAULT_WSCALE */
};

/* "80,443,8000-8010" -> cfg->ports. 0, or -1 with a message in err (the caller exits 2,
 * nothing changed): ports 1-65535, ranges lo-hi with lo <= hi, digits only. */
int synproxy_parse_ports(const char *arg, struct synproxy_cfg *cfg, char *err, size_t errlen);
/* Calls fn for each port of the set (for the BPF port bitmap). */
void synproxy_each_port(const struct synproxy_cfg *cfg, void (*fn)(__u16 port, void *arg),
			void *arg);

/* Sets up the kernel's SYNPROXY for cfg's ports on cfg->ifname, in the current netns:
 * first removes what a killed run left for that interface, then saves the sysctls, adds
 * the table (one atomic `nft -f`), sets tcp_syncookies=2, tcp_timestamps=1,
 * nf_conntrack_tcp_loose=0. Call it before loading the BPF program (it also makes sure
 * conntrack is there for bpf_xdp_ct_lookup). 0, or -errno with the cause printed, and then
 * nothing is left changed. */
int synproxy_start(const struct synproxy_cfg *cfg);
/* Removes the table of ifname and, when no other bpflab SYNPROXY table is left in this
 * netns, puts the sysctls back as the table's comment recorded them. Idempotent: 0 when
 * there is nothing to remove (call it from every stop, with or without --synproxy). */
int synproxy_stop(const char *ifname);
/* 1 when ifname has a bpflab SYNPROXY table in this netns, 0 when not, -errno. */
int synproxy_active(const char *ifname);

#endif
