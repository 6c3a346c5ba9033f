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
	/* Issue 17: the rest of the gallery, one log per class. */
	{ "callback_return.log", "callback_return", 14, 6, "static long step(__u32 i, void *ctx)",
	  "At callback return the register R0 has smin=2 smax=2 should " },
	{ "core_relo.log", "core_relo", 1, 22, "struct task_struct *t = (void *)bpf_get_current_task();",
	  "1: <invalid CO-RE relocation>" },
	{ "global_func.log", "global_func", 8, 9, "return *len > 1000 ? XDP_DROP : XDP_PASS;",
	  "R1 invalid mem access 'mem_or_null'" },
	{ "helper_arg.log", "helper_arg", 3, 17, "__u64 *v = bpf_map_lookup_elem(&hits, (void *)(long)key);",
	  "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_valu" },
	{ "helper_size.log", "helper_size", 5, 13, "if (bpf_skb_load_bytes(skb, 0, buf, len))",
	  "R4 invalid zero-sized read: u64=[0,4294967295]" },
	{ "key_size.log", "key_size", 6, 17, "__u64 *v = bpf_map_lookup_elem(&hits, &key);",
	  "invalid read from stack R2 off=-4 size=8" },
	{ "map_type.log", "map_type", 3, 16, "bpf_tail_call(ctx, &jump, 0);",
	  "expected prog array map for tail call" },
	{ "mem_bounds.log", "mem_bounds", 10, 19, "e[1] = ctx->rx_queue_index;",
	  "invalid access to memory, mem_size=8 off=8 size=8" },
	{ "misaligned.log", "misaligned", 18, 17, "*(__u32 *)p = v;",
	  "misaligned stack access off 0+-15+0 size 4" },
	{ "pkt_end_arith.log", "pkt_end_arith", 5, 15, "trailer = (__u32 *)(end - 4);",
	  "R1 pointer arithmetic on pkt_end prohibited" },
	{ "pkt_invalidated.log", "pkt_invalidated", 11, 19, "return eth->h_proto == __builtin_bswap16(ETH_P_ARP) ? XDP_DROP : XDP_PASS;",
	  "R6 invalid mem access 'scalar'" },
	{ "pkt_readonly.log", "pkt_readonly", 6, 13, "*p = 0; /* clear the first byte */",
	  "cannot write into packet" },
	{ "pkt_var_off.log", "pkt_var_off", 11, 20, "return *p ? XDP_DROP : XDP_PASS;",
	  "invalid access to packet, off=0 size=1, R1(id=1,off=0,r=0)" },
	{ "ptr_alu.log", "ptr_alu", 4, 16, "w = (void *)((long)(data + 17) & ~3L);",
	  "R1 bitwise operator &= on pointer prohibited" },
	{ "ptr_arith.log", "ptr_arith", 7, 17, "p = data + *off;",
	  "math between pkt pointer and register with unbounded min val" },
	{ "ptr_leak.log", "ptr_leak", 10, 21, "*v = ctx->data;",
	  "R1 leaks addr into map" },
	{ "rdonly_map.log", "rdonly_map", 5, 13, "*(volatile __u32 *)&threshold = 50;",
	  "write into map forbidden, value_size=4 off=0 size=4" },
	{ "return_range.log", "return_range", 4, 9, "return skb->len > 1000 ? 2 : 1;",
	  "At program exit the register R0 has smin=2 smax=2 should hav" },
	{ "scalar_deref.log", "scalar_deref", 3, 25, "char c = name[0];",
	  "R1 invalid mem access 'scalar'" },
	{ "sleepable_helper.log", "sleepable_helper", 12, 28, "bpf_copy_from_user(buf, 64, (void *)ctx->args[1]);",
	  "helper call might sleep in a non-sleepable prog" },
	{ "sleepable_kfunc.log", "sleepable_kfunc", 13, 30, "bpf_copy_from_user_str(buf, 64, (void *)ctx->args[1], 0);",
	  "program must be sleepable to call sleepable kfunc bpf_copy_f" },
	{ "sock_leak.log", "sock_leak", 21, 18, "}",
	  "Unreleased reference id=2 alloc_insn=13" },
	{ "spin_lock_call.log", "spin_lock_call", 11, 28, "c->stamp = bpf_ktime_get_ns();",
	  "function calls are not allowed while holding a lock" },
	{ "spin_lock_exit.log", "spin_lock_exit", 22, 28, "if (skb->len > 1000)",
	  "BPF_EXIT instruction in main prog cannot be used inside bpf_" },
	{ "stack_var_off.log", "stack_var_off", 20, 16, "seen[*b] = 1;",
	  "invalid variable-offset write to stack R2 var_off=(0x0; 0xff" },
	{ "tail_call_stack.log", "tail_call_stack", -1, 0, "",
	  "tail_calls are not allowed when call stack of previous frame" },
	{ "too_complex_bounded.log", "too_complex", 9, 14, "if (sum > 1000000)",
	  "BPF program is too large. Processed 1000001 insn" },
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
		ok(!r.pre_verifier, "%s: a verifier message", e->log);
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
	is_str(r.pattern->id, "ptr_leak", "state lines never match a pattern (not null_check)");
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


