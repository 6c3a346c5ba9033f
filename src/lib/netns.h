/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one network-namespace builder: lab, bench, the doctor's probes and the tests make
 * their namespaces, veth pairs, bridges and addresses here.
 *
 * Named namespaces are the ones `ip netns` makes (/run/netns/NAME), so `ip netns exec`
 * and `bpflab --netns` see them; an anonymous one (netns_unshare) belongs to the calling
 * process alone and the kernel removes it, with every device in it, when the process exits.
 * Links are made with iproute2's ip (run without a shell): `ns` NULL or "" means the
 * namespace this process is in. Every function returns 0 or -errno (-EIO when a command
 * failed: run with -v to see it). Creating what exists and removing what is gone both
 * return 0, so set-up can complete a half-made state and teardown can run twice. */
#ifndef BPFLAB_NETNS_H
#define BPFLAB_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define NETNS_NAME_MAX 64

/* ---- namespaces ---- */
bool netns_exists(const char *name);
int netns_add(const char *name);          /* `ip netns add`; 0 when it exists already */
int netns_del(const char *name);          /* `ip netns del`; 0 when it is absent */
/* Removes every /run/netns entry named PREFIX<rest> for which match(rest) is true
 * (match NULL: all of them). Returns how many were removed, or -EIO when one could not be. */
int netns_del_prefix(const char *prefix, bool (*match)(const char *rest));

/* Moves this process into /run/netns/NAME; its mount namespace is kept, so /sys/fs/bpf
 * stays the caller's. Prints why on failure. */
int netns_enter(const char *name);
/* A new anonymous namespace for this process (call it in a child you fork); refuses
 * (-EPERM) if the namespace did not change, so nothing is ever done to the one we came from. */
int netns_unshare(void);
/* An fd on the current namespace, to come back with netns_restore (which closes it). */
int netns_save(void);
int netns_restore(int fd);
/* Name of the netns we are in: "" for the initial one, its /run/netns name, or "ns<ino>". */
void netns_current_name(char *buf, size_t len);

/* ---- links, addresses ---- */
struct netns_end {
	const char *ns;     /* NULL: the current namespace */
	const char *ifname;
	const char *mac;    /* NULL: the kernel picks one */
};
/* A veth pair a <-> b, each end in its namespace; 0 when a.ifname exists in a.ns already. */
int netns_veth_add(const struct netns_end *a, const struct netns_end *b);
/* A bridge that only switches: no STP, no forwarding delay; up. */
int netns_bridge_add(const char *ns, const char *name);
bool netns_link_exists(const char *ns, const char *ifname);
int netns_link_up(const char *ns, const char *ifname);
int netns_link_master(const char *ns, const char *ifname, const char *master);
int netns_link_set_mac(const char *ns, const char *ifname, const char *mac);
/* Adds (or keeps) ADDR/PREFIX on ifname; IPv6 addresses skip duplicate address detection,
 * which would hold them back for a second or two. */
int netns_addr_add(const char *ns, const char *ifname, const char *cidr);

/* Runs argv inside ns (`ip netns exec`, which also mounts that namespace's /sys) and
 * returns its exit status; ns NULL runs it here. quiet: its output goes to /dev/null. */
int netns_run(const char *ns, char *const argv[], bool quiet);

#endif
