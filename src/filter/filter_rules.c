// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Rule files: the parser (strict: anything it does not understand is an error naming the
 * file and line, and nothing is applied) and the compiler into one generation's tables.
 * The compiler sweeps each field's value space once: every boundary where the set of
 * rules covering a value changes starts an interval, each distinct rule set becomes a
 * class (deduplicated bitmaps), and the tables map values to classes. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_rules.h"

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

const char *fr_action_str(int a)
{
	return a == FA_ALLOW ? "allow" : a == FA_DENY ? "deny" : a == FA_LIMIT ? "limit" : "?";
}

static __u64 fnv(const void *buf, size_t len, __u64 h)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Decimal digits only, no leading zero (so "010" is refused: some parsers read octal). */
static int strict_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!n || n > 10 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

void fr_fmt_prefix(const struct fr_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
}

int fr_parse_cidr(const char *s, struct fr_prefix *p, char *why, size_t whylen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char a[64];
	unsigned long plen;
	int max;

	memset(p, 0, sizeof(*p));
	if (alen >= sizeof(a)) {
		snprintf(why, whylen, "'%s' is not an address", s);
		return -1;
	}
	memcpy(a, s, alen);
	a[alen] = 0;
	if (strchr(a, ':')) {
		if (inet_pton(AF_INET6, a, p->addr) != 1) {
			snprintf(why, whylen, "'%s' is not an IPv6 address", a);
			return -1;
		}
		p->family = 6;
		max = 128;
	} else {
		const char *c = a;
		for (int i = 0; i < 4; i++) {
			size_t n = strcspn(c, ".");
			unsigned long o;
			if (strict_uint(c, n, 255, &o) || (i < 3 && c[n] != '.') || (i == 3 && c[n])) {
				snprintf(why, whylen, "'%s' is not an IPv4 address (four decimal "
					 "numbers 0-255 without leading zeros)", a);
				return -1;
			}
			p->addr[i] = o;
			c += n + 1;
		}
		p->family = 4;
		max = 32;
	}
	plen = max;
	if (slash && strict_uint(slash + 1, strlen(slash + 1), max, &plen)) {
		snprintf(why, whylen, "'%s': the prefix length must be 0-%d", s, max);
		return -1;
	}
	p->plen = plen;
	for (int bit = plen; bit < max; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			struct fr_prefix q = *p;
			char b[80];
			for (int k = plen; k < max; k++)
				q.addr[k / 8] &= ~(0x80 >> (k % 8));
			fr_fmt_prefix(&q, b, sizeof(b));
			snprintf(why, whylen, "'%s' has host bits set (did you mean %s?)", s, b);
			return -1;
		}
	return 0;
}

/* ---- the parser ---- */

struct pctx {
	const char *name;
	int line;
	char *err;
	size_t errlen;
	struct fr_set *s;
};

static int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, c->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int list_add(struct fr_list *l, const struct fr_prefix *p)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 8;
		struct fr_prefix *np = realloc(l->p, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		l->p = np;
		l->cap = cap;
	}
	l->p[l->n++] = *p;
	return 0;
}

static char *read_all(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 131072);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

/* A block list: one address or CIDR per line; '#' and ';' start comments (ipset, FireHOL
 * netsets, Spamhaus DROP). A bad line is an error at that file's line. */
static int parse_list_file(struct pctx *c, const char *ref, struct fr_list *l, __u64 *digest)
{
	char path[4096], why[256];
	const char *slash = strrchr(c->name, '/');
	size_t len;
	char *buf, *line;
	int n = 0, ln = 0;

	if (ref[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", ref);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - c->name), c->name, ref);
	buf = read_all(path, &len);
	if (!buf)
		return perr(c, "cannot read the list %s: %s", path, strerror(errno));
	*digest = fnv(buf, len, *digest);
	for (char *p = buf, *nl; *p; p = nl) {
		line = p;
		nl = p + strcspn(p, "\n");
		if (*nl)
			*nl++ = 0;
		ln++;
		line[strcspn(line, "#;\r")] = 0;
		while (*line == ' ' || *line == '\t')
			line++;
		for (char *e = line + strlen(line); e > line && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = 0;
		if (!*line)
			continue;
		struct fr_prefix pf;
		if (fr_parse_cidr(line, &pf, why, sizeof(why))) {
			snprintf(c->err, c->errlen, "%s:%d: %s (in the list named at %s:%d)", path,
				 ln, why, c->name, c->line);
			free(buf);
			return -EINVAL;
		}
		if (list_add(l, &pf)) {
			free(buf);
			return -ENOMEM;
		}
		n++;
	}
	free(buf);
	if (!n)
		return perr(c, "the list %s holds no address", path);
	return 0;
}

static int parse_addrs(struct pctx *c, const char *v, struct fr_list *l, __u64 *digest)
{
	char buf[4096], why[256];
	char *save = NULL, *tok;

	if (v[0] == '@')
		return parse_list_file(c, v + 1, l, digest);
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
		struct fr_prefix pf;
		if (fr_parse_cidr(tok, &pf, why, sizeof(why)))
			return perr(c, "%s", why);
		if (list_add(l, &pf))
			return -ENOMEM;
	}
	if (!l->n)
		return perr(c, "an empty address list");
	return 0;
}

static int parse_ports(struct pctx *c, const char *what, const char *v, struct fr_range *r, int *n)
{
	char buf[1024];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
		char *dash = strchr(tok, '-');
		unsigned long lo, hi;
		if (dash)
			*dash = 0;
		if (strict_uint(tok, strlen(tok), 65535, &lo) ||
		    (dash && strict_uint(dash + 1, strlen(dash + 1), 65535, &hi)))
			return perr(c, "%s '%s': ports are 0-65535, ranges LO-HI", what, v);
		if (!dash)
			hi = lo;
		if (hi < lo)
			return perr(c, "%s range %lu-%lu is backwards (did you mean %lu-%lu?)", what,
				    lo, hi, hi, lo);
		if (*n >= FR_MAX_RANGES)
			return perr(c, "%s: more than %d ranges", what, FR_MAX_RANGES);
		r[(*n)++] = (struct fr_range){ lo, hi };
	}
	if (!*n)
		return perr(c, "%s: no port", what);
	return 0;
}

static void proto_set(struct fr_rule *r, int p)
{
	r->protos[p / 64] |= 1ULL << (p % 64);
}

static bool proto_has(const struct fr_rule *r, int p)
{
	return r->protos[p / 64] >> (p % 64) & 1;
}

static int parse_protos(struct pctx *c, const char *v, struct fr_rule *r)
{
	char buf[256];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
		unsigned long n;
		if (!strcmp(tok, "tcp"))
			n = 6;
		else if (!strcmp(tok, "udp"))
			n = 17;
		else if (!strcmp(tok, "icmp"))
			n = 1;
		else if (!strcmp(tok, "icmpv6") || !strcmp(tok, "icmp6"))
			n = 58;
		else if (strict_uint(tok, strlen(tok), 255, &n))
			return perr(c, "unknown protocol '%s': tcp, udp, icmp, icmpv6 or 0-255", tok);
		proto_set(r, n);
	}
	r->has_proto = true;
	return 0;
}

