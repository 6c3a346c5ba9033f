// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab lab clients`: many long-lived TCP connections through a VIP, each carrying a
 * short message every --interval, and an account of what happened to them: how many
 * broke (reset, closed, or silent for longer than --timeout), which backend answered,
 * which connections moved to another backend, the longest silence. It is what tells
 * whether losing, adding or draining a load balancer node broke connections.
 *
 * Both ends are here. `--listen PORT --answer-as NODE` is the server side that `lab up
 * --serve` starts on every backend (port LAB_STREAM_PORT): it answers every line with the
 * node's name in front, so the client knows which backend holds each connection, through
 * the kernel's own TCP (nothing in BPF). Python's HTTP server, the other lab server,
 * spends a thread per connection and could not keep 1000 connections at 10 messages a
 * second each on two cores; one epoll loop in C does.
 *
 * One process, one epoll loop, non-blocking sockets: a thousand connections are a
 * thousand descriptors (RLIMIT_NOFILE is raised to what is needed) and a thousand
 * ephemeral ports of the client's namespace, nothing more. The loop scans every
 * connection each few milliseconds for sends and time-outs: at 10^4 connections that
 * is a few million compares a second, cheaper than keeping a timer heap correct. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "opts.h"
#include "util.h"
#include "addr.h"
#include "json.h"
#include "netns.h"
#include "lab.h"

#define STREAM_MARK "bpflab-lab-stream"
#define STREAM_CONNS_MAX 50000
#define STREAM_CONNECT_TIMEOUT 3.0 /* a SYN is retransmitted after 1 s and 3 s */

/* ---- the accounting, apart from sockets (tests/unit/test_stream.c drives it) ---- */

const char *const stream_why_names[STREAM_WHY_N] = {
	[STREAM_OK] = "ok", [STREAM_RST] = "rst", [STREAM_EOF] = "eof",
	[STREAM_TIMEOUT] = "timeout", [STREAM_ERROR] = "error", [STREAM_BAD] = "bad_answer",
};

int stream_node_id(struct stream_run *r, const char *name, size_t len)
{
	for (int i = 0; i < r->nnodes; i++)
		if (strlen(r->nodes[i].name) == len && !memcmp(r->nodes[i].name, name, len))
			return i;
	if (r->nnodes == STREAM_NODES_MAX || len == 0 || len >= sizeof(r->nodes[0].name))
		return -1;
	memset(&r->nodes[r->nnodes], 0, sizeof(r->nodes[0]));
	memcpy(r->nodes[r->nnodes].name, name, len);
	return r->nnodes++;
}

/* "NODE ID SEQ": the server's name, then the client's own line. */
int stream_parse_answer(const char *line, size_t len, size_t *node_len, uint32_t *id,
			uint32_t *seq)
{
	const char *sp = memchr(line, ' ', len), *p, *end = line + len;
	uint64_t v[2] = { 0, 0 };

	if (!sp || sp == line)
		return -EPROTO;
	*node_len = sp - line;
	p = sp + 1;
	for (int k = 0; k < 2; k++) {
		const char *start = p;
		while (p < end && *p >= '0' && *p <= '9' && p - start < 10)
			v[k] = v[k] * 10 + (*p++ - '0');
		if (p == start || v[k] > UINT32_MAX || (k == 0 ? (p == end || *p != ' ') : p != end))
			return -EPROTO;
		p++;
	}
	*id = v[0];
	*seq = v[1];
	return 0;
}

void stream_opened(struct stream_run *r, struct stream_conn *c, double now)
{
	c->state = SC_OPEN;
	c->opened_at = c->last_answer = now;
	r->opened++;
}

void stream_break(struct stream_run *r, struct stream_conn *c, enum stream_why why, double now)
{
	if (c->state != SC_OPEN)
		return;
	c->state = SC_BROKEN;
	c->why = why;
	if (now - c->last_answer > c->max_gap)
		c->max_gap = now - c->last_answer;
	r->broken[why]++;
	r->broken_total++;
	r->tick_broken++;
	if (c->node >= 0)
		r->nodes[c->node].broken++;
	if (r->note)
		r->note(r, c, "break", c->node, now);
}

