// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open + configure + load for ping.bpf.c: the only place that writes its .rodata. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "ping_prog.h"
#include "ping.skel.h"

/* Subnet broadcasts exist for prefixes up to /30 (a /31 has none, RFC 3021). */
static bool bcast_of(const struct ping_local *l, __be32 *out)
{
	__u32 a, mask;

	if (!l->v4 || l->plen > 30)
		return false;
	memcpy(&a, &l->a.a[12], 4);
	mask = l->plen ? htonl(~0U << (32 - l->plen)) : 0;
	*out = a | ~mask;
	return true;
}

static int put_overflow(int fd, const struct ping_addr *k, __u8 kind)
{
	__u8 old;

	/* An address that is also some subnet's broadcast stays an address. */
	if (kind == PING_LOCAL_BCAST && !bpf_map_lookup_elem(fd, k, &old))
		return 0;
	return bpf_map_update_elem(fd, k, &kind, BPF_ANY) ? -errno : 0;
}

struct ping_bpf *ping_prog_load(const struct ping_prog_cfg *cfg)
{
	int err;
	struct ping_bpf *skel = ping_bpf__open();
	struct ping_bpf__rodata *ro;
	bool overflow = false;

	if (!skel) {
		err = -errno;
		pr_warn("failed to open the ping program: %s\n", strerr(err));
		errno = -err;
		return NULL;
	}
	ro = skel->rodata;
	ro->action = cfg->action;
	ro->on_lo = cfg->on_lo;
	/* Quiet: no events at all, which saves the ring buffer work on every request. */
	ro->emit_events = cfg->events;
	if (cfg->event_rate == UINT32_MAX) {
		ro->event_gap_ns = 0;
	} else {
		__u32 rate = cfg->event_rate ? cfg->event_rate : PING_EVENT_RATE;
		ro->event_gap_ns = 1000000000ULL / rate;
		ro->event_burst_ns = ro->event_gap_ns * PING_EVENT_BURST;
	}
	bpf_program__set_autoload(cfg->tc ? skel->progs.ping_xdp : skel->progs.ping_tc, false);
	for (int pass = 0; pass < 2; pass++) {
		/* Addresses first, then broadcasts: an address wins where both would overflow. */
		for (int i = 0; i < cfg->nlocal; i++) {
			const struct ping_local *l = &cfg->local[i];
			__be32 b;

			if (pass == 0) {
				if (l->v4 && ro->nlocal4 < PING_RO_LOCAL4) {
					memcpy((void *)&ro->local4[ro->nlocal4++], &l->a.a[12], 4);
					continue;
				}
				if (!l->v4 && ro->nlocal6 < PING_RO_LOCAL6) {
					memcpy((void *)ro->local6[ro->nlocal6++], l->a.a, 16);
					continue;
				}
			} else {
				if (!bcast_of(l, &b))
					continue;
				if (ro->nbcast4 < PING_RO_LOCAL4) {
					ro->bcast4[ro->nbcast4++] = b;
					continue;
				}
			}
			/* No room in .rodata: the local_addrs map, after load. */
			overflow = true;
		}
	}
	ro->local_overflow = overflow;
	err = ping_bpf__load(skel);
	if (err) {
		pr_warn("failed to load the ping program: %s%s\n", strerr(err),
			g_opts.verbose ? "" : " (run with -v for the verifier log)");
		goto fail;
	}
	if (overflow) {
		int fd = bpf_map__fd(skel->maps.local_addrs), n = 0;
		/* The same walk again: what did not fit goes into the map. */
		for (int pass = 0; pass < 2 && !err; pass++) {
			int seen4 = 0, seen6 = 0, seenb = 0;
			for (int i = 0; i < cfg->nlocal && !err; i++) {
				const struct ping_local *l = &cfg->local[i];
				struct ping_addr k = l->a;
				__be32 b;
				if (pass == 0) {
					if (l->v4 ? seen4++ < PING_RO_LOCAL4 : seen6++ < PING_RO_LOCAL6)
						continue;
					err = put_overflow(fd, &k, PING_LOCAL_ADDR);
				} else {
					if (!bcast_of(l, &b) || seenb++ < PING_RO_LOCAL4)
						continue;
					memcpy(&k.a[12], &b, 4);
					err = put_overflow(fd, &k, PING_LOCAL_BCAST);
				}
				n++;
			}
		}
		if (err) {
			pr_warn("failed to store local addresses: %s\n", strerr(err));
			goto fail;
		}
		pr_debug("%d local addresses or broadcasts in the local_addrs map\n", n);
	}
	return skel;
fail:
	ping_bpf__destroy(skel);
	errno = -err;
	return NULL;
}