static int parse_icmp(struct pctx *c, const char *v, struct fr_rule *r)
{
	char buf[512];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
		char *sl = strchr(tok, '/');
		unsigned long t, code = 0;
		if (sl)
			*sl = 0;
		if (strict_uint(tok, strlen(tok), 255, &t) ||
		    (sl && strict_uint(sl + 1, strlen(sl + 1), 255, &code)))
			return perr(c, "icmp-type '%s': TYPE or TYPE/CODE, each 0-255", v);
		if (r->nicmp >= FR_MAX_ICMP)
			return perr(c, "icmp-type: more than %d", FR_MAX_ICMP);
		r->icmp[r->nicmp].type = t;
		r->icmp[r->nicmp++].code = sl ? (int)code : -1;
	}
	r->has_icmp = true;
	return 0;
}

static int parse_flags(struct pctx *c, const char *v, struct fr_rule *r)
{
	static const struct { const char *n; __u8 b; } names[] = {
		{ "fin", TCPF_FIN }, { "syn", TCPF_SYN }, { "rst", TCPF_RST }, { "psh", TCPF_PSH },
		{ "ack", TCPF_ACK }, { "urg", TCPF_URG }, { "ece", TCPF_ECE }, { "cwr", TCPF_CWR },
	};
	char buf[256];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)); p = NULL) {
		bool neg = tok[0] == '!';
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(tok + neg, names[i].n))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return perr(c, "unknown TCP flag '%s': fin syn rst psh ack urg ece cwr, "
				    "'!' before one that must be clear", tok);
		r->fmask |= names[i].b;
		if (neg)
			r->fval &= ~names[i].b;
		else
			r->fval |= names[i].b;
	}
	r->has_flags = true;
	return 0;
}

/* N with a unit: pps/kpps/mpps (packets), bit/kbit/mbit/gbit (bits, kept as bytes). */
static int parse_rate(struct pctx *c, const char *v, struct fr_rule *r)
{
	static const struct { const char *u; __u64 mul; bool bps; } units[] = {
		{ "pps", 1, false }, { "kpps", 1000, false }, { "mpps", 1000000, false },
		{ "bit", 1, true }, { "kbit", 1000, true }, { "mbit", 1000000, true },
		{ "gbit", 1000000000, true },
	};
	size_t n = strspn(v, "0123456789");
	unsigned long num;

	if (strict_uint(v, n, 4000000000UL, &num) || !num)
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(v + n, units[i].u)) {
			r->bps = units[i].bps;
			r->rate = num * units[i].mul;
			if (r->bps) {
				r->rate /= 8;
				if (!r->rate)
					goto bad;
			}
			if (r->rate > 4000000000ULL)
				goto bad;
			return 0;
		}
bad:
	return perr(c, "rate '%s': a number > 0 and a unit: pps, kpps, mpps (packets per "
		    "second) or bit, kbit, mbit, gbit (bits per second)", v);
}

static int parse_size(struct pctx *c, const char *what, const char *v, __u64 max, __u64 *out)
{
	size_t n = strspn(v, "0123456789");
	unsigned long num;
	__u64 mul = 1;

	if (!strcasecmp(v + n, "k"))
		mul = 1000;
	else if (!strcasecmp(v + n, "m"))
		mul = 1000000;
	else if (v[n])
		n = 0;
	if (strict_uint(v, n, 4000000000UL, &num) || !num || num * mul > max)
		return perr(c, "%s '%s': a number 1-%llu (k, m: thousands, millions)", what, v,
			    (unsigned long long)max);
	*out = num * mul;
	return 0;
}

