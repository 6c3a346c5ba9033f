/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Rule files (docs/filter.md "Rule files"): parsed into a rule set, compiled into the
 * tables of one generation (filter.h), in user space only. */
#ifndef BPFLAB_FILTER_RULES_H
#define BPFLAB_FILTER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "filter.h"

struct fr_prefix {
	__u8 family;  /* 4 or 6 */
	__u8 plen;
	__u8 addr[16];
};

struct fr_range {
	__u16 lo, hi;
};

struct fr_list {
	struct fr_prefix *p;
	int n, cap;
};

#define FR_MAX_RANGES 64
#define FR_MAX_ICMP 32

struct fr_rule {
	int line;
	__u16 prio;          /* 0: the allow-list */
	__u8 action;         /* enum filter_action */
	bool has_src, has_dst, has_proto, has_sport, has_dport, has_icmp, has_flags;
	struct fr_list src, dst;
	__u64 protos[4];     /* bitmap over 256 protocol numbers */
	int nsport, ndport, nicmp;
	struct fr_range sport[FR_MAX_RANGES], dport[FR_MAX_RANGES];
	struct { __u8 type; int code; } icmp[FR_MAX_ICMP];   /* code -1: any */
	__u8 fmask, fval;    /* TCP flags: (flags & fmask) == fval */
	bool bps;
	__u64 rate, burst, block_ns;
	__u8 per4, per6;
	__u64 digest;
	char text[256];
};

struct fr_set {
	struct fr_rule *rules;
	int n, cap;
	__u8 default_action; /* FA_ALLOW or FA_DENY */
	bool has_default;
	long prefixes;       /* addresses and prefixes in all rules */
};

/* Parses text (the contents of file `name`, used for messages and to find @FILE lists next
 * to it) into s. 0, or -EINVAL with err = "NAME:LINE: message". */
int fr_parse(const char *name, const char *text, struct fr_set *s, char *err, size_t errlen);
int fr_parse_file(const char *path, struct fr_set *s, char *err, size_t errlen);
void fr_set_free(struct fr_set *s);

/* One generation's tables, as filter.bpf.c reads them (gen 0 offsets: the writer adds). */
struct fr_classes {
	struct filter_bits *b;
	int n, cap;
	int *hash;     /* open addressing over b */
	int hcap;
};

struct fr_v6ent {
	__u8 plen;
	__u8 addr[16];
	__u32 cls;
};

struct fr_tables {
	struct filter_gen gen;
	struct filter_rule rules[FILTER_MAX_RULES];
	int nrules;
	struct filter_l1 *l1[2];          /* [0] src, [1] dst: FILTER_L1 each */
	struct filter_bound *bounds[2];
	__u32 nbounds[2];
	__u32 *l2[2];                     /* nl2 blocks of 256 entries (filter.h) */
	__u32 nl2[2];
	struct fr_v6ent *v6[2];
	int nv6[2];
	struct fr_classes addr[2];
	struct filter_bits proto[256];
	__u16 *port_map[2];               /* FILTER_PORTS each */
	struct fr_classes port[2];
	__u16 *extra_map;                 /* FILTER_EXTRA */
	struct fr_classes extra;
};

/* Compiles s; 0, or -E2BIG/-ENOMEM with err saying which limit. */
int fr_compile(const struct fr_set *s, struct fr_tables *t, char *err, size_t errlen);
void fr_tables_free(struct fr_tables *t);

/* Parsers shared with the command line. */
int fr_parse_cidr(const char *s, struct fr_prefix *p, char *why, size_t whylen);
const char *fr_action_str(int a);
void fr_fmt_prefix(const struct fr_prefix *p, char *buf, size_t len);

#endif
