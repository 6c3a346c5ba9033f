// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab bench, section live: the same UDP traffic dropped at each layer of the talk's
 * picture, and forwarded by Linux and by XDP, in throwaway namespaces.
 *
 *   gen ns: gX ==veth== rX : rx ns (the measured hop) : fX ==veth== dX : dst ns
 *
 * Traffic: BPF_PROG_TEST_RUN in XDP live-frames mode (no pktgen here) runs xdp_gen on
 * one CPU; its XDP_TX sends each frame out of gX into rX. rX runs threaded NAPI, its
 * kthread pinned to the other CPU, so everything the receiver does happens there: the
 * CPU time that CPU used (from /proc/stat) divided by the packets the layer handled is
 * the cost per packet, whether or not the receiver was saturated. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "pkt.h"
#include "bench.h"
#include "bare.skel.h"

#define UDP_PORT 9000
/* Frames per live-frames run: the count bound of the traffic loop (~25 s at 2 Mpps). The
 * run is stopped earlier by a signal: each run ends with an RCU grace period (page pool
 * teardown) that would leave the receiver idle if the generator ran in short chunks. */
#define GEN_MAX_FRAMES 50000000
#define WARMUP_S 0.2

enum row_kind {
	R_XDP_NATIVE, R_XDP_GENERIC, R_TC, R_NFT_INGRESS, R_NFT_RAW, R_IPT_RAW,
	R_UDP_CLOSED, R_UDP_SOCKET, R_FWD_LINUX, R_FWD_XDP,
};

#define LAST 9 /* run_order of rows that must run after all others */

struct row_def {
	const char *id, *label, *group;
	enum row_kind kind;
	int run_order; /* iptables-legacy leaves its raw table hooked in the netns: run it last */
};

static const struct row_def defs[] = {
	{ "xdp_native_drop", "XDP native drop", "drop", R_XDP_NATIVE, 0 },
	{ "xdp_generic_drop", "XDP generic drop", "drop", R_XDP_GENERIC, 1 },
	{ "tc_drop", "TC ingress (clsact) drop", "drop", R_TC, 2 },
	{ "nft_ingress_drop", "nftables netdev ingress drop", "drop", R_NFT_INGRESS, 3 },
	{ "nft_raw_drop", "nftables raw prerouting drop", "drop", R_NFT_RAW, 4 },
	{ "iptables_raw_drop", "iptables-legacy raw drop", "drop", R_IPT_RAW, LAST },
	{ "udp_closed", "stack: UDP to a closed port", "drop", R_UDP_CLOSED, 5 },
	{ "udp_socket", "stack: UDP socket, read+discard", "drop", R_UDP_SOCKET, 6 },
	{ "linux_forward", "forward: Linux ip_forward", "forward", R_FWD_LINUX, 7 },
	{ "xdp_forward", "forward: XDP fib_lookup+redirect", "forward", R_FWD_XDP, 8 },
};

/* Repetitions of one row, collected across interleaved rounds. */
struct row_acc {
	double pps[BENCH_MAX_REPS], ns[BENCH_MAX_REPS], gp[BENCH_MAX_REPS];
	double busy[BENCH_MAX_REPS], share[BENCH_MAX_REPS];
	int done;
	bool failed;
};

static const struct row_def *row_def_of(const char *id)
{
	for (size_t j = 0; j < sizeof(defs) / sizeof(defs[0]); j++)
		if (!strcmp(defs[j].id, id))
			return &defs[j];
	return NULL;
}

const char *const bench_live_ids[] = {
	"xdp_native_drop", "xdp_generic_drop", "tc_drop", "nft_ingress_drop", "nft_raw_drop",
	"iptables_raw_drop", "udp_closed", "udp_socket", "linux_forward", "xdp_forward", NULL,
};

/* Addresses: RFC 2544's benchmarking range, in namespaces only this run can see. */
#define GEN_IP "198.18.101.1"
#define RX_IP "198.18.101.2"
#define FWD_IP "198.18.102.1"
#define DST_IP "198.18.102.2"
static const uint8_t mac_g[6] = { 0x02, 0xbe, 0x00, 0x00, 0x65, 0x01 };
static const uint8_t mac_r[6] = { 0x02, 0xbe, 0x00, 0x00, 0x65, 0x02 };
static const uint8_t mac_f[6] = { 0x02, 0xbe, 0x00, 0x00, 0x66, 0x01 };
static const uint8_t mac_d[6] = { 0x02, 0xbe, 0x00, 0x00, 0x66, 0x02 };

