/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The trace filter's compiled form, shared by the parser (tfilter.c), the BPF evaluator
 * (tfilter.bpf.h) and the user-space evaluator: types only.
 *
 * A filter compiles to a branching program: an array of at most TF_MAX_TESTS leaf tests,
 * each with a jump for "true" and one for "false". Jumps only go forward (to a later test,
 * TF_ACCEPT or TF_REJECT), so TF_MAX_TESTS steps always reach a verdict and the BPF side
 * needs one bounded loop and no recursion. The size is linear in the filter: `and`, `or`
 * and `not` cost no test, only jump targets (short-circuit compilation). */
#ifndef BPFLAB_TFILTER_H
#define BPFLAB_TFILTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TF_MAX_TESTS 32           /* a power of two: tf_match masks with it */
#define TF_ACCEPT 0xff
#define TF_REJECT 0xfe
#define TF_IFNAMSIZ 16

/* The packet as the evaluator sees it. Fields not known are zero (an unknown netns or
 * interface never matches a `netns`/`dev` test). */
struct tf_pkt {
	__u32 saddr[4];          /* network order; IPv4 in [0], [1..3] zero */
	__u32 daddr[4];
	__u16 sport, dport;      /* host order, valid when has_ports */
	__u8 family;             /* 0 (not IP), 4 or 6 */
	__u8 proto;              /* L4 protocol: IPv4 protocol, IPv6 after extension headers */
	__u8 has_ports;          /* a TCP/UDP/SCTP header was read (not a later fragment) */
	__u8 pad;
	__u32 netns;             /* network namespace inode, 0 unknown */
	__u32 ifindex;
	union {
		char ifname[TF_IFNAMSIZ]; /* NUL padded: compared as two words */
		__u64 ifname_w[2];
	};
};

enum tf_op {
	TF_OP_FAMILY = 1,  /* p->family == family */
	TF_OP_PROTO,       /* p->proto == lo, and p->family == family unless family is 0 */
	TF_OP_ADDR,        /* (addr & mask) == net for the directions in dir; family too */
	TF_OP_PORT,        /* has_ports and lo <= port <= hi for the directions in dir */
	TF_OP_DEV,         /* p->ifname == name */
	TF_OP_NETNS,       /* p->netns == val */
};

enum tf_dir { TF_DIR_SRC = 1, TF_DIR_DST = 2, TF_DIR_ANY = 3 };

struct tf_test {
	__u8 op;           /* enum tf_op */
	__u8 dir;          /* enum tf_dir: ANY is src OR dst */
	__u8 family;       /* 4 or 6 for ADDR; 0/4/6 for PROTO; 4/6 for FAMILY */
	__u8 plen;         /* ADDR: prefix length (for printing; mask holds it) */
	__u8 jt, jf;       /* next test index, TF_ACCEPT or TF_REJECT; always > own index */
	__u16 lo, hi;      /* PORT range (host order); PROTO: lo is the protocol */
	__u16 pad;
	__u32 val;         /* NETNS: inode */
	union {
		__u32 net[4];      /* ADDR: network order, already masked */
		__u64 name_w[2];   /* DEV: the interface name, NUL padded */
	};
	__u32 mask[4];
};

/* Which tf_pkt fields a filter reads: a caller may skip work the filter does not need. */
enum tf_flags {
	TF_F_NEED_L3 = 1 << 0,
	TF_F_NEED_L4 = 1 << 1,
	TF_F_NEED_DEV = 1 << 2,
	TF_F_NEED_NETNS = 1 << 3,
};

struct tf_prog {
	__u32 n;           /* 0: the empty filter, matches everything */
	__u32 flags;       /* enum tf_flags */
	struct tf_test t[TF_MAX_TESTS];
};

/* User side (tfilter.c): the parser, the compiler and two evaluators. */
#ifndef __bpf__
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TF_MAX_NODES 128

struct tf_error {
	int pos;                 /* byte offset into the text */
	char msg[160];
};

/* Resolves `netns NAME` to the namespace's inode: 0 or -errno. */
typedef int (*tf_netns_resolver)(const char *name, __u32 *inode);

/* The parse tree, kept for the differential test (tfilter_tree_eval) and for printing. */
enum tf_node_kind { TF_N_LEAF = 1, TF_N_AND, TF_N_OR, TF_N_NOT };
struct tf_node {
	int kind;                /* enum tf_node_kind */
	int l, r;                /* children (NOT: l only) */
	struct tf_test leaf;     /* TF_N_LEAF: jt/jf unused */
};
struct tf_tree {
	int n;                   /* nodes used */
	int root;                /* -1: empty filter */
	int leaves;
	struct tf_node node[TF_MAX_NODES];
};

/* Parses text into tree. 0, or -EINVAL with err filled (position and message).
 * resolve NULL: the inode of /run/netns/NAME. */
int tfilter_parse(const char *text, struct tf_tree *tree, struct tf_error *err,
		  tf_netns_resolver resolve);
/* Short-circuit compilation of tree into out (forward jumps only). 0 or -E2BIG. */
int tfilter_compile_tree(const struct tf_tree *tree, struct tf_prog *out);
/* Both steps: 0, or -EINVAL with err filled. */
int tfilter_compile(const char *text, struct tf_prog *out, struct tf_error *err,
		    tf_netns_resolver resolve);
/* Prints "bad filter: MSG (column N)", the text and a caret under the error. */
void tfilter_perror(FILE *f, const char *text, const struct tf_error *err);
/* The compiled program, as the BPF side evaluates it (the same code, tfilter.bpf.h). */
bool tfilter_eval(const struct tf_prog *f, const struct tf_pkt *p);
/* The parse tree, evaluated recursively with its own leaf tests: the reference the
 * compiled form is checked against. */
bool tfilter_tree_eval(const struct tf_tree *tree, const struct tf_pkt *p);
/* An Ethernet frame (up to 2 VLAN tags) into p's L3/L4 fields: for records captured by
 * bpflab's own programs (verdict.h), filtered in user space. 0, or -EINVAL (p->family 0
 * when not IP). */
int tfilter_pkt_from_frame(const void *frame, size_t len, struct tf_pkt *p);
/* The same from the IP header on (records without a link-layer header). */
int tfilter_pkt_from_ip(const void *ip, size_t len, struct tf_pkt *p);
/* argv words joined by single spaces into a malloc'ed string ("" when argc is 0). */
char *tfilter_join(int argc, char **argv);
#endif

#endif