static int parse_dur(struct pctx *c, const char *v, __u64 *ns)
{
	size_t n = strspn(v, "0123456789");
	unsigned long num;
	__u64 mul = 1;

	if (!strcmp(v + n, "ms"))
		mul = 1000000ULL;
	else if (!strcmp(v + n, "s") || !v[n])
		mul = 1000000000ULL;
	else if (!strcmp(v + n, "m"))
		mul = 60000000000ULL;
	else if (!strcmp(v + n, "h"))
		mul = 3600000000000ULL;
	else
		n = 0;
	if (strict_uint(v, n, 86400000UL, &num) || num * mul > 86400000000000ULL)
		return perr(c, "block '%s': a duration up to a day: 30s, 500ms, 5m, 1h", v);
	*ns = num * mul;
	return 0;
}

static int parse_plen(struct pctx *c, const char *kw, const char *v, int max, __u8 *out)
{
	unsigned long n;

	if (v[0] == '/')
		v++;
	if (strict_uint(v, strlen(v), max, &n))
		return perr(c, "%s '%s': a prefix length /0-/%d", kw, v, max);
	*out = n;
	return 0;
}

static struct fr_rule *rule_new(struct pctx *c)
{
	struct fr_set *s = c->s;

	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct fr_rule *nr = realloc(s->rules, cap * sizeof(*nr));
		if (!nr)
			return NULL;
		s->rules = nr;
		s->cap = cap;
	}
	memset(&s->rules[s->n], 0, sizeof(s->rules[0]));
	s->rules[s->n].line = c->line;
	s->rules[s->n].per4 = 32;
	s->rules[s->n].per6 = 128;
	return &s->rules[s->n++];
}

static bool all_family(const struct fr_list *l, int fam)
{
	for (int i = 0; i < l->n; i++)
		if (l->p[i].family != fam)
			return false;
	return l->n > 0;
}

static int check_rule(struct pctx *c, struct fr_rule *r)
{
	bool limit_opt = r->rate || r->burst || r->block_ns || r->per4 != 32 || r->per6 != 128;

	if (r->action == FA_LIMIT && !r->rate)
		return perr(c, "a limit rule needs 'rate N UNIT' (e.g. rate 1000pps)");
	if (r->action != FA_LIMIT && limit_opt)
		return perr(c, "rate, burst, block, per and per6 are for limit rules only");
	if (r->action == FA_LIMIT && !r->burst)
		r->burst = r->bps ? (r->rate / 10 > 1514 ? r->rate / 10 : 1514)
				  : (r->rate / 10 ? r->rate / 10 : 1);
	if (r->has_flags) {
		if (r->has_proto && (!proto_has(r, 6) || r->protos[0] != (1ULL << 6) ||
				     r->protos[1] || r->protos[2] || r->protos[3]))
			return perr(c, "flags match TCP only: the rule's proto must be tcp");
		proto_set(r, 6);
		r->has_proto = true;
	}
	if (r->has_icmp) {
		if (r->has_flags)
			return perr(c, "flags (TCP) and icmp-type cannot be in one rule");
		if (r->has_proto) {
			for (int p = 0; p < 256; p++)
				if (proto_has(r, p) && p != 1 && p != 58)
					return perr(c, "icmp-type needs proto icmp or icmpv6 only");
		} else {
			proto_set(r, 1);
			proto_set(r, 58);
			r->has_proto = true;
		}
	}
	if ((r->has_sport || r->has_dport) && r->has_proto) {
		for (int p = 0; p < 256; p++)
			if (proto_has(r, p) && p != 6 && p != 17)
				return perr(c, "ports need proto tcp or udp (or no proto)");
	}
	if (r->has_src && r->has_dst &&
	    ((all_family(&r->src, 4) && all_family(&r->dst, 6)) ||
	     (all_family(&r->src, 6) && all_family(&r->dst, 4))))
		return perr(c, "src and dst are of different address families: the rule can "
			    "never match");
	return 0;
}