/* The log walked back: which instruction made the register, and what killed it. */
static void test_context(void)
{
	struct vlog_result r;
	char *log = slurp("pkt_invalidated.log");

	if (ok(log != NULL, "pkt_invalidated.log readable")) {
		vlog_analyze(log, &r);
		is_str(r.pattern->id, "pkt_invalidated", "scalar after adjust_head: invalidation");
		is_str(r.reg, "R6", "pkt_invalidated: the register");
		is_int(r.origin.insn, 2, "pkt_invalidated: made at insn 2");
		is_int(r.origin.line, 11, "pkt_invalidated: made at line 11");
		is_str(r.origin.source, "void *data = (void *)(long)ctx->data;", "origin source");
		is_str(r.invalidated_by, "bpf_xdp_adjust_head", "invalidated by adjust_head");
		is_int(r.invalidated.insn, 7, "invalidated at insn 7");
		is_int(r.invalidated.line, 17, "invalidated at line 17");
		ok(strstr(r.pattern->fix, "data_end") && strstr(r.pattern->fix, "again") &&
		   !strstr(r.pattern->fix, "bpf_probe_read_kernel"),
		   "fix: re-derive and re-check, not bpf_probe_read_kernel");
		ok(strstr(r.detail, "bpf_xdp_adjust_head") != NULL, "detail names the helper");
	}
	free(log);

	/* The same scalar with no packet-changing helper before it stays scalar_deref. */
	log = slurp("scalar_deref.log");
	if (ok(log != NULL, "scalar_deref.log readable")) {
		vlog_analyze(log, &r);
		is_str(r.pattern->id, "scalar_deref", "user pointer: scalar_deref");
		is_str(r.invalidated_by, "", "no invalidating helper");
		ok(r.origin.insn >= 0 && r.origin.line == 23, "scalar_deref: made at line 23 (%d)",
		   r.origin.line);
	}
	free(log);

	log = slurp("sock_leak.log");
	if (ok(log != NULL, "sock_leak.log readable")) {
		vlog_analyze(log, &r);
		is_int(r.origin_insn, 13, "sock_leak: acquired at insn 13");
		ok(strstr(r.origin_source, "bpf_sk_lookup_tcp") != NULL, "sock_leak: the lookup");
		ok(strstr(r.detail, "bpf_sk_lookup_tcp") != NULL, "sock_leak: detail names it");
	}
	free(log);

	log = slurp("core_relo.log");
	if (ok(log != NULL, "core_relo.log readable")) {
		vlog_analyze(log, &r);
		ok(strstr(r.detail, "task_struct.start_boottime_ns") != NULL,
		   "core_relo: the missing field (%s)", r.detail);
	}
	free(log);

	log = slurp("helper.log");
	if (ok(log != NULL, "helper.log readable")) {
		vlog_analyze(log, &r);
		ok(strstr(r.detail, "bpf_get_stackid") && strstr(r.detail, "4.6"),
		   "helper: its first kernel from the facts table (%s)", r.detail);
	}
	free(log);

	vlog_analyze("; x(); @ a.c:3\n4: (85) call unknown#250\ninvalid func unknown#250\n", &r);
	is_str(r.pattern->id, "helper_unknown", "invalid func: helper_unknown");
	ok(strstr(r.detail, "#250") != NULL, "helper_unknown: names the id");
	vlog_analyze("; x(); @ a.c:3\n4: (85) call bpf_ringbuf_output#130\nunknown func bpf_ringbuf_output#130\n", &r);
	is_str(r.pattern->id, "helper_unknown", "old kernels' unknown func");
	ok(strstr(r.detail, "5.8") != NULL, "ringbuf_output first appeared in 5.8 (%s)", r.detail);
	vlog_analyze("; x(); @ a.c:3\n4: (85) call bpf_tail_call#12\n"
		     "expected prog array map for tail callverification time 5 usec\n", &r);
	is_str(r.message, "expected prog array map for tail call",
	       "a message missing its newline is cut before the summary");
}

