// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: dereferences a syscall argument (a user-space address) as if it were memory
 * the program may read: to the verifier it is a number. */
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
	__type(value, char);
} first SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int scalar_deref(struct sys_enter *ctx)
{
	const char *name = (const char *)ctx->args[1];
	__u32 key = 0;
	char c = name[0];

	bpf_map_update_elem(&first, &key, &c, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
