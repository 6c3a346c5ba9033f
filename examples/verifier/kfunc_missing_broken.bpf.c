// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Broken: declares and calls a kfunc this kernel does not have (a misspelt
 * bpf_task_from_pid): libbpf finds no such function in the kernel's BTF. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));
extern struct task_struct *bpf_task_by_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tracepoint/syscalls/sys_enter_execve")
int kfunc_missing(void *ctx)
{
	struct task_struct *t = bpf_task_by_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
