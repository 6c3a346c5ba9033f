// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "json.h"

#include <math.h>
#include <string.h>
#include <inttypes.h>

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
}

static void open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_begin(struct json *j) { open_(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr_begin(struct json *j) { open_(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

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

static void write_escaped(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t run = 0;
		int l;

		/* Plain printable ASCII goes out in one write: a call per byte made JSON
		 * streams (bpflab exec) CPU-bound at ~3 us per record. */
		while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x7f &&
		       p[i + run] != '"' && p[i + run] != '\\')
			run++;
		if (run) {
			fwrite(p + i, 1, run, f);
			i += run;
			continue;
		}
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f), i++;
		} else if (c == '\t') {
			fputs("\\t", f), i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c), i++;
		} else if ((l = utf8_seq_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, l, f);
			i += l;
		} else {
			/* Not UTF-8: keep the byte visible as the text \xNN. */
			fprintf(f, "\\\\x%02x", c);
			i++;
		}
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	write_escaped(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	write_escaped(j->f, s, n);
}

void json_int(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_uint(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_double(struct json *j, double v)
{
	sep(j);
	if (!isfinite(v))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.6g", v);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void json_newline(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	j->need_comma[0] = false;
}

void json_kstr(struct json *j, const char *k, const char *v) { json_key(j, k); json_str(j, v); }
void json_kint(struct json *j, const char *k, int64_t v) { json_key(j, k); json_int(j, v); }
void json_kuint(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_uint(j, v); }
void json_kdouble(struct json *j, const char *k, double v) { json_key(j, k); json_double(j, v); }
void json_kbool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }

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
