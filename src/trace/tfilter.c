// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The trace filter: a small subset of pcap-filter (docs/trace.md), parsed by recursive
 * descent into a tree, compiled to the forward-jump test array of tfilter.h.
 *
 * Strict on purpose: an address, prefix or port that tcpdump might read some other way
 * (010.0.0.1 as octal, 1.2.3.4/33, port 70000) is refused with its position rather than
 * guessed at, so a filter never silently matches something else than what was typed. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tfilter.h"
#include "tfilter.bpf.h"

struct parser {
	const char *text;
	int pos;                 /* start of the current token */
	int end;                 /* just past it */
	enum { T_END, T_WORD, T_LPAREN, T_RPAREN, T_NOT, T_AND, T_OR } tok;
	char word[64];
	struct tf_tree *tree;
	struct tf_error *err;
	tf_netns_resolver resolve;
	int failed;
};

static int fail(struct parser *ps, int pos, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return -EINVAL;
	ps->failed = 1;
	ps->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int is_special(char c)
{
	return c == '(' || c == ')' || c == '!' || c == '&' || c == '|';
}

/* Reads the next token into ps->tok (and ps->word for a word). */
static int next(struct parser *ps)
{
	const char *s = ps->text;
	int i = ps->end, start;

	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	ps->pos = i;
	if (!s[i]) {
		ps->tok = T_END;
		ps->end = i;
		return 0;
	}
	if (s[i] == '(' || s[i] == ')' || s[i] == '!') {
		ps->tok = s[i] == '(' ? T_LPAREN : s[i] == ')' ? T_RPAREN : T_NOT;
		ps->end = i + 1;
		return 0;
	}
	if (s[i] == '&' || s[i] == '|') {
		if (s[i + 1] != s[i])
			return fail(ps, i, "'%c' alone: did you mean '%c%c'?", s[i], s[i], s[i]);
		ps->tok = s[i] == '&' ? T_AND : T_OR;
		ps->end = i + 2;
		return 0;
	}
	start = i;
	while (s[i] && !isspace((unsigned char)s[i]) && !is_special(s[i]))
		i++;
	if (i - start >= (int)sizeof(ps->word))
		return fail(ps, start, "word too long");
	memcpy(ps->word, s + start, i - start);
	ps->word[i - start] = 0;
	ps->end = i;
	ps->tok = T_WORD;
	if (!strcmp(ps->word, "and"))
		ps->tok = T_AND;
	else if (!strcmp(ps->word, "or"))
		ps->tok = T_OR;
	else if (!strcmp(ps->word, "not"))
		ps->tok = T_NOT;
	return 0;
}

static int is_word(struct parser *ps, const char *w)
{
	return ps->tok == T_WORD && !strcmp(ps->word, w);
}

/* A decimal number without sign or leading zero, at most max. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* Dotted quad, each part 0..255 in decimal without leading zeros. */
static int parse_ip4(const char *s, __u32 *out)
{
	unsigned long part;
	char buf[4];
	__u8 b[4];
	int n;

	for (int k = 0; k < 4; k++) {
		for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
			if (n >= 3)
				return -1;
		if (n == 0)
			return -1;
		memcpy(buf, s, n);
		buf[n] = 0;
		if (parse_uint(buf, 255, &part))
			return -1;
		b[k] = part;
		s += n;
		if (k < 3) {
			if (*s != '.')
				return -1;
			s++;
		}
	}
	if (*s)
		return -1;
	memcpy(out, b, 4);
	return 0;
}

/* An address into t (family, net, full mask); plen < 0: a host. */
static int parse_addr(struct parser *ps, const char *w, int pos, struct tf_test *t, int net)
{
	char a[64];
	const char *slash = strchr(w, '/');
	unsigned long plen;
	int max;

	if (slash && !net)
		return fail(ps, pos, "'%s': host takes an address, not a prefix (use net)", w);
	snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - w) : (int)strlen(w), w);
	memset(t->net, 0, sizeof(t->net));
	memset(t->mask, 0, sizeof(t->mask));
	if (strchr(a, ':')) {
		if (strchr(a, '%'))
			return fail(ps, pos, "'%s': scoped IPv6 addresses are not supported", a);
		if (inet_pton(AF_INET6, a, t->net) != 1)
			return fail(ps, pos, "'%s' is not an IPv6 address", a);
		t->family = 6;
		max = 128;
	} else {
		if (parse_ip4(a, &t->net[0]))
			return fail(ps, pos, "'%s' is not an IPv4 address (four decimal parts "
					     "0-255, no leading zeros)", a);
		t->family = 4;
		max = 32;
	}
	plen = max;
	if (slash && parse_uint(slash + 1, max, &plen))
		return fail(ps, pos + (int)(slash - w) + 1,
			    "'%s': prefix length must be 0-%d", slash + 1, max);
	t->plen = plen;
	for (int i = 0; i < 4; i++) {
		int bits = (int)plen - 32 * i;
		__u32 m = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : ~(0xffffffffu >> bits);

		t->mask[i] = htonl(m);
		if (t->net[i] & ~t->mask[i])
			return fail(ps, pos, "'%s': bits set past the /%lu prefix", w, plen);
	}
	return 0;
}