static int parse_line(struct pctx *c, char *line)
{
	char *tok[256];
	int nt = 0;
	char *save = NULL;
	struct fr_set *s = c->s;
	struct fr_rule *r;
	unsigned long prio;
	int i, err;
	bool allowlist = false;

	for (char *p = line; nt < 256 && (tok[nt] = strtok_r(p, " \t", &save)); p = NULL)
		nt++;
	if (!nt)
		return 0;
	if (nt == 256)
		return perr(c, "too many words");
	if (!strcmp(tok[0], "default")) {
		if (nt != 2 || (strcmp(tok[1], "allow") && strcmp(tok[1], "deny")))
			return perr(c, "default allow|deny");
		if (s->has_default)
			return perr(c, "default given twice");
		s->has_default = true;
		s->default_action = !strcmp(tok[1], "allow") ? FA_ALLOW : FA_DENY;
		return 0;
	}
	if (!strcmp(tok[0], "allowlist")) {
		if (nt < 2)
			return perr(c, "allowlist CIDR[,CIDR...]|@FILE ...");
		allowlist = true;
		r = NULL;
		for (i = 0; i < s->n; i++)
			if (s->rules[i].prio == 0)
				r = &s->rules[i];
		if (!r) {
			if (!(r = rule_new(c)))
				return -ENOMEM;
			r->action = FA_ALLOW;
			r->has_src = true;
			snprintf(r->text, sizeof(r->text), "allowlist");
		}
		for (i = 1; i < nt; i++)
			if ((err = parse_addrs(c, tok[i], &r->src, &r->digest)))
				return err;
		for (i = 1; i < nt; i++)
			r->digest = fnv(tok[i], strlen(tok[i]) + 1, r->digest);
		return 0;
	}
	if (strict_uint(tok[0], strlen(tok[0]), 65535, &prio) || !prio)
		return perr(c, "'%s': a rule starts with its priority 1-65535 (lower first), or is "
			    "'default allow|deny' or 'allowlist CIDR...'", tok[0]);
	for (i = 0; i < s->n; i++)
		if (s->rules[i].prio == prio)
			return perr(c, "duplicate priority %lu (already at line %d)", prio,
				    s->rules[i].line);
	if (nt < 2)
		return perr(c, "priority %lu: missing action (allow, deny or limit)", prio);
	if (!(r = rule_new(c)))
		return -ENOMEM;
	r->prio = prio;
	r->digest = 0xcbf29ce484222325ULL;
	if (!strcmp(tok[1], "allow"))
		r->action = FA_ALLOW;
	else if (!strcmp(tok[1], "deny"))
		r->action = FA_DENY;
	else if (!strcmp(tok[1], "limit"))
		r->action = FA_LIMIT;
	else
		return perr(c, "unknown action '%s': allow, deny or limit", tok[1]);
	for (i = 2; i < nt; i += 2) {
		const char *k = tok[i], *v = i + 1 < nt ? tok[i + 1] : NULL;
		bool *seen = NULL, dummy = false;

		if (!v)
			return perr(c, "'%s' needs a value", k);
		if (!strcmp(k, "src")) {
			seen = &r->has_src;
			if (*seen)
				goto twice;
			err = parse_addrs(c, v, &r->src, &r->digest);
		} else if (!strcmp(k, "dst")) {
			seen = &r->has_dst;
			if (*seen)
				goto twice;
			err = parse_addrs(c, v, &r->dst, &r->digest);
		} else if (!strcmp(k, "proto")) {
			seen = &dummy;
			if (r->has_proto)
				goto twice;
			err = parse_protos(c, v, r);
		} else if (!strcmp(k, "sport")) {
			seen = &r->has_sport;
			if (*seen)
				goto twice;
			err = parse_ports(c, "sport", v, r->sport, &r->nsport);
		} else if (!strcmp(k, "dport") || !strcmp(k, "port")) {
			seen = &r->has_dport;
			if (*seen)
				goto twice;
			err = parse_ports(c, "dport", v, r->dport, &r->ndport);
		} else if (!strcmp(k, "icmp-type")) {
			seen = &dummy;
			if (r->has_icmp)
				goto twice;
			err = parse_icmp(c, v, r);
		} else if (!strcmp(k, "flags")) {
			seen = &dummy;
			if (r->has_flags)
				goto twice;
			err = parse_flags(c, v, r);
		} else if (!strcmp(k, "rate")) {
			seen = &dummy;
			if (r->rate)
				goto twice;
			err = parse_rate(c, v, r);
		} else if (!strcmp(k, "burst")) {
			seen = &dummy;
			if (r->burst)
				goto twice;
			err = parse_size(c, "burst", v, 4000000000ULL, &r->burst);
		} else if (!strcmp(k, "block")) {
			seen = &dummy;
			err = parse_dur(c, v, &r->block_ns);
		} else if (!strcmp(k, "per")) {
			seen = &dummy;
			err = parse_plen(c, k, v, 32, &r->per4);
		} else if (!strcmp(k, "per6")) {
			seen = &dummy;
			err = parse_plen(c, k, v, 128, &r->per6);
		} else {
			return perr(c, "unknown word '%s': src dst proto sport dport icmp-type flags "
				    "(limit: rate burst block per per6)", k);
		}
		if (err)
			return err;
		*seen = true;
		continue;
twice:
		return perr(c, "'%s' given twice", k);
	}
	(void)allowlist;
	return check_rule(c, r);
}

int fr_parse(const char *name, const char *text, struct fr_set *s, char *err, size_t errlen)
{
	struct pctx c = { .name = name, .err = err, .errlen = errlen, .s = s };
	const char *p = text;
	int ret = 0, n = 0;

	memset(s, 0, sizeof(*s));
	s->default_action = FA_ALLOW;
	while (*p) {
		size_t len = strcspn(p, "\n");
		char *line = strndup(p, len), *x;

		if (!line)
			return -ENOMEM;
		c.line++;
		line[strcspn(line, "#\r")] = 0;
		/* Normalised text for the digest and `show`: words joined by one space. */
		x = line;
		while (*x == ' ' || *x == '\t')
			x++;
		if (*x) {
			char norm[256] = "";
			size_t nl = 0;
			int before = s->n;
			const char *w = x;
			while (*w) {
				size_t wl = strcspn(w, " \t");
				if (wl && nl + wl + 2 < sizeof(norm))
					nl += snprintf(norm + nl, sizeof(norm) - nl, "%s%.*s",
						       nl ? " " : "", (int)wl, w);
				w += wl;
				w += strspn(w, " \t");
			}
			ret = parse_line(&c, x);
			if (!ret && s->n > before && s->rules[s->n - 1].prio) {
				struct fr_rule *r = &s->rules[s->n - 1];
				snprintf(r->text, sizeof(r->text), "%s", norm);
				r->digest = fnv(norm, nl, r->digest);
			}
		}
		free(line);
		if (ret)
			break;
		p += len;
		if (*p)
			p++;
		n++;
	}
	if (!ret && s->n > FILTER_MAX_RULES) {
		snprintf(err, errlen, "%s: %d rules, at most %d (the allow-list counts as one)",
			 name, s->n, FILTER_MAX_RULES);
		ret = -E2BIG;
	}
	if (ret) {
		fr_set_free(s);
		return ret == -ENOMEM ? (snprintf(err, errlen, "%s: out of memory", name), ret) : ret;
	}
	for (int i = 0; i < s->n; i++)
		s->prefixes += s->rules[i].src.n + s->rules[i].dst.n;
	return 0;
}

