// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pkt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	for (; len > 1; len -= 2, p += 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

void pkt_spec_default(struct pkt_spec *s)
{
	static const uint8_t smac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01 };
	static const uint8_t dmac[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x0b };

	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, smac, 6);
	memcpy(s->dst_mac, dmac, 6);
	s->family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", &s->src4);
	inet_pton(AF_INET, "198.18.0.11", &s->dst4);
	inet_pton(AF_INET6, "2001:db8:18::1", &s->src6);
	inet_pton(AF_INET6, "2001:db8:18::b", &s->dst6);
	s->proto = IPPROTO_ICMP;
	s->sport = 0x1234;
	s->dport = 1;
}

/* Pseudo-header sum for the L4 checksum. */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			   uint32_t l4len)
{
	uint32_t sum = 0;
	int alen = family == AF_INET ? 4 : 16;

	sum = csum_partial(src, alen, sum);
	sum = csum_partial(dst, alen, sum);
	sum += proto;
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	return sum;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	uint8_t *p = buf, *l3, *l4;
	uint16_t ethertype = s->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	size_t l4len, hlen;
	uint8_t proto = s->proto;

	memset(buf, 0, PKT_MAX);
	memcpy(p, s->dst_mac, 6);
	memcpy(p + 6, s->src_mac, 6);
	p += 12;
	for (int i = 0; i < 2; i++) {
		if (!s->vlan[i])
			continue;
		put16(p, (i == 0 && s->vlan[1]) ? ETH_P_8021AD : ETH_P_8021Q);
		put16(p + 2, s->vlan[i]);
		p += 4;
	}
	put16(p, ethertype);
	p += 2;
	l3 = p;

	if (proto == IPPROTO_TCP)
		l4len = 20;
	else if (proto == IPPROTO_UDP)
		l4len = 8;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		l4len = 8;
	else
		l4len = 0;
	l4len += s->payload_len;

	if (s->family == AF_INET) {
		hlen = 20 + s->ip_options_len;
		l3[0] = 0x40 | (hlen / 4);
		put16(l3 + 2, hlen + l4len);
		put16(l3 + 4, 0x4242);
		put16(l3 + 6, s->frag_off);
		l3[8] = s->ttl ? s->ttl : 64;
		l3[9] = proto;
		memcpy(l3 + 12, &s->src4, 4);
		memcpy(l3 + 16, &s->dst4, 4);
		if (s->ip_options_len)
			memcpy(l3 + 20, s->ip_options, s->ip_options_len);
		put16(l3 + 10, csum_fold(csum_partial(l3, hlen, 0)));
	} else {
		hlen = 40 + s->ext_len;
		l3[0] = 0x60;
		put16(l3 + 4, s->ext_len + l4len);
		l3[6] = s->ext_len ? s->ext_first : proto;
		l3[7] = s->ttl ? s->ttl : 64;
		memcpy(l3 + 8, &s->src6, 16);
		memcpy(l3 + 24, &s->dst6, 16);
		if (s->ext_len)
			memcpy(l3 + 40, s->ext_hdrs, s->ext_len);
	}
	l4 = l3 + hlen;
	switch (proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, 0x0102);
		put16(l4 + 6, 0x0304);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		put16(l4 + 14, 65535);
		if (s->payload) /* NULL: payload_len zero bytes */
			memcpy(l4 + 20, s->payload, s->payload_len);
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, l4len);
		if (s->payload) /* NULL: payload_len zero bytes */
			memcpy(l4 + 8, s->payload, s->payload_len);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = s->icmp_type ? s->icmp_type : (proto == IPPROTO_ICMP ? 8 : 128);
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->dport);
		if (s->payload) /* NULL: payload_len zero bytes */
			memcpy(l4 + 8, s->payload, s->payload_len);
		break;
	default:
		if (s->payload) /* NULL: payload_len zero bytes */
			memcpy(l4, s->payload, s->payload_len);
	}
	/* Non-first fragments carry no L4 header to checksum; leave the bytes as built. */
	if (s->family == AF_INET && (s->frag_off & 0x1fff))
		return l4 + l4len - buf;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP ||
	    proto == IPPROTO_ICMPV6) {
		int off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
		uint32_t sum = 0;
		uint16_t c;

		if (proto != IPPROTO_ICMP)
			sum = s->family == AF_INET ?
				pseudo_sum(AF_INET, (uint8_t *)&s->src4, (uint8_t *)&s->dst4, proto, l4len) :
				pseudo_sum(AF_INET6, (uint8_t *)&s->src6, (uint8_t *)&s->dst6, proto, l4len);
		c = csum_fold(csum_partial(l4, l4len, sum));
		if (proto == IPPROTO_UDP && c == 0)
			c = 0xffff; /* 0 means "no checksum" in UDP */
		put16(l4 + off, c);
	}
	return l4 + l4len - buf;
}