static int new_node(struct parser *ps, int kind, int l, int r)
{
	struct tf_tree *tr = ps->tree;

	if (tr->n >= TF_MAX_NODES)
		return fail(ps, ps->pos, "filter too long (more than %d terms)", TF_MAX_NODES);
	tr->node[tr->n] = (struct tf_node){ .kind = kind, .l = l, .r = r };
	return tr->n++;
}

/* pos: where the primitive starts, for the error when there are too many. */
static int new_leaf(struct parser *ps, const struct tf_test *t, int pos)
{
	int id;

	if (ps->tree->leaves >= TF_MAX_TESTS)
		return fail(ps, pos, "filter too long (more than %d tests)", TF_MAX_TESTS);
	id = new_node(ps, TF_N_LEAF, -1, -1);
	if (id < 0)
		return id;
	ps->tree->node[id].leaf = *t;
	ps->tree->leaves++;
	return id;
}

static int default_resolver(const char *name, __u32 *inode)
{
	char path[PATH_MAX];
	struct stat st;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (stat(path, &st))
		return -errno;
	*inode = st.st_ino;
	return 0;
}

#define PRIMITIVES "host, net, port, portrange, tcp, udp, icmp, icmp6, ip, ip6, dev, netns"

/* [tcp|udp] [src|dst] (port N | portrange A-B), the current token being port/portrange. */
static int port_leaf(struct parser *ps, int dir)
{
	struct tf_test t = { .op = TF_OP_PORT, .dir = dir };
	int range = is_word(ps, "portrange"), kwpos = ps->pos, pos;
	unsigned long lo, hi;
	char *dash;

	if (next(ps))
		return -EINVAL;
	pos = ps->pos;
	if (ps->tok != T_WORD)
		return fail(ps, pos, range ? "expected a port range A-B after 'portrange'" :
					     "expected a port number after 'port'");
	if (range) {
		dash = strchr(ps->word, '-');
		if (!dash)
			return fail(ps, pos, "'%s': a port range is A-B", ps->word);
		*dash = 0;
		if (parse_uint(ps->word, 65535, &lo))
			return fail(ps, pos, "'%s' is not a port (0-65535)", ps->word);
		if (parse_uint(dash + 1, 65535, &hi))
			return fail(ps, pos + (int)(dash - ps->word) + 1,
				    "'%s' is not a port (0-65535)", dash + 1);
		if (lo > hi)
			return fail(ps, pos, "port range %lu-%lu is empty", lo, hi);
	} else {
		if (parse_uint(ps->word, 65535, &lo))
			return fail(ps, pos, "'%s' is not a port (0-65535, decimal)", ps->word);
		hi = lo;
	}
	t.lo = lo;
	t.hi = hi;
	if (next(ps))
		return -EINVAL;
	return new_leaf(ps, &t, kwpos);
}

static int parse_expr(struct parser *ps);

