// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pcapng (draft-ietf-opsawg-pcapng): the blocks `bpflab trace --pcap` needs, no more.
 * A block is type, total length, body padded to 4 bytes, options, total length again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcapng.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
/* A comment longer than this is cut: it is a verdict, not a story. */
#define MAX_COMMENT 1024

struct iface {
	__u32 netns, ifindex;
};

struct pcapng {
	FILE *f;
	int err;                 /* first write error, sticky */
	struct iface *ifs;
	int nifs, cap;
	__u64 packets;
	__s64 mono_to_real;      /* realtime - monotonic, ns */
};

static __u32 pad4(__u32 n)
{
	return (n + 3) & ~3u;
}

static void put(struct pcapng *p, const void *data, size_t len)
{
	if (p->err)
		return;
	if (len && fwrite(data, 1, len, p->f) != len)
		p->err = errno ? -errno : -EIO;
}

static void put32(struct pcapng *p, __u32 v)
{
	put(p, &v, 4);
}

static void put_pad(struct pcapng *p, size_t len)
{
	static const __u8 zero[4];

	put(p, zero, pad4(len) - len);
}

static __u32 opt_len(size_t len)
{
	return 4 + pad4(len);
}

static void put_opt(struct pcapng *p, __u16 code, const void *val, size_t len)
{
	__u16 h[2] = { code, (__u16)len };

	put(p, h, 4);
	put(p, val, len);
	put_pad(p, len);
}

static __s64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__s64)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

struct pcapng *pcapng_open(const char *path)
{
	static const char appl[] = "bpflab trace";
	struct pcapng *p = calloc(1, sizeof(*p));
	__u32 len;

	if (!p)
		return NULL;
	p->f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!p->f) {
		int e = errno;
		free(p);
		errno = e;
		return NULL;
	}
	p->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	/* SHB: magic, version 1.0, section length unknown (-1), shb_userappl. */
	len = 28 + opt_len(sizeof(appl) - 1) + 4;
	put32(p, BT_SHB);
	put32(p, len);
	put32(p, BYTE_ORDER_MAGIC);
	put(p, (__u16[]){ 1, 0 }, 4);
	put(p, (__s64[]){ -1 }, 8);
	put_opt(p, SHB_USERAPPL, appl, sizeof(appl) - 1);
	put32(p, OPT_END);
	put32(p, len);
	if (p->err) {
		int e = -p->err;
		pcapng_close(p);
		errno = e;
		return NULL;
	}
	return p;
}

int pcapng_interface(struct pcapng *p, __u32 netns, __u32 ifindex, const char *name)
{
	char nm[64], desc[96];
	__u8 tsresol = 9;
	__u32 len;

	for (int i = 0; i < p->nifs; i++)
		if (p->ifs[i].netns == netns && p->ifs[i].ifindex == ifindex)
			return i;
	if (p->err)
		return p->err;
	if (p->nifs == p->cap) {
		int cap = p->cap ? p->cap * 2 : 8;
		struct iface *n = realloc(p->ifs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->ifs = n;
		p->cap = cap;
	}
	if (name && *name)
		snprintf(nm, sizeof(nm), "%s", name);
	else
		snprintf(nm, sizeof(nm), "if%u", ifindex);
	snprintf(desc, sizeof(desc), "ifindex %u netns %u", ifindex, netns);
	len = 20 + opt_len(strlen(nm)) + opt_len(strlen(desc)) + opt_len(1) + 4;
	put32(p, BT_IDB);
	put32(p, len);
	put(p, (__u16[]){ LINKTYPE_ETHERNET, 0 }, 4);
	put32(p, PCAPNG_SNAPLEN);
	put_opt(p, IF_NAME, nm, strlen(nm));
	put_opt(p, IF_DESCRIPTION, desc, strlen(desc));
	put_opt(p, IF_TSRESOL, &tsresol, 1);
	put32(p, OPT_END);
	put32(p, len);
	if (p->err)
		return p->err;
	p->ifs[p->nifs] = (struct iface){ netns, ifindex };
	return p->nifs++;
}

static int packet(struct pcapng *p, int if_id, __u64 ts_ns, const void *pre, __u32 pre_len,
		  const void *data, __u32 cap_len, __u32 orig_len, const char *comment)
{
	size_t clen = comment ? strnlen(comment, MAX_COMMENT) : 0;
	__u32 cap = pre_len + cap_len, len;

	if (p->err)
		return p->err;
	if (if_id < 0 || if_id >= p->nifs)
		return -EINVAL;
	if (cap > PCAPNG_SNAPLEN)
		return -E2BIG;
	if (orig_len < cap)
		orig_len = cap;
	len = 28 + pad4(cap) + (clen ? opt_len(clen) + 4 : 0) + 4;
	put32(p, BT_EPB);
	put32(p, len);
	put32(p, if_id);
	put32(p, (__u32)(ts_ns >> 32));
	put32(p, (__u32)ts_ns);
	put32(p, cap);
	put32(p, orig_len);
	put(p, pre, pre_len);
	put(p, data, cap_len);
	put_pad(p, cap);
	if (clen) {
		put_opt(p, OPT_COMMENT, comment, clen);
		put32(p, OPT_END);
	}
	put32(p, len);
	if (p->err)
		return p->err;
	p->packets++;
	return 0;
}

int pcapng_packet(struct pcapng *p, int if_id, __u64 ts_ns, const void *data,
		  __u32 cap_len, __u32 orig_len, const char *comment)
{
	return packet(p, if_id, ts_ns, NULL, 0, data, cap_len, orig_len, comment);
}

int pcapng_packet_ip(struct pcapng *p, int if_id, __u64 ts_ns, const void *ip,
		     __u32 cap_len, __u32 orig_len, const char *comment)
{
	__u8 eth[14] = { 0 };
	int v6 = cap_len > 0 && (((const __u8 *)ip)[0] >> 4) == 6;

	eth[12] = v6 ? 0x86 : 0x08;
	eth[13] = v6 ? 0xdd : 0x00;
	return packet(p, if_id, ts_ns, eth, sizeof(eth), ip, cap_len, orig_len + sizeof(eth),
		      comment);
}

__u64 pcapng_realtime_ns(const struct pcapng *p, __u64 mono_ns)
{
	return (__u64)((__s64)mono_ns + p->mono_to_real);
}

__u64 pcapng_packets(const struct pcapng *p)
{
	return p->packets;
}

int pcapng_close(struct pcapng *p)
{
	int err;

	if (!p)
		return 0;
	err = p->err;
	if (p->f) {
		if (fflush(p->f) && !err)
			err = -errno;
		if (p->f != stdout && fclose(p->f) && !err)
			err = -errno;
	}
	free(p->ifs);
	free(p);
	return err;
}
