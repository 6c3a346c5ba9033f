/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the parts of `bpflab filter` share: a running filter as the subcommands open it. */
#ifndef BPFLAB_FILTER_CMD_H
#define BPFLAB_FILTER_CMD_H

#include <net/if.h>
#include "filter_ctl.h"

struct finst {
	char ifname[IF_NAMESIZE];
	char dir[256];
	int lock_fd;
	bool chained;   /* in front of lb: no link of its own */
	bool alive;     /* its link (or lb's, chained) is attached and runs the filter */
	struct filter_fds fds;
};
void finst_close(struct finst *in);

/* filter_chain.c: in front of lb on one XDP slot (docs/filter.md "In front of lb"). */
int filter_chain_lb(struct finst *in, int filter_prog_fd);
int filter_unchain_lb(struct finst *in);
bool filter_chain_alive(struct finst *in);

/* filter_show.c */
int filter_show(struct finst *in, int top);
int filter_print_diff(struct finst *in, const char *file, const struct fr_set *s);

#endif
