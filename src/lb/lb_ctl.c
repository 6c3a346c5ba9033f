// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The load balancer's control plane on its maps (see lb_ctl.h). The maps are the only
 * state: any process reads the configuration back from them, edits it in memory and
 * applies it; callers serialise that with a flock on the pin folder. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_ctl.h"
#include "lb.skel.h"
#include "maglev.h"
#include "pkt.h"
#include "util.h"
#include "bpfutil.h"

const char *const lb_map_names[LB_NMAPS] = {
	"config", "vips", "vip_addrs", "backends", "rings", "conntrack", "reverse",
	"vip_stats", "backend_stats", "counters",
};

static const char *const counter_names[LBC__MAX] = {
	[LBC_PASS_NOT_IPV4] = "pass_not_ipv4",
	[LBC_PASS_NOT_VIP] = "pass_not_vip",
	[LBC_DROP_MALFORMED] = "drop_malformed",
	[LBC_DROP_FRAGMENT] = "drop_fragment",
	[LBC_DROP_IP_OPTIONS] = "drop_ip_options",
	[LBC_DROP_NO_BACKEND] = "drop_no_backend",
	[LBC_DROP_NAT_PORT] = "drop_nat_port",
	[LBC_CT_MISS] = "conntrack_miss",
	[LBC_CT_STALE] = "conntrack_stale",
	[LBC_NAT_PORT_REMAP] = "nat_port_remap",
	[LBC_REPLY] = "nat_reply",
	[LBC_ICMP_TO_BACKEND] = "icmp_to_backend",
	[LBC_PASS_OTHER_L4] = "pass_vip_other",
};

const char *lb_counter_name(int i)
{
	return i >= 0 && i < LBC__MAX ? counter_names[i] : "?";
}

const char *lb_mode_str(__u32 mode)
{
	return mode == LB_MODE_NAT ? "nat" : mode == LB_MODE_DSR ? "dsr" : "?";
}

int lb_parse_addr_port(const char *s, __be32 *addr, __be16 *port)
{
	char buf[64], *colon;
	struct in_addr a;
	uint16_t p = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = 0;
		if (parse_port(colon + 1, &p))
			return -EINVAL;
	}
	if (parse_ipv4(buf, &a))
		return -EINVAL;
	if (a.s_addr == 0 || a.s_addr == 0xffffffffu || (ntohl(a.s_addr) >> 28) == 0xe)
		return -EINVAL; /* 0.0.0.0, broadcast, multicast: never a service address */
	*addr = a.s_addr;
	*port = htons(p);
	return 0;
}

