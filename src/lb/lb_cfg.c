// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A load balancer configuration in memory (see lb_ctl.h): parsing and printing its
 * addresses, editing it, reading and writing config files, and comparing two of them
 * as `lb apply --dry-run` does. No BPF here: lb_ctl.c puts a configuration into maps. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lb_ctl.h"
#include "maglev.h"
#include "pkt.h"
#include "addr.h"
#include "util.h"

const char *lb_mode_str(__u32 mode)
{
	return mode == LB_MODE_NAT ? "nat" : mode == LB_MODE_DSR ? "dsr" : "?";
}

/* Addresses that are valid IPv4 but can never be a service's or a backend's. */
static const char *refusal4(__be32 a)
{
	__u32 h = ntohl(a);

	if (h == 0)
		return "0.0.0.0 means 'any address', not one a client can send to";
	if (h == 0xffffffffu)
		return "255.255.255.255 is the broadcast address: it reaches every host, not one service";
	if (h >> 24 == 127)
		return "it is a loopback address (127.0.0.0/8): packets to it never arrive on an interface";
	if (h >> 28 == 0xe)
		return "it is a multicast address (224.0.0.0/4): a flow to it has no single destination";
	return NULL;
}

/* The same for IPv6 (RFC 4291 section 2.4's special prefixes). */
static const char *refusal6(const __u8 a[16])
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 zero[16];

	if (!memcmp(a, zero, 16))
		return ":: means 'any address', not one a client can send to";
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "::1 is the loopback address: packets to it never arrive on an interface";
	if (a[0] == 0xff)
		return "it is a multicast address (ff00::/8): a flow to it has no single destination";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "it is link-local (fe80::/10): it needs a zone and is reachable on one link only";
	if (!memcmp(a, mapped, 12))
		return "it is an IPv4-mapped address (::ffff:0:0/96), which never appears in a packet: "
		       "write the IPv4 address a.b.c.d";
	if (!memcmp(a, zero, 12))
		return "it is an IPv4-compatible address (::a.b.c.d, deprecated by RFC 4291): write the "
		       "IPv4 address a.b.c.d";
	return NULL;
}

const char *lb_ip_refusal(const struct lb_ip *a)
{
	return a->family == LB_FAM6 ? refusal6(a->a.b) : refusal4(a->a.v4);
}

void lb_vip_key_set(struct lb_vip_key *k, const struct lb_ip *ip, __be16 port, __u8 proto)
{
	memset(k, 0, sizeof(*k));
	k->addr = ip->a;
	k->family = ip->family;
	k->port = port;
	k->proto = proto;
}

void lb_vip_key_ip(const struct lb_vip_key *k, struct lb_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->a = k->addr;
	ip->family = k->family;
}

bool lb_ip_eq(const struct lb_ip *a, const struct lb_ip *b)
{
	return a->family == b->family &&
	       (a->family == LB_FAM6 ? !memcmp(a->a.b, b->a.b, 16) : a->a.v4 == b->a.v4);
}

void lb_ip4(struct lb_ip *ip, __be32 a)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = LB_FAM4;
	ip->a.v4 = a;
}

/* Reads one address of either family; why says what is wrong with it. */
static int parse_ip(const char *s, struct lb_ip *ip, char *why, size_t wl)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *r;

	memset(ip, 0, sizeof(*ip));
	if (strchr(s, '%')) {
		snprintf(why, wl, "'%s': zone ids (%%IFACE) are not accepted: a VIP or backend needs an "
			 "address that means the same on every link", s);
		return -EINVAL;
	}
	if (strchr(s, ':')) {
		if (parse_ipv6(s, &a6)) {
			snprintf(why, wl, "'%s' is not an IPv6 address", s);
			return -EINVAL;
		}
		ip->family = LB_FAM6;
		memcpy(ip->a.b, &a6, 16);
	} else {
		if (parse_ipv4(s, &a4)) {
			snprintf(why, wl, "'%s' is not an IPv4 address a.b.c.d (no leading zeros) nor an "
				 "IPv6 one", s);
			return -EINVAL;
		}
		lb_ip4(ip, a4.s_addr);
	}
	if ((r = lb_ip_refusal(ip))) {
		snprintf(why, wl, "%s refused: %s", s, r);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int lb_parse_ip(const char *s, struct lb_ip *ip, char *why, size_t wl)
{
	char buf[LB_ADDR_STRLEN];

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, wl, "address too long");
		return -EINVAL;
	}
	return parse_ip(s, ip, why, wl);
}