int fr_parse_file(const char *path, struct fr_set *s, char *err, size_t errlen)
{
	char *text = !strcmp(path, "-") ? NULL : read_all(path, NULL);
	int ret;

	if (!strcmp(path, "-")) {
		size_t cap = 65536, len = 0, n;
		text = malloc(cap);
		while (text && (n = fread(text + len, 1, cap - len - 1, stdin)) > 0) {
			len += n;
			if (cap - len < 4096) {
				char *nt = realloc(text, cap *= 2);
				if (!nt) {
					free(text);
					text = NULL;
				}
				text = nt;
			}
		}
		if (text)
			text[len] = 0;
	}
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = fr_parse(path, text, s, err, errlen);
	free(text);
	return ret;
}

void fr_set_free(struct fr_set *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->rules[i].src.p);
		free(s->rules[i].dst.p);
	}
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

/* ---- the compiler ---- */

static void bit_set(struct filter_bits *b, int i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

static int classes_init(struct fr_classes *c, int cap)
{
	c->cap = cap;
	c->n = 0;
	c->hcap = 1;
	while (c->hcap < cap * 2)
		c->hcap <<= 1;
	c->b = calloc(cap, sizeof(*c->b));
	c->hash = malloc(c->hcap * sizeof(int));
	if (!c->b || !c->hash)
		return -ENOMEM;
	memset(c->hash, 0xff, c->hcap * sizeof(int));
	return 0;
}

static void classes_free(struct fr_classes *c)
{
	free(c->b);
	free(c->hash);
	memset(c, 0, sizeof(*c));
}

/* The id of bitmap b, added when new; -E2BIG when the table is full. */
static int class_of(struct fr_classes *c, const struct filter_bits *b)
{
	__u64 h = fnv(b, sizeof(*b), 0xcbf29ce484222325ULL);

	for (__u64 i = h & (c->hcap - 1);; i = (i + 1) & (c->hcap - 1)) {
		int id = c->hash[i];
		if (id < 0) {
			if (c->n >= c->cap)
				return -E2BIG;
			c->b[c->n] = *b;
			c->hash[i] = c->n;
			return c->n++;
		}
		if (!memcmp(&c->b[id], b, sizeof(*b)))
			return id;
	}
}

/* One field's value space [0, dom): intervals [lo, hi] that each add one rule bit. */
struct iv {
	__u64 pos;
	int bit;
	int delta;
};

struct ivlist {
	struct iv *v;
	size_t n, cap;
};

static int iv_add(struct ivlist *l, __u64 lo, __u64 hi, int bit)
{
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct iv *nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct iv){ lo, bit, 1 };
	l->v[l->n++] = (struct iv){ hi + 1, bit, -1 };
	return 0;
}

static int iv_cmp(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

struct seg {
	__u64 start;
	int cls;
};

/* Sweeps l over [0, dom): segments (start, class), adjacent equal classes merged. */
static int sweep(struct ivlist *l, __u64 dom, const struct filter_bits *base,
		 struct fr_classes *cl, struct seg **out, size_t *nout)
{
	int count[FILTER_MAX_RULES] = { 0 };
	struct filter_bits cur = *base;
	struct seg *s = malloc((l->n + 1) * sizeof(*s));
	size_t ns = 0, i = 0;
	__u64 pos = 0;

	if (!s)
		return -ENOMEM;
	qsort(l->v, l->n, sizeof(*l->v), iv_cmp);
	for (;;) {
		int id;
		while (i < l->n && l->v[i].pos == pos) {
			int b = l->v[i].bit;
			count[b] += l->v[i].delta;
			if (count[b] > 0)
				cur.w[b / 64] |= 1ULL << (b % 64);
			else if (!(base->w[b / 64] >> (b % 64) & 1))
				cur.w[b / 64] &= ~(1ULL << (b % 64));
			i++;
		}
		if (pos >= dom)
			break;
		id = class_of(cl, &cur);
		if (id < 0) {
			free(s);
			return id;
		}
		if (!ns || s[ns - 1].cls != id)
			s[ns++] = (struct seg){ pos, id };
		if (i >= l->n)
			break;
		pos = l->v[i].pos;
	}
	*out = s;
	*nout = ns;
	return 0;
}

static void base_bits(const struct fr_set *s, const int *slot, struct filter_bits *b,
		      bool (*constrained)(const struct fr_rule *))
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < s->n; i++)
		if (!constrained(&s->rules[i]))
			bit_set(b, slot[i]);
}