struct env {
	char ns_gen[32], ns_rx[32], ns_dst[32];
	char if_g[16], if_r[16], if_f[16], if_d[16];
	int idx_g, idx_r, idx_d;
	int home_ns;            /* fd of the namespace we started in */
	bool made;
	const struct bench_opts *o;
};

/* ---- small helpers ---- */

static int enter_ns(struct env *e, const char *name)
{
	if (!name)
		return setns(e->home_ns, CLONE_NEWNET) ? -errno : 0;
	return netns_enter(name);
}

static int ifindex_in(struct env *e, const char *ns, const char *ifname)
{
	int idx;

	if (enter_ns(e, ns))
		return -1;
	idx = if_nametoindex(ifname);
	enter_ns(e, NULL);
	return idx ? idx : -1;
}

static const char *mac_str(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static bool have_prog(const char *name)
{
	char path[64];
	const char *dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

/* Runs a command line inside namespace ns; quiet. Returns its exit status. */
static int ns_run(const char *ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ns_run(const char *ns, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pr_debug("bench: [%s] %s\n", ns, cmd);
	return run_cmdf(!g_opts.verbose, "ip netns exec %s %s", ns, cmd);
}

/* sysfs shows the devices of the namespace it was mounted in: `ip netns exec` mounts the
 * namespace's own, so the write goes through a shell there. */
static int ns_set_threaded(const char *ns, const char *ifname)
{
	char cmd[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s sh -c 'echo 1 > /sys/class/net/%s/threaded'",
		 ns, ifname);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	return pclose(f) ? -1 : 0;
}

/* Reads the first integer after `key` in the output of a command run in ns. */
static long long ns_read_after(const char *ns, const char *cmd, const char *key, int field)
{
	char full[512], line[1024];
	long long v = -1;
	FILE *f;

	snprintf(full, sizeof(full), "ip netns exec %s %s 2>/dev/null", ns, cmd);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);
		if (!p)
			continue;
		if (field < 0) {
			v = strtoll(p + strlen(key), NULL, 10);
		} else {
			/* whitespace-separated column `field` of this line */
			char *save, *tok = strtok_r(line, " \t", &save);
			for (int i = 0; tok && i < field; i++)
				tok = strtok_r(NULL, " \t", &save);
			if (tok)
				v = strtoll(tok, NULL, 10);
		}
		break;
	}
	pclose(f);
	return v;
}

/* UDP NoPorts of the rx namespace, from its /proc/net/snmp. */
static long long udp_noports(const char *ns)
{
	char full[256], hdr[1024] = "", line[1024];
	long long v = -1;
	FILE *f;

	snprintf(full, sizeof(full), "ip netns exec %s cat /proc/net/snmp", ns);
	f = popen(full, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!hdr[0]) {
			snprintf(hdr, sizeof(hdr), "%s", line);
			continue;
		}
		char *s1, *s2, *h = strtok_r(hdr, " \n", &s1), *d = strtok_r(line, " \n", &s2);
		for (; h && d; h = strtok_r(NULL, " \n", &s1), d = strtok_r(NULL, " \n", &s2))
			if (!strcmp(h, "NoPorts")) {
				v = strtoll(d, NULL, 10);
				break;
			}
		break;
	}
	pclose(f);
	return v;
}

/* Busy and total ticks of one CPU from /proc/stat. Busy is user+nice+system+irq+softirq:
 * steal is time the hypervisor gave to someone else, idle and iowait are not work. */
