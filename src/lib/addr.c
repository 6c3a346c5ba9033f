// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Parsers for what users type (see addr.h). */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_ipv4(const char *s, struct in_addr *out)
{
	int parts = 0;
	const char *p = s;

	/* inet_pton accepts what we want, but we also refuse leading zeros ("010.0.0.1"),
	 * which other tools read as octal. */
	while (*p) {
		const char *start = p;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
		if (p - start > 1 && *start == '0')
			return -EINVAL;
		parts++;
		if (*p == '.')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (parts != 4 || inet_pton(AF_INET, s, out) != 1)
		return -EINVAL;
	return 0;
}

int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s) || (s[0] == '0' && s[1]))
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int parse_ipv6(const char *s, struct in6_addr *out)
{
	/* inet_pton refuses '%', brackets and a second '::' already; an embedded IPv4 tail
	 * is read by the same strict rule as a bare one (no leading zeros). */
	if (!s || !strchr(s, ':') || inet_pton(AF_INET6, s, out) != 1)
		return -EINVAL;
	return 0;
}
