/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lb conns, lb zero, lb show --rate (lb_conns.c). Each takes an opened balancer (zero opens
 * it itself, with the lock) and returns an exit code. */
#ifndef BPFLAB_LB_CONNS_H
#define BPFLAB_LB_CONNS_H

struct lb_inst;
/* vip "A.B.C.D:PORT/PROTO", backend "A.B.C.D[:PORT]": filters, NULL for all. */
int lb_conns(struct lb_inst *in, const char *vip, const char *backend);
int lb_zero(struct lb_inst *in);
int lb_rate(struct lb_inst *in, double interval);
struct cmd_spec;
extern const struct cmd_spec lb_conns_spec, lb_zero_spec;
int lb_conns_main(int argc, char **argv);
int lb_zero_main(int argc, char **argv);

#endif