static int cpu_ticks(int cpu, unsigned long long *busy, unsigned long long *total)
{
	char line[512], want[16];
	unsigned long long v[10] = {};
	FILE *f = fopen("/proc/stat", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 7) {
			*busy = v[0] + v[1] + v[2] + v[5] + v[6];
			*total = *busy + v[3] + v[4] + v[7];
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

static int pin_to(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

#define MAX_TIDS 8
/* The machine may be shared: a higher weight (not a real-time class, which could starve
 * everything else) keeps the receiver and the generator ahead of other work on their
 * CPUs, so the rates seen are closer to what the CPUs can do. The cost per packet comes
 * from the threads' own CPU time and does not depend on this. */
#define BENCH_NICE -10

/* Threads whose CPU time is the receiver's cost: the NAPI kthread of the receiving veth
 * ("napi/<ifname>-<id>", pinned here to the receiving CPU: it comes and goes with XDP
 * attach/detach, so this runs for every repetition) and that CPU's ksoftirqd, which
 * takes over softirq work under load. */
static int receiver_tids(const char *ifname, int cpu, pid_t *tids, int max)
{
	char want[32], ksoft[32], path[300], comm[64];
	struct dirent *de;
	int n = 0, napi = 0;
	DIR *d;

	snprintf(want, sizeof(want), "napi/%s-", ifname);
	want[15] = 0; /* comm is 15 characters */
	snprintf(ksoft, sizeof(ksoft), "ksoftirqd/%d\n", cpu);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		FILE *f;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			if (!strncmp(comm, want, strlen(want)) && !pin_to(atoi(de->d_name), cpu)) {
				tids[n++] = atoi(de->d_name);
				setpriority(PRIO_PROCESS, tids[n - 1], BENCH_NICE);
				napi++;
			} else if (!strcmp(comm, ksoft)) {
				tids[n++] = atoi(de->d_name);
			}
		}
		fclose(f);
	}
	closedir(d);
	return napi ? n : -ESRCH;
}

/* CPU time a thread has used, in ns (the scheduler's sum_exec_runtime): unlike /proc/stat,
 * it does not count other people's processes on the same CPU. */
static unsigned long long thread_ns(pid_t tid)
{
	char path[64];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static unsigned long long threads_ns(const pid_t *tids, int n)
{
	unsigned long long sum = 0;

	for (int i = 0; i < n; i++)
		sum += thread_ns(tids[i]);
	return sum;
}

/* ---- the namespaces ---- */

static void env_down(struct env *e)
{
	if (!e->made)
		return;
	/* Deleting the namespaces removes the veths, qdiscs, tables and XDP links in them. */
	run_cmdf(true, "ip netns del %s", e->ns_gen);
	run_cmdf(true, "ip netns del %s", e->ns_rx);
	run_cmdf(true, "ip netns del %s", e->ns_dst);
	e->made = false;
}

/* A bench killed with SIGKILL leaves its namespaces: remove those of dead processes. */
static void env_reap_stale(void)
{
	struct dirent *de;
	DIR *d = opendir("/run/netns");

	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned int pid;
		char role[8];
		if (sscanf(de->d_name, "bpflab-bench%x-%7s", &pid, role) != 2)
			continue;
		if (kill(pid, 0) && errno == ESRCH) {
			pr_debug("bench: removing stale namespace %s\n", de->d_name);
			run_cmdf(true, "ip netns del %s", de->d_name);
		}
	}
	closedir(d);
}

static int env_up(struct env *e, char *why, size_t wlen)
{
	char m1[20], m2[20], m3[20], m4[20];
	unsigned int id = getpid() & 0xffffff;
	int err = 0;

	snprintf(e->ns_gen, sizeof(e->ns_gen), "bpflab-bench%x-gen", id);
	snprintf(e->ns_rx, sizeof(e->ns_rx), "bpflab-bench%x-rx", id);
	snprintf(e->ns_dst, sizeof(e->ns_dst), "bpflab-bench%x-dst", id);
	snprintf(e->if_g, sizeof(e->if_g), "b%xg", id);
	snprintf(e->if_r, sizeof(e->if_r), "b%xr", id);
	snprintf(e->if_f, sizeof(e->if_f), "b%xf", id);
	snprintf(e->if_d, sizeof(e->if_d), "b%xd", id);
	env_reap_stale();
	e->made = true;
	mac_str(mac_g, m1), mac_str(mac_r, m2), mac_str(mac_f, m3), mac_str(mac_d, m4);
	err |= run_cmdf(true, "ip netns add %s", e->ns_gen);
	err |= run_cmdf(true, "ip netns add %s", e->ns_rx);
	err |= run_cmdf(true, "ip netns add %s", e->ns_dst);
	if (err) {
		snprintf(why, wlen, "cannot create network namespaces (ip netns add)");
		return -1;
	}
	/* Created directly inside the namespaces: nothing ever appears in ours. */
	err |= ns_run(e->ns_gen, "ip link add %s address %s type veth peer name %s address %s "
		      "netns %s", e->if_g, m1, e->if_r, m2, e->ns_rx);
	err |= ns_run(e->ns_rx, "ip link add %s address %s type veth peer name %s address %s "
		      "netns %s", e->if_f, m3, e->if_d, m4, e->ns_dst);
	err |= ns_run(e->ns_gen, "ip addr add " GEN_IP "/24 dev %s", e->if_g);
	err |= ns_run(e->ns_gen, "ip link set %s up", e->if_g);
	err |= ns_run(e->ns_gen, "ip link set lo up");
	err |= ns_run(e->ns_rx, "ip addr add " RX_IP "/24 dev %s", e->if_r);
	err |= ns_run(e->ns_rx, "ip addr add " FWD_IP "/24 dev %s", e->if_f);
	err |= ns_run(e->ns_rx, "ip link set %s up", e->if_r);
	err |= ns_run(e->ns_rx, "ip link set %s up", e->if_f);
	err |= ns_run(e->ns_rx, "ip link set lo up");
	err |= ns_run(e->ns_dst, "ip addr add " DST_IP "/24 dev %s", e->if_d);
	err |= ns_run(e->ns_dst, "ip link set %s up", e->if_d);
	/* Static neighbours: no ARP in the measured path, and the XDP forwarder's
	 * bpf_fib_lookup finds the next hop's MAC at once. */
	err |= ns_run(e->ns_rx, "ip neigh replace " GEN_IP " lladdr %s dev %s nud permanent", m1,
		      e->if_r);
	err |= ns_run(e->ns_rx, "ip neigh replace " DST_IP " lladdr %s dev %s nud permanent", m4,
		      e->if_f);
	err |= ns_run(e->ns_gen, "ip neigh replace " RX_IP " lladdr %s dev %s nud permanent", m2,
		      e->if_g);
	err |= ns_run(e->ns_rx, "sysctl -qw net.ipv4.ip_forward=1");
	/* A veth without an XDP program has NAPI only with GRO on; XDP_TX into it needs that
	 * NAPI, and threaded NAPI lets us run the receiver on its own CPU. */
	err |= ns_run(e->ns_rx, "ethtool -K %s gro on", e->if_r);
	err |= ns_set_threaded(e->ns_rx, e->if_r);
	if (err) {
		snprintf(why, wlen, "setting up the veth pairs failed (run with -v to see the commands)");
		return -1;
	}
	e->idx_g = ifindex_in(e, e->ns_gen, e->if_g);
	e->idx_r = ifindex_in(e, e->ns_rx, e->if_r);
	e->idx_d = ifindex_in(e, e->ns_dst, e->if_d);
	if (e->idx_g < 0 || e->idx_r < 0 || e->idx_d < 0) {
		snprintf(why, wlen, "the bench interfaces did not appear");
		return -1;
	}
	return 0;
}

/* ---- traffic generator ---- */

struct gen {
	struct env *e;
	int prog_fd;
	uint8_t frame[PKT_MAX]; /* pkt_build may use the whole buffer */
	size_t len;
	struct bare_bpf *skel;
	atomic_bool stop, done;
	int err;
	pthread_t th;
};

static void on_stop_signal(int sig)
{
	/* Only interrupts the generator's BPF_PROG_TEST_RUN (it returns EINTR). */
}

static long long percpu_sum(int map_fd)
{
	__u64 sum;
	__u32 key = 0;

	return percpu_sum_u64(map_fd, &key, &sum, 1) ? -1 : (long long)sum;
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	struct xdp_md ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, o);

	setpriority(PRIO_PROCESS, 0, BENCH_NICE);
	if (pin_to(0, g->e->o->cpu_gen) || netns_enter(g->e->ns_gen)) {
		g->err = -errno;
		atomic_store(&g->done, true);
		return NULL;
	}
	ctx.data_end = g->len;
	ctx.ingress_ifindex = g->e->idx_g;
	o.data_in = g->frame;
	o.data_size_in = g->len;
	o.ctx_in = &ctx;
	o.ctx_size_in = sizeof(ctx);
	o.repeat = GEN_MAX_FRAMES;
	o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	o.batch_size = 256;
	if (!atomic_load(&g->stop) && !exiting && bpf_prog_test_run_opts(g->prog_fd, &o) &&
	    errno != EINTR)
		g->err = -errno;
	atomic_store(&g->done, true);
	return NULL;
}