int lb_parse_vip(const char *s, struct lb_vip_key *k)
{
	char buf[64], *slash;
	__be32 addr;
	__be16 port;
	__u8 proto;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	if (!strcmp(slash + 1, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(slash + 1, "udp"))
		proto = IPPROTO_UDP;
	else
		return -EINVAL;
	if (lb_parse_addr_port(buf, &addr, &port) || !port)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->addr = addr;
	k->port = port;
	k->proto = proto;
	return 0;
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

void lb_fmt_addr_port(__be32 addr, __be16 port, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	if (port)
		snprintf(buf, len, "%s:%u", a, ntohs(port));
	else
		snprintf(buf, len, "%s", a);
}

void lb_fmt_vip(const struct lb_vip_key *k, char *buf, size_t len)
{
	char a[32];

	lb_fmt_addr_port(k->addr, k->port, a, sizeof(a));
	snprintf(buf, len, "%s/%s", a, k->proto == IPPROTO_TCP ? "tcp" : "udp");
}

void lb_fmt_mac(const __u8 m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool vip_eq(const struct lb_vip_key *a, const struct lb_vip_key *b)
{
	return a->addr == b->addr && a->port == b->port && a->proto == b->proto;
}

int lb_state_find_vip(const struct lb_state *s, const struct lb_vip_key *k)
{
	for (int i = 0; i < s->nvips; i++)
		if (vip_eq(&s->vips[i].key, k))
			return i;
	return -1;
}

int lb_state_vip_add(struct lb_state *s, const struct lb_vip_key *k)
{
	if (lb_state_find_vip(s, k) >= 0)
		return -EEXIST;
	if (s->nvips >= LB_MAX_VIPS)
		return -ENOSPC;
	memset(&s->vips[s->nvips], 0, sizeof(s->vips[0]));
	s->vips[s->nvips++].key = *k;
	return 0;
}

int lb_state_vip_del(struct lb_state *s, const struct lb_vip_key *k)
{
	int i = lb_state_find_vip(s, k), o = 0;

	if (i < 0)
		return -ENOENT;
	s->vips[i] = s->vips[--s->nvips];
	/* Its backends go with it. */
	for (int b = 0; b < s->nbackends; b++)
		if (!vip_eq(&s->backends[b].vip, k))
			s->backends[o++] = s->backends[b];
	s->nbackends = o;
	return 0;
}

static __be16 be_port(const struct lb_cfg_backend *b)
{
	return b->port ? b->port : b->vip.port;
}

struct lb_cfg_backend *lb_state_backend_find(struct lb_state *s, const struct lb_vip_key *vip,
					     __be32 addr, __be16 port)
{
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		if (vip_eq(&b->vip, vip) && b->addr == addr &&
		    be_port(b) == (port ? port : vip->port))
			return b;
	}
	return NULL;
}

int lb_state_backend_add(struct lb_state *s, const struct lb_cfg_backend *b)
{
	if (lb_state_find_vip(s, &b->vip) < 0)
		return -ENOENT;
	if (lb_state_backend_find(s, &b->vip, b->addr, b->port))
		return -EEXIST;
	if (s->nbackends >= LB_MAX_BACKENDS - 1)
		return -ENOSPC;
	s->backends[s->nbackends] = *b;
	s->backends[s->nbackends].id = 0;
	s->nbackends++;
	return 0;
}

int lb_state_backend_del(struct lb_state *s, const struct lb_vip_key *vip, __be32 addr,
			 __be16 port)
{
	struct lb_cfg_backend *b = lb_state_backend_find(s, vip, addr, port);

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

int lb_state_parse_file(const char *path, struct lb_state *s)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int ln = 0, err = 0;

	if (!f) {
		pr_warn("cannot read config '%s': %s\n", path, strerror(errno));
		return -errno;
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
			t = next_tok(&p);
			if (!t || lb_parse_vip(t, &k)) {
				pr_warn("%s:%d: expected 'vip A.B.C.D:PORT/tcp|udp'\n", path, ln);
				err = -EINVAL;
			} else if ((err = lb_state_vip_add(s, &k))) {
				pr_warn("%s:%d: VIP %s: %s\n", path, ln, t,
					err == -EEXIST ? "listed twice" : "too many VIPs");
				err = -EINVAL;
			}
		} else if (!strcmp(kw, "backend")) {
			struct lb_cfg_backend b = { .weight = 1 };
			char *vt = next_tok(&p), *at = next_tok(&p);
			if (!vt || !at || lb_parse_vip(vt, &b.vip) ||
			    lb_parse_addr_port(at, &b.addr, &b.port)) {
				pr_warn("%s:%d: expected 'backend VIP A.B.C.D[:PORT] [weight W] [mac M]'\n",
					path, ln);
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
			if (!err && (err = lb_state_backend_add(s, &b))) {
				pr_warn("%s:%d: backend %s: %s\n", path, ln, at,
					err == -ENOENT ? "its VIP is not declared above" :
					err == -EEXIST ? "listed twice" : "too many backends");
				err = -EINVAL;
			}
		} else {
			pr_warn("%s:%d: unknown keyword '%s' (vip, backend)\n", path, ln, kw);
			err = -EINVAL;
		}
	}
	fclose(f);
	return err;
}

int lb_fds_from_skel(struct lb_bpf *skel, struct lb_fds *f)
{
	struct bpf_map *maps[LB_NMAPS] = {
		skel->maps.config, skel->maps.vips, skel->maps.vip_addrs, skel->maps.backends,
		skel->maps.rings, skel->maps.conntrack, skel->maps.reverse, skel->maps.vip_stats,
		skel->maps.backend_stats, skel->maps.counters,
	};
	for (int i = 0; i < LB_NMAPS; i++)
		*lb_fd_at(f, i) = bpf_map__fd(maps[i]);
	return 0;
}

void lb_fds_close(struct lb_fds *f)
{
	for (int i = 0; i < LB_NMAPS; i++) {
		if (*lb_fd_at(f, i) >= 0)
			close(*lb_fd_at(f, i));
		*lb_fd_at(f, i) = -1;
	}
}

int lb_config_read(const struct lb_fds *f, struct lb_config *c)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(f->config, &k, c) ? -errno : 0;
}

int lb_config_write(const struct lb_fds *f, const struct lb_config *c)
{
	__u32 k = 0;
	return bpf_map_update_elem(f->config, &k, c, BPF_ANY) ? -errno : 0;
}

int lb_state_read(const struct lb_fds *f, struct lb_state *s)
{
	struct lb_vip_key k, next, *prev = NULL;
	struct lb_vip v;

	memset(s, 0, sizeof(*s));
	while (!bpf_map_get_next_key(f->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(f->vips, &k, &v))
			continue;
		if (s->nvips >= LB_MAX_VIPS)
			break;
		s->vips[s->nvips].key = k;
		s->vips[s->nvips].id = v.id;
		s->nvips++;
	}
	for (__u32 id = 1; id < LB_MAX_BACKENDS; id++) {
		struct lb_backend be;
		struct lb_cfg_backend *b;
		int vi = -1;

		if (bpf_map_lookup_elem(f->backends, &id, &be))
			return -errno;
		if (!(be.flags & LB_BE_USED))
			continue;
		for (int i = 0; i < s->nvips; i++)
			if (s->vips[i].id == be.vip_id)
				vi = i;
		if (vi < 0)
			continue; /* orphan of an interrupted change: dropped on the next apply */
		b = &s->backends[s->nbackends++];
		memset(b, 0, sizeof(*b));
		b->vip = s->vips[vi].key;
		b->addr = be.addr;
		b->port = be.port;
		memcpy(b->mac, be.mac, 6);
		b->has_mac = true;
		b->weight = be.weight;
		b->id = id;
	}
	return 0;
}

static int zero_percpu(int fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct lb_stats *z;
	int err;

	if (ncpu <= 0)
		return ncpu;
	z = calloc(ncpu, sizeof(*z));
	if (!z)
		return -ENOMEM;
	err = bpf_map_update_elem(fd, &id, z, BPF_ANY) ? -errno : 0;
	free(z);
	return err;
}

/* Builds the VIP's table from its backends and swaps it in with one update. */
static int ring_swap(const struct lb_fds *f, const struct lb_config *cfg, const struct lb_state *s,
		     const struct lb_cfg_vip *v)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct maglev_backend *mb = calloc(s->nbackends + 1, sizeof(*mb));
	__u32 *table = calloc(cfg->ring_size, sizeof(*table));
	__u32 *keys = calloc(cfg->ring_size, sizeof(*keys));
	__u32 n = 0, count = cfg->ring_size;
	int fd = -1, err;

	if (!mb || !table || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		if (!vip_eq(&b->vip, &v->key))
			continue;
		mb[n].key = (uint64_t)ntohl(b->addr) << 16 | ntohs(be_port(b));
		mb[n].id = b->id;
		mb[n].weight = b->weight;
		n++;
	}
	err = maglev_build(mb, n, table, cfg->ring_size);
	if (err)
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_ring", 4, 4, cfg->ring_size, &mo);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (__u32 i = 0; i < cfg->ring_size; i++)
		keys[i] = i;
	if (bpf_map_update_batch(fd, keys, table, &count, &bo)) {
		err = -errno;
		goto out;
	}
	/* The swap: packets see the whole old table or the whole new one. */
	err = bpf_map_update_elem(f->rings, &v->id, &fd, BPF_ANY) ? -errno : 0;
out:
	if (fd >= 0)
		close(fd);
	free(mb);
	free(table);
	free(keys);
	return err;
}