static bool c_src(const struct fr_rule *r) { return r->has_src; }
static bool c_dst(const struct fr_rule *r) { return r->has_dst; }
static bool c_sport(const struct fr_rule *r) { return r->has_sport; }
static bool c_dport(const struct fr_rule *r) { return r->has_dport; }
static bool c_extra(const struct fr_rule *r) { return r->has_flags || r->has_icmp; }
static bool c_proto(const struct fr_rule *r) { return r->has_proto; }

static __u32 v4_u32(const __u8 *a)
{
	return (__u32)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
}

static int fail(char *err, size_t errlen, int e, const char *what)
{
	if (e == -E2BIG)
		snprintf(err, errlen, "too many distinct %s for the tables (see docs/filter.md "
			 "\"Limits\")", what);
	else
		snprintf(err, errlen, "compiling the rules: %s", strerror(-e));
	return e;
}

/* The v6 prefixes of one direction, each with the bits of every rule holding a prefix that
 * contains it: the trie's longest match then gives the whole answer. */
struct v6p {
	struct fr_prefix p;
	struct filter_bits own;
};

static int v6p_cmp(const void *a, const void *b)
{
	const struct v6p *x = a, *y = b;

	if (x->p.plen != y->p.plen)
		return x->p.plen - y->p.plen;
	return memcmp(x->p.addr, y->p.addr, 16);
}

static bool v6_contains(const struct fr_prefix *q, const struct fr_prefix *p)
{
	int full = q->plen / 8, rem = q->plen % 8;

	if (q->plen > p->plen || memcmp(q->addr, p->addr, full))
		return false;
	return !rem || !((q->addr[full] ^ p->addr[full]) & (0xff00 >> rem));
}

static const struct filter_l1 *l2_sort_l1;
static int l2_cmp(const void *a, const void *b)
{
	__u32 x = l2_sort_l1[*(const __u32 *)a].n, y = l2_sort_l1[*(const __u32 *)b].n;

	return x < y ? 1 : x > y ? -1 : (int)(*(const __u32 *)a - *(const __u32 *)b);
}

/* The second level of direction d: a block per split /16, the most boundaries first
 * while blocks last. Each /24's entry is its class, or the run of boundaries that
 * covers it: the one where it starts and those that start inside it. */
static int build_l2(struct fr_tables *t, int d)
{
	struct filter_l1 *l1 = t->l1[d];
	__u32 *split, nsplit = 0, nb;

	split = malloc(sizeof(*split) * FILTER_L1);
	if (!split)
		return -ENOMEM;
	for (__u32 hi = 0; hi < FILTER_L1; hi++)
		if (l1[hi].n) {
			l1[hi].cls = FILTER_NO_L2;
			split[nsplit++] = hi;
		}
	l2_sort_l1 = l1;
	qsort(split, nsplit, sizeof(*split), l2_cmp);
	nb = nsplit < FILTER_MAX_L2 ? nsplit : FILTER_MAX_L2;
	t->l2[d] = nb ? calloc((size_t)nb * 256, sizeof(__u32)) : NULL;
	if (nb && !t->l2[d]) {
		free(split);
		return -ENOMEM;
	}
	for (__u32 b = 0; b < nb; b++) {
		struct filter_l1 *e = &l1[split[b]];
		const struct filter_bound *bd = &t->bounds[d][e->base];
		__u32 *blk = &t->l2[d][(size_t)b * 256], k = 0;

		e->cls = b;
		for (__u32 y = 0; y < 256; y++) {
			__u32 j;

			/* k: the boundary where this /24 starts (starts are sorted, the first 0). */
			while (k + 1 < e->n && bd[k + 1].start <= y << 8)
				k++;
			for (j = k + 1; j < e->n && bd[j].start < (y + 1) << 8; j++)
				;
			blk[y] = j - k == 1 ? bd[k].cls
					    : FILTER_L2_SPLIT | (j - k) << FILTER_L2_NSHIFT | (e->base + k);
		}
	}
	t->nl2[d] = nb;
	free(split);
	return 0;
}

