// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab exec: one ring buffer record per execve/execveat, success or failure.
 *
 * Two hooks, and no copy of the arguments kept between them:
 * - sched_process_exec (only on success) builds the record from what the kernel owns:
 *   bprm->filename, bprm->argc, and the argument strings it just wrote to the new stack
 *   (mm->arg_start..arg_end). Reading the caller's strings at sys_enter instead fails in a
 *   freshly forked child whose string literals are not mapped yet; these reads never do.
 * - sys_exit, for failures only, reads the caller's filename and argv pointers from the
 *   syscall's saved registers: the old image is still there, and the kernel has faulted
 *   the filename in by then. No sys_enter hook stashing arguments in a map: that saves
 *   a program run and a map update on every exec (only execveat, which is rare, gets a
 *   sys_enter mark: see execveat_calls).
 * Records go out with BPF_RB_NO_WAKEUP; one wakeup is forced when the unread data crosses
 * wake_bytes. A wakeup per event costs ~2 µs here, and the reader polls every few ms
 * anyway. A record that does not fit is counted in `lost`, never dropped silently. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec.h"

#define ARGS_MASK (EXEC_ARGS_SIZE - 1)

/* Filters applied here, so that `lost` only counts events the user asked for. */
const volatile __u32 target_uid = (__u32)-1; /* -u; -1: any */
const volatile bool filter_cgroup = false;   /* -c: cgroup_filter[0] holds the cgroup */
const volatile bool failed_only = false;     /* -x */
const volatile __u32 netns_ino = 0;          /* --netns: only this network namespace */
const volatile __u32 max_args = 20;          /* argv entries read for failed execs */
const volatile __u32 wake_bytes = 0;         /* force a wakeup past this much unread data */
const volatile __s64 nr_execve = -1;         /* syscall numbers, for the raw_tp fallback */
const volatile __s64 nr_execveat = -1;

__u64 lost = 0; /* records the ring buffer had no room for */

/* The record being built: too big for the 512-byte stack. The spare EXEC_ARGS_SIZE bytes
 * let a string read start at any masked offset below EXEC_ARGS_SIZE. */
struct scratch {
	struct exec_event ev;
	char spill[EXEC_ARGS_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* --ringbuf-size sets it before load */
} events SEC(".maps");

/* Threads inside an execveat, so a success can say which syscall it was: by
 * sched_process_exec the kernel has set the saved syscall number to execve's for both.
 * execveat is rare, so this costs one failed lookup per successful exec. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} execveat_calls SEC(".maps");

/* -c CGROUP: the process must be in this cgroup v2 or below it. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

static __always_inline bool wanted(__u32 uid)
{
	if (target_uid != (__u32)-1 && uid != target_uid)
		return false;
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return false;
	if (netns_ino) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		if (BPF_CORE_READ(task, nsproxy, net_ns, ns.inum) != netns_ino)
			return false;
	}
	return true;
}

/* The syscall's saved user registers: its arguments and its number. */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#else
#error "syscall_nr(): add this architecture"
#endif
}

static __always_inline __u16 syscall_kind(long nr)
{
	if (nr == nr_execve)
		return EXEC_SYS_EXECVE;
	if (nr == nr_execveat)
		return EXEC_SYS_EXECVEAT;
	return EXEC_SYS_NONE;
}

static __always_inline void fill_task(struct exec_event *ev, __u32 tid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);

	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->tid = tid;
	ev->ppid = BPF_CORE_READ(parent, tgid);
	bpf_probe_read_kernel_str(ev->pcomm, sizeof(ev->pcomm), &parent->comm);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

static __always_inline void submit(struct exec_event *ev)
{
	__u64 size = ev->args_len, avail;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (size > EXEC_ARGS_SIZE)
		size = EXEC_ARGS_SIZE;
	size += offsetof(struct exec_event, args);
	/* Wake the reader once as the backlog crosses wake_bytes, not on every event after. */
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail < wake_bytes && avail + size >= wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, ev, size, flags))
		__sync_fetch_and_add(&lost, 1);
}

static __always_inline struct exec_event *new_event(void)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return NULL;
	s->ev.flags = 0;
	s->ev.argc = 0;
	s->ev.args_len = 0;
	return &s->ev;
}

