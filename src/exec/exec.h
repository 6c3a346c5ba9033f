/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by exec.bpf.c and cmd_exec.c: one ring buffer record per exec. */
#ifndef BPFLAB_EXEC_H
#define BPFLAB_EXEC_H

#define EXEC_COMM_LEN 16
#define EXEC_FILENAME_LEN 256
/* Bytes of arguments kept per exec (NUL-separated, like /proc/PID/cmdline). A power of
 * two: the BPF side masks offsets with EXEC_ARGS_SIZE - 1 to prove its writes in bounds. */
#define EXEC_ARGS_SIZE 8192
/* Upper bound of --max-args: failed execs read argv pointer by pointer, in a loop the
 * verifier must see bounded. */
#define EXEC_MAX_ARGS_LIMIT 1024

enum exec_syscall {
	EXEC_SYS_NONE = 0,   /* not an exec syscall (raw_tp fallback only) */
	EXEC_SYS_EXECVE = 1,
	EXEC_SYS_EXECVEAT = 2,
};

enum exec_flags {
	EXEC_F_ARGS_TRUNCATED = 1 << 0,  /* more argument bytes than EXEC_ARGS_SIZE */
	EXEC_F_ARGS_UNREADABLE = 1 << 1, /* user memory could not be read (page not mapped) */
	EXEC_F_FILENAME_UNREADABLE = 1 << 2,
	EXEC_F_FILENAME_TRUNCATED = 1 << 3, /* filename filled EXEC_FILENAME_LEN */
	EXEC_F_FROM_SCHED = 1 << 4,      /* filled at sched_process_exec (successful exec) */
	EXEC_F_MAX_ARGS = 1 << 5,        /* argv reading stopped at max_args (failed execs) */
};

/* Variable length: the ring gets offsetof(struct exec_event, args) + args_len bytes. */
struct exec_event {
	__u64 ts_ns;       /* CLOCK_MONOTONIC when the outcome was known */
	__u32 pid;         /* tgid after the exec */
	__u32 tid;         /* thread that called exec (before the exec) */
	__u32 ppid;
	__u32 uid;
	__s32 retval;      /* 0 or -errno */
	__u32 argc;        /* successful execs: arguments the program got; failed: argv entries read */
	__u32 args_len;    /* bytes used in args[] */
	__u16 flags;       /* enum exec_flags */
	__u16 syscall;     /* enum exec_syscall */
	char comm[EXEC_COMM_LEN];  /* after a successful exec: the new name */
	char pcomm[EXEC_COMM_LEN]; /* parent's comm */
	char filename[EXEC_FILENAME_LEN];
	char args[EXEC_ARGS_SIZE];
};

#endif
