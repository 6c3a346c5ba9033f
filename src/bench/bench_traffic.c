// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The moving parts of a live row (bench_env.h): the traffic generator, the accounting of
 * the receiving CPU, and the helper threads whose time counts as the receiver's.
 *
 * Traffic: BPF_PROG_TEST_RUN in XDP live-frames mode (no pktgen here) runs xdp_gen on
 * one CPU; its XDP_TX sends each frame out of gX into rX. rX runs threaded NAPI, its
 * kthread pinned to the other CPU, so everything the receiver does happens there: the
 * CPU time of the receiver's threads divided by the packets the layer handled is the
 * cost per packet, whether or not the receiver was saturated. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bench_env.h"

/* Frames per live-frames run: ~10 s at the generator's full speed. The run is stopped
 * earlier by a signal, and started again if it ran out: each run ends with an RCU grace
 * period (page pool teardown) that would leave the receiver idle if the generator ran in
 * short chunks, so the pacing is done inside the run, by xdp_gen. */
#define GEN_MAX_FRAMES 200000000

/* ---- the receiving CPU ---- */

int benv_pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

/* Steal is time the hypervisor gave to someone else; idle and iowait are not work. */
int benv_cpu_ticks(int cpu, unsigned long long *busy, unsigned long long *total)
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

/* The NAPI kthread is "napi/<ifname>-<id>"; it comes and goes with XDP attach/detach, so
 * this runs for every repetition. ksoftirqd takes over softirq work under load. */
int benv_receiver_tids(const char *ifname, int cpu, pid_t *tids, int max)
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
			if (!strncmp(comm, want, strlen(want)) && !benv_pin(atoi(de->d_name), cpu)) {
				tids[n++] = atoi(de->d_name);
				setpriority(PRIO_PROCESS, tids[n - 1], BENV_NICE);
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

/* A thread woken for each group of frames waits, at a mere weight, for whoever runs on
 * its CPU to reach the end of its slice: milliseconds on a shared machine, while its
 * 256-frame ring overflows. In the real-time class it runs at once; paced to a share of
 * the CPU, it cannot take the rest from anyone. */
void benv_napi_rt(const pid_t *tids, int n, bool on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };
	char path[64], comm[32];

	for (int i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", tids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "napi/", 5)) {
			sched_setscheduler(tids[i], on ? SCHED_FIFO : SCHED_OTHER, &sp);
			if (!on)
				setpriority(PRIO_PROCESS, tids[i], BENV_NICE);
		}
		fclose(f);
	}
}

/* The scheduler's sum_exec_runtime: unlike /proc/stat, it does not count other people's
 * processes on the same CPU. */
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

unsigned long long benv_threads_ns(const pid_t *tids, int n)
{
	unsigned long long sum = 0;

	for (int i = 0; i < n; i++)
		sum += thread_ns(tids[i]);
	return sum;
}

/* An idle vCPU halts, and waking it for each burst of frames goes through the hypervisor:
 * measured here, the NAPI thread then slept ~60% of the time while its ring overflowed.
 * A SCHED_IDLE thread spinning on that CPU keeps it running; any real work preempts it
 * at once, and its time is not counted. */
static atomic_bool spin_stop;
static bool spinning;
static pthread_t spinner;
static int spin_cpu;

static void *spinner_main(void *arg)
{
	struct sched_param sp = {};

	benv_pin(0, spin_cpu);
	sched_setscheduler(0, SCHED_IDLE, &sp);
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		__asm__ __volatile__("" ::: "memory");
	return NULL;
}

int benv_spin_start(int cpu)
{
	spin_cpu = cpu;
	atomic_store(&spin_stop, false);
	spinning = !pthread_create(&spinner, NULL, spinner_main, NULL);
	return spinning ? 0 : -EAGAIN;
}

void benv_spin_stop(void)
{
	if (!spinning)
		return;
	atomic_store(&spin_stop, true);
	pthread_join(spinner, NULL);
	spinning = false;
}

/* ---- traffic generator ---- */

static void on_stop_signal(int sig)
{
	/* Only interrupts the generator's BPF_PROG_TEST_RUN (it returns EINTR). */
}

void benv_gen_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART */

	sigaction(SIGUSR1, &sa, NULL);
}

static void *gen_main(void *arg)
{
	struct benv_gen *g = arg;
	struct xdp_md ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, o);

	setpriority(PRIO_PROCESS, 0, BENV_NICE);
	atomic_store(&g->tid, gettid());
	if (benv_pin(0, g->e->o->cpu_gen) || netns_enter(g->e->ns_gen)) {
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
	while (!atomic_load(&g->stop) && !exiting) {
		if (bpf_prog_test_run_opts(g->prog_fd, &o)) {
			if (errno != EINTR)
				g->err = -errno;
			break;
		}
	}
	atomic_store(&g->done, true);
	return NULL;
}