int stream_answer(struct stream_run *r, struct stream_conn *c, const char *line, size_t len,
		  double now)
{
	size_t nl;
	uint32_t id, seq;
	int node;

	if (stream_parse_answer(line, len, &nl, &id, &seq) || id != c->id || !c->waiting ||
	    seq != c->seq || (node = stream_node_id(r, line, nl)) < 0) {
		stream_break(r, c, STREAM_BAD, now);
		return -EPROTO;
	}
	c->waiting = false;
	r->answers++;
	r->tick_answers++;
	if (now - c->last_answer > c->max_gap)
		c->max_gap = now - c->last_answer;
	if (now - c->last_answer > r->tick_max_gap)
		r->tick_max_gap = now - c->last_answer;
	if (now - c->sent_at > c->max_rtt)
		c->max_rtt = now - c->sent_at;
	c->last_answer = now;
	if (c->first < 0) {
		c->first = c->node = node;
		r->nodes[node].first++;
	} else if (c->node != node) {
		/* TCP cannot move: another backend answering means the same 4-tuple reached a
		 * backend that accepted it anew, which only a non-TCP-terminating echo could
		 * do. Counted, because it is the claim the test makes. */
		if (!c->moved)
			r->moved++;
		c->moved = true;
		int from = c->node;

		r->nodes[from].moved_out++;
		r->nodes[node].moved_in++;
		c->node = node; /* before the note: it names c->node as where the flow went */
		if (r->note)
			r->note(r, c, "move", from, now);
	}
	return 0;
}

bool stream_check_timeout(struct stream_run *r, struct stream_conn *c, double now)
{
	if (c->state != SC_OPEN || !c->waiting || now - c->sent_at <= r->timeout)
		return false;
	stream_break(r, c, STREAM_TIMEOUT, now);
	return true;
}

/* ---- the client ---- */

/* SIGUSR1 ends the run early as --duration would: a driver that does not know in advance
 * how long its events take gives a long --duration and signals when it is done. */
static volatile sig_atomic_t finish_now;

static void on_usr1(int sig)
{
	(void)sig;
	finish_now = 1;
}

struct stream_args {
	const char *name;
	const char *node;
	const char *connect;
	uint64_t conns;
	double interval, timeout, duration, ramp;
	uint64_t listen;
	const char *answer_as;
};

#define O(lname, sopt, otype, field, arg, help) \
	OPTDEF(lname, sopt, otype, struct stream_args, field, arg, help)
static const struct opt_def stream_opts[] = {
	{ O("name", 'n', OPT_STR, name, "NAME", "the lab"), .def = "bpflab" },
	{ O("node", 0, OPT_STR, node, "NODE", "the lab node whose namespace the client runs in "
	    "(NAME-NODE)"), .def = "client" },
	{ O("connect", 'c', OPT_STR, connect, "ADDR:PORT", "where to connect: A.B.C.D:PORT or "
	    "[IPV6]:PORT (the VIP, port " "7 for the lab's stream servers)") },
	{ O("conns", 'N', OPT_UINT, conns, "N", "connections, opened evenly over --ramp"),
	  .def = "100", .min = 1, .max = STREAM_CONNS_MAX },
	{ O("interval", 'i', OPT_DURATION, interval, "S", "a message on each connection every S "
	    "seconds, once the previous one is answered"), .def = "0.1", .dmin = 0.01, .dmax = 60 },
	{ O("timeout", 't', OPT_DURATION, timeout, "S", "a message unanswered for longer than S "
	    "breaks its connection"), .def = "1", .dmin = 0.05, .dmax = 60 },
	{ O("duration", 'd', OPT_DURATION, duration, "S", "stream for S seconds (then wait at "
	    "most --timeout for the last answers and close)"), .def = "10", .dmin = 0.1, .dmax = 3600 },
	{ O("ramp", 0, OPT_DURATION, ramp, "S", "open the connections over the first S seconds"),
	  .def = "1", .dmax = 600, .zero_ok = true },
	{ O("listen", 0, OPT_UINT, listen, "PORT", "be the server instead: answer every line on "
	    "[::]:PORT with the --answer-as name in front, until SIGTERM (what `lab up --serve` "
	    "runs on every backend)"), .min = 1, .max = 65535 },
	{ O("answer-as", 0, OPT_STR, answer_as, "NODE", "with --listen: the name put in answers") },
	OPTS_END
};
#undef O

