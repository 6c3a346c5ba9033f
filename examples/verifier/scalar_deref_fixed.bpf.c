// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: user memory is read with bpf_probe_read_user(). */
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
	char c = 0;

	bpf_probe_read_user(&c, 1, name);
	bpf_map_update_elem(&first, &key, &c, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