static __always_inline int on_exec(struct task_struct *task, __u32 old_pid,
				   struct linux_binprm *bprm)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u16 sys = EXEC_SYS_EXECVE;
	struct exec_event *ev;
	struct mm_struct *mm;
	__u64 start, end, len;
	long n;

	if (bpf_map_lookup_elem(&execveat_calls, &old_pid)) {
		sys = EXEC_SYS_EXECVEAT;
		bpf_map_delete_elem(&execveat_calls, &old_pid);
	}
	if (failed_only || !wanted(uid) || !(ev = new_event()))
		return 0;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->uid = uid;
	ev->syscall = sys;
	fill_task(ev, old_pid);
	ev->retval = 0;
	ev->flags = EXEC_F_FROM_SCHED;
	n = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	if (n < 0) {
		ev->filename[0] = 0;
		ev->flags |= EXEC_F_FILENAME_UNREADABLE;
	} else if (n == sizeof(ev->filename)) {
		ev->flags |= EXEC_F_FILENAME_TRUNCATED;
	}
	ev->argc = BPF_CORE_READ(bprm, argc);
	mm = BPF_CORE_READ(task, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > EXEC_ARGS_SIZE) {
		len = EXEC_ARGS_SIZE;
		ev->flags |= EXEC_F_ARGS_TRUNCATED;
	}
	if (len && bpf_probe_read_user(ev->args, len, (void *)start)) {
		len = 0;
		ev->flags |= EXEC_F_ARGS_UNREADABLE;
	}
	ev->args_len = len;
	submit(ev);
	return 0;
}

static __always_inline void read_argv(struct exec_event *ev, const void *argv)
{
	__u64 off = 0;
	__u32 i;

	for (i = 0; i < EXEC_MAX_ARGS_LIMIT; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), (const char *const *)argv + i)) {
			ev->flags |= EXEC_F_ARGS_UNREADABLE;
			break;
		}
		if (!arg)
			break;
		if (i >= max_args) {
			ev->flags |= EXEC_F_MAX_ARGS;
			break;
		}
		if (off >= EXEC_ARGS_SIZE) {
			ev->flags |= EXEC_F_ARGS_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(&ev->args[off & ARGS_MASK], EXEC_ARGS_SIZE, arg);
		if (n < 0) {
			ev->flags |= EXEC_F_ARGS_UNREADABLE;
			break;
		}
		off += n;
		ev->argc++;
	}
	if (off > EXEC_ARGS_SIZE) {
		off = EXEC_ARGS_SIZE;
		ev->flags |= EXEC_F_ARGS_TRUNCATED;
	}
	ev->args_len = off;
}

/* A failed exec (ret < 0): the caller is unchanged, its arguments are in the saved
 * registers. Success was reported at sched_process_exec. */
static __always_inline void on_exit(long ret, __u16 sys)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct exec_event *ev;
	struct pt_regs *regs;
	const void *filename, *argv;
	long n;

	if (ret >= 0 || !wanted(uid) || !(ev = new_event()))
		return;
	regs = syscall_regs();
	if (sys == EXEC_SYS_EXECVEAT) {
		filename = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		argv = (const void *)PT_REGS_PARM3_CORE_SYSCALL(regs);
	} else {
		filename = (const void *)PT_REGS_PARM1_CORE_SYSCALL(regs);
		argv = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->uid = uid;
	ev->syscall = sys;
	ev->retval = ret;
	fill_task(ev, (__u32)bpf_get_current_pid_tgid());
	n = bpf_probe_read_user_str(ev->filename, sizeof(ev->filename), filename);
	if (n < 0) {
		ev->filename[0] = 0;
		ev->flags |= EXEC_F_FILENAME_UNREADABLE;
	} else if (n == sizeof(ev->filename)) {
		ev->flags |= EXEC_F_FILENAME_TRUNCATED;
	}
	read_argv(ev, argv);
	submit(ev);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exec_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	on_exit(ctx->ret, EXEC_SYS_EXECVE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int exec_enter_execveat(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	bpf_map_update_elem(&execveat_calls, &tid, &one, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int exec_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&execveat_calls, &tid);
	on_exit(ctx->ret, EXEC_SYS_EXECVEAT);
	return 0;
}

/* Fallback without tracefs: the raw syscall tracepoint runs for every syscall, so it
 * costs more; successful execveats are then reported as execve. The saved syscall
 * number is intact after a failure. */
SEC("raw_tp/sys_exit")
int BPF_PROG(exec_raw_exit, struct pt_regs *regs, long ret)
{
	__u16 sys;

	if (ret >= 0)
		return 0;
	sys = syscall_kind(syscall_nr(regs));
	if (sys != EXEC_SYS_NONE)
		on_exit(ret, sys);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_sched_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_sched_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