const struct cmd_spec lab_stream_spec = {
	.name = "lab clients",
	.args = "--connect ADDR:PORT [--conns N] [--interval S] [--timeout S] [--duration S]",
	.about =
	"Long-lived TCP connections, counted: opens --conns connections from a lab node\n"
	"(default client) to ADDR:PORT, sends \"ID SEQ\\n\" on each every --interval and expects\n"
	"the line back with the answering backend's name in front (the lab's stream servers on\n"
	"port 7 of every backend do that). A connection is broken when it is reset, closed, or\n"
	"a message stays unanswered past --timeout; it moved when another backend answers.\n"
	"Prints a line a second and a summary: open, broken (by reason and by backend), moved,\n"
	"the longest silence. Exit 0 when every connection opened and none broke, 1 otherwise.\n"
	"SIGUSR1 ends the run early, as the end of --duration does.\n",
	.opts = stream_opts,
	.notes = "examples:\n"
		 "  bpflab lab clients --name x --connect 198.18.0.100:7 --conns 1000 --duration 20\n"
		 "  bpflab lab clients --name x --connect 198.18.0.11:7 --conns 10 --json\n",
	.json_help = "JSON Lines: a stream_tick record a second, then one stream record",
	.max_args = 0,
};

struct stream_target {
	struct sockaddr_storage sa;
	socklen_t salen;
};

static int parse_target(const char *s, struct stream_target *t)
{
	char host[64];
	const char *colon;
	uint16_t port;

	memset(t, 0, sizeof(*t));
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->sa;

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, rb - s - 1);
		host[rb - s - 1] = 0;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1 || parse_port(rb + 2, &port))
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		t->salen = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t->sa;
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	if (parse_ipv4(host, &a4->sin_addr) || parse_port(colon + 1, &port))
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	t->salen = sizeof(*a4);
	return 0;
}

/* Enough descriptors for n sockets and the loop's own; root may raise the hard limit. */
static int raise_nofile(uint64_t n)
{
	struct rlimit rl;
	rlim_t want = n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

static int64_t time_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int conn_start(struct stream_conn *c, const struct stream_target *t, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c };
	int one = 1;

	c->fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* one short line each way per message: never wait for Nagle */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&t->sa, t->salen) && errno != EINPROGRESS)
		return -errno;
	c->state = SC_CONNECTING;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}

static enum stream_why why_of_errno(int err)
{
	return err == ECONNRESET || err == EPIPE ? STREAM_RST : STREAM_ERROR;
}

static void conn_send(struct stream_run *r, struct stream_conn *c, double now)
{
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "%u %u\n", c->id, c->seq + 1);
	ssize_t w = send(c->fd, msg, len, MSG_NOSIGNAL);

	if (w != len) {
		/* one short line with the previous one answered: a full send buffer means
		 * the peer vanished as surely as an error does */
		stream_break(r, c, w < 0 ? why_of_errno(errno) : STREAM_ERROR, now);
		return;
	}
	c->seq++;
	c->waiting = true;
	c->sent_at = now;
	r->sent++;
}

