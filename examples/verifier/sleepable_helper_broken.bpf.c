// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: bpf_copy_from_user() may fault the page in, that is sleep, and a tracepoint
 * program may not sleep. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sys_enter {
	__u64 pad;
	long id;
	unsigned long args[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[64]);
} names SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int sleepable_helper(struct sys_enter *ctx)
{
	__u32 key = 0;
	char *buf = bpf_map_lookup_elem(&names, &key);

	if (!buf)
		return 0;
	bpf_copy_from_user(buf, 64, (void *)ctx->args[1]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