/* Did this VIP's set of (backend id, weight) change between old and new? */
static bool vip_dirty(const struct lb_state *old, const struct lb_state *s, const struct lb_cfg_vip *v)
{
	int n_old = 0, n_new = 0;

	for (int i = 0; i < s->nbackends; i++) {
		const struct lb_cfg_backend *b = &s->backends[i];
		bool found = false;
		if (!vip_eq(&b->vip, &v->key))
			continue;
		n_new++;
		for (int j = 0; j < old->nbackends && !found; j++)
			found = old->backends[j].id == b->id && old->backends[j].weight == b->weight &&
				vip_eq(&old->backends[j].vip, &v->key);
		if (!found)
			return true;
	}
	for (int j = 0; j < old->nbackends; j++)
		n_old += vip_eq(&old->backends[j].vip, &v->key);
	return n_old != n_new || lb_state_find_vip(old, &v->key) < 0;
}

int lb_state_apply(const struct lb_fds *f, struct lb_config *cfg, struct lb_state *s)
{
	struct lb_state *old = calloc(1, sizeof(*old));
	bool *vip_used = calloc(LB_MAX_VIPS, sizeof(bool));
	bool *be_used = calloc(LB_MAX_BACKENDS, sizeof(bool));
	int err;

	if (!old || !vip_used || !be_used) {
		err = -ENOMEM;
		goto out;
	}
	err = lb_state_read(f, old);
	if (err)
		goto out;
	for (int i = 0; i < s->nbackends; i++) {
		if (!s->backends[i].has_mac) {
			err = -EINVAL;
			goto out;
		}
	}

	/* Ids: what exists keeps its id (and so its flows and counters). */
	for (int i = 0; i < s->nvips; i++) {
		int o = lb_state_find_vip(old, &s->vips[i].key);
		s->vips[i].id = o >= 0 ? old->vips[o].id : LB_MAX_VIPS;
		if (o >= 0)
			vip_used[s->vips[i].id] = true;
	}
	for (int o = 0; o < old->nvips; o++)
		vip_used[old->vips[o].id] = true; /* not reused within one apply */
	for (int i = 0; i < s->nvips; i++) {
		if (s->vips[i].id < LB_MAX_VIPS)
			continue;
		for (__u32 id = 0; id < LB_MAX_VIPS; id++) {
			if (!vip_used[id]) {
				vip_used[id] = true;
				s->vips[i].id = id;
				break;
			}
		}
		if (s->vips[i].id >= LB_MAX_VIPS) {
			err = -ENOSPC;
			goto out;
		}
	}
	for (int i = 0; i < old->nbackends; i++)
		be_used[old->backends[i].id] = true;
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		struct lb_cfg_backend *ob = lb_state_backend_find(old, &b->vip, b->addr, b->port);
		b->id = ob ? ob->id : 0;
	}
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		__u32 tries = 0;
		if (b->id)
			continue;
		/* A cursor, so that a just-freed id (whose flows may linger) is not reused soon. */
		do {
			cfg->next_backend = cfg->next_backend % (LB_MAX_BACKENDS - 1) + 1;
		} while (be_used[cfg->next_backend] && ++tries < LB_MAX_BACKENDS);
		if (be_used[cfg->next_backend]) {
			err = -ENOSPC;
			goto out;
		}
		b->id = cfg->next_backend;
		be_used[b->id] = true;
		zero_percpu(f->backend_stats, b->id);
	}

	/* 1. Backends: new ones appear before any table names them. */
	for (int i = 0; i < s->nbackends; i++) {
		struct lb_cfg_backend *b = &s->backends[i];
		int vi = lb_state_find_vip(s, &b->vip);
		struct lb_backend be = {
			.addr = b->addr, .port = be_port(b), .vip_id = s->vips[vi].id,
			.weight = b->weight, .flags = LB_BE_USED,
		};
		memcpy(be.mac, b->mac, 6);
		if (bpf_map_update_elem(f->backends, &b->id, &be, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* 2. Tables, whole, one swap per VIP that changed. */
	for (int i = 0; i < s->nvips; i++) {
		if (!vip_dirty(old, s, &s->vips[i]))
			continue;
		if (lb_state_find_vip(old, &s->vips[i].key) < 0)
			zero_percpu(f->vip_stats, s->vips[i].id);
		err = ring_swap(f, cfg, s, &s->vips[i]);
		if (err)
			goto out;
	}
	/* 3. VIPs: the address first, then the VIP itself. */
	for (int i = 0; i < s->nvips; i++) {
		struct lb_vip v = { .id = s->vips[i].id };
		__u32 n = 0;
		for (int j = 0; j < s->nvips; j++)
			n += s->vips[j].key.addr == s->vips[i].key.addr;
		if (bpf_map_update_elem(f->vip_addrs, &s->vips[i].key.addr, &n, BPF_ANY) ||
		    bpf_map_update_elem(f->vips, &s->vips[i].key, &v, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* 4. Gone VIPs: the VIP first, then its table and, when unused, its address. */
	for (int o = 0; o < old->nvips; o++) {
		struct lb_vip_key *k = &old->vips[o].key;
		bool addr_used = false;
		if (lb_state_find_vip(s, k) >= 0)
			continue;
		bpf_map_delete_elem(f->vips, k);
		bpf_map_delete_elem(f->rings, &old->vips[o].id);
		for (int j = 0; j < s->nvips; j++)
			addr_used |= s->vips[j].key.addr == k->addr;
		if (!addr_used)
			bpf_map_delete_elem(f->vip_addrs, &k->addr);
	}
	/* 5. Gone backends, now that no table names them; their flows re-balance. */
	for (int o = 0; o < old->nbackends; o++) {
		struct lb_backend zero = {};
		bool kept = false;
		for (int i = 0; i < s->nbackends && !kept; i++)
			kept = s->backends[i].id == old->backends[o].id;
		if (!kept)
			bpf_map_update_elem(f->backends, &old->backends[o].id, &zero, BPF_ANY);
	}
	cfg->generation++;
	err = lb_config_write(f, cfg);
out:
	free(old);
	free(vip_used);
	free(be_used);
	return err;
}

int lb_ring_read(const struct lb_fds *f, __u32 vip_id, __u32 *table, __u32 size)
{
	__u32 map_id, count = size, out_batch = 0;
	__u32 *keys = calloc(size, sizeof(*keys));
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd, err = 0;

	if (!keys)
		return -ENOMEM;
	if (bpf_map_lookup_elem(f->rings, &vip_id, &map_id)) {
		free(keys);
		return -errno;
	}
	fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0) {
		free(keys);
		return -errno;
	}
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, table, &count, &bo) && errno != ENOENT)
		err = -errno;
	else if (count != size)
		err = -EIO;
	close(fd);
	free(keys);
	return err;
}

_Static_assert(sizeof(struct lb_stats) == 3 * sizeof(__u64), "lb_stats: __u64 counters only");

int lb_stats_read(int fd, __u32 id, struct lb_stats *out)
{
	return percpu_sum_u64(fd, &id, &out->packets, sizeof(*out) / sizeof(__u64));
}

int lb_counters_read(const struct lb_fds *f, struct lb_counters *out)
{
	__u32 k = 0;

	return percpu_sum_u64(f->counters, &k, out->c, LBC__MAX);
}