/* 60-byte UDP frames (64 on the wire with the FCS, as in the XDP paper). */
static void build_frame(struct gen *g, bool forward)
{
	struct pkt_spec s;
	static const uint8_t payload[18];

	pkt_spec_default(&s);
	memcpy(s.src_mac, mac_g, 6);
	memcpy(s.dst_mac, mac_r, 6);
	inet_pton(AF_INET, GEN_IP, &s.src4);
	inet_pton(AF_INET, forward ? DST_IP : RX_IP, &s.dst4);
	s.proto = IPPROTO_UDP;
	s.sport = 40000;
	s.dport = UDP_PORT;
	s.payload = payload;
	s.payload_len = sizeof(payload);
	g->len = pkt_build(&s, g->frame);
}

/* ---- the UDP reader ---- */

struct reader {
	struct env *e;
	int fd;
	atomic_bool stop;
	atomic_ullong got;
	atomic_int tid;
	pthread_t th;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	static char bufs[64][128];

	pin_to(0, r->e->o->cpu_rx);
	setpriority(PRIO_PROCESS, 0, BENCH_NICE);
	atomic_store(&r->tid, gettid());
	for (int i = 0; i < 64; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&r->stop)) {
		int n = recvmmsg(r->fd, msgs, 64, MSG_WAITFORONE, NULL);
		if (n > 0)
			atomic_fetch_add(&r->got, n);
	}
	return NULL;
}

