/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `bpflab lb announce` (docs/lb.md, "Many LB nodes"): the routes a BGP speaker on this
 * node exports, kept equal to what the balancer can really serve. A VIP address gets a
 * /32 route in kernel table LB_ANN_TABLE through the TUN device LB_ANN_DEV, which only
 * exists while the announcer's process holds it open: a kill -9 of the announcer takes
 * the device, and with it every route, away. The speaker (BIRD's kernel protocol with
 * `learn`) sees the routes come and go through netlink. `lb drain-node` and
 * `lb undrain-node` set and clear a marker the announcer obeys. */
#ifndef BPFLAB_LB_ANNOUNCE_H
#define BPFLAB_LB_ANNOUNCE_H

#include <stdbool.h>
#include <linux/types.h>

#define LB_ANN_DEV "bpflab-ann"
#define LB_ANN_TABLE 4242
/* Per network namespace: LB_ANN_RUN_DIR/<netns name, or "init">/drained. */
#define LB_ANN_RUN_DIR "/run/bpflab/announce"

/* In this network namespace: -1 when no announcer runs, else whether addr (network
 * order, family LB_FAM4/LB_FAM6) is announced right now (its route exists). */
union lb_addr;
int lb_announce_state(const union lb_addr *addr, int family);
/* Is this network namespace's node drained (lb drain-node)? */
bool lb_node_drained(void);
/* The drain marker of network namespace ns ("" = this one's) into buf. */
void lb_drain_path(const char *ns, char *buf, size_t len);

struct cmd_spec;
extern const struct cmd_spec lb_announce_spec, lb_drain_spec, lb_undrain_spec;
int lb_announce_main(int argc, char **argv);
int lb_drain_main(int argc, char **argv);
int lb_undrain_main(int argc, char **argv);

#endif