int ping_prog_fd(struct ping_bpf *skel, bool tc)
{
	return bpf_program__fd(tc ? skel->progs.ping_tc : skel->progs.ping_xdp);
}

int ping_prog_stats(struct ping_bpf *skel, struct ping_stats *sum)
{
	__u32 key = 0;
	int err = percpu_sum_u64(bpf_map__fd(skel->maps.stats), &key, (__u64 *)sum,
				 sizeof(*sum) / sizeof(__u64));

	/* per-CPU state, meaningless summed: ping_prog_sources reads last_src */
	sum->ev_jiffies = sum->ev_ns = sum->ev_credit = 0;
	memset(&sum->last_src, 0, sizeof(sum->last_src));
	sum->last_n = 0;
	return err;
}

static int add_source(struct ping_source *rows, int n, int cap, const struct ping_addr *a,
		      __u64 cnt)
{
	for (int i = 0; i < n; i++)
		if (!memcmp(&rows[i].a, a, sizeof(*a))) {
			rows[i].n += cnt;
			return n;
		}
	if (n < cap) {
		rows[n].a = *a;
		rows[n].n = cnt;
		n++;
	}
	return n;
}

int ping_prog_sources(struct ping_bpf *skel, struct ping_source *rows, int cap)
{
	int fd = bpf_map__fd(skel->maps.sources), ncpu = libbpf_num_possible_cpus(), n = 0;
	struct ping_addr key, next;
	struct ping_stats *per_cpu;
	void *prev = NULL;
	__u32 zero = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	while (n < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		__u64 cnt;
		if (!percpu_sum_u64(fd, &next, &cnt, 1)) {
			rows[n].a = next;
			rows[n].n = cnt;
			n++;
		}
		key = next;
		prev = &key;
	}
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &zero, per_cpu)) {
		int err = -errno;
		free(per_cpu);
		return err;
	}
	for (int c = 0; c < ncpu; c++)
		if (per_cpu[c].last_n)
			n = add_source(rows, n, cap, &per_cpu[c].last_src, per_cpu[c].last_n);
	free(per_cpu);
	return n;
}

static int prefix_len(const struct sockaddr *mask, int family)
{
	const __u8 *b;
	int n = 0, len;

	if (!mask)
		return family == AF_INET ? 32 : 128;
	if (family == AF_INET) {
		b = (const __u8 *)&((const struct sockaddr_in *)mask)->sin_addr;
		len = 4;
	} else {
		b = (const __u8 *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		len = 16;
	}
	for (int i = 0; i < len; i++)
		n += __builtin_popcount(b[i]);
	return n;
}

int ping_prog_local_addrs(struct ping_local **out)
{
	struct ifaddrs *ifa, *it;
	struct ping_local *v;
	int n = 0, cap = 0;

	*out = NULL;
	if (getifaddrs(&ifa)) {
		int err = -errno;
		pr_warn("cannot list this namespace's addresses: %s\n", strerr(err));
		return err;
	}
	for (it = ifa; it; it = it->ifa_next)
		cap++;
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (it = ifa; it; it = it->ifa_next) {
		struct ping_local *l = &v[n];
		int fam;
		if (!it->ifa_addr)
			continue;
		fam = it->ifa_addr->sa_family;
		if (fam == AF_INET) {
			l->a.a[10] = l->a.a[11] = 0xff;
			memcpy(&l->a.a[12], &((struct sockaddr_in *)it->ifa_addr)->sin_addr, 4);
			l->v4 = true;
		} else if (fam == AF_INET6) {
			memcpy(l->a.a, &((struct sockaddr_in6 *)it->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		l->plen = (__u8)prefix_len(it->ifa_netmask, fam);
		n++;
	}
	freeifaddrs(ifa);
	*out = v;
	return n;
}