static int reader_open(struct reader *r, char *why, size_t wlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT) };
	struct timeval tv = { .tv_usec = 100000 };
	int big = 4 << 20;

	if (enter_ns(r->e, r->e->ns_rx))
		return -1;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	enter_ns(r->e, NULL);
	if (r->fd < 0) {
		snprintf(why, wlen, "socket: %s", strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, RX_IP, &a.sin_addr);
	setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(r->fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(why, wlen, "bind " RX_IP ":%d: %s", UDP_PORT, strerror(errno));
		close(r->fd);
		return -1;
	}
	return 0;
}

/* ---- keeping the receiving CPU awake ----
 * An idle vCPU halts, and waking it for each burst of frames goes through the hypervisor:
 * measured here, the NAPI thread then slept ~60% of the time while its ring overflowed.
 * A SCHED_IDLE thread spinning on that CPU keeps it running; any real work preempts it
 * at once, and its time is not counted (the cost comes from our threads' own CPU time). */
static atomic_bool spin_stop;

static void *spinner_main(void *arg)
{
	struct sched_param sp = {};
	int cpu = *(int *)arg;

	pin_to(0, cpu);
	sched_setscheduler(0, SCHED_IDLE, &sp);
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		__asm__ __volatile__("" ::: "memory");
	return NULL;
}

/* ---- one row ---- */

struct row_state {
	struct bare_bpf *skel;
	int link_r, link_d;     /* XDP links on rX and dX */
	bool tc, nft, ipt;
	struct reader rd;
	bool reading;
};

static long long rx_count_read(struct bare_bpf *skel)
{
	return percpu_sum(bpf_map__fd(skel->maps.rx_count));
}

/* Stops the generator: the flag for a thread not yet in its run, the signal for one in
 * it, repeated until it is out (the signal may land just before the run starts). */
static void gen_stop(struct gen *g)
{
	atomic_store(&g->stop, true);
	while (!atomic_load(&g->done)) {
		pthread_kill(g->th, SIGUSR1);
		usleep(1000);
	}
	pthread_join(g->th, NULL);
}

static long long row_counter(struct env *e, const struct row_def *d, struct row_state *s)
{
	switch (d->kind) {
	case R_XDP_NATIVE: case R_XDP_GENERIC: case R_TC: case R_FWD_LINUX: case R_FWD_XDP:
		return rx_count_read(s->skel);
	case R_NFT_INGRESS:
		return ns_read_after(e->ns_rx, "nft list chain netdev bpflab_bench in", "packets ", -1);
	case R_NFT_RAW:
		return ns_read_after(e->ns_rx, "nft list chain ip bpflab_bench pre", "packets ", -1);
	case R_IPT_RAW:
		return ns_read_after(e->ns_rx, "iptables-legacy -t raw -L PREROUTING -v -x -n", "DROP", 0);
	case R_UDP_CLOSED:
		return udp_noports(e->ns_rx);
	case R_UDP_SOCKET:
		return atomic_load(&s->rd.got);
	}
	return -1;
}

static int xdp_attach_in(struct env *e, const char *ns, int prog_fd, int ifindex,
			 const char *ifname, enum xdp_mode mode)
{
	enum xdp_mode eff;
	int fd;

	if (enter_ns(e, ns))
		return -1;
	fd = xdp_link_attach(prog_fd, ifindex, ifname, mode, &eff);
	enter_ns(e, NULL);
	return fd;
}

static int row_setup(struct env *e, const struct row_def *d, struct row_state *s,
		     struct gen *g, char *why, size_t wlen)
{
	struct bare_bpf *skel;
	int err;

	skel = bare_bpf__open();
	if (!skel) {
		snprintf(why, wlen, "cannot open the bare programs: %s", strerror(errno));
		return -1;
	}
	build_frame(g, d->kind == R_FWD_LINUX || d->kind == R_FWD_XDP);
	memcpy((void *)skel->rodata->gen_hdr, g->frame, sizeof(skel->rodata->gen_hdr));
	err = bare_bpf__load(skel);
	if (err) {
		snprintf(why, wlen, "cannot load the bare programs: %s", strerr(err));
		bare_bpf__destroy(skel);
		return -1;
	}
	s->skel = skel;
	g->skel = skel;
	g->prog_fd = bpf_program__fd(skel->progs.xdp_gen);

