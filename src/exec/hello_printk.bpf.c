// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The talk's Hello World as it was shown: a line in trace_pipe for every execve. Only the
 * hook differs (a syscall tracepoint: this kernel has no kprobes). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_execve")
int hello_execve(void *ctx)
{
	bpf_printk("Hello, exec!");
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