static void conn_readable(struct stream_run *r, struct stream_conn *c, double now)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
		char *nl;

		if (n == 0) {
			stream_break(r, c, STREAM_EOF, now);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				stream_break(r, c, why_of_errno(errno), now);
			return;
		}
		c->inlen += n;
		while (c->state == SC_OPEN && (nl = memchr(c->in, '\n', c->inlen))) {
			size_t l = nl - c->in;
			stream_answer(r, c, c->in, l, now);
			memmove(c->in, nl + 1, c->inlen - l - 1);
			c->inlen -= l + 1;
		}
		if (c->state != SC_OPEN)
			return;
		if (c->inlen == sizeof(c->in)) {
			stream_break(r, c, STREAM_BAD, now);
			return;
		}
	}
}

static void conn_event(struct stream_run *r, struct stream_conn *c, uint32_t events, int ep,
		       double now)
{
	if (c->state == SC_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			c->state = SC_FAILED;
			c->connect_errno = err ? err : ECONNREFUSED;
			r->failed_open++;
			return;
		}
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		stream_opened(r, c, now);
		/* the first message at once: the ramp already spread the phases */
		conn_send(r, c, now);
		c->next_send = now + r->interval;
		return;
	}
	if (c->state != SC_OPEN)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_readable(r, c, now);
	if (c->state == SC_OPEN && (events & (EPOLLHUP | EPOLLERR))) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		stream_break(r, c, err ? why_of_errno(err) : STREAM_EOF, now);
	}
}

static void node_counts(const struct stream_run *r, const struct stream_conn *conns, int n,
			int *open_on)
{
	memset(open_on, 0, sizeof(int) * STREAM_NODES_MAX);
	for (int i = 0; i < n; i++)
		if (conns[i].state == SC_OPEN && conns[i].node >= 0)
			open_on[conns[i].node]++;
	(void)r;
}

static int count_state(const struct stream_conn *conns, int n, enum stream_state s)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += conns[i].state == s;
	return k;
}

/* One record per break or move as it happens, so a run with several events can tell
 * which event broke what (time_ms is the wall clock the caller's events use). */
static void print_note(const struct stream_run *r, const struct stream_conn *c, const char *what,
		       int from, double now)
{
	struct json j;
	bool brk = !strcmp(what, "break");

	json_record_begin(&j, stdout, brk ? "stream_break" : "stream_move");
	json_kdouble(&j, "elapsed", now - r->t0);
	json_kint(&j, "time_ms", time_ms_now());
	json_kuint(&j, "conn", c->id);
	json_kstr(&j, brk ? "backend" : "from", from >= 0 ? r->nodes[from].name : NULL);
	if (brk) {
		json_kstr(&j, "reason", stream_why_names[c->why]);
		json_kdouble(&j, "silent_ms", (now - c->last_answer) * 1000);
	} else {
		json_kstr(&j, "to", r->nodes[c->node].name);
	}
	json_record_end(&j);
}

static void print_tick(struct stream_run *r, const struct stream_conn *conns, int n, double t)
{
	int open = count_state(conns, n, SC_OPEN), open_on[STREAM_NODES_MAX];
	int64_t ms = time_ms_now();

	node_counts(r, conns, n, open_on);
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "stream_tick");
		json_kdouble(&j, "elapsed", t);
		json_kint(&j, "time_ms", ms);
		json_kint(&j, "open", open);
		json_kint(&j, "connecting", count_state(conns, n, SC_CONNECTING));
		json_kuint(&j, "broken", r->broken_total);
		json_kuint(&j, "broken_now", r->tick_broken);
		json_kuint(&j, "failed_open", r->failed_open);
		json_kuint(&j, "moved", r->moved);
		json_kuint(&j, "answers", r->tick_answers);
		json_kdouble(&j, "max_gap_ms", r->tick_max_gap * 1000);
		json_key(&j, "open_by_backend");
		json_obj_begin(&j);
		for (int i = 0; i < r->nnodes; i++)
			json_kint(&j, r->nodes[i].name, open_on[i]);
		json_obj_end(&j);
		json_record_end(&j);
	} else {
		printf("%6.1fs open %d broken %llu (+%llu) moved %llu answers %llu max gap %.0f ms\n",
		       t, open, (unsigned long long)r->broken_total,
		       (unsigned long long)r->tick_broken, (unsigned long long)r->moved,
		       (unsigned long long)r->tick_answers, r->tick_max_gap * 1000);
	}
	fflush(stdout);
	r->tick_broken = r->tick_answers = 0;
	r->tick_max_gap = 0;
}

