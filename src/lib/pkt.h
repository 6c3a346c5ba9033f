/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Building test packets in user space, and the reference Internet checksum that the
 * BPF programs' incremental updates are checked against. Used by tests, benchmarks and
 * the live-frames traffic generator. */
#ifndef BPFLAB_PKT_H
#define BPFLAB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define PKT_MAX 2048

struct pkt_spec {
	uint8_t src_mac[6], dst_mac[6];
	uint16_t vlan[2];        /* 0: no tag; vlan[0] outer (802.1ad when both set) */
	int family;              /* AF_INET or AF_INET6 */
	struct in_addr src4, dst4;
	struct in6_addr src6, dst6;
	uint8_t proto;           /* IPPROTO_TCP/UDP/ICMP/ICMPV6 */
	uint8_t ttl;             /* 0 means 64 */
	uint16_t sport, dport;   /* TCP/UDP; ICMP echo: sport = id, dport = sequence */
	uint8_t icmp_type;       /* ICMP(v6) type; 0 with proto ICMP means echo request */
	uint8_t tcp_flags;       /* 0 means SYN */
	const uint8_t *payload;   /* NULL: payload_len zero bytes */
	size_t payload_len;
	const uint8_t *ip_options; /* IPv4 options, a multiple of 4 bytes */
	size_t ip_options_len;
	const uint8_t *ext_hdrs;   /* raw IPv6 extension headers; ext_first is its type */
	size_t ext_len;
	uint8_t ext_first;
	uint16_t frag_off;       /* IPv4 frag_off field value in host order (flags|offset) */
};

/* Fills spec with defaults: lab MACs, 198.18.0.1 -> 198.18.0.11, ICMP echo. */
void pkt_spec_default(struct pkt_spec *s);
/* Builds the frame into buf (PKT_MAX), all checksums correct; returns its length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);

/* RFC 1071 one's-complement sum, folded; csum_fold returns the final complemented value. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
uint16_t csum_fold(uint32_t sum);
/* Full recomputation of a frame's IPv4 header checksum and L4 checksum: true when both
 * as stored are right. Handles VLAN tags, IPv4 options and IPv6 extension headers. */
bool pkt_checksums_ok(const uint8_t *frame, size_t len);
/* Recomputes from scratch a frame's IPv4 header checksum and its TCP/UDP/ICMP/ICMPv6
 * checksum (lengths from the IP header): the reference for rewritten packets.
 * 0, or -EINVAL when the frame cannot be walked, -EPROTONOSUPPORT when it is not IP. */
int pkt_fix_checksums(uint8_t *frame, size_t len);

#endif