	switch (d->kind) {
	case R_XDP_NATIVE:
	case R_XDP_GENERIC:
		s->link_r = xdp_attach_in(e, e->ns_rx, bpf_program__fd(skel->progs.xdp_drop_count),
					  e->idx_r, e->if_r,
					  d->kind == R_XDP_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_GENERIC);
		if (s->link_r < 0) {
			snprintf(why, wlen, "XDP %s attach on veth failed",
				 d->kind == R_XDP_NATIVE ? "native" : "generic");
			return -1;
		}
		return 0;
	case R_TC: {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->idx_r, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = bpf_program__fd(skel->progs.tc_drop_count));
		if (enter_ns(e, e->ns_rx))
			return -1;
		err = bpf_tc_hook_create(&hook);
		if (!err || err == -EEXIST)
			err = bpf_tc_attach(&hook, &to);
		enter_ns(e, NULL);
		s->tc = true;
		if (err) {
			snprintf(why, wlen, "TC attach failed: %s", strerr(err));
			return -1;
		}
		return 0;
	}
	case R_NFT_INGRESS:
	case R_NFT_RAW:
		if (!have_prog("nft")) {
			snprintf(why, wlen, "nft is not installed");
			return -1;
		}
		s->nft = true;
		if (d->kind == R_NFT_INGRESS)
			err = ns_run(e->ns_rx, "nft add table netdev bpflab_bench") ||
			      ns_run(e->ns_rx, "nft add chain netdev bpflab_bench in { type filter "
				     "hook ingress device %s priority 0 ; }", e->if_r) ||
			      ns_run(e->ns_rx, "nft add rule netdev bpflab_bench in udp dport %d "
				     "counter drop", UDP_PORT);
		else
			err = ns_run(e->ns_rx, "nft add table ip bpflab_bench") ||
			      ns_run(e->ns_rx, "nft add chain ip bpflab_bench pre { type filter "
				     "hook prerouting priority raw ; }") ||
			      ns_run(e->ns_rx, "nft add rule ip bpflab_bench pre udp dport %d "
				     "counter drop", UDP_PORT);
		if (err) {
			snprintf(why, wlen, "nft refused the %s table (run with -v)",
				 d->kind == R_NFT_INGRESS ? "netdev ingress" : "raw prerouting");
			return -1;
		}
		return 0;
	case R_IPT_RAW:
		if (!have_prog("iptables-legacy")) {
			snprintf(why, wlen, "iptables-legacy is not installed (Debian: apt-get install "
				 "iptables; the plain iptables here is nftables underneath, measured "
				 "by nft_raw_drop)");
			return -1;
		}
		s->ipt = true;
		if (ns_run(e->ns_rx, "iptables-legacy -t raw -A PREROUTING -p udp --dport %d -j DROP",
			   UDP_PORT)) {
			snprintf(why, wlen, "iptables-legacy refused the raw rule (no ip_tables module?)");
			return -1;
		}
		return 0;
	case R_UDP_CLOSED:
		return 0;
	case R_UDP_SOCKET:
		s->rd.e = e;
		if (reader_open(&s->rd, why, wlen))
			return -1;
		atomic_store(&s->rd.stop, false);
		if (pthread_create(&s->rd.th, NULL, reader_main, &s->rd)) {
			snprintf(why, wlen, "cannot start the reader thread");
			close(s->rd.fd);
			return -1;
		}
		s->reading = true;
		return 0;
	case R_FWD_LINUX:
	case R_FWD_XDP:
		s->link_d = xdp_attach_in(e, e->ns_dst, bpf_program__fd(skel->progs.xdp_drop_count),
					  e->idx_d, e->if_d, XDP_MODE_NATIVE);
		if (s->link_d < 0) {
			snprintf(why, wlen, "XDP attach on the sink veth failed");
			return -1;
		}
		if (d->kind == R_FWD_XDP) {
			s->link_r = xdp_attach_in(e, e->ns_rx, bpf_program__fd(skel->progs.xdp_fwd),
						  e->idx_r, e->if_r, XDP_MODE_NATIVE);
			if (s->link_r < 0) {
				snprintf(why, wlen, "XDP native attach of the forwarder failed");
				return -1;
			}
		}
		return 0;
	}
	return 0;
}