static int compile_addr(const struct fr_set *s, const int *slot, struct fr_tables *t, int d,
			char *err, size_t errlen)
{
	struct filter_bits base;
	struct ivlist l = {};
	struct seg *sg = NULL;
	size_t ns = 0, k = 0;
	struct v6p *v6 = NULL;
	size_t n6 = 0, cap6 = 0;
	int e, c0;

	base_bits(s, slot, &base, d ? c_dst : c_src);
	if ((e = classes_init(&t->addr[d], FILTER_MAX_ADDR_CLASSES)))
		return fail(err, errlen, e, "");
	c0 = class_of(&t->addr[d], &base); /* class 0: no prefix of this direction matched */
	(void)c0;
	for (int i = 0; i < s->n; i++) {
		const struct fr_list *pl = d ? &s->rules[i].dst : &s->rules[i].src;
		for (int j = 0; j < pl->n; j++) {
			const struct fr_prefix *p = &pl->p[j];
			if (p->family == 4) {
				__u64 lo = v4_u32(p->addr);
				__u64 hi = lo + ((1ULL << (32 - p->plen)) - 1);
				if ((e = iv_add(&l, lo, hi, slot[i])))
					goto out;
			} else {
				if (n6 == cap6) {
					cap6 = cap6 ? cap6 * 2 : 64;
					struct v6p *nv = realloc(v6, cap6 * sizeof(*nv));
					if (!nv) {
						e = -ENOMEM;
						goto out;
					}
					v6 = nv;
				}
				memset(&v6[n6], 0, sizeof(v6[n6]));
				v6[n6].p = *p;
				bit_set(&v6[n6].own, slot[i]);
				n6++;
			}
		}
	}
	/* IPv4: segments, then the /16 index and the boundaries inside each /16. */
	if ((e = sweep(&l, 1ULL << 32, &base, &t->addr[d], &sg, &ns)))
		goto out;
	t->l1[d] = calloc(FILTER_L1, sizeof(*t->l1[d]));
	t->bounds[d] = malloc(sizeof(*t->bounds[d]) * (ns + FILTER_L1 < FILTER_MAX_BOUNDS ?
						       ns + FILTER_L1 : FILTER_MAX_BOUNDS));
	if (!t->l1[d] || !t->bounds[d]) {
		e = -ENOMEM;
		goto out;
	}
	for (__u64 hi = 0; hi < FILTER_L1; hi++) {
		__u64 bs = hi << 16, be = bs + 65536;
		size_t j, n;

		while (k + 1 < ns && sg[k + 1].start <= bs)
			k++;
		for (j = k + 1; j < ns && sg[j].start < be; j++)
			;
		n = j - k;
		if (n == 1) {
			t->l1[d][hi] = (struct filter_l1){ .cls = sg[k].cls };
			continue;
		}
		if (n > 65535 || t->nbounds[d] + n > FILTER_MAX_BOUNDS) {
			e = -E2BIG;
			goto out;
		}
		t->l1[d][hi] = (struct filter_l1){ .base = t->nbounds[d], .n = n };
		for (size_t m = k; m < j; m++)
			t->bounds[d][t->nbounds[d]++] = (struct filter_bound){
				.start = m == k ? 0 : (__u16)(sg[m].start & 0xffff), .cls = sg[m].cls };
	}
	if ((e = build_l2(t, d)))
		goto out;
	/* IPv6: distinct prefixes, each with the bits of the prefixes that contain it. */
	if (n6) {
		size_t u = 0;
		qsort(v6, n6, sizeof(*v6), v6p_cmp);
		for (size_t i = 0; i < n6; i++) {
			if (u && !v6p_cmp(&v6[u - 1], &v6[i])) {
				for (int w = 0; w < FILTER_WORDS; w++)
					v6[u - 1].own.w[w] |= v6[i].own.w[w];
				continue;
			}
			v6[u++] = v6[i];
		}
		n6 = u;
		if (n6 > FILTER_MAX_V6) {
			e = -E2BIG;
			goto out;
		}
		t->v6[d] = calloc(n6, sizeof(*t->v6[d]));
		if (!t->v6[d]) {
			e = -ENOMEM;
			goto out;
		}
		/* Sorted by length: the prefixes containing v6[i] come before it. Quadratic in
		 * the worst case, fine at the sizes IPv6 rule sets have. */
		for (size_t i = 0; i < n6; i++) {
			struct filter_bits b = base;
			for (size_t q = 0; q <= i; q++)
				if (v6_contains(&v6[q].p, &v6[i].p))
					for (int w = 0; w < FILTER_WORDS; w++)
						b.w[w] |= v6[q].own.w[w];
			int id = class_of(&t->addr[d], &b);
			if (id < 0) {
				e = id;
				goto out;
			}
			t->v6[d][i].plen = v6[i].p.plen;
			memcpy(t->v6[d][i].addr, v6[i].p.addr, 16);
			t->v6[d][i].cls = id;
		}
		t->nv6[d] = n6;
	}
	e = 0;
out:
	free(l.v);
	free(sg);
	free(v6);
	return e ? fail(err, errlen, e, d ? "destination address sets" : "source address sets") : 0;
}

static int compile_map(struct ivlist *l, __u64 dom, const struct filter_bits *base,
		       struct fr_classes *cl, __u16 *map, __u64 mapn)
{
	struct seg *sg;
	size_t ns;
	int e = sweep(l, dom, base, cl, &sg, &ns);

	if (e)
		return e;
	for (size_t k = 0; k < ns; k++) {
		__u64 end = k + 1 < ns ? sg[k + 1].start : dom;
		for (__u64 v = sg[k].start; v < end && v < mapn; v++)
			map[v] = sg[k].cls;
	}
	free(sg);
	return 0;
}

static int compile_port(const struct fr_set *s, const int *slot, struct fr_tables *t, int d)
{
	struct filter_bits base;
	struct ivlist l = {};
	int e;

	base_bits(s, slot, &base, d ? c_dport : c_sport);
	if ((e = classes_init(&t->port[d], FILTER_MAX_PORT_CLASSES)))
		return e;
	t->port_map[d] = calloc(FILTER_PORTS, sizeof(__u16));
	if (!t->port_map[d])
		return -ENOMEM;
	for (int i = 0; i < s->n; i++) {
		const struct fr_rule *r = &s->rules[i];
		int n = d ? r->ndport : r->nsport;
		const struct fr_range *rg = d ? r->dport : r->sport;
		for (int j = 0; j < n; j++)
			if ((e = iv_add(&l, rg[j].lo, rg[j].hi, slot[i])))
				goto out;
	}
	/* FILTER_NOPORT, the last value, is never in a range: only rules without ports. */
	e = compile_map(&l, FILTER_PORTS, &base, &t->port[d], t->port_map[d], FILTER_PORTS);
out:
	free(l.v);
	return e;
}

