/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Addresses and ports as users type them: strict, so that what is refused is refused
 * with exit 2 before anything changes, and nothing is read in a way other tools do not. */
#ifndef BPFLAB_ADDR_H
#define BPFLAB_ADDR_H

#include <stdint.h>
#include <netinet/in.h>

int parse_ipv4(const char *s, struct in_addr *out);   /* strict dotted quad, no leading 0s */
int parse_port(const char *s, uint16_t *port);        /* 1..65535, digits only */
/* RFC 4291 text form as inet_pton reads it; no brackets, no zone id (%IFACE): an address
 * that needs a zone names no one thing outside its link. */
int parse_ipv6(const char *s, struct in6_addr *out);

#endif