/* "A.B.C.D[:PORT]", "[V6]:PORT", "[V6]" or a bare "V6" (a bare IPv6 address takes no
 * port: 2001:db8::1:80 is an address). need_port: the port is not optional. */
static int parse_ip_port(const char *s, struct lb_ip *ip, __be16 *port, bool need_port,
			 char *why, size_t wl)
{
	char buf[LB_ADDR_STRLEN + 8], *a = buf, *p = NULL;
	uint16_t pv = 0;
	int err;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, wl, "'%s' is too long for an address", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	if (buf[0] == '[') {
		char *e = strchr(buf, ']');

		if (!e || (e[1] && e[1] != ':')) {
			snprintf(why, wl, "'%s': expected [IPV6]:PORT", s);
			return -EINVAL;
		}
		*e = 0;
		a = buf + 1;
		if (!strchr(a, ':')) {
			snprintf(why, wl, "'%s': brackets are for IPv6 addresses only", s);
			return -EINVAL;
		}
		if (e[1])
			p = e + 2;
	} else {
		char *c = strchr(buf, ':');

		if (c && strchr(c + 1, ':')) {
			if (need_port) {
				snprintf(why, wl, "'%s': an IPv6 address with a port is written "
					 "[ADDR]:PORT", s);
				return -EINVAL;
			}
		} else if (c) {
			*c = 0;
			p = c + 1;
		}
	}
	if (p && parse_port(p, &pv)) {
		snprintf(why, wl, "'%s': port '%s' is not 1-65535", s, p);
		return -EINVAL;
	}
	if (need_port && !p) {
		snprintf(why, wl, "'%s' has no port", s);
		return -EINVAL;
	}
	if ((err = parse_ip(a, ip, why, wl)))
		return err;
	*port = htons(pv);
	return 0;
}

int lb_parse_ip_port(const char *s, struct lb_ip *ip, __be16 *port, char *why, size_t wl)
{
	return parse_ip_port(s, ip, port, false, why, wl);
}

int lb_parse_vip_why(const char *s, struct lb_vip_key *k, char *why, size_t wl)
{
	char buf[LB_ADDR_STRLEN + 16], *slash;
	struct lb_ip ip;
	__be16 port;
	__u8 proto;
	int err;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, wl, "'%s' is too long for a VIP", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	if (!slash) {
		snprintf(why, wl, "'%s' has no /tcp or /udp", s);
		return -EINVAL;
	}
	*slash = 0;
	if (!strcmp(slash + 1, "tcp")) {
		proto = IPPROTO_TCP;
	} else if (!strcmp(slash + 1, "udp")) {
		proto = IPPROTO_UDP;
	} else {
		snprintf(why, wl, "'%s': protocol '%s' is not tcp or udp", s, slash + 1);
		return -EINVAL;
	}
	if ((err = parse_ip_port(buf, &ip, &port, true, why, wl)))
		return err;
	lb_vip_key_set(k, &ip, port, proto);
	return 0;
}

int lb_parse_vip(const char *s, struct lb_vip_key *k)
{
	char why[256];

	return lb_parse_vip_why(s, k, why, sizeof(why));
}

int lb_parse_addr_port(const char *s, struct lb_ip *ip, __be16 *port)
{
	char why[256];

	return parse_ip_port(s, ip, port, false, why, sizeof(why));
}

const char *lb_addr_refusal(const char *s)
{
	static __thread char why[256];
	struct lb_ip ip;
	__be16 port;
	char buf[LB_ADDR_STRLEN + 16];

	snprintf(buf, sizeof(buf), "%s", s);
	if (strrchr(buf, '/'))
		*strrchr(buf, '/') = 0;
	if (parse_ip_port(buf, &ip, &port, false, why, sizeof(why)) != -EADDRNOTAVAIL)
		return NULL;
	/* parse_ip's "X refused: why": the why */
	return strstr(why, "refused: ") ? strstr(why, "refused: ") + 9 : why;
}