bool pkt_checksums_ok(const uint8_t *f, size_t len)
{
	size_t off = 12;
	uint16_t et;
	const uint8_t *l3, *l4;
	uint8_t proto;
	size_t l4len;
	int family;

	if (len < 14)
		return false;
	et = get16(f + off);
	while (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		off += 4;
		if (off + 2 > len)
			return false;
		et = get16(f + off);
	}
	l3 = f + off + 2;
	if (et == ETH_P_IP) {
		size_t hlen;
		if (l3 + 20 > f + len)
			return false;
		hlen = (l3[0] & 0xf) * 4;
		if (l3 + hlen > f + len || csum_fold(csum_partial(l3, hlen, 0)) != 0)
			return false;
		if (get16(l3 + 6) & 0x1fff)
			return true;
		proto = l3[9];
		l4 = l3 + hlen;
		l4len = get16(l3 + 2) - hlen;
		family = AF_INET;
	} else if (et == ETH_P_IPV6) {
		uint8_t nh;
		if (l3 + 40 > f + len)
			return false;
		nh = l3[6];
		l4 = l3 + 40;
		while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
			uint8_t next = l4[0];
			l4 += nh == 44 ? 8 : (l4[1] + 1) * 8;
			nh = next;
		}
		proto = nh;
		l4len = get16(l3 + 4) - (l4 - (l3 + 40));
		family = AF_INET6;
	} else {
		return true;
	}
	if (l4 + l4len > f + len)
		return false;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6) {
		uint32_t sum = family == AF_INET ? pseudo_sum(AF_INET, l3 + 12, l3 + 16, proto, l4len)
						 : pseudo_sum(AF_INET6, l3 + 8, l3 + 24, proto, l4len);
		if (proto == IPPROTO_UDP && get16(l4 + 6) == 0 && family == AF_INET)
			return true;
		return csum_fold(csum_partial(l4, l4len, sum)) == 0;
	}
	if (proto == IPPROTO_ICMP)
		return csum_fold(csum_partial(l4, l4len, 0)) == 0;
	return true;
}

/* Finds the IP header and the L4 header of a frame (VLAN tags, IPv4 options, IPv6
 * extension headers); 0 when both are inside the frame. */
static int pkt_locate(const uint8_t *f, size_t len, size_t *l3, size_t *l4, uint8_t *proto,
		      size_t *l4len, int *family)
{
	size_t off = 12;
	uint16_t et;

	if (len < 14)
		return -EINVAL;
	et = get16(f + off);
	while (et == ETH_P_8021Q || et == ETH_P_8021AD) {
		off += 4;
		if (off + 2 > len)
			return -EINVAL;
		et = get16(f + off);
	}
	*l3 = off + 2;
	if (et == ETH_P_IP) {
		size_t hlen;
		if (*l3 + 20 > len)
			return -EINVAL;
		hlen = (f[*l3] & 0xf) * 4;
		if (hlen < 20 || *l3 + hlen > len || get16(f + *l3 + 2) < hlen)
			return -EINVAL;
		*l4 = *l3 + hlen;
		*proto = f[*l3 + 9];
		*l4len = get16(f + *l3 + 2) - hlen;
		*family = AF_INET;
	} else if (et == ETH_P_IPV6) {
		uint8_t nh;
		if (*l3 + 40 > len)
			return -EINVAL;
		nh = f[*l3 + 6];
		*l4 = *l3 + 40;
		while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
			if (*l4 + 2 > len)
				return -EINVAL;
			uint8_t next = f[*l4];
			*l4 += nh == 44 ? 8 : (size_t)(f[*l4 + 1] + 1) * 8;
			nh = next;
		}
		*proto = nh;
		if (*l4 > *l3 + 40 + get16(f + *l3 + 4))
			return -EINVAL;
		*l4len = get16(f + *l3 + 4) - (*l4 - (*l3 + 40));
		*family = AF_INET6;
	} else {
		return -EPROTONOSUPPORT;
	}
	return *l4 + *l4len > len ? -EINVAL : 0;
}

int pkt_fix_checksums(uint8_t *f, size_t len)
{
	size_t l3, l4, l4len;
	uint8_t proto;
	int family, err, off;
	uint32_t sum = 0;
	uint16_t c;

	err = pkt_locate(f, len, &l3, &l4, &proto, &l4len, &family);
	if (err)
		return err;
	if (family == AF_INET) {
		size_t hlen = l4 - l3;
		put16(f + l3 + 10, 0);
		put16(f + l3 + 10, csum_fold(csum_partial(f + l3, hlen, 0)));
		if (get16(f + l3 + 6) & 0x1fff)
			return 0;
	}
	switch (proto) {
	case IPPROTO_TCP: off = 16; break;
	case IPPROTO_UDP: off = 6; break;
	case IPPROTO_ICMP: case IPPROTO_ICMPV6: off = 2; break;
	default: return 0;
	}
	if (l4len < (size_t)off + 2)
		return -EINVAL;
	put16(f + l4 + off, 0);
	if (proto != IPPROTO_ICMP)
		sum = family == AF_INET ? pseudo_sum(AF_INET, f + l3 + 12, f + l3 + 16, proto, l4len)
					: pseudo_sum(AF_INET6, f + l3 + 8, f + l3 + 24, proto, l4len);
	c = csum_fold(csum_partial(f + l4, l4len, sum));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(f + l4 + off, c);
	return 0;
}
