// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Terminal-safe text (see term.h); the JSON writer shares the UTF-8 check. */
#include "term.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	int len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t escape_for_terminal(const char *s, size_t n, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < n;) {
		char tmp[8];
		size_t tl;
		int l = 0;

		if (p[i] == '\\') {
			memcpy(tmp, "\\\\", 2), tl = 2, l = 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			tl = snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]), l = 1;
		} else if ((l = utf8_seq_len(p + i, n - i)) > 0) {
			/* C1 controls (U+0080..U+009F) act as escapes on some terminals. */
			if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
				tl = snprintf(tmp, sizeof(tmp), "\\u%04x", p[i + 1]);
			} else {
				memcpy(tmp, p + i, l);
				tl = l;
			}
		} else {
			tl = snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]), l = 1;
		}
		if (o + tl >= cap)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
		i += l;
	}
	out[o] = 0;
	return o;
}
