/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the live rows of `bpflab bench` run on (bench_env.c): three throwaway namespaces
 * joined by two veth pairs, a traffic generator, and the accounting of the receiving CPU.
 *
 *   gen ns: gX ==veth== rX : rx ns (the measured hop) : fX ==veth== dX : dst ns
 */
#ifndef BPFLAB_BENCH_ENV_H
#define BPFLAB_BENCH_ENV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfutil.h"
#include "netns.h"
#include "pkt.h"
#include "bench.h"

/* Addresses: RFC 2544's benchmarking range, in namespaces only this run can see. */
#define BENV_GEN_IP "198.18.101.1"
#define BENV_RX_IP "198.18.101.2"
#define BENV_FWD_IP "198.18.102.1"
#define BENV_DST_IP "198.18.102.2"
#define BENV_UDP_PORT 9000
/* The machine may be shared: a higher weight (not a real-time class, which could starve
 * everything else) keeps the receiver and the generator ahead of other work on their
 * CPUs. The cost per packet comes from the threads' own CPU time and does not depend on it. */
#define BENV_NICE -10
#define BENV_MAX_TIDS 8

struct bench_env {
	char ns_gen[NETNS_NAME_MAX], ns_rx[NETNS_NAME_MAX], ns_dst[NETNS_NAME_MAX];
	char if_g[16], if_r[16], if_f[16], if_d[16];
	int idx_g, idx_r, idx_d;
	bool made;
	const struct bench_opts *o;
};

/* Makes the namespaces and links (removing those a killed run left); 0, or -1 with why. */
int benv_up(struct bench_env *e, char *why, size_t wlen);
void benv_down(struct bench_env *e);

/* A command line run inside ns (split on spaces: our own arguments only); exit status. */
int benv_run(const char *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first integer after key in the output of cmd run in ns; with field >= 0, column
 * `field` of the line holding key. -1 when not found. */
long long benv_read_after(const char *ns, const char *cmd, const char *key, int field);
long long benv_udp_noports(const char *ns);
/* Attaches an XDP program inside ns through a bpf_link: its fd, or -1. */
int benv_xdp_attach(const char *ns, int prog_fd, int ifindex, const char *ifname,
		    enum xdp_mode mode);

/* The veth driver's own XDP counters of one interface, summed over its queues: what any
 * XDP program on it did, counted without the program's help; and the frames it sent into
 * its peer's ring by ndo_xdp_xmit (the generator's redirects), with those the full ring
 * refused. */
struct benv_veth {
	unsigned long long packets, drops, tx, tx_errors, redirect;
	unsigned long long xmit, xmit_errors;
};
int benv_veth_read(const char *ns, const char *ifname, struct benv_veth *v);

/* ---- the receiving CPU ---- */
int benv_pin(pid_t tid, int cpu);
/* Busy (user+nice+system+irq+softirq) and total ticks of one CPU, from /proc/stat. */
int benv_cpu_ticks(int cpu, unsigned long long *busy, unsigned long long *total);
/* The receiving veth's NAPI kthread (pinned here to cpu) and cpu's ksoftirqd: their CPU
 * time is the receiver's cost. Count, or -ESRCH when there is no NAPI kthread. */
int benv_receiver_tids(const char *ifname, int cpu, pid_t *tids, int max);
unsigned long long benv_threads_ns(const pid_t *tids, int n);
/* The NAPI kthreads among tids into the real-time class (on) or back to BENV_NICE. */
void benv_napi_rt(const pid_t *tids, int n, bool on);
/* A SCHED_IDLE spinner that keeps an idle vCPU from halting between bursts. */
int benv_spin_start(int cpu);
void benv_spin_stop(void);

/* ---- traffic: XDP live frames out of gX ---- */
struct benv_gen {
	const struct bench_env *e;
	int prog_fd, count_fd;  /* xdp_gen and its gen_count map */
	volatile __u64 *gap_ns; /* xdp_gen's pacing, in its mapped .bss */
	uint8_t frame[PKT_MAX]; /* pkt_build may use the whole buffer */
	size_t len;
	atomic_bool stop, done;
	atomic_int tid;         /* the generator thread's, for its CPU time */
	int err;
	pthread_t th;
};
/* Makes SIGUSR1 interrupt the generator's run (no SA_RESTART). */
void benv_gen_signals(void);
/* The bare rows' frame: 60-byte UDP from gX to rX (forward: to dX through rX). */
void benv_gen_udp_frame(struct benv_gen *g, bool forward);
int benv_gen_start(struct benv_gen *g);
/* Frames per second to offer from now on, also while running; 0: as fast as it can. */
void benv_gen_rate(struct benv_gen *g, double pps);
void benv_gen_stop(struct benv_gen *g);
long long benv_gen_sent(const struct benv_gen *g);

/* ---- helper threads on the receiving CPU (their time is part of the cost) ---- */
struct benv_helper {
	int fd;                 /* a UDP socket to read, or a ring buffer map to drain */
	void *rb;               /* struct ring_buffer, for a drain */
	int cpu;
	atomic_bool stop;
	atomic_ullong got;      /* datagrams read / events consumed */
	atomic_int tid;
	bool running;
	pthread_t th;
};
/* recvmmsg from a socket bound to rX's address in the rx namespace. */
int benv_reader_start(const struct bench_env *e, struct benv_helper *h, char *why, size_t wlen);
/* Consumes a ring buffer as the command that owns it would. */
int benv_drain_start(int ringbuf_fd, int cpu, struct benv_helper *h, char *why, size_t wlen);
void benv_helper_stop(struct benv_helper *h);

#endif
