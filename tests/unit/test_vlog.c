// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Verifier-log analysis on stored logs (tests/data/vlogs/, captured from this project's
 * gallery on Linux 6.18 by `bpflab verify --json --log`): no BPF, no root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vlog.h"

static char *slurp(const char *name)
{
	const char *src = getenv("BPFLAB_SRC") ? getenv("BPFLAB_SRC") : ".";
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/vlogs/%s", src, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

struct expect {
	const char *log;     /* file in tests/data/vlogs */
	const char *pattern;
	int insn, line;
	const char *source;  /* exact C text of that line */
	const char *message; /* prefix of the verifier's message */
};

/* One per gallery case (examples/verifier/<case>_broken.bpf.c), plus a level-2 log and
 * the tail of a log the kernel truncated (a loop walked to the 1M-insn limit). */
static const struct expect cases[] = {
	{ "license.log", "license_gpl", 3, 10, "bpf_printk(\"Packet received\");",
	  "cannot call GPL-restricted function from non-GPL compatible program" },
	{ "null_check.log", "null_check", 8, 20, "__sync_fetch_and_add(v, 1);",
	  "R0 invalid mem access 'map_value_or_null'" },
	{ "null_check_level2.log", "null_check", 8, 20, "__sync_fetch_and_add(v, 1);",
	  "R0 invalid mem access 'map_value_or_null'" },
	{ "pkt_bounds.log", "pkt_bounds", 1, 13,
	  "if (eth->h_proto == __builtin_bswap16(ETH_P_ARP))", "invalid access to packet, off=12 size=1" },
	{ "array_oob.log", "map_value_bounds", 11, 18,
	  "__sync_fetch_and_add(&by_first_byte[i], 1);", "invalid access to map value, value_size=64" },
	{ "loop.log", "infinite_loop", 1, 11, "while (bpf_get_prandom_u32() != 0)",
	  "infinite loop detected at insn 1" },
	{ "too_complex.log", "too_complex", 1, 5, "while (bpf_get_prandom_u32() != 0)",
	  "BPF program is too large. Processed 1000001 insn" },
	{ "uninit_stack.log", "uninit_stack", 8, 30, "v = bpf_map_lookup_elem(&hits, &key);",
	  "invalid read from stack R2 off -8+6 size 8" },
	{ "no_return.log", "no_return", 4, 13, "}", "R0 !read_ok" },
	{ "not_a_map.log", "not_a_map", 5, 18,
	  "__u64 *v = bpf_map_lookup_elem((void *)&key, &key);", "R1 type=fp expected=map_ptr" },
	{ "ctx_modified.log", "ctx_modified", 9, 9, "return *p;",
	  "dereference of modified ctx ptr R1 off=12 disallowed" },
	{ "ctx_write.log", "ctx_access", 2, 9,
	  "ctx->data += 14; /* skip the Ethernet header? not like this */",
	  "invalid bpf_context access off=0 size=4" },
	{ "stack_size.log", "stack_too_large", -1, 0, "",
	  "combined stack size of 3 calls is 800. Too large" },
	{ "ref_leak.log", "ref_leak", 16, 26, "if (e->ifindex == 0)",
	  "Unreleased reference id=2 alloc_insn=5" },
	{ "helper.log", "helper_unavailable", 3, 17,
	  "return bpf_get_stackid(ctx, &stacks, 0) < 0 ? XDP_PASS : XDP_PASS;",
	  "program of this type cannot use helper bpf_get_stackid#27" },
};

static void test_stored_logs(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expect *e = &cases[i];
		struct vlog_result r;
		char *log = slurp(e->log);

		if (!ok(log != NULL, "%s: stored log is readable", e->log))
			continue;
		is_int(vlog_analyze(log, &r), 0, "%s: analysed", e->log);
		is_str(r.pattern->id, e->pattern, "%s: pattern", e->log);
		is_int(r.insn, e->insn, "%s: instruction", e->log);
		is_int(r.line, e->line, "%s: source line number", e->log);
		is_str(r.source, e->source, "%s: source text", e->log);
		ok(!strncmp(r.message, e->message, strlen(e->message)), "%s: message '%s'", e->log,
		   r.message);
		ok(r.has_error, "%s: has an error", e->log);
		ok(r.tail_off < strlen(log) && strstr(log + r.tail_off, r.message),
		   "%s: the tail holds the message", e->log);
		if (e->line > 0)
			ok(strstr(r.file, "_broken.bpf.c") || !strcmp(r.file, "tc.c"),
			   "%s: file named (%s)", e->log, r.file);
		free(log);
	}
}

static void test_ref_origin(void)
{
	char *log = slurp("ref_leak.log");
	struct vlog_result r;

	if (!ok(log != NULL, "ref_leak.log readable"))
		return;
	vlog_analyze(log, &r);
	is_int(r.origin_insn, 5, "ref_leak: acquired at insn 5");
	is_int(r.origin_line, 20, "ref_leak: acquired at line 20");
	is_str(r.origin_source, "struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);",
	       "ref_leak: the reserve call");
	free(log);
}

