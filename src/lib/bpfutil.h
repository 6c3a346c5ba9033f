/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every BPF command repeats: libbpf set-up, filesystems, XDP attach through
 * bpf_link with a chosen mode, pinning under /sys/fs/bpf/bpflab, test runs. */
#ifndef BPFLAB_BPFUTIL_H
#define BPFLAB_BPFUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define BPFLAB_PIN_ROOT "/sys/fs/bpf/bpflab"

/* tcx attach types (kernel 6.6): the build machine's <linux/bpf.h> may predate them, and
 * they are enum values, so #ifndef cannot tell. */
#define BPFLAB_TCX_INGRESS 46
#define BPFLAB_TCX_EGRESS 47

/* libbpf's own messages go to stderr only with -v; call before opening anything. */
void bpflab_libbpf_init(void);

/* Mount bpffs at /sys/fs/bpf, or tracefs at /sys/kernel/tracing, when missing.
 * Return 0 when mounted (already or now); `*mounted_now` says whether we did it. */
int ensure_bpffs(bool *mounted_now);
int ensure_tracefs(const char **path);
bool fs_is_mounted(const char *path, unsigned long magic);

enum xdp_mode { XDP_MODE_AUTO, XDP_MODE_NATIVE, XDP_MODE_GENERIC };
int xdp_mode_parse(const char *s, enum xdp_mode *mode);
const char *xdp_mode_str(enum xdp_mode mode);

struct xdp_present {
	__u32 prog_id;
	char name[32];
	const char *mode; /* "native", "generic", "offload", "multi" */
};
/* 1 when an XDP program is attached to ifindex (filled in), 0 when none, -errno. */
int xdp_query_present(int ifindex, struct xdp_present *out);

/* Every XDP and tcx program on an interface of the current netns. */
#define IFACE_PROGS_MAX 16
struct iface_prog {
	__u32 id;
	char name[16];    /* BPF_OBJ_NAME_LEN */
	const char *hook; /* "xdp", "tcx_ingress", "tcx_egress" */
	const char *mode; /* xdp: "native", "generic", "offload"; tcx: "link" */
};
/* Fills out[0..cap) and returns how many, or -errno. */
int iface_programs(int ifindex, struct iface_prog *out, int cap);

/* Who holds XDP program prog_id on ifindex and what removes it, as a sentence into out:
 * bpflab's pins name their command, another pin its path, else the holding process. */
void xdp_owner_hint(int ifindex, __u32 prog_id, const char *ifname, char *out, size_t len);

/* Attaches prog_fd to ifindex through a bpf_link (gone when the last fd closes).
 * Refuses, naming it, when another XDP program is there. Returns the link fd, or
 * -errno after printing why; `effective` gets the mode the kernel actually used. */
int xdp_link_attach(int prog_fd, int ifindex, const char *ifname, enum xdp_mode mode,
		    enum xdp_mode *effective);

/* Pin folder of one command on one interface: BPFLAB_PIN_ROOT/<cmd>/<ifname> in the
 * initial netns, .../<ifname>@<netns> elsewhere, so labs cannot clash. */
int pin_dir_path(const char *cmd, const char *ifname, char *buf, size_t len);
/* Pinning is made atomic by pinning into "<dir>_tmp_<pid>" (bpffs refuses names with
 * dots), locked by its process, and renaming it into place: a kill -9 leaves either
 * nothing or a whole folder, plus maybe a temp folder of a dead process, which
 * pin_dir_recover removes (detaching a program whose link was pinned there).
 * pin_tmp_begin mounts bpffs if needed, recovers, makes and locks the tmp folder. */
int pin_tmp_begin(const char *dir, char *tmp, size_t len);
int pin_tmp_commit(const char *tmp, const char *dir);
/* What every pinning command does with the two above: link_fd as "link" and each of
 * objs[n] by its name into dir, atomically (all of them or nothing). 0 or -errno, said. */
struct pin_obj {
	const char *name;
	int fd;
};
int pin_link_and_maps(const char *dir, int link_fd, const struct pin_obj *objs, size_t n);
/* Removes what killed processes left next to dir (their "<dir>_tmp_<pid>" folders).
 * Every command that touches an interface's pinned state calls it first. */
void pin_dir_recover(const char *dir);
/* The same for every interface of one command (BPFLAB_PIN_ROOT/<cmd>/). */
void pin_cmd_recover(const char *cmd);
/* How many <cmd> pin folders belong to this network namespace; the first one's interface
 * in ifname. What `lb show`, `filter show` and the like use when no interface is given. */
int pin_cmd_only(const char *cmd, char *ifname, size_t len);
/* pin_dir_path, then pin_dir_recover on it. */
int pin_dir_prepare(const char *cmd, const char *ifname, char *buf, size_t len);
/* Removes a pin folder, everything pinned in it, and parents left empty. */
int pin_dir_remove(const char *dir);
int mkdir_p(const char *path, int mode);

/* Undoes a pin folder: moves it aside in one rename, detaches the bpf_link pinned as
 * <dir>/link (one whose interface is gone is already detached), then removes it.
 * -ENOENT when there is no folder; otherwise 0 or -errno, after printing why. */
int pin_dir_detach(const char *dir);
/* Prints the {"type":TYPE,"interface":...,"pin_dir":...} record, or `human` and the folder. */
void print_detached(const char *type, const char *ifname, const char *dir, const char *human);
/* `count --detach`, `lb stop`: undoes <cmd>'s pin folder of ifname and prints the record
 * (type, human as print_detached); missing names the thing when there is none. Returns an
 * exit code. */
int pin_undo(const char *cmd, const char *ifname, const char *missing, const char *type,
	     const char *human);

/* 1 when the pinned link at path is still attached to a live interface, 0 when it
 * is defunct or absent, -errno on other errors. */
int pinned_link_alive(const char *path);

/* BPF_PROG_TEST_RUN on a packet. */
struct test_run {
	const void *in;
	__u32 in_len;
	void *out;        /* optional */
	__u32 out_cap;    /* in: capacity of out */
	__u32 out_len;    /* result */
	__u32 retval;     /* result */
	__u32 duration;   /* result: mean ns per repetition */
	int repeat;
	int cpu;          /* -1: any; else the thread is pinned there for the run */
};
int test_run_xdp(int prog_fd, struct test_run *t);

const char *xdp_action_str(__u32 act);

/* Per-CPU counters: looks up `key` in a per-CPU map whose value is `n` __u64 counters and
 * adds them up over every possible CPU into out[0..n). 0 or -errno. */
int percpu_sum_u64(int map_fd, const void *key, __u64 *out, size_t n);

#endif