static int parse_primitive(struct parser *ps)
{
	struct tf_test t = { 0 };
	int pos = ps->pos, dir = TF_DIR_ANY, proto = 0, l = -1, r;

	if (ps->tok != T_WORD) {
		if (ps->tok == T_END)
			return fail(ps, pos, "unexpected end of filter: expected one of " PRIMITIVES);
		return fail(ps, pos, "expected one of " PRIMITIVES);
	}
	if (is_word(ps, "ip") || is_word(ps, "ip6")) {
		t.op = TF_OP_FAMILY;
		t.family = is_word(ps, "ip") ? 4 : 6;
		if (next(ps))
			return -EINVAL;
		return new_leaf(ps, &t, pos);
	}
	if (is_word(ps, "icmp") || is_word(ps, "icmp6")) {
		t.op = TF_OP_PROTO;
		t.family = is_word(ps, "icmp") ? 4 : 6;
		t.lo = t.family == 4 ? 1 : 58;
		if (next(ps))
			return -EINVAL;
		return new_leaf(ps, &t, pos);
	}
	if (is_word(ps, "tcp") || is_word(ps, "udp")) {
		proto = is_word(ps, "tcp") ? 6 : 17;
		t.op = TF_OP_PROTO;
		t.lo = proto;
		if (next(ps))
			return -EINVAL;
		l = new_leaf(ps, &t, pos);
		if (l < 0)
			return l;
		/* `tcp port 80` is `tcp and port 80`; `tcp` alone is a protocol test. */
		if (!is_word(ps, "src") && !is_word(ps, "dst") && !is_word(ps, "port") &&
		    !is_word(ps, "portrange"))
			return l;
		pos = ps->pos;
	}
	if (is_word(ps, "src") || is_word(ps, "dst")) {
		dir = is_word(ps, "src") ? TF_DIR_SRC : TF_DIR_DST;
		if (next(ps))
			return -EINVAL;
		if (!is_word(ps, "host") && !is_word(ps, "net") && !is_word(ps, "port") &&
		    !is_word(ps, "portrange"))
			return fail(ps, ps->pos, "expected host, net, port or portrange after '%s'",
				    dir == TF_DIR_SRC ? "src" : "dst");
		if (proto && (is_word(ps, "host") || is_word(ps, "net")))
			return fail(ps, ps->pos, "expected port or portrange after '%s %s'",
				    proto == 6 ? "tcp" : "udp", dir == TF_DIR_SRC ? "src" : "dst");
	}
	if (is_word(ps, "port") || is_word(ps, "portrange")) {
		r = port_leaf(ps, dir);
		if (r < 0 || !proto)
			return r;
		return new_node(ps, TF_N_AND, l, r);
	}
	if (proto)
		return fail(ps, ps->pos, "expected port or portrange");
	if (is_word(ps, "host") || is_word(ps, "net")) {
		int net = is_word(ps, "net");

		if (next(ps))
			return -EINVAL;
		if (ps->tok != T_WORD)
			return fail(ps, ps->pos, net ? "expected a network (CIDR) after 'net'" :
						       "expected an address after 'host'");
		t.op = TF_OP_ADDR;
		t.dir = dir;
		if (parse_addr(ps, ps->word, ps->pos, &t, net))
			return -EINVAL;
		if (next(ps))
			return -EINVAL;
		return new_leaf(ps, &t, pos);
	}
	if (dir != TF_DIR_ANY)
		return fail(ps, ps->pos, "expected host, net, port or portrange");
	if (is_word(ps, "dev")) {
		if (next(ps))
			return -EINVAL;
		if (ps->tok != T_WORD)
			return fail(ps, ps->pos, "expected an interface name after 'dev'");
		if (strlen(ps->word) >= TF_IFNAMSIZ)
			return fail(ps, ps->pos, "'%s': an interface name has at most %d characters",
				    ps->word, TF_IFNAMSIZ - 1);
		t.op = TF_OP_DEV;
		strncpy((char *)t.name_w, ps->word, TF_IFNAMSIZ);
		if (next(ps))
			return -EINVAL;
		return new_leaf(ps, &t, pos);
	}
	if (is_word(ps, "netns")) {
		unsigned long ino;
		__u32 ino32;
		int err;

		if (next(ps))
			return -EINVAL;
		if (ps->tok != T_WORD)
			return fail(ps, ps->pos, "expected a namespace name or inode after 'netns'");
		t.op = TF_OP_NETNS;
		if (isdigit((unsigned char)ps->word[0])) {
			if (parse_uint(ps->word, UINT32_MAX, &ino) || !ino)
				return fail(ps, ps->pos, "'%s' is not a namespace inode", ps->word);
			t.val = ino;
		} else {
			err = (ps->resolve ? ps->resolve : default_resolver)(ps->word, &ino32);
			if (err)
				return fail(ps, ps->pos, "no network namespace '%s' (/run/netns/%s: %s)",
					    ps->word, ps->word, strerror(-err));
			t.val = ino32;
		}
		if (next(ps))
			return -EINVAL;
		return new_leaf(ps, &t, pos);
	}
	return fail(ps, pos, "'%s' is not a filter primitive: expected one of " PRIMITIVES,
		    ps->word);
}