/* An unknown message: its words explained, the register state that matters. */
static void test_unknown_words(void)
{
	struct vlog_result r;

	vlog_analyze("; *p = v; @ a.c:9\n"
		     "5: (bf) r3 = r7                      ; R3_w=pkt(off=4,r=8) R7=pkt(off=4,r=8)\n"
		     "6: (7b) *(u64 *)(r3 +0) = r1\n"
		     "R3 frobnicated access off=4 size=8 to pkt\n", &r);
	is_str(r.pattern->id, "unknown", "a new message: unknown");
	is_str(r.reg, "R3", "unknown: the register of the message");
	is_str(r.reg_state, "pkt(off=4,r=8)", "unknown: its last state");
	is_int(r.origin.insn, 5, "unknown: where R3 was made");
	ok(r.nwords >= 3, "unknown: words explained (%zu)", r.nwords);
	int have_pkt = 0, have_off = 0, have_size = 0;
	for (size_t i = 0; i < r.nwords; i++) {
		have_pkt += !strcmp(r.words[i].word, "pkt");
		have_off += !strcmp(r.words[i].word, "off=");
		have_size += !strcmp(r.words[i].word, "size=");
	}
	ok(have_pkt && have_off && have_size, "unknown: pkt, off= and size= explained");
	ok(strcmp(r.pattern->title, "not a pattern bpflab knows") == 0 && r.nwords,
	   "unknown never ends at the title alone");
}

struct pasted {
	const char *file;
	enum vlog_loader loader;
	const char *pattern;
	int insn, line;
};

/* Logs as other loaders print them (tests/data/vlogs/explain_*.txt). */
static void test_explain(void)
{
	static const struct pasted cases2[] = {
		{ "explain_libbpf.txt", VLOG_LIBBPF, "pkt_invalidated", 11, 19 },
		{ "explain_libbpf_old.txt", VLOG_LIBBPF, "license_gpl", 3, 10 },
		{ "explain_bpftool.txt", VLOG_BPFTOOL, "pkt_bounds", 1, 13 },
		{ "explain_cilium.txt", VLOG_CILIUM, "sleepable_helper", -1, 0 },
		{ "explain_cilium_full.txt", VLOG_CILIUM, "stack_var_off", 20, 16 },
		{ "explain_aya.txt", VLOG_AYA, "helper_size", 5, 13 },
		{ "explain_journal.txt", VLOG_AYA, "pkt_var_off", 11, 20 },
		{ "explain_bcc.txt", VLOG_BCC, "spin_lock_call", 11, 28 },
		{ "kfunc_missing.libbpf.log", VLOG_LIBBPF, "kfunc_missing", -1, 0 },
		{ "map_create.libbpf.log", VLOG_LIBBPF, "map_create", -1, 0 },
		{ "no_btf.libbpf.log", VLOG_LIBBPF, "no_btf", -1, 0 },
		{ "section.libbpf.log", VLOG_LIBBPF, "bad_section", -1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
		const struct pasted *e = &cases2[i];
		struct vlog_result r;
		enum vlog_loader l;
		char *log = NULL, *text = slurp(e->file);

		if (!ok(text != NULL, "%s: readable", e->file))
			continue;
		is_int(vlog_explain(text, &r, &l, &log), 0, "%s: explained", e->file);
		is_str(vlog_loader_name(l), vlog_loader_name(e->loader), "%s: loader", e->file);
		is_str(r.pattern->id, e->pattern, "%s: pattern", e->file);
		is_int(r.insn, e->insn, "%s: insn", e->file);
		is_int(r.line, e->line, "%s: line", e->file);
		ok(r.has_error, "%s: a rejection", e->file);
		ok(r.pre_verifier == (e->insn < 0 && e->loader == VLOG_LIBBPF), "%s: stage", e->file);
		free(log);
		free(text);
	}
	struct vlog_result r;
	enum vlog_loader l;
	is_int(vlog_explain("hello, nothing here\n", &r, &l, NULL), -EINVAL,
	       "text without a log: -EINVAL");
	char *acc = slurp("accepted_null_check.log");
	if (acc) {
		is_int(vlog_explain(acc, &r, &l, NULL), 0, "an accepted log: explained");
		ok(!r.has_error, "an accepted log: no rejection");
		is_str(vlog_loader_name(l), "raw", "a bare log: raw");
	}
	free(acc);
}

static void test_table(void)
{
	size_t n;
	const struct vlog_pattern *p = vlog_patterns(&n);
	int bad = 0, dup = 0;

	ok(n >= 40, "at least 40 patterns (%zu)", n);
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
	test_context();
	test_unknown_words();
	test_explain();
	test_table();
	return tap_done();
}
