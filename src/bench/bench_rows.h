/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The rows of the live section (bench_rows.c): what each one is, and how it is loaded,
 * attached, counted and taken down. bench_live.c runs them and measures. */
#ifndef BPFLAB_BENCH_ROWS_H
#define BPFLAB_BENCH_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "benchcase.h"
#include "bench_env.h"

enum row_kind {
	R_XDP_NATIVE, R_XDP_READ, R_XDP_GENERIC, R_TC, R_NFT_INGRESS, R_NFT_RAW, R_IPT_RAW,
	R_UDP_CLOSED, R_UDP_SOCKET, R_XDP_TX, R_XDP_SWAP, R_CASE, R_FWD_LINUX, R_FWD_NAT, R_FWD_XDP,
	R_NFT_SET,      /* nftables netdev ingress, filter's 100,000 prefixes as an interval set */
	R_SYN_KERNEL,   /* a SYN flood answered by the kernel's own SYN cookies */
	R_SYN_NFT,      /* the same flood answered by the nftables SYNPROXY (synproxy.c) */
};

struct row_def {
	const char *id, *label, *group;
	enum row_kind kind;
	const char *baseline;  /* bare row a bpflab program is compared with */
	bench_setup_fn setup;  /* R_CASE: the feature's bench case */
	bool last;             /* iptables-legacy leaves its raw table hooked in the netns */
};

/* The table, in the order of the rows in every output. */
extern const struct row_def bench_rows[];
extern const size_t bench_nrows;
const struct row_def *row_def_of(const char *id);
/* "native", "generic" or NULL (not XDP). */
const char *row_xdp_mode(const struct row_def *d);

/* Loading is slow (the verifier, the case's maps) and does not change between rounds: a
 * row's programs stay loaded for the whole section, attached only for its repetitions. */
struct row_state {
	bool loaded;
	struct bare_bpf *skel;
	struct bench_prog b;    /* R_CASE: the feature's program, set up by its case */
	bool has_case;
	int link_r, link_d, link_g; /* XDP links on rX, dX (the forwarders' sink), gX (TX sink) */
	bool tc, nft, ipt;
	bool nft_set, nft_set_on; /* R_NFT_SET: the set's table is loaded (once); its hook is on */
	int listen_fd;          /* R_SYN_KERNEL: the listener the SYNs are for, or 0 */
	bool synproxy;          /* R_SYN_NFT: synproxy_start() ran */
	struct benv_helper helper; /* the UDP reader, or the drain of the case's events */
	bool helping;
	struct benv_gen g;
};

/* A row's counters at one moment: the packets the layer handled, and for the rows
 * counted by the veth driver, every verdict given and what was lost. */
struct row_count {
	long long handled, lost;
	struct benv_veth v;
	/* gX's: the generator's frames sent into rX's ring, and those it refused (full) */
	struct benv_veth gv;
	/* SYN rows: IP packets the receiver's stack took in, and SYN cookies the kernel
	 * says it sent (TcpExtSyncookiesSent; -1 for the SYNPROXY, which does not count) */
	long long ip_in, cookies;
};

/* The verdict every frame of an XDP row must get. */
__u32 row_verdict(const struct row_def *d, const struct row_state *s);
/* Frames the veth driver counted with that verdict. */
unsigned long long veth_verdict(const struct benv_veth *v, __u32 verdict);
int row_count_read(struct bench_env *e, const struct row_def *d, struct row_state *s,
		   struct row_count *c);
/* R_NFT_SET: packets its rule dropped in this repetition (slow: nft lists the set). */
long long row_nft_set_dropped(const struct bench_env *e);
/* Loads the row's programs the first time, then attaches what one repetition needs;
 * 0, or -1 with why. */
int row_setup(struct bench_env *e, const struct row_def *d, struct row_state *s,
	      char *why, size_t wlen);
void row_detach(struct bench_env *e, struct row_state *s);
void row_unload(struct row_state *s);

#endif