static void row_teardown(struct env *e, struct row_state *s)
{
	if (s->reading) {
		atomic_store(&s->rd.stop, true);
		pthread_join(s->rd.th, NULL);
		close(s->rd.fd);
		s->reading = false;
	}
	if (s->link_r >= 0)
		close(s->link_r);
	if (s->link_d >= 0)
		close(s->link_d);
	s->link_r = s->link_d = -1;
	if (s->tc) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->idx_r, .attach_point = BPF_TC_INGRESS);
		if (!enter_ns(e, e->ns_rx)) {
			bpf_tc_hook_destroy(&hook);
			enter_ns(e, NULL);
		}
		s->tc = false;
	}
	if (s->nft) {
		ns_run(e->ns_rx, "nft delete table netdev bpflab_bench");
		ns_run(e->ns_rx, "nft delete table ip bpflab_bench");
		s->nft = false;
	}
	if (s->ipt) {
		ns_run(e->ns_rx, "iptables-legacy -t raw -D PREROUTING -p udp --dport %d -j DROP",
		       UDP_PORT);
		s->ipt = false;
	}
	bare_bpf__destroy(s->skel);
	s->skel = NULL;
}

static void sleep_s(double s)
{
	double end = now_mono() + s;

	while (!exiting && now_mono() < end)
		usleep(10000);
}

/* One repetition: traffic on, warm up, then count packets and the receiver's CPU time
 * over the window. */
static int row_rep(struct env *e, const struct row_def *d, struct row_state *s, struct gen *g,
		   double *pps, double *ns, double *gpps, double *share, double *busy,
		   char *why, size_t wlen)
{
	unsigned long long b0, t0, b1, t1, s0, s1, n0, n1;
	pid_t tids[MAX_TIDS];
	int ntids;
	long long c0, c1;
	double w0, w1;

	atomic_store(&g->stop, false);
	atomic_store(&g->done, false);
	g->err = 0;
	if (pthread_create(&g->th, NULL, gen_main, g)) {
		snprintf(why, wlen, "cannot start the generator thread");
		return -1;
	}
	sleep_s(WARMUP_S / 2);
	/* The NAPI thread exists once traffic flows (and again after each XDP change). */
	ntids = receiver_tids(e->if_r, e->o->cpu_rx, tids, MAX_TIDS - 1);
	if (ntids < 0) {
		gen_stop(g);
		snprintf(why, wlen, "no threaded NAPI kthread for %s: cannot keep the receiver "
			 "on its own CPU", e->if_r);
		return -1;
	}
	if (s->reading && atomic_load(&s->rd.tid))
		tids[ntids++] = atomic_load(&s->rd.tid);
	sleep_s(WARMUP_S / 2);
	c0 = row_counter(e, d, s);
	s0 = percpu_sum(bpf_map__fd(g->skel->maps.gen_count));
	cpu_ticks(e->o->cpu_rx, &b0, &t0);
	n0 = threads_ns(tids, ntids);
	w0 = now_mono();
	sleep_s(e->o->duration);
	n1 = threads_ns(tids, ntids);
	w1 = now_mono();
	cpu_ticks(e->o->cpu_rx, &b1, &t1);
	s1 = percpu_sum(bpf_map__fd(g->skel->maps.gen_count));
	c1 = row_counter(e, d, s);
	gen_stop(g);
	if (g->err) {
		snprintf(why, wlen, "live-frames generator failed: %s", strerr(g->err));
		return -1;
	}
	if (exiting) {
		snprintf(why, wlen, "interrupted");
		return -1;
	}
	if (c0 < 0 || c1 < 0) {
		snprintf(why, wlen, "could not read the row's packet counter");
		return -1;
	}
	if (c1 <= c0) {
		snprintf(why, wlen, "no packets reached this layer (generator sent %llu)", s1 - s0);
		return -1;
	}
	*pps = (c1 - c0) / (w1 - w0);
	*gpps = (s1 - s0) / (w1 - w0);
	*ns = (double)(n1 - n0) / (c1 - c0);
	*share = (n1 - n0) / ((w1 - w0) * 1e9);
	*busy = t1 > t0 ? (double)(b1 - b0) / (t1 - t0) : 0;
	pr_debug("bench: %s: %lld pkts, %.0f pps, %.0f ns/pkt, share %.2f, busy %.2f, %d threads\n",
		 d->id, c1 - c0, *pps, *ns, *share, *busy, ntids);
	return 0;
}

static bool row_wanted(const struct bench_opts *o, const char *id)
{
	char buf[256], *tok, *save;

	if (!o->rows)
		return true;
	snprintf(buf, sizeof(buf), "%s", o->rows);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, id))
			return true;
	return false;
}