static int parse_unary(struct parser *ps, int depth)
{
	int pos = ps->pos, id;

	if (depth > TF_MAX_NODES)
		return fail(ps, pos, "filter nested too deep");
	if (ps->tok == T_NOT) {
		if (next(ps))
			return -EINVAL;
		id = parse_unary(ps, depth + 1);
		if (id < 0)
			return id;
		return new_node(ps, TF_N_NOT, id, -1);
	}
	if (ps->tok == T_LPAREN) {
		if (next(ps))
			return -EINVAL;
		if (ps->tok == T_RPAREN)
			return fail(ps, ps->pos, "empty parentheses");
		id = parse_expr(ps);
		if (id < 0)
			return id;
		if (ps->tok != T_RPAREN)
			return fail(ps, ps->pos, ps->tok == T_END ?
				    "missing ')' for the '(' at column %d" :
				    "expected ')' for the '(' at column %d", pos + 1);
		if (next(ps))
			return -EINVAL;
		return id;
	}
	if (ps->tok == T_RPAREN)
		return fail(ps, pos, "unexpected ')'");
	if (ps->tok == T_AND || ps->tok == T_OR)
		return fail(ps, pos, "'%.*s' needs a test before it", ps->end - ps->pos,
			    ps->text + ps->pos);
	return parse_primitive(ps);
}

/* pcap-filter: `and` and `or` have equal precedence and group left to right. */
static int parse_expr(struct parser *ps)
{
	int l = parse_unary(ps, 0), r, kind;

	if (l < 0)
		return l;
	while (ps->tok == T_AND || ps->tok == T_OR) {
		kind = ps->tok == T_AND ? TF_N_AND : TF_N_OR;
		if (next(ps))
			return -EINVAL;
		if (ps->tok == T_END)
			return fail(ps, ps->pos, "unexpected end of filter after '%s'",
				    kind == TF_N_AND ? "and" : "or");
		r = parse_unary(ps, 0);
		if (r < 0)
			return r;
		l = new_node(ps, kind, l, r);
		if (l < 0)
			return l;
	}
	if (ps->tok == T_WORD)
		return fail(ps, ps->pos, "expected 'and' or 'or' before '%s'", ps->word);
	if (ps->tok == T_LPAREN || ps->tok == T_NOT)
		return fail(ps, ps->pos, "expected 'and' or 'or' here");
	return l;
}

int tfilter_parse(const char *text, struct tf_tree *tree, struct tf_error *err,
		  tf_netns_resolver resolve)
{
	struct parser ps = { .text = text ? text : "", .tree = tree, .err = err,
			     .resolve = resolve };
	int root;

	memset(err, 0, sizeof(*err));
	tree->n = tree->leaves = 0;
	tree->root = -1;
	if (next(&ps))
		return -EINVAL;
	if (ps.tok == T_END)
		return 0;
	root = parse_expr(&ps);
	if (root < 0 || ps.failed)
		return -EINVAL;
	if (ps.tok == T_RPAREN)
		return fail(&ps, ps.pos, "unexpected ')'");
	if (ps.tok != T_END)
		return fail(&ps, ps.pos, "unexpected text");
	tree->root = root;
	return 0;
}

/* Leaf order = order of appearance; first[] is the index of a subtree's first leaf. */
static int number(const struct tf_tree *tr, int id, int *idx, int *first, int *next_leaf)
{
	const struct tf_node *n = &tr->node[id];

	switch (n->kind) {
	case TF_N_LEAF:
		idx[id] = first[id] = (*next_leaf)++;
		return 0;
	case TF_N_NOT:
		number(tr, n->l, idx, first, next_leaf);
		first[id] = first[n->l];
		return 0;
	default:
		number(tr, n->l, idx, first, next_leaf);
		number(tr, n->r, idx, first, next_leaf);
		first[id] = first[n->l];
		return 0;
	}
}

