// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open, configure and load decap.bpf.c (see decap_prog.h), its VIPs and counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decap_prog.h"
#include "decap.skel.h"
#include "addr.h"
#include "util.h"
#include "bpfutil.h"

const char *const decap_counter_names[DC__MAX] = {
	[DC_PASS_NOT_FOR_US] = "pass_not_for_us",
	[DC_PASS_NOT_ENCAP] = "pass_not_encap",
	[DC_DECAP] = "decap",
	[DC_DROP_NO_VIP] = "drop_no_vip",
	[DC_DROP_OUTER_FRAGMENT] = "drop_outer_fragment",
	[DC_DROP_OUTER_MALFORMED] = "drop_outer_malformed",
	[DC_DROP_INNER_MALFORMED] = "drop_inner_malformed",
	[DC_DROP_INNER_FRAGMENT] = "drop_inner_fragment",
};

struct decap_bpf *decap_prog_load(const struct decap_prog_cfg *cfg)
{
	struct decap_bpf *skel = decap_bpf__open();
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the decap program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	memcpy((void *)skel->rodata->own_mac, cfg->mac, 6);
	err = decap_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the decap program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		decap_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

int decap_prog_fd(struct decap_bpf *skel, bool tc)
{
	return bpf_program__fd(tc ? skel->progs.decap_tc : skel->progs.decap_xdp);
}

void decap_prog_destroy(struct decap_bpf *skel)
{
	decap_bpf__destroy(skel);
}

int decap_prog_add_vip(struct decap_bpf *skel, const struct decap_vip_key *k, __u32 id)
{
	struct decap_vip v = { .id = id };

	if (id >= DECAP_MAX_VIPS)
		return -E2BIG;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vips), k, &v, BPF_NOEXIST))
		return -errno;
	return 0;
}

int decap_prog_counters(struct decap_bpf *skel, struct decap_counters *c)
{
	__u32 zero = 0;

	return percpu_sum_u64(bpf_map__fd(skel->maps.counters), &zero, c->c, DC__MAX);
}

int decap_prog_vip_stats(struct decap_bpf *skel, __u32 id, struct decap_stats *s)
{
	__u64 v[2];
	int err = percpu_sum_u64(bpf_map__fd(skel->maps.vip_stats), &id, v, 2);

	s->packets = v[0];
	s->bytes = v[1];
	return err;
}

int decap_prog_zero(struct decap_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	void *z;

	if (ncpu <= 0)
		return -EINVAL;
	z = calloc(ncpu, sizeof(struct decap_counters));
	if (!z)
		return -ENOMEM;
	for (__u32 i = 0; i < DECAP_MAX_VIPS && !err; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.vip_stats), &i, z, BPF_ANY))
			err = -errno;
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.counters), &(__u32){ 0 }, z, BPF_ANY))
		err = -errno;
	free(z);
	return err;
}

/* ":PORT/tcp" or ":PORT/udp" into k. */
static int parse_port_proto(const char *s, struct decap_vip_key *k, char *why, size_t whylen)
{
	char port[8];
	const char *slash = strchr(s, '/');
	uint16_t p;

	if (*s != ':' || !slash || slash - s - 1 <= 0 || slash - s - 1 >= (long)sizeof(port)) {
		snprintf(why, whylen, "expected ADDR, ADDR:PORT/tcp|udp or [IPV6]:PORT/tcp|udp");
		return -EINVAL;
	}
	memcpy(port, s + 1, slash - s - 1);
	port[slash - s - 1] = 0;
	if (parse_port(port, &p)) {
		snprintf(why, whylen, "port '%s': 1-65535, digits only", port);
		return -EINVAL;
	}
	if (!strcmp(slash + 1, "tcp"))
		k->proto = IPPROTO_TCP;
	else if (!strcmp(slash + 1, "udp"))
		k->proto = IPPROTO_UDP;
	else {
		snprintf(why, whylen, "protocol '%s': tcp or udp", slash + 1);
		return -EINVAL;
	}
	k->port = htons(p);
	return 0;
}

int decap_parse_vip(const char *s, struct decap_vip_key *k, char *why, size_t whylen)
{
	char a[64];
	const char *rest;
	size_t n;

	memset(k, 0, sizeof(*k));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e == s + 1 || (size_t)(e - s - 1) >= sizeof(a)) {
			snprintf(why, whylen, "expected [IPV6]:PORT/PROTO");
			return -EINVAL;
		}
		n = e - s - 1;
		memcpy(a, s + 1, n);
		rest = e + 1;
		if (!*rest) {
			snprintf(why, whylen, "a bracketed address needs :PORT/PROTO (or no brackets)");
			return -EINVAL;
		}
	} else {
		/* One colon is IPv4 with a port; more is a bare IPv6 address. */
		const char *c = strchr(s, ':');
		bool v6 = c && strchr(c + 1, ':');
		n = v6 || !c ? strlen(s) : (size_t)(c - s);
		if (n >= sizeof(a)) {
			snprintf(why, whylen, "address too long");
			return -EINVAL;
		}
		memcpy(a, s, n);
		rest = s + n;
	}
	a[n] = 0;
	if (strchr(a, ':')) {
		struct in6_addr in6;
		if (inet_pton(AF_INET6, a, &in6) != 1) {
			snprintf(why, whylen, "'%s' is not an IPv6 address", a);
			return -EINVAL;
		}
		if (IN6_IS_ADDR_V4MAPPED(&in6) || IN6_IS_ADDR_UNSPECIFIED(&in6) ||
		    IN6_IS_ADDR_MULTICAST(&in6)) {
			snprintf(why, whylen, "'%s' cannot be a VIP (mapped, unspecified or multicast)", a);
			return -EINVAL;
		}
		memcpy(k->addr, &in6, 16);
		k->family = 6;
	} else {
		struct in_addr in;
		if (parse_ipv4(a, &in)) {
			snprintf(why, whylen, "'%s' is not an IPv4 address a.b.c.d (no leading zeros)", a);
			return -EINVAL;
		}
		if (!in.s_addr || (ntohl(in.s_addr) >> 28) >= 14) {
			snprintf(why, whylen, "'%s' cannot be a VIP (0.0.0.0, multicast or reserved)", a);
			return -EINVAL;
		}
		memcpy(k->addr, &in, 4);
		k->family = 4;
	}
	return *rest ? parse_port_proto(rest, k, why, whylen) : 0;
}

void decap_fmt_vip(const struct decap_vip_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, k->addr, a, sizeof(a));
	if (!k->port)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, k->family == 6 ? "[%s]:%u/%s" : "%s:%u/%s", a, ntohs(k->port),
			 k->proto == IPPROTO_TCP ? "tcp" : "udp");
}