static void print_summary(const struct stream_run *r, const struct stream_conn *conns, int n,
			  const char *target, double elapsed)
{
	int open_on[STREAM_NODES_MAX];
	double max_gap = 0, max_rtt = 0;

	node_counts(r, conns, n, open_on);
	for (int i = 0; i < n; i++) {
		if (conns[i].max_gap > max_gap)
			max_gap = conns[i].max_gap;
		if (conns[i].max_rtt > max_rtt)
			max_rtt = conns[i].max_rtt;
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "stream");
		json_kstr(&j, "target", target);
		json_kint(&j, "conns", n);
		json_kdouble(&j, "interval_ms", r->interval * 1000);
		json_kdouble(&j, "timeout_ms", r->timeout * 1000);
		json_kdouble(&j, "elapsed", elapsed);
		json_kuint(&j, "opened", r->opened);
		json_kuint(&j, "failed_open", r->failed_open);
		json_kint(&j, "open", count_state(conns, n, SC_OPEN));
		json_kuint(&j, "broken", r->broken_total);
		json_key(&j, "broken_by_reason");
		json_obj_begin(&j);
		for (int w = STREAM_RST; w < STREAM_WHY_N; w++)
			json_kuint(&j, stream_why_names[w], r->broken[w]);
		json_obj_end(&j);
		json_kuint(&j, "moved", r->moved);
		json_kuint(&j, "sent", r->sent);
		json_kuint(&j, "answers", r->answers);
		json_kdouble(&j, "max_gap_ms", max_gap * 1000);
		json_kdouble(&j, "max_rtt_ms", max_rtt * 1000);
		json_key(&j, "backends");
		json_arr_begin(&j);
		for (int i = 0; i < r->nnodes; i++) {
			const struct stream_node *b = &r->nodes[i];
			json_obj_begin(&j);
			json_kstr(&j, "node", b->name);
			json_kuint(&j, "conns", b->first);
			json_kint(&j, "open", open_on[i]);
			json_kuint(&j, "broken", b->broken);
			json_kuint(&j, "moved_in", b->moved_in);
			json_kuint(&j, "moved_out", b->moved_out);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_record_end(&j);
	} else {
		printf("lab clients to %s: %d connections, %llu opened (%llu failed), %llu broken "
		       "(rst %llu, eof %llu, timeout %llu, error %llu, bad answer %llu), %llu moved; "
		       "%llu messages, %llu answered; longest silence %.0f ms, slowest answer %.0f ms\n",
		       target, n, (unsigned long long)r->opened, (unsigned long long)r->failed_open,
		       (unsigned long long)r->broken_total, (unsigned long long)r->broken[STREAM_RST],
		       (unsigned long long)r->broken[STREAM_EOF],
		       (unsigned long long)r->broken[STREAM_TIMEOUT],
		       (unsigned long long)r->broken[STREAM_ERROR],
		       (unsigned long long)r->broken[STREAM_BAD], (unsigned long long)r->moved,
		       (unsigned long long)r->sent, (unsigned long long)r->answers, max_gap * 1000,
		       max_rtt * 1000);
		for (int i = 0; i < r->nnodes; i++)
			printf("  %-12s %6llu connections, %6d open at the end, %llu broken, %llu moved "
			       "in, %llu moved out\n", r->nodes[i].name,
			       (unsigned long long)r->nodes[i].first, open_on[i],
			       (unsigned long long)r->nodes[i].broken,
			       (unsigned long long)r->nodes[i].moved_in,
			       (unsigned long long)r->nodes[i].moved_out);
	}
	fflush(stdout);
}