int benv_gen_start(struct benv_gen *g)
{
	atomic_store(&g->stop, false);
	atomic_store(&g->done, false);
	g->err = 0;
	return pthread_create(&g->th, NULL, gen_main, g) ? -EAGAIN : 0;
}

void benv_gen_rate(struct benv_gen *g, double pps)
{
	__u64 gap = pps > 0 ? (__u64)(1e9 / pps + 0.5) : 0;

	if (g->gap_ns)
		*g->gap_ns = gap ? gap : (pps > 0); /* 0 means unpaced: never round down to it */
}

/* The flag for a thread not yet in its run, the signal for one in it, repeated until it
 * is out (the signal may land just before the run starts). */
void benv_gen_stop(struct benv_gen *g)
{
	atomic_store(&g->stop, true);
	while (!atomic_load(&g->done)) {
		pthread_kill(g->th, SIGUSR1);
		usleep(1000);
	}
	pthread_join(g->th, NULL);
}

long long benv_gen_sent(const struct benv_gen *g)
{
	__u64 sum;
	__u32 key = 0;

	return percpu_sum_u64(g->count_fd, &key, &sum, 1) ? -1 : (long long)sum;
}

/* ---- helper threads ---- */

static void helper_init(struct benv_helper *h, int cpu)
{
	atomic_store(&h->stop, false);
	atomic_store(&h->got, 0);
	atomic_store(&h->tid, 0);
	h->cpu = cpu;
	h->running = false;
}

static void *reader_main(void *arg)
{
	struct benv_helper *h = arg;
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	static char bufs[64][128];

	benv_pin(0, h->cpu);
	setpriority(PRIO_PROCESS, 0, BENV_NICE);
	atomic_store(&h->tid, gettid());
	for (int i = 0; i < 64; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&h->stop)) {
		int n = recvmmsg(h->fd, msgs, 64, MSG_WAITFORONE, NULL);
		if (n > 0)
			atomic_fetch_add(&h->got, n);
	}
	return NULL;
}

int benv_reader_start(const struct bench_env *e, struct benv_helper *h, char *why, size_t wlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(BENV_UDP_PORT) };
	struct timeval tv = { .tv_usec = 100000 };
	int big = 4 << 20, home = netns_save();

	helper_init(h, e->o->cpu_rx);
	if (home < 0 || netns_enter(e->ns_rx)) {
		if (home >= 0)
			netns_restore(home);
		snprintf(why, wlen, "cannot enter %s", e->ns_rx);
		return -1;
	}
	h->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netns_restore(home);
	if (h->fd < 0) {
		snprintf(why, wlen, "socket: %s", strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, BENV_RX_IP, &a.sin_addr);
	setsockopt(h->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(h->fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(why, wlen, "bind " BENV_RX_IP ":%d: %s", BENV_UDP_PORT, strerror(errno));
		close(h->fd);
		return -1;
	}
	if (pthread_create(&h->th, NULL, reader_main, h)) {
		snprintf(why, wlen, "cannot start the reader thread");
		close(h->fd);
		return -1;
	}
	h->running = true;
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct benv_helper *h = ctx;

	atomic_fetch_add_explicit(&h->got, 1, memory_order_relaxed);
	return 0;
}

/* As the commands read their rings: poll every 50 ms (events come without wakeups),
 * then consume what is there. */
static void *drain_main(void *arg)
{
	struct benv_helper *h = arg;

	benv_pin(0, h->cpu);
	setpriority(PRIO_PROCESS, 0, BENV_NICE);
	atomic_store(&h->tid, gettid());
	while (!atomic_load(&h->stop)) {
		ring_buffer__poll(h->rb, 50);
		ring_buffer__consume(h->rb);
	}
	ring_buffer__consume(h->rb);
	return NULL;
}

int benv_drain_start(int ringbuf_fd, int cpu, struct benv_helper *h, char *why, size_t wlen)
{
	helper_init(h, cpu);
	h->fd = -1;
	h->rb = ring_buffer__new(ringbuf_fd, on_event, h, NULL);
	if (!h->rb) {
		snprintf(why, wlen, "cannot open the program's ring buffer: %s", strerr(errno));
		return -1;
	}
	if (pthread_create(&h->th, NULL, drain_main, h)) {
		snprintf(why, wlen, "cannot start the event reader thread");
		ring_buffer__free(h->rb);
		h->rb = NULL;
		return -1;
	}
	h->running = true;
	return 0;
}

void benv_helper_stop(struct benv_helper *h)
{
	if (!h->running)
		return;
	atomic_store(&h->stop, true);
	pthread_join(h->th, NULL);
	if (h->rb)
		ring_buffer__free(h->rb);
	if (h->fd >= 0)
		close(h->fd);
	h->rb = NULL;
	h->fd = -1;
	h->running = false;
}