static int compile_extra(const struct fr_set *s, const int *slot, struct fr_tables *t)
{
	struct filter_bits base;
	struct ivlist l = {};
	int e;

	base_bits(s, slot, &base, c_extra);
	if ((e = classes_init(&t->extra, FILTER_MAX_EXTRA_CLASSES)))
		return e;
	t->extra_map = calloc(FILTER_EXTRA, sizeof(__u16));
	if (!t->extra_map)
		return -ENOMEM;
	for (int i = 0; i < s->n && !e; i++) {
		const struct fr_rule *r = &s->rules[i];
		if (r->has_flags)
			for (int f = 0; f < 256 && !e; f++)
				if ((f & r->fmask) == r->fval)
					e = iv_add(&l, f, f, slot[i]);
		for (int j = 0; j < r->nicmp && !e; j++) {
			__u64 v = FILTER_EXTRA_ICMP + ((__u64)r->icmp[j].type << 8);
			e = r->icmp[j].code < 0 ? iv_add(&l, v, v + 255, slot[i])
						: iv_add(&l, v + r->icmp[j].code, v + r->icmp[j].code,
							 slot[i]);
		}
	}
	if (!e)
		e = compile_map(&l, FILTER_EXTRA, &base, &t->extra, t->extra_map, FILTER_EXTRA);
	free(l.v);
	return e;
}

static const struct fr_set *sort_set;
static int slot_cmp(const void *a, const void *b)
{
	const struct fr_rule *x = &sort_set->rules[*(const int *)a];
	const struct fr_rule *y = &sort_set->rules[*(const int *)b];

	return (int)x->prio - (int)y->prio;
}

int fr_compile(const struct fr_set *s, struct fr_tables *t, char *err, size_t errlen)
{
	int order[FILTER_MAX_RULES], slot[FILTER_MAX_RULES];
	int e;

	memset(t, 0, sizeof(*t));
	if (s->n > FILTER_MAX_RULES) {
		snprintf(err, errlen, "%d rules, at most %d", s->n, FILTER_MAX_RULES);
		return -E2BIG;
	}
	/* Bit order is priority order (the allow-list, priority 0, first): lowest set bit
	 * of the ANDed bitmaps = the first rule that matches. */
	for (int i = 0; i < s->n; i++)
		order[i] = i;
	sort_set = s;
	qsort(order, s->n, sizeof(int), slot_cmp);
	for (int b = 0; b < s->n; b++) {
		const struct fr_rule *r = &s->rules[order[b]];
		struct filter_rule *k = &t->rules[b];

		slot[order[b]] = b;
		*k = (struct filter_rule){ .action = r->action, .lflags = r->bps ? FL_BPS : 0,
					   .per4 = r->per4, .per6 = r->per6, .prio = r->prio,
					   .rate = r->rate, .burst = r->burst, .block_ns = r->block_ns,
					   .digest = r->digest };
		if (r->action == FA_LIMIT) {
			k->burst_u = r->burst * 1000000000ULL;
			k->cap_ns = (k->burst_u + r->rate - 1) / r->rate;
		}
		snprintf(k->text, sizeof(k->text), "%s", r->text);
		bit_set(&t->gen.valid, b);
	}
	t->nrules = s->n;
	t->gen.nrules = s->n;
	t->gen.nwords = (s->n + 63) / 64;
	t->gen.default_action = s->default_action;
	for (int i = 0; i < s->n; i++) {
		const struct fr_rule *r = &s->rules[i];
		t->gen.used |= (r->has_src ? FF_SRC : 0) | (r->has_dst ? FF_DST : 0) |
			       (r->has_proto ? FF_PROTO : 0) | (r->has_sport ? FF_SPORT : 0) |
			       (r->has_dport ? FF_DPORT : 0) | (c_extra(r) ? FF_EXTRA : 0);
	}
	for (int d = 0; d < 2; d++)
		if ((e = compile_addr(s, slot, t, d, err, errlen)))
			goto fail_;
	{
		struct filter_bits base;
		base_bits(s, slot, &base, c_proto);
		for (int p = 0; p < 256; p++) {
			t->proto[p] = base;
			for (int i = 0; i < s->n; i++)
				if (s->rules[i].has_proto && proto_has(&s->rules[i], p))
					bit_set(&t->proto[p], slot[i]);
		}
	}
	for (int d = 0; d < 2; d++)
		if ((e = compile_port(s, slot, t, d))) {
			fail(err, errlen, e, "port sets");
			goto fail_;
		}
	if ((e = compile_extra(s, slot, t))) {
		fail(err, errlen, e, "TCP flag and ICMP type sets");
		goto fail_;
	}
	return 0;
fail_:
	fr_tables_free(t);
	return e;
}

void fr_tables_free(struct fr_tables *t)
{
	for (int d = 0; d < 2; d++) {
		free(t->l1[d]);
		free(t->bounds[d]);
		free(t->l2[d]);
		free(t->v6[d]);
		classes_free(&t->addr[d]);
		free(t->port_map[d]);
		classes_free(&t->port[d]);
	}
	free(t->extra_map);
	classes_free(&t->extra);
	memset(t, 0, sizeof(*t));
}