static int stream_client(const struct stream_args *a, const struct stream_target *t)
{
	static struct stream_run r;
	struct stream_conn *conns;
	struct epoll_event evs[256];
	int n = (int)a->conns, started = 0, ep, err, ret;
	double t0, end, next_tick, now;

	memset(&r, 0, sizeof(r));
	r.interval = a->interval;
	r.timeout = a->timeout;
	if ((err = raise_nofile(a->conns))) {
		pr_warn("cannot raise the open-file limit to %llu descriptors: %s\n",
			(unsigned long long)a->conns + 64, strerr(err));
		return EXIT_FAIL;
	}
	conns = calloc(n, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		pr_warn("out of memory or descriptors for %d connections\n", n);
		free(conns);
		return EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conns[i].first = conns[i].node = -1;
	}
	setup_signals();
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	t0 = r.t0 = now_mono();
	if (g_opts.json)
		r.note = print_note;
	end = t0 + a->duration;
	next_tick = t0 + 1;
	while (!exiting) {
		now = now_mono();
		if (finish_now && end > now) {
			end = now;
			n = started; /* the ones not yet started are not part of the run */
		}
		/* the ramp: connection i at t0 + i * ramp / n */
		while (started < n && (a->ramp == 0 || now >= t0 + a->ramp * started / n)) {
			struct stream_conn *c = &conns[started++];
			if ((err = conn_start(c, t, ep))) {
				/* out of ports or descriptors: the run says so, it is not a result */
				c->state = SC_FAILED;
				c->connect_errno = -err;
				r.failed_open++;
				if (c->fd >= 0)
					close(c->fd);
				c->fd = -1;
			} else {
				c->sent_at = now; /* the connect's own deadline */
			}
		}
		int pending = 0; /* unanswered messages and unfinished connects */
		for (int i = 0; i < started; i++) {
			struct stream_conn *c = &conns[i];
			if (c->state == SC_CONNECTING && now - c->sent_at > STREAM_CONNECT_TIMEOUT) {
				c->state = SC_FAILED;
				c->connect_errno = ETIMEDOUT;
				r.failed_open++;
				continue;
			}
			if (c->state == SC_CONNECTING)
				pending++;
			if (c->state != SC_OPEN || stream_check_timeout(&r, c, now))
				continue;
			if (!c->waiting && now >= c->next_send && now < end) {
				conn_send(&r, c, now);
				/* keep the phase; a stall skips the sends it missed */
				while (c->next_send <= now)
					c->next_send += r.interval;
			}
			pending += c->state == SC_OPEN && c->waiting;
		}
		if (now >= next_tick) {
			print_tick(&r, conns, n, now - t0);
			next_tick += 1;
		}
		/* the ramp ends before the duration (checked), so every connection started */
		if (now >= end && (!pending || now > end + r.timeout))
			break;
		int k = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 5);
		now = now_mono();
		for (int i = 0; i < k; i++)
			conn_event(&r, evs[i].data.ptr, evs[i].events, ep, now);
	}
	now = now_mono();
	/* a message sent before the end and unanswered now did not get its full --timeout
	 * only when the run was interrupted; then it is not counted */
	for (int i = 0; i < n; i++)
		stream_check_timeout(&r, &conns[i], now);
	print_summary(&r, conns, n, a->connect, now - t0);
	for (int i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	close(ep);
	ret = r.failed_open || r.broken_total || exiting ? EXIT_FAIL : EXIT_OK;
	if (ret)
		pr_warn("%llu of %d connections broke, %llu did not open%s\n",
			(unsigned long long)r.broken_total, n, (unsigned long long)r.failed_open,
			exiting ? ", interrupted" : "");
	free(conns);
	return ret;
}

/* ---- the server ---- */

struct srv_conn {
	int fd;
	uint16_t inlen;
	char in[STREAM_LINE_MAX];
};

static void srv_close(struct srv_conn *s)
{
	close(s->fd);
	free(s);
}