int lb_parse_mac(const char *s, __u8 mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		mac[i] = v[i];
	}
	if (mac[0] & 1)
		return -EINVAL; /* multicast/broadcast */
	return 0;
}

void lb_fmt_ip(const struct lb_ip *ip, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ip->family == LB_FAM6)
		inet_ntop(AF_INET6, ip->a.b, a, sizeof(a));
	else if (ip->family == LB_FAM4)
		inet_ntop(AF_INET, &ip->a.v4, a, sizeof(a));
	snprintf(buf, len, "%s", a);
}

void lb_fmt_ip_port(const struct lb_ip *ip, __be16 port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	lb_fmt_ip(ip, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, ip->family == LB_FAM6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
}

void lb_fmt_addr_port(const struct lb_ip *ip, __be16 port, char *buf, size_t len)
{
	lb_fmt_ip_port(ip, port, buf, len);
}

void lb_fmt_vip(const struct lb_vip_key *k, char *buf, size_t len)
{
	char a[LB_ADDR_STRLEN + 8];
	struct lb_ip ip;

	lb_vip_key_ip(k, &ip);
	lb_fmt_ip_port(&ip, k->port, a, sizeof(a));
	snprintf(buf, len, "%s/%s", a, k->proto == IPPROTO_TCP ? "tcp" : "udp");
}

void lb_fmt_mac(const __u8 m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int lb_cfg_find_vip(const struct lb_cfg *s, const struct lb_vip_key *k)
{
	for (int i = 0; i < s->nvips; i++)
		if (lb_vip_eq(&s->vips[i].key, k))
			return i;
	return -1;
}

__u32 lb_cfg_vip_encap(const struct lb_cfg *s, const struct lb_vip_key *k)
{
	int i = lb_cfg_find_vip(s, k);

	return i < 0 ? LB_ENCAP_NONE : s->vips[i].encap;
}

int lb_encap_parse(const char *s)
{
	return !strcmp(s, "ipip") ? LB_ENCAP_IPIP : !strcmp(s, "gue") ? LB_ENCAP_GUE :
	       !strcmp(s, "none") ? LB_ENCAP_NONE : -1;
}

const char *lb_encap_str(__u32 encap)
{
	return encap == LB_ENCAP_IPIP ? "ipip" : encap == LB_ENCAP_GUE ? "gue" : "none";
}

int lb_cfg_vip_add(struct lb_cfg *s, const struct lb_vip_key *k)
{
	if (lb_cfg_find_vip(s, k) >= 0)
		return -EEXIST;
	if (s->nvips >= LB_MAX_VIPS)
		return -ENOSPC;
	memset(&s->vips[s->nvips], 0, sizeof(s->vips[0]));
	s->vips[s->nvips++].key = *k;
	return 0;
}

int lb_cfg_vip_del(struct lb_cfg *s, const struct lb_vip_key *k)
{
	int i = lb_cfg_find_vip(s, k), o = 0;

	if (i < 0)
		return -ENOENT;
	s->vips[i] = s->vips[--s->nvips];
	/* Its backends go with it. */
	for (int b = 0; b < s->nbackends; b++)
		if (!lb_vip_eq(&s->backends[b].vip, k))
			s->backends[o++] = s->backends[b];
	s->nbackends = o;
	return 0;
}

struct lb_cfg_backend *lb_cfg_backend_find(struct lb_cfg *s, const struct lb_vip_key *vip,
					     const struct lb_ip *addr, __be16 port)
{
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		if (lb_vip_eq(&b->vip, vip) && lb_ip_eq(&b->addr, addr) &&
		    lb_be_port(b) == (port ? port : vip->port))
			return b;
	}
	return NULL;
}

const char *lb_family_refusal(const struct lb_vip_key *vip, __u32 encap, const struct lb_ip *be)
{
	struct lb_ip v;

	lb_vip_key_ip(vip, &v);
	if (encap != LB_ENCAP_NONE || v.family == be->family)
		return NULL;
	return v.family == LB_FAM6 ?
	       "an IPv4 backend for an IPv6 VIP needs 'encap ipip|gue': nat and dsr do not "
	       "change the packet's family" :
	       "an IPv6 backend for an IPv4 VIP needs 'encap ipip|gue': nat and dsr do not "
	       "change the packet's family";
}

int lb_cfg_backend_add(struct lb_cfg *s, const struct lb_cfg_backend *b)
{
	int vi = lb_cfg_find_vip(s, &b->vip);

	if (vi < 0)
		return -ENOENT;
	if (lb_family_refusal(&b->vip, s->vips[vi].encap, &b->addr) || lb_ip_refusal(&b->addr))
		return -EAFNOSUPPORT;
	if (lb_cfg_backend_find(s, &b->vip, &b->addr, b->port))
		return -EEXIST;
	if (s->nbackends >= LB_MAX_BACKENDS - 1)
		return -ENOSPC;
	s->backends[s->nbackends] = *b;
	s->backends[s->nbackends].id = 0;
	s->nbackends++;
	return 0;
}

int lb_cfg_backend_del(struct lb_cfg *s, const struct lb_vip_key *vip,
		       const struct lb_ip *addr, __be16 port)
{
	struct lb_cfg_backend *b = lb_cfg_backend_find(s, vip, addr, port);

	if (!b)
		return -ENOENT;
	*b = s->backends[--s->nbackends];
	return 0;
}

static char *next_tok(char **p)
{
	char *t;

	while (**p && isspace((unsigned char)**p))
		(*p)++;
	if (!**p)
		return NULL;
	t = *p;
	while (**p && !isspace((unsigned char)**p))
		(*p)++;
	if (**p)
		*(*p)++ = 0;
	return t;
}

int lb_cfg_parse_file(const char *path, struct lb_cfg *s)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	char line[512];
	int ln = 0, err = 0;
	struct stat st;

	if (!f) {
		err = -errno;
		pr_warn("cannot read config '%s': %s\n", path, strerr(err));
		return err;
	}
	/* fopen() opens a directory for reading; its read fails later and would look empty. */
	if (fstat(fileno(f), &st) || S_ISDIR(st.st_mode)) {
		pr_warn("cannot read config '%s': %s\n", path, S_ISDIR(st.st_mode) ?
			"it is a directory, not a config file" : strerror(errno));
		if (!is_stdin)
			fclose(f);
		return -EISDIR;
	}
	memset(s, 0, sizeof(*s));
	while (!err && fgets(line, sizeof(line), f)) {
		char *p = line, *kw, *t;
		ln++;
		if (strchr(line, '#'))
			*strchr(line, '#') = 0;
		kw = next_tok(&p);
		if (!kw)
			continue;
		if (!strcmp(kw, "vip")) {
			struct lb_vip_key k;
			char why[256];
			t = next_tok(&p);
			if (!t) {
				pr_warn("%s:%d: expected 'vip A.B.C.D:PORT/tcp|udp' or "
					"'vip [IPV6]:PORT/tcp|udp'\n", path, ln);
				err = -EINVAL;
			} else if ((err = lb_parse_vip_why(t, &k, why, sizeof(why)))) {
				if (err == -EADDRNOTAVAIL)
					pr_warn("%s:%d: VIP %s\n", path, ln, why);
				else
					pr_warn("%s:%d: bad VIP: %s (expected A.B.C.D:PORT/tcp|udp or "
						"[IPV6]:PORT/tcp|udp)\n", path, ln, why);
				err = -EINVAL;
			} else if ((err = lb_cfg_vip_add(s, &k))) {
				pr_warn("%s:%d: VIP %s: %s\n", path, ln, t,
					err == -EEXIST ? "listed twice" : "too many VIPs");
				err = -EINVAL;
			}
			while (!err && (t = next_tok(&p))) {
				char *v = next_tok(&p);
				int e = v && !strcmp(t, "encap") ? lb_encap_parse(v) : -1;

				if (e < 0) {
					pr_warn("%s:%d: bad VIP option '%s%s%s' (encap ipip|gue|none)\n",
						path, ln, t, v ? " " : "", v ? v : "");
					err = -EINVAL;
				} else {
					s->vips[s->nvips - 1].encap = e;
				}
			}
		} else if (!strcmp(kw, "backend")) {
			struct lb_cfg_backend b = { .weight = 1 };
			char *vt = next_tok(&p), *at = next_tok(&p), why[256];
			const char *fam;
			int vi;

			if (!vt || !at) {
				pr_warn("%s:%d: expected 'backend VIP ADDR[:PORT] [weight W] [mac M]' "
					"(ADDR A.B.C.D, IPV6 or [IPV6]:PORT)\n", path, ln);
				err = -EINVAL;
				break;
			}
			if (lb_parse_vip_why(vt, &b.vip, why, sizeof(why)) ||
			    lb_parse_ip_port(at, &b.addr, &b.port, why, sizeof(why))) {
				pr_warn("%s:%d: backend: %s\n", path, ln, why);
				err = -EINVAL;
				break;
			}
			vi = lb_cfg_find_vip(s, &b.vip);
			if (vi >= 0 && (fam = lb_family_refusal(&b.vip, s->vips[vi].encap, &b.addr))) {
				pr_warn("%s:%d: backend %s of VIP %s: %s\n", path, ln, at, vt, fam);
				err = -EINVAL;
				break;
			}
			while (!err && (t = next_tok(&p))) {
				char *v = next_tok(&p);
				uint64_t w;
				if (!strcmp(t, "weight") && v && !parse_u64(v, 0, 65535, &w)) {
					b.weight = w;
				} else if (!strcmp(t, "mac") && v && !lb_parse_mac(v, b.mac)) {
					b.has_mac = true;
				} else {
					pr_warn("%s:%d: bad option '%s%s%s' (weight 0-65535, mac XX:XX:XX:XX:XX:XX)\n",
						path, ln, t, v ? " " : "", v ? v : "");
					err = -EINVAL;
				}
			}
			if (!err && (err = lb_cfg_backend_add(s, &b))) {
				pr_warn("%s:%d: backend %s: %s\n", path, ln, at,
					err == -ENOENT ? "its VIP is not declared above" :
					err == -EAFNOSUPPORT ? "not an address a backend can have" :
					err == -EEXIST ? "listed twice" : "too many backends");
				err = -EINVAL;
			}
		} else if (!strcmp(kw, "check")) {
			/* check VIP tcp|http PATH [status N]|udp PAYLOAD expect BYTES [interval S]... */
			char *w[24], why[200];
			struct lb_vip_key k;
			int nw = 0, vi;

			t = next_tok(&p);
			while (nw < 24 && (w[nw] = next_tok(&p)))
				nw++;
			if (!t || lb_parse_vip(t, &k)) {
				pr_warn("%s:%d: expected 'check VIP tcp|http PATH|udp PAYLOAD expect BYTES "
					"[interval S] [timeout S] [fall N] [rise N] [need N]'\n", path, ln);
				err = -EINVAL;
			} else if ((vi = lb_cfg_find_vip(s, &k)) < 0) {
				pr_warn("%s:%d: check of %s: its VIP is not declared above\n", path, ln, t);
				err = -EINVAL;
			} else if (s->vips[vi].check.type != LB_CHECK_NONE) {
				pr_warn("%s:%d: VIP %s has a check already (one per VIP)\n", path, ln, t);
				err = -EINVAL;
			} else if (nw == 24 || lb_check_parse(w, nw, &s->vips[vi].check, why, sizeof(why))) {
				pr_warn("%s:%d: check of %s: %s\n", path, ln, t,
					nw == 24 ? "too many words" : why);
				err = -EINVAL;
			}
		} else {
			pr_warn("%s:%d: unknown keyword '%s' (vip, backend, check)\n", path, ln, kw);
			err = -EINVAL;
		}
	}
	if (!err && ferror(f)) {
		err = -EIO;
		pr_warn("reading config '%s' failed after line %d; nothing was changed\n", path, ln);
	}
	if (!is_stdin)
		fclose(f);
	return err;
}