int bench_live(const struct bench_opts *o, struct live_row *rows, int *nrows)
{
	struct env e = { .o = o, .home_ns = -1 };
	char why[200] = "";
	int n = 0, ok_env;
	double base_ns = 0;
	pthread_t spinner;
	bool spinning = false;
	static struct row_acc acc[BENCH_MAX_ROWS];

	memset(acc, 0, sizeof(acc));

	for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
		if (!row_wanted(o, defs[i].id))
			continue;
		struct live_row *r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->id = defs[i].id;
		r->label = defs[i].label;
		r->group = defs[i].group;
		r->mode = defs[i].kind == R_XDP_NATIVE || defs[i].kind == R_FWD_XDP ? "native" :
			  defs[i].kind == R_XDP_GENERIC ? "generic" : NULL;
	}
	*nrows = n;
	if (o->cpu_gen == o->cpu_rx) {
		snprintf(why, sizeof(why), "needs 2 CPUs: the generator and the receiver each "
			 "take one");
		ok_env = -1;
	} else {
		e.home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ok_env = e.home_ns < 0 ? -1 : env_up(&e, why, sizeof(why));
	}
	if (ok_env) {
		for (int i = 0; i < n; i++)
			snprintf(rows[i].reason, sizeof(rows[i].reason), "%s", why);
		goto out;
	}
	{
		struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART */
		sigaction(SIGUSR1, &sa, NULL);
	}
	/* Spawned helpers (ip, nft) inherit this: they stay off the receiving CPU. */
	pin_to(0, o->cpu_gen);
	atomic_store(&spin_stop, false);
	spinning = !pthread_create(&spinner, NULL, spinner_main, (void *)&o->cpu_rx);

	/* Repetitions are interleaved: round k measures every row once, so a change in the
	 * machine's other load (a build starting) hits all rows alike, as in the progs
	 * section. Rows marked `last` (iptables-legacy, whose raw table stays hooked in the
	 * namespace) do all their repetitions after the others. */
	for (int pass = 0; pass < 2 && !exiting; pass++) {
		int rounds = o->reps;
		for (int k = 0; k < rounds && !exiting; k++) {
			for (int order = 0; order < 10 && !exiting; order++) {
				for (int i = 0; i < n && !exiting; i++) {
					const struct row_def *d = row_def_of(rows[i].id);
					struct live_row *r = &rows[i];
					struct row_state s = { .link_r = -1, .link_d = -1 };
					struct gen g = { .e = &e };

					if (!d || d->run_order != order || (d->run_order == LAST) != pass ||
					    acc[i].failed)
						continue;
					pr_info("bench live: %s (%d/%d, %.1f s)\n", r->label, k + 1, o->reps,
						o->duration);
					if (row_setup(&e, d, &s, &g, r->reason, sizeof(r->reason)) ||
					    row_rep(&e, d, &s, &g, &acc[i].pps[k], &acc[i].ns[k],
						    &acc[i].gp[k], &acc[i].share[k], &acc[i].busy[k],
						    r->reason, sizeof(r->reason)))
						acc[i].failed = true;
					else
						acc[i].done++;
					row_teardown(&e, &s);
				}
			}
		}
	}
	for (int i = 0; i < n; i++) {
		struct live_row *r = &rows[i];
		struct spread bs;
		int k = acc[i].done;

		if (acc[i].failed || k < o->reps)
			continue;
		spread_of(acc[i].pps, k, &r->pps);
		spread_of(acc[i].ns, k, &r->ns);
		spread_of(acc[i].gp, k, &r->gen_pps);
		spread_of(acc[i].busy, k, &bs);
		r->busy = bs.med;
		spread_of(acc[i].share, k, &bs);
		r->share = bs.med;
		r->cores_28m = r->ns.med * BENCH_TALK_PPS / 1e9;
		r->ok = true;
		r->reason[0] = 0;
		pr_info("bench live: %s: %.2f Mpps, %.0f ns/pkt\n", r->label, r->pps.med / 1e6,
			r->ns.med);
	}
	for (int i = 0; i < n; i++)
		if (!rows[i].ok && !rows[i].reason[0])
			snprintf(rows[i].reason, sizeof(rows[i].reason), "interrupted");
	for (int i = 0; i < n; i++)
		if (rows[i].ok && !strcmp(rows[i].id, "xdp_native_drop"))
			base_ns = rows[i].ns.med;
	for (int i = 0; i < n; i++)
		rows[i].ratio = base_ns > 0 && rows[i].ok ? rows[i].ns.med / base_ns : 0;
	if (spinning) {
		atomic_store(&spin_stop, true);
		pthread_join(spinner, NULL);
	}
out:
	env_down(&e);
	if (e.home_ns >= 0)
		close(e.home_ns);
	return 0;
}