/* Answers every complete line; false when the connection is to go. */
static bool srv_readable(struct srv_conn *s, const char *name, size_t name_len,
			 uint64_t *answered)
{
	char out[STREAM_LINE_MAX * 4];

	for (;;) {
		ssize_t n = recv(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen, 0);
		size_t o = 0;
		char *nl;

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		s->inlen += n;
		while ((nl = memchr(s->in, '\n', s->inlen))) {
			size_t l = nl - s->in + 1;

			/* a client waits for each answer, so the send buffer has room; one that
			 * does not wait and fills it is dropped rather than buffered for */
			if (o + name_len + 1 + l > sizeof(out)) {
				if (send(s->fd, out, o, MSG_NOSIGNAL) != (ssize_t)o)
					return false;
				o = 0;
			}
			memcpy(out + o, name, name_len);
			out[o + name_len] = ' ';
			memcpy(out + o + name_len + 1, s->in, l);
			o += name_len + 1 + l;
			memmove(s->in, s->in + l, s->inlen - l);
			s->inlen -= l;
			(*answered)++;
		}
		if (o && send(s->fd, out, o, MSG_NOSIGNAL) != (ssize_t)o)
			return false;
		if (s->inlen == sizeof(s->in))
			return false; /* a line longer than any client sends */
	}
}

static int stream_server(const struct stream_args *a)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(a->listen),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	size_t name_len = strlen(a->answer_as);
	uint64_t accepted = 0, answered = 0;
	int lfd, ep, zero = 0, one = 1;

	raise_nofile(STREAM_CONNS_MAX);
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096)) {
		pr_warn("cannot listen on [::]:%llu: %s\n", (unsigned long long)a->listen,
			strerror(errno));
		return EXIT_FAIL;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		pr_warn("epoll: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	setup_signals();
	printf("lab clients: answering as %s on [::]:%llu\n", a->answer_as,
	       (unsigned long long)a->listen);
	fflush(stdout);
	while (!exiting) {
		int k = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 500);

		for (int i = 0; i < k; i++) {
			struct srv_conn *s = evs[i].data.ptr;

			if (!s) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP };
					s = calloc(1, sizeof(*s));
					if (!s) {
						close(fd);
						continue;
					}
					s->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					cev.data.ptr = s;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev)) {
						srv_close(s);
						continue;
					}
					accepted++;
				}
				continue;
			}
			if (!srv_readable(s, a->answer_as, name_len, &answered) ||
			    (evs[i].events & (EPOLLHUP | EPOLLERR)))
				srv_close(s); /* closing removes it from the epoll set */
		}
	}
	/* Open connections are not tracked one by one: exit closes them all. */
	printf("lab clients: %s stopped: %llu connections accepted, %llu lines answered\n",
	       a->answer_as, (unsigned long long)accepted, (unsigned long long)answered);
	return EXIT_OK;
}