static void test_stats(void)
{
	struct vlog_stats s;
	struct vlog_result r;
	char *log = slurp("accepted_null_check.log");

	if (!ok(log != NULL, "accepted log readable"))
		return;
	vlog_stats(log, &s);
	is_int(s.insns_processed, 12, "accepted: insns processed");
	is_int(s.total_states, 1, "accepted: total states");
	is_int(s.peak_states, 1, "accepted: peak states");
	is_int(s.max_states_per_insn, 0, "accepted: max states per insn");
	is_int(s.verification_time_us, 111, "accepted: verification time");
	is_str(s.stack_depth, "8", "accepted: stack depth");
	ok(s.stack_frames == 1 && s.stack_depth_frame[0] == 8, "accepted: stack depth as a number");
	vlog_analyze(log, &r);
	ok(!r.has_error, "accepted: no error found in an accepted program's log");
	is_str(r.message, "", "accepted: no message");
	free(log);

	log = slurp("stack_size.log");
	if (ok(log != NULL, "stack_size log readable")) {
		vlog_stats(log, &s);
		is_str(s.stack_depth, "0+400+400", "stack depth per frame");
		ok(s.stack_frames == 3 && s.stack_depth_frame[0] == 0 && s.stack_depth_frame[1] == 400 &&
		   s.stack_depth_frame[2] == 400, "stack depth per frame as numbers");
		is_int(s.insns_processed, 43, "stack_size: insns processed");
	}
	free(log);
	log = slurp("too_complex.log");
	if (ok(log != NULL, "too_complex log readable")) {
		vlog_stats(log, &s);
		is_int(s.insns_processed, 1000001, "too complex: 1000001 processed");
		is_int(s.total_states, 90911, "too complex: states");
		is_int(s.peak_states, 4440, "too complex: peak states");
	}
	free(log);
}

/* Made-up logs for what the gallery does not produce. */
static void test_synthetic(void)
{
	struct vlog_result r;
	struct vlog_stats s;

	is_int(vlog_analyze("", &r), -EINVAL, "empty log: -EINVAL");
	is_str(r.pattern->id, "unknown", "empty log: unknown pattern");
	is_int(vlog_analyze(NULL, &r), -EINVAL, "NULL log: -EINVAL");

	vlog_analyze("; x = y + z; @ a.c:7\n3: (0f) r1 += r3\nR3 !read_ok\nprocessed 4 insns\n", &r);
	is_str(r.pattern->id, "uninit_reg", "R3 unset, not at exit: uninit_reg");
	is_int(r.insn, 3, "uninit_reg: insn");
	is_int(r.line, 7, "uninit_reg: line");
	is_str(r.file, "a.c", "uninit_reg: file");

	vlog_analyze("; return x;\n9: (95) exit\nR0 !read_ok\n", &r);
	is_str(r.pattern->id, "no_return", "R0 unset at exit: no_return (5.x source lines without @)");
	is_str(r.source, "return x;", "source without a file part");
	is_int(r.line, 0, "no line number without @");

	vlog_analyze("; foo();\n4: (85) call bpf_frobnicate#999\nsomething new went wrong here\n"
		     "verification time 5 usec\nprocessed 5 insns (limit 1000000)\n", &r);
	is_str(r.pattern->id, "unknown", "unknown message: unknown pattern");
	is_str(r.message, "something new went wrong here", "unknown: message is the error line");
	is_str(r.source, "foo();", "unknown: still the source line");
	is_int(r.insn, 4, "unknown: still the instruction");
	ok(r.pattern->explanation[0] && r.pattern->fix[0], "unknown: still says what to do");

	/* A message must not be taken from register states: "map_value_or_null" in a state
	 * line is not an error. */
	vlog_analyze("6: (85) call bpf_map_lookup_elem#1      ; R0_w=map_value_or_null(id=1)\n"
		     "7: (95) exit\nR0 leaks addr as return value\n", &r);
	is_str(r.pattern->id, "unknown", "state lines never match a pattern");
	is_str(r.message, "R0 leaks addr as return value", "message after the last insn");

	vlog_analyze("12: (bf) r1 = r0\nR1 invalid mem access 'scalar'\n", &r);
	is_str(r.pattern->id, "scalar_deref", "scalar dereference");
	vlog_analyze("5: (0f) r2 += r1\nmath between fp pointer and register with unbounded min value is not allowed\n", &r);
	is_str(r.pattern->id, "ptr_arith", "unbounded pointer arithmetic");
	vlog_analyze("8: (85) call bpf_xdp_load_bytes#189\nR3 type=scalar expected=fp, pkt, pkt_meta, map_value\n", &r);
	is_str(r.pattern->id, "helper_arg", "wrong helper argument type");

	vlog_stats("no numbers here", &s);
	is_int(s.insns_processed, -1, "stats absent: -1");
	is_int(s.verification_time_us, -1, "time absent: -1");
}

static void test_table(void)
{
	size_t n;
	const struct vlog_pattern *p = vlog_patterns(&n);
	int bad = 0, dup = 0;

	ok(n >= 15, "at least 15 patterns (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		if (!p[i].id[0] || !p[i].title[0] || strlen(p[i].explanation) < 40 || strlen(p[i].fix) < 20)
			bad++;
		for (size_t k = i + 1; k < n; k++)
			dup += !strcmp(p[i].id, p[k].id);
	}
	is_int(bad, 0, "every pattern has a title, an explanation and a fix");
	is_int(dup, 0, "pattern ids are unique");
	is_str(p[n - 1].id, "unknown", "unknown is last");
	ok(vlog_pattern_by_id("null_check") != NULL, "lookup by id");
	ok(vlog_pattern_by_id("nope") == NULL, "lookup of a missing id");
}

int main(void)
{
	test_stored_logs();
	test_ref_origin();
	test_stats();
	test_synthetic();
	test_table();
	return tap_done();
}