/* Every subtree's targets lie after all of its leaves, so every jump goes forward. */
static void emit(const struct tf_tree *tr, int id, const int *idx, const int *first,
		 struct tf_prog *out, int jt, int jf)
{
	const struct tf_node *n = &tr->node[id];

	switch (n->kind) {
	case TF_N_LEAF:
		out->t[idx[id]] = n->leaf;
		out->t[idx[id]].jt = jt;
		out->t[idx[id]].jf = jf;
		break;
	case TF_N_NOT:
		emit(tr, n->l, idx, first, out, jf, jt);
		break;
	case TF_N_AND:
		emit(tr, n->l, idx, first, out, first[n->r], jf);
		emit(tr, n->r, idx, first, out, jt, jf);
		break;
	case TF_N_OR:
		emit(tr, n->l, idx, first, out, jt, first[n->r]);
		emit(tr, n->r, idx, first, out, jt, jf);
		break;
	}
}

int tfilter_compile_tree(const struct tf_tree *tree, struct tf_prog *out)
{
	int idx[TF_MAX_NODES], first[TF_MAX_NODES], nl = 0;

	memset(out, 0, sizeof(*out));
	if (tree->root < 0)
		return 0;
	if (tree->leaves > TF_MAX_TESTS)
		return -E2BIG;
	number(tree, tree->root, idx, first, &nl);
	out->n = nl;
	emit(tree, tree->root, idx, first, out, TF_ACCEPT, TF_REJECT);
	for (__u32 i = 0; i < out->n; i++) {
		switch (out->t[i].op) {
		case TF_OP_FAMILY: case TF_OP_ADDR: case TF_OP_PROTO:
			out->flags |= TF_F_NEED_L3;
			break;
		case TF_OP_PORT:
			out->flags |= TF_F_NEED_L3 | TF_F_NEED_L4;
			break;
		case TF_OP_DEV:
			out->flags |= TF_F_NEED_DEV;
			break;
		case TF_OP_NETNS:
			out->flags |= TF_F_NEED_NETNS;
			break;
		}
	}
	return 0;
}

int tfilter_compile(const char *text, struct tf_prog *out, struct tf_error *err,
		    tf_netns_resolver resolve)
{
	struct tf_tree *tree = calloc(1, sizeof(*tree));
	int r;

	if (!tree) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	r = tfilter_parse(text, tree, err, resolve);
	if (!r)
		r = tfilter_compile_tree(tree, out);
	free(tree);
	return r;
}

void tfilter_perror(FILE *f, const char *text, const struct tf_error *err)
{
	int pos = err->pos;

	fprintf(f, "bad filter: %s (column %d)\n", err->msg, pos + 1);
	fprintf(f, "  %s\n  ", text);
	/* Tabs stay tabs so the caret lines up under them. */
	for (int i = 0; i < pos && text[i]; i++)
		fputc(text[i] == '\t' ? '\t' : ' ', f);
	fprintf(f, "^\n");
}

bool tfilter_eval(const struct tf_prog *f, const struct tf_pkt *p)
{
	return tf_match(f, p);
}

/* The reference leaf test: written from the grammar's meaning (prefix bits, not masks),
 * not shared with tf_test_one. */
static bool prefix_eq(const __u32 *a, const __u32 *net, int plen)
{
	const __u8 *x = (const __u8 *)a, *y = (const __u8 *)net;

	for (int bit = 0; bit < plen; bit++) {
		int sh = 7 - bit % 8;
		if (((x[bit / 8] >> sh) & 1) != ((y[bit / 8] >> sh) & 1))
			return false;
	}
	return true;
}

static bool leaf_ref(const struct tf_test *t, const struct tf_pkt *p)
{
	bool s, d;

	switch (t->op) {
	case TF_OP_FAMILY:
		return p->family == t->family;
	case TF_OP_PROTO:
		if (p->family != 4 && p->family != 6)
			return false;
		if (t->family && p->family != t->family)
			return false;
		return p->proto == t->lo;
	case TF_OP_ADDR:
		if (p->family != t->family)
			return false;
		s = prefix_eq(p->saddr, t->net, t->plen);
		d = prefix_eq(p->daddr, t->net, t->plen);
		return t->dir == TF_DIR_SRC ? s : t->dir == TF_DIR_DST ? d : (s || d);
	case TF_OP_PORT:
		if (!p->has_ports)
			return false;
		s = p->sport >= t->lo && p->sport <= t->hi;
		d = p->dport >= t->lo && p->dport <= t->hi;
		return t->dir == TF_DIR_SRC ? s : t->dir == TF_DIR_DST ? d : (s || d);
	case TF_OP_DEV:
		return !strncmp(p->ifname, (const char *)t->name_w, TF_IFNAMSIZ);
	case TF_OP_NETNS:
		return p->netns != 0 && p->netns == t->val;
	}
	return false;
}

