// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed: the field by its real name, start_boottime, which this kernel (and every one
 * since 5.5) has; libbpf relocates the read to its offset here. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	__u64 start_boottime;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} started SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int core_relo(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 start = BPF_CORE_READ(t, start_boottime);
	__u32 key = 0;

	bpf_map_update_elem(&started, &key, &start, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