int lb_cfg_edit(struct lb_cfg *c, const struct lb_edit *e)
{
	struct lb_cfg_backend *cur;

	switch (e->op) {
	case LB_VIP_ADD: {
		int err = lb_cfg_vip_add(c, &e->vip);

		if (!err)
			c->vips[c->nvips - 1].encap = e->vip_encap;
		return err;
	}
	case LB_VIP_DEL:
		return lb_cfg_vip_del(c, &e->vip);
	default:
		break;
	}
	if (lb_cfg_find_vip(c, &e->vip) < 0)
		return -ENXIO;
	cur = lb_cfg_backend_find(c, &e->vip, &e->backend.addr, e->backend.port);
	switch (e->op) {
	case LB_BACKEND_ADD: {
		struct lb_cfg_backend b = e->backend;

		if (cur)
			return -EEXIST;
		b.vip = e->vip;
		return lb_cfg_backend_add(c, &b);
	}
	case LB_BACKEND_DEL:
		return cur ? lb_cfg_backend_del(c, &e->vip, &e->backend.addr, e->backend.port)
			   : -ENOENT;
	case LB_BACKEND_SET:
		if (!cur)
			return -ENOENT;
		if (e->set_weight)
			cur->weight = e->backend.weight;
		if (e->set_mac) {
			memcpy(cur->mac, e->backend.mac, 6);
			cur->has_mac = true;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

bool lb_cfg_vip_has_backend(const struct lb_cfg *c, const struct lb_vip_key *k)
{
	for (int i = 0; i < c->nbackends; i++)
		if (lb_vip_eq(&c->backends[i].vip, k) && c->backends[i].weight > 0)
			return true;
	return false;
}

void lb_cfg_write_file(const struct lb_cfg *c, FILE *f)
{
	char v[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN], m[24];

	fprintf(f, "# bpflab lb configuration: %d VIPs, %d backends\n", c->nvips, c->nbackends);
	for (int i = 0; i < c->nvips; i++) {
		lb_fmt_vip(&c->vips[i].key, v, sizeof(v));
		if (c->vips[i].encap)
			fprintf(f, "vip %s encap %s\n", v, lb_encap_str(c->vips[i].encap));
		else
			fprintf(f, "vip %s\n", v);
		for (int j = 0; j < c->nbackends; j++) {
			const struct lb_cfg_backend *b = &c->backends[j];

			if (!lb_vip_eq(&b->vip, &c->vips[i].key))
				continue;
			lb_fmt_ip_port(&b->addr, lb_be_port(b), a, sizeof(a));
			fprintf(f, "backend %s %s weight %u", v, a, b->weight);
			if (b->has_mac) {
				lb_fmt_mac(b->mac, m, sizeof(m));
				fprintf(f, " mac %s", m);
			}
			fprintf(f, "\n");
		}
		if (c->vips[i].check.type != LB_CHECK_NONE) {
			char ck[400];

			lb_check_format(&c->vips[i].check, ck, sizeof(ck));
			fprintf(f, "check %s %s\n", v, ck);
		}
	}
}

__u64 lb_maglev_key(const struct lb_cfg_backend *b)
{
	__u64 h = 0;

	if (b->addr.family != LB_FAM6)
		return (__u64)ntohl(b->addr.a.v4) << 16 | ntohs(lb_be_port(b));
	/* IPv4 keys stay below 2^48; IPv6 ones have bit 63 set and 47 bits of the address's
	 * hash (a collision is refused by maglev_build: odds ~1e-7 at 4096 backends). */
	for (int i = 0; i < 4; i++) {
		h = (h ^ b->addr.a.w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return 1ull << 63 | (h & ((1ull << 47) - 1)) << 16 | ntohs(lb_be_port(b));
}

/* A VIP's Maglev table from c, in slot -> backend index + 1 (0: none): placement
 * depends on backend address, port and weight only, not on ids. */
static int table_of(const struct lb_cfg *c, const struct lb_vip_key *k, __u32 *table, __u32 m,
		    const struct lb_cfg_backend **idx)
{
	struct maglev_backend *mb = calloc(c->nbackends + 1, sizeof(*mb));
	__u32 n = 0;
	int err;

	if (!mb)
		return -ENOMEM;
	for (int i = 0; i < c->nbackends; i++) {
		const struct lb_cfg_backend *b = &c->backends[i];

		if (!lb_vip_eq(&b->vip, k))
			continue;
		mb[n].key = lb_maglev_key(b);
		mb[n].id = n + 1;
		mb[n].weight = b->weight;
		idx[n] = b;
		n++;
	}
	err = maglev_build(mb, n, table, m);
	free(mb);
	return err;
}

static bool same_backend(const struct lb_cfg_backend *a, const struct lb_cfg_backend *b)
{
	return a && b && lb_ip_eq(&a->addr, &b->addr) && lb_be_port(a) == lb_be_port(b);
}

int lb_cfg_diff(const struct lb_cfg *from, const struct lb_cfg *to, __u32 table_size,
		struct lb_diff *d, lb_change_fn fn, void *ctx)
{
	const struct lb_cfg_backend **io = calloc(LB_MAX_BACKENDS, sizeof(*io));
	const struct lb_cfg_backend **in = calloc(LB_MAX_BACKENDS, sizeof(*in));
	__u32 *to_t = calloc(table_size, sizeof(*to_t));
	__u32 *from_t = calloc(table_size, sizeof(*from_t));
	__u64 moved = 0, slots = 0;
	int err = 0;

	memset(d, 0, sizeof(*d));
	if (!io || !in || !to_t || !from_t) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < from->nvips; i++) {
		if (lb_cfg_find_vip(to, &from->vips[i].key) < 0) {
			d->vips_removed++;
			if (fn)
				fn(ctx, LB_CH_VIP_DEL, &from->vips[i].key, NULL, NULL, 0);
		}
	}
	for (int i = 0; i < to->nvips; i++) {
		int o = lb_cfg_find_vip(from, &to->vips[i].key);

		if (o >= 0 && from->vips[o].encap != to->vips[i].encap) {
			d->vips_reencap++;
			if (fn)
				fn(ctx, LB_CH_VIP_ENCAP, &to->vips[i].key, NULL, NULL, 0);
		}
		if (o >= 0 && !lb_check_eq(&from->vips[o].check, &to->vips[i].check)) {
			d->vips_rechecked++;
			if (fn)
				fn(ctx, LB_CH_VIP_CHECK, &to->vips[i].key, NULL, NULL, 0);
		}
	}
	for (int i = 0; i < to->nvips; i++) {
		if (lb_cfg_find_vip(from, &to->vips[i].key) < 0) {
			d->vips_added++;
			if (fn)
				fn(ctx, LB_CH_VIP_ADD, &to->vips[i].key, NULL, NULL, 0);
		}
	}
	for (int i = 0; i < from->nbackends; i++) {
		const struct lb_cfg_backend *o = &from->backends[i];
		const struct lb_cfg_backend *n =
			lb_cfg_backend_find((struct lb_cfg *)to, &o->vip, &o->addr, o->port);

		if (!n) {
			d->backends_removed++;
			if (fn)
				fn(ctx, LB_CH_BACKEND_DEL, &o->vip, o, NULL, 0);
			continue;
		}
		if (n->weight != o->weight) {
			d->backends_reweighted++;
			if (fn)
				fn(ctx, LB_CH_BACKEND_WEIGHT, &o->vip, o, n, 0);
		}
		if (n->has_mac && memcmp(n->mac, o->mac, 6)) {
			d->backends_remac++;
			if (fn)
				fn(ctx, LB_CH_BACKEND_MAC, &o->vip, o, n, 0);
		}
	}
	for (int i = 0; i < to->nbackends; i++) {
		const struct lb_cfg_backend *n = &to->backends[i];

		if (!lb_cfg_backend_find((struct lb_cfg *)from, &n->vip, &n->addr, n->port)) {
			d->backends_added++;
			if (fn)
				fn(ctx, LB_CH_BACKEND_ADD, &n->vip, NULL, n, 0);
		}
	}
	/* Flows of kept VIPs whose slot now names another backend (or none, or one now). */
	for (int i = 0; i < to->nvips; i++) {
		const struct lb_vip_key *k = &to->vips[i].key;
		__u64 vm = 0;

		if (lb_cfg_find_vip(from, k) < 0)
			continue;
		if ((err = table_of(from, k, from_t, table_size, io)) ||
		    (err = table_of(to, k, to_t, table_size, in)))
			goto out;
		for (__u32 s = 0; s < table_size; s++) {
			const struct lb_cfg_backend *a = from_t[s] ? io[from_t[s] - 1] : NULL;
			const struct lb_cfg_backend *b = to_t[s] ? in[to_t[s] - 1] : NULL;

			vm += (a || b) && !same_backend(a, b);
		}
		moved += vm;
		slots += table_size;
		if (vm && fn)
			fn(ctx, LB_CH_VIP_MOVED, k, NULL, NULL, (double)vm / table_size);
	}
	d->moved_share = slots ? (double)moved / slots : 0;
out:
	free(io);
	free(in);
	free(to_t);
	free(from_t);
	return err;
}
