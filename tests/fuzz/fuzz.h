/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The differential packet fuzzer: a seeded generator of valid frames plus mutations, a
 * table of targets (a BPF program loaded exactly as its command loads it, and a reference
 * model written from the RFCs, independently of src/bpf), and a runner that sends every
 * packet through BPF_PROG_TEST_RUN and compares verdict, bytes and counters with the
 * model. How to add a target: tests/fuzz/README.md.
 *
 * Everything here is plain user-space C; nothing includes src/bpf. */
#ifndef BPFLAB_FUZZ_H
#define BPFLAB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- reproducible PRNG (splitmix64 seeding a xoshiro256**) ---- */
struct fuzz_rng {
	uint64_t s[4];
};
void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed);
uint64_t fuzz_next(struct fuzz_rng *r);
uint32_t fuzz_below(struct fuzz_rng *r, uint32_t n);   /* uniform in [0, n), n > 0 */
bool fuzz_chance(struct fuzz_rng *r, uint32_t num, uint32_t den); /* P = num/den */
void fuzz_bytes(struct fuzz_rng *r, void *buf, size_t len);
/* Packet I of a run with seed S is generated from its own stream, derived from (S, I):
 * `--seed S --index I` rebuilds exactly that packet without generating the others. */
void fuzz_rng_for(struct fuzz_rng *r, uint64_t seed, uint64_t index);

/* ---- the host the programs run on, as the generator and the models see it ---- */
#define FUZZ_MAX_LOCAL 8
struct fuzz_env {
	uint8_t own_mac[6];            /* the interface's MAC */
	uint8_t peer_mac[6];           /* a neighbour */
	int nlocal4, nlocal6;
	uint8_t local4[FUZZ_MAX_LOCAL][4];    /* this namespace's IPv4 addresses ... */
	uint8_t plen4[FUZZ_MAX_LOCAL];        /* ... with their prefix lengths */
	uint8_t local6[FUZZ_MAX_LOCAL][16];
	uint8_t plen6[FUZZ_MAX_LOCAL];
	uint8_t peer4[4], peer6[16];   /* a typical remote host */
	bool on_lo;                    /* the interface is loopback */
};
/* The default lab: MACs 02:00:0a:4d:00:01/02, 10.77.0.1/24 (ours), 10.77.0.2 (peer),
 * 127.0.0.1/8, 2001:db8:77::1/64, fe80::1/64, ::1/128. */
void fuzz_env_default(struct fuzz_env *e);

/* ---- templates: a description of a valid frame, built with every length and checksum right ---- */
#define FUZZ_PKT_MAX 1600
#define FUZZ_PAYLOAD_MAX 1400

struct fuzz_tmpl {
	uint8_t dst_mac[6], src_mac[6];
	int nvlan;                      /* 0..2 */
	uint16_t vlan_tpid[2];          /* 0x8100 or 0x88a8, outer first */
	uint16_t vlan_tci[2];
	int family;                     /* 4, 6, or 0: not IP, see ethertype */
	uint16_t ethertype;             /* with family 0 (ARP, LLDP, ...) */
	uint8_t src[16], dst[16];       /* IPv4 in the first 4 bytes */
	uint8_t tos, ttl;               /* ttl: TTL / hop limit */
	uint16_t ip_id;
	uint16_t frag_off;              /* IPv4 flags|offset field, host order */
	uint8_t ip_opts[40];            /* IPv4 options, padded by the builder to 4 bytes */
	int ip_opts_len;
	/* IPv6 extension headers, each a complete header whose next-header byte the builder
	 * fills in (chain order as listed; the last one points at proto). */
	int next;                       /* number of ext headers */
	uint8_t ext_type[12];
	uint8_t ext[12][64];
	uint8_t ext_len[12];            /* bytes, a multiple of 8 (AH: of 4) */
	uint8_t proto;                  /* IPPROTO_TCP/UDP/ICMP/ICMPV6/other */
	uint16_t sport, dport;          /* TCP/UDP */
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_flags;
	uint8_t tcp_opts_len;           /* zero-filled TCP options (multiple of 4) */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq;     /* echo; for errors the 4 "unused/mtu" bytes */
	int payload_len;
	uint8_t payload[FUZZ_PAYLOAD_MAX];
};

/* A frame plus where its headers were when built (mutations use these; models must not:
 * they parse the bytes themselves). */
struct fuzz_pkt {
	uint8_t data[FUZZ_PKT_MAX];
	uint32_t len;
	int family;
	uint16_t l3_off, l4_off;        /* as built */
	uint16_t ip_end;                /* end of the IP packet as built */
	uint8_t proto;
	uint32_t mark;                  /* tc: skb->mark of the run (0 unless the target's gen sets it) */
	char what[160];                 /* template kind + mutations applied, for reports */
};

/* Builds t into p (Ethernet first); returns the frame length, 0 if it would not fit. */
uint32_t fuzz_build(const struct fuzz_tmpl *t, struct fuzz_pkt *p);
/* Builds only the IP packet (no Ethernet) into buf: for ICMP errors quoting a packet. */
uint32_t fuzz_build_ip(const struct fuzz_tmpl *t, uint8_t *buf, size_t cap);

/* Random valid templates: echo requests (mostly to our addresses), replies, other ICMP,
 * TCP/UDP, non-IP, with 0-2 VLAN tags, IPv4 options, IPv6 extension chains, fragments,
 * random and odd addresses and MACs. */