static bool node_eval(const struct tf_tree *tr, int id, const struct tf_pkt *p)
{
	const struct tf_node *n = &tr->node[id];

	switch (n->kind) {
	case TF_N_LEAF: return leaf_ref(&n->leaf, p);
	case TF_N_NOT: return !node_eval(tr, n->l, p);
	case TF_N_AND: return node_eval(tr, n->l, p) && node_eval(tr, n->r, p);
	case TF_N_OR: return node_eval(tr, n->l, p) || node_eval(tr, n->r, p);
	}
	return false;
}

bool tfilter_tree_eval(const struct tf_tree *tree, const struct tf_pkt *p)
{
	return tree->root < 0 ? true : node_eval(tree, tree->root, p);
}

static __u16 be16(const __u8 *b)
{
	return (__u16)b[0] << 8 | b[1];
}

/* From the IP header on; type is the EtherType (0x0800 / 0x86dd). */
static int pkt_from_l3(const __u8 *b, size_t len, __u16 type, struct tf_pkt *p)
{
	size_t th;

	if (type == 0x0800) {
		size_t ihl;

		if (len < 20 || (b[0] >> 4) != 4)
			return -EINVAL;
		ihl = (b[0] & 0xf) * 4;
		p->family = 4;
		p->proto = b[9];
		memcpy(&p->saddr[0], b + 12, 4);
		memcpy(&p->daddr[0], b + 16, 4);
		if (ihl < 20 || (be16(b + 6) & 0x1fff))
			return 0;
		th = ihl;
	} else if (type == 0x86dd) {
		__u8 nxt;

		if (len < 40 || (b[0] >> 4) != 6)
			return -EINVAL;
		p->family = 6;
		memcpy(p->saddr, b + 8, 16);
		memcpy(p->daddr, b + 24, 16);
		nxt = b[6];
		th = 40;
		for (int i = 0; i < 8; i++) {
			if (nxt != 0 && nxt != 43 && nxt != 44 && nxt != 60 && nxt != 51)
				break;
			if (len < th + 8) {
				p->proto = nxt;
				return 0;
			}
			if (nxt == 44) {
				if (be16(b + th + 2) & 0xfff8) {
					p->proto = b[th];
					return 0;
				}
				nxt = b[th];
				th += 8;
			} else {
				size_t l = nxt == 51 ? ((size_t)b[th + 1] + 2) * 4 :
						       ((size_t)b[th + 1] + 1) * 8;
				nxt = b[th];
				th += l;
			}
		}
		p->proto = nxt;
	} else {
		return -EINVAL;
	}
	if ((p->proto == 6 || p->proto == 17 || p->proto == 132) && len >= th + 4) {
		p->sport = be16(b + th);
		p->dport = be16(b + th + 2);
		p->has_ports = 1;
	}
	return 0;
}

int tfilter_pkt_from_frame(const void *frame, size_t len, struct tf_pkt *p)
{
	const __u8 *b = frame;
	size_t off = 14;
	__u16 type;

	memset(p, 0, sizeof(*p));
	if (len < 14)
		return -EINVAL;
	type = be16(b + 12);
	for (int v = 0; v < 2 && (type == 0x8100 || type == 0x88a8); v++) {
		if (len < off + 4)
			return -EINVAL;
		type = be16(b + off + 2);
		off += 4;
	}
	return pkt_from_l3(b + off, len - off, type, p);
}

int tfilter_pkt_from_ip(const void *ip, size_t len, struct tf_pkt *p)
{
	const __u8 *b = ip;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return -EINVAL;
	return pkt_from_l3(b, len, (b[0] >> 4) == 6 ? 0x86dd : 0x0800, p);
}

char *tfilter_join(int argc, char **argv)
{
	size_t n = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	s[0] = 0;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}
