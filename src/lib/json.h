/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small streaming JSON writer. Output is valid JSON whatever bytes a string holds:
 * control characters are \u-escaped and bytes that are not UTF-8 become the text \xNN. */
#ifndef BPFLAB_JSON_H
#define BPFLAB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n); /* arbitrary bytes */
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends one JSON Lines record: newline and flush. */
void json_newline(struct json *j);

/* One JSON Lines record, the shape every command's output has: json_record_begin starts
 * the writer on f and opens {"type": type, ...; json_record_end closes it and ends the
 * line. Between them, the record's own keys. */
void json_record_begin(struct json *j, FILE *f, const char *type);
void json_record_end(struct json *j);

/* key + value shorthands */
void json_kstr(struct json *j, const char *k, const char *v);
void json_kint(struct json *j, const char *k, int64_t v);
void json_kuint(struct json *j, const char *k, uint64_t v);
void json_kdouble(struct json *j, const char *k, double v);
void json_kbool(struct json *j, const char *k, bool v);

#endif