void fuzz_tmpl_random(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_tmpl *t);
/* Mutations on a built frame: truncation at any length, lying length fields, checksum
 * edge values, byte flips, field edits, trailing padding... Each one appends its name
 * to p->what. Applies 0..3 of them. */
void fuzz_mutate(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_pkt *p);
/* The default generator: fuzz_tmpl_random + fuzz_build + (usually) fuzz_mutate. */
void fuzz_gen_default(struct fuzz_rng *r, const struct fuzz_env *e, struct fuzz_pkt *p);

/* ---- reference helpers for models (RFC 1071 sums; own code, not src/lib or src/bpf) ---- */
/* One's-complement sum of buf added to sum (not folded, not complemented). */
uint32_t fuzz_sum(const void *buf, size_t len, uint32_t sum);
uint16_t fuzz_fold(uint32_t sum);                        /* fold to 16 bits, no complement */
/* The checksum a sender puts in the field: ~fold(sum) (0x0000 only for a -0 sum). */
uint16_t fuzz_csum(const void *buf, size_t len, uint32_t sum);
uint16_t fuzz_get16(const uint8_t *p);                   /* network order */
void fuzz_put16(uint8_t *p, uint16_t v);
uint32_t fuzz_get32(const uint8_t *p);
void fuzz_put32(uint8_t *p, uint32_t v);

/* ---- targets ---- */
enum fuzz_verdict { FUZZ_PASS, FUZZ_DROP, FUZZ_TX, FUZZ__VERDICTS };
/* Slots per target: the compared ones (ncounters, at most 64: event_counters is a mask of
 * them) and what a target keeps past them (lb: per-VIP and per-backend stats). */
#define FUZZ_MAX_COUNTERS 80

struct fuzz_expect {
	enum fuzz_verdict verdict;
	uint8_t out[FUZZ_PKT_MAX];      /* with FUZZ_TX: the exact frame sent */
	uint32_t out_len;
	/* With FUZZ_PASS: out is the frame passed on, rewritten (a decapsulation); else a
	 * passed frame must come out unchanged. */
	bool pass_rewritten;
	uint64_t counters[FUZZ_MAX_COUNTERS];   /* increments this packet causes */
	/* Counters the model cannot predict one by one (time-based rate limits, ring
	 * space): compared as a sum instead: sum of these increments + events read from the
	 * target == events the model expects. */
	uint64_t events;
};

struct fuzz_target;
struct fuzz_ctx {
	const struct fuzz_target *t;
	struct fuzz_env env;
	int prog_fd;
	bool tc;                 /* run with an skb (SEC("tc")) instead of an xdp_md */
	uint32_t tc_pass;        /* tc: what a pass returns (0: TC_ACT_OK; tcx chains: TCX_NEXT) */
	void *priv;              /* the target's: skeleton etc. */
};

struct fuzz_target {
	const char *name;
	/* Loads the program through the feature's *_prog.c exactly as its command does;
	 * sets c->prog_fd, c->tc, c->priv. May adjust c->env first (addresses it owns).
	 * 0 or -errno. */
	int (*setup)(struct fuzz_ctx *c);
	void (*teardown)(struct fuzz_ctx *c);
	/* Optional: its own generator (NULL: fuzz_gen_default). */
	void (*gen)(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p);
	/* The reference: packet in -> verdict, output bytes, counter increments. */
	void (*model)(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x);
	/* Current counter values summed over CPUs, ncounters of them; 0 or -errno. */
	int (*read_counters)(struct fuzz_ctx *c, uint64_t *v);
	int ncounters;
	const char *const *counter_names;
	/* Optional: mask of counters compared only as part of `events` (see fuzz_expect),
	 * and a reader of the events the program emitted since the last call. */
	uint64_t event_counters;
	int (*drain_events)(struct fuzz_ctx *c);
	/* Optional: after a TX the model predicted, output fields no model can know (a SYN
	 * cookie made from the kernel's secret, a timestamp): the target checks them on
	 * their own terms (the cookie must validate), copies them into x->out, recomputes
	 * what depends on them, adds the counters its checks cause; false with why: a
	 * failure. The bytes are compared after it. */
	bool (*settle_tx)(struct fuzz_ctx *c, const struct fuzz_pkt *in, const uint8_t *out,
			  uint32_t out_len, struct fuzz_expect *x, char *why, size_t whylen);
};

/* Registered targets, NULL-terminated (tests/fuzz/targets.c). */
extern const struct fuzz_target *const fuzz_targets[];

/* ---- the runner ---- */
struct fuzz_stats {
	uint64_t packets, failures;
	uint64_t untestable;                    /* tc: frames the skb test run refuses */
	uint64_t verdicts[FUZZ__VERDICTS];
	uint64_t counters[FUZZ_MAX_COUNTERS];   /* summed increments */
	uint64_t events;                        /* events expected by the model */
};

struct fuzz_run {
	uint64_t seed;
	uint64_t first, count;       /* packet indices [first, first + count) */
	int max_failures;            /* stop a target after this many (printed in full) */
	bool verbose;                /* print every packet */
};

/* Runs one target; prints every failure (seed, index, packet hex, differences) to stdout
 * as TAP comments. Returns failures (< 0: setup failed, -errno). */
long fuzz_run_target(const struct fuzz_target *t, const struct fuzz_run *run,
		     struct fuzz_stats *st);
void fuzz_hex(const char *prefix, const uint8_t *buf, size_t len);

#endif