int lab_stream_main(const char *lab, int argc, char **argv)
{
	struct stream_args a = { .name = lab, .node = "client", .conns = 100, .interval = 0.1,
				 .timeout = 1, .duration = 10, .ramp = 1 };
	struct stream_target t;
	char ns[64];
	int err;

	if ((err = opts_parse(&lab_stream_spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	if (a.listen) {
		if (a.connect)
			return usage_error("lab clients", "--listen is the server, --connect the "
					   "client: one of them");
		if (!a.answer_as || !a.answer_as[0] || strlen(a.answer_as) > 31 ||
		    strpbrk(a.answer_as, " \n"))
			return usage_error("lab clients", "--listen needs --answer-as NAME: 1-31 "
					   "characters, no space");
		return stream_server(&a);
	}
	if (a.answer_as)
		return usage_error("lab clients", "--answer-as goes with --listen");
	if (!a.connect)
		return usage_error("lab clients", "missing --connect ADDR:PORT");
	if (a.ramp > a.duration)
		return usage_error("lab clients", "--ramp %g is longer than --duration %g", a.ramp,
				   a.duration);
	if (parse_target(a.connect, &t))
		return usage_error("lab clients", "invalid --connect '%s': expected A.B.C.D:PORT or "
				   "[IPV6]:PORT, port 1-65535", a.connect);
	if (lab_check_name(a.name))
		return usage_error("lab clients", "invalid lab name '%s'", a.name);
	snprintf(ns, sizeof(ns), "%s-%s", a.name, a.node);
	if (!netns_exists(ns))
		return usage_error("lab clients", "no namespace %s: is lab '%s' up, with a node '%s'?",
				   ns, a.name, a.node);
	if ((err = require_caps("lab clients", CAPN_SYS_ADMIN, "CAP_SYS_ADMIN to enter the lab "
				"node's network namespace")))
		return err;
	if (netns_enter(ns)) {
		pr_warn("cannot enter the network namespace %s\n", ns);
		return EXIT_FAIL;
	}
	return stream_client(&a, &t);
}

/* ---- the servers of `lab up --serve` ---- */

static void stream_marker(char *buf, size_t len, const char *lab, const char *node)
{
	snprintf(buf, len, STREAM_MARK ":%s:%s", lab, node ? node : "");
}

int lab_stream_serve_pid(const char *lab, const char *node)
{
	char a0[96];
	int pid = 0;

	stream_marker(a0, sizeof(a0), lab, node);
	lab_proc_each(a0, false, 0, &pid);
	return pid;
}

int lab_stream_serve_stop(const char *lab)
{
	char a0[96];

	stream_marker(a0, sizeof(a0), lab, NULL);
	return lab_proc_stop(a0, true);
}

/* The node's own answer through its own address, from inside its namespace: our server
 * is listening (a stranger on the port would accept the connection too). */
static bool stream_serve_ready(const struct lab_node *n)
{
	char want[64], got[64];
	int fd = lab_node_connect(n, LAB_STREAM_PORT), len;
	ssize_t r = 0;

	if (fd < 0)
		return false;
	len = snprintf(want, sizeof(want), "%s 0 0\n", n->name);
	if (write(fd, "0 0\n", 4) == 4)
		r = read(fd, got, sizeof(got));
	close(fd);
	return r == len && !memcmp(got, want, len);
}

int lab_stream_serve_start(const struct lab *lab)
{
	char dir[128], log[256], a0[96], port[8];
	pid_t pids[LAB_MAX_BACKENDS] = { 0 };

	lab_run_dir(lab->name, dir, sizeof(dir));
	snprintf(port, sizeof(port), "%d", LAB_STREAM_PORT);
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		char *argv[] = { a0, "lab", "clients", "--listen", port, "--answer-as",
				 (char *)n->name, NULL };

		if (lab_stream_serve_pid(lab->name, n->name))
			continue; /* idempotent, as `up` is */
		stream_marker(a0, sizeof(a0), lab->name, n->name);
		snprintf(log, sizeof(log), "%s/stream-%s.log", dir, n->name);
		pids[i] = lab_proc_spawn(n->netns, argv, log, false);
		if (pids[i] < 0) {
			pr_warn("lab '%s': fork: %s\n", lab->name, strerror(errno));
			return EXIT_FAIL;
		}
	}
	for (int i = 0; i < lab->nbackends; i++) {
		const struct lab_node *n = &lab->nodes[2 + i];
		bool ok = false;

		if (!pids[i])
			continue;
		for (int t = 0; t < 300 && !ok; t++) {
			int st;
			struct timespec ts = { 0, 10 * 1000000L };

			if (waitpid(pids[i], &st, WNOHANG) == pids[i])
				break;
			ok = stream_serve_ready(n);
			if (!ok)
				nanosleep(&ts, NULL);
		}
		if (!ok) {
			snprintf(log, sizeof(log), "%s/stream-%s.log", dir, n->name);
			pr_warn("lab '%s': the stream server on %s does not answer on port %d:\n",
				lab->name, n->name, LAB_STREAM_PORT);
			lab_log_warn(log, n->name);
			return EXIT_FAIL;
		}
	}
	return EXIT_OK;
}
