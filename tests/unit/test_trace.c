// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab trace's names from the kernel (no root: /sys/kernel/btf/vmlinux is world-readable)
 * and its tracepoint table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "trace_prog.h"

/* The value the kernel's BTF gives a reason name, found by trying every value. */
static long find_reason(const char *name)
{
	for (long v = 0; v < 1024; v++) {
		const char *n = trace_drop_reason(v);
		if (n && !strcmp(n, name))
			return v;
	}
	return -1;
}

int main(void)
{
	char buf[128];

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		tap_skip("no kernel BTF");
		return tap_done();
	}
	/* Names without the enum's prefix, each on its own value. */
	ok(find_reason("NOT_SPECIFIED") >= 0, "NOT_SPECIFIED is a drop reason");
	ok(find_reason("NETFILTER_DROP") > 0, "NETFILTER_DROP is named from the BTF");
	ok(find_reason("NO_SOCKET") > 0 && find_reason("NO_SOCKET") != find_reason("NETFILTER_DROP"),
	   "NO_SOCKET has its own value");
	ok(find_reason("SKB_DROP_REASON_NO_SOCKET") < 0, "the prefix is taken off");
	ok(trace_drop_reason(100000) == NULL, "a value the kernel does not have: NULL, not a guess");
	ok(trace_rst_reason(0) != NULL, "sk_rst_reason names come from the BTF too");
	is_int(trace_ksym(0, buf, sizeof(buf)), -ENOENT, "no location: no symbol");
	is_str(buf, "", "no location: empty text");

	/* The table: every issue tracepoint once, with a group, a unique hook and a name. */
	is_int((int)trace_nhooks, 20, "20 tracepoints");
	for (size_t i = 0; i < trace_nhooks; i++) {
		ok(trace_hooks[i].hook > TRH_NONE && trace_hooks[i].hook < TRH_VERDICT,
		   "%s: a hook id", trace_hooks[i].name);
		is_str(trace_hook_name(trace_hooks[i].hook), trace_hooks[i].name, "%s: by id",
		       trace_hooks[i].name);
		for (size_t j = 0; j < i; j++)
			ok(trace_hooks[j].hook != trace_hooks[i].hook, "%s: unique", trace_hooks[i].name);
		snprintf(buf, sizeof(buf), "btf_trace_%s", trace_hooks[i].name);
		ok(trace_btf_has_type(buf), "this kernel has %s:%s", trace_hooks[i].group,
		   trace_hooks[i].name);
	}
	is_str(trace_hook_name(TRH_VERDICT), "verdict", "our programs' verdicts have a hook name");
	return tap_done();
}
