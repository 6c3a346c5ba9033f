/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The lab's addressing plan, shared by `bpflab lab` and the commands that use the lab. */
#ifndef BPFLAB_LAB_H
#define BPFLAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* RFC 2544's benchmarking range and RFC 3849's documentation prefix: never routed, so a
 * lab can never reach, or be confused with, a real network. */
#define LAB_NET4 "198.18.0."
#define LAB_NET6 "2001:db8:18::"
#define LAB_PREFIX4 24
#define LAB_PREFIX6 64
/* The address a load balancer's VIP takes in the lab. */
#define LAB_VIP4 LAB_NET4 "100"
#define LAB_VIP6 LAB_NET6 "100"
#define LAB_MAX_BACKENDS 16
/* `lab up --attacker`: a node that floods (hping3), planned after the backends so node
 * indexes (client 0, lb 1, backends from 2) stay what they are. */
#define LAB_ATTACKER_HOST 66
#define LAB_NAME_MAX 12

struct lab_node {
	char name[16];     /* client, lb, backend-a, ... */
	char netns[32];    /* <lab>-<name> */
	char sw_port[16];  /* its veth's peer in the switch namespace */
	int host;          /* last octet / last hextet */
	char ip4[20];
	char ip6[40];
	char mac[18];
};

struct lab {
	char name[LAB_NAME_MAX + 1];
	char sw_netns[32]; /* <lab>-sw holds the bridge */
	int nbackends;
	int nnodes;
	struct lab_node nodes[2 + LAB_MAX_BACKENDS + 1]; /* + the attacker */
};

/* Fills the plan for lab `name` with n backends; -EINVAL on a bad name or count. */
int lab_plan(struct lab *lab, const char *name, int nbackends);
/* The node called `node` (client, lb, backend-a, a, ...), or NULL. */
const struct lab_node *lab_find_node(const struct lab *lab, const char *node);
/* Adds the attacker node (198.18.0.66, netns <lab>-attacker) to a plan; idempotent. */
void lab_plan_attacker(struct lab *lab);
int lab_check_name(const char *name);

/* `lab up --lb ipip|gue` (lab_l3.c): every node on its own subnet (198.18.<host>.0/24,
 * LAB_NET6_L3 "<host>::/64"), joined by the router namespace <lab>-router; the VIPs are
 * routed to lb; backends hold them on lo and run `lb decap eth0` (pid and log in the
 * runtime folder). */
#define LAB_NET6_L3 "2001:db8:18:"
bool lab_l3_exists(const char *lab);
/* Rewrites a plan's addresses, ports and router for the L3 lab. */
void lab_l3_plan(struct lab *lab);
/* Node n's gateway (the router's address on its subnet). */
void lab_l3_gateway(const struct lab_node *n, char *gw4, size_t l4, char *gw6, size_t l6);
/* Builds or completes it: 0, or -EIO (run with -v for the commands). */
int lab_l3_up(struct lab *lab);
/* Starts the missing decap processes and waits until each has attached; EXIT_OK/FAIL. */
int lab_l3_decap_start(const struct lab *lab);
/* Stops every decap process of the lab; how many. */
int lab_l3_stop(const char *lab);
int lab_l3_decap_pid(const char *lab, const char *node);

/* `lab up --serve`: an HTTP server on every backend answering with the node's name (serve.c).
 * Runtime state (pid files, logs) lives in LAB_RUN_DIR/<lab>/ and goes with `lab down`. */
#define LAB_RUN_DIR "/run/bpflab/lab"
#define LAB_SERVE_PORT 80
void lab_run_dir(const char *lab, char *buf, size_t len);
/* Starts the missing servers and waits until each answers; EXIT_OK or EXIT_FAIL. */
int lab_serve_start(const struct lab *lab);
/* Stops every server of the lab (also ones a killed `up` left) and removes its runtime
 * folder; returns how many were stopped. */
int lab_serve_stop(const char *lab);
/* The pid of node's server, 0 if none runs. */
int lab_serve_pid(const char *lab, const char *node);

/* `lab up --lb-config FILE` (lab_health.c): `lb start eth0` on lb with FILE and, when it
 * has checks, `lb health` in the background; lab_lb_stop (from `lab down`) stops both and
 * returns how many checkers it stopped. */
int lab_lb_start(const struct lab *lab, const char *mode, const char *config);
int lab_lb_stop(const struct lab *lab);
int lab_health_pid(const char *lab);
/* Whether an lb config FILE has `check` lines (then the lab runs `lb health` beside lb). */
bool lab_config_has_check(const char *config);
/* A TCP connection to NODE's own IPv4 address and PORT, made from inside its namespace,
 * with 1 s send/receive timeouts: how the lab asks its own servers whether they answer. */
int lab_node_connect(const struct lab_node *n, int port);

/* A 2-insn XDP_PASS on ifname in netns, attached the classic way (it lives as long as
 * the port): XDP_TX into a veth needs an XDP program on the peer to be received. 0/-err. */
int lab_peer_xdp_pass(const char *netns, const char *ifname);

/* The lab's bpflab daemons (lab_proc.c), known by argv[0] "<mark>:<lab>[:<node>]".
 * lab_proc_each: how many run whose argv[0] is a0 (or starts with it: prefix); sends sig
 * when non-zero, stores one pid in *pid when given. lab_proc_stop: SIGTERM, SIGKILL
 * after 3 s; how many there were. lab_proc_spawn: `bpflab argv[1..]` (argv[0] is the
 * marker) in netns, stdout and stderr to log; the child's pid, or -1. */
int lab_proc_each(const char *a0, bool prefix, int sig, int *pid);
int lab_proc_stop(const char *a0, bool prefix);
pid_t lab_proc_spawn(const char *netns, char *const argv[], const char *log, bool append);
/* Copies a daemon's log into warnings, each line led by node when given. */
void lab_log_warn(const char *log, const char *node);

/* `lab up --lbs N --router bird` (lab_cluster.c): N LB nodes lb1..lbN (198.18.0.2..) on
 * a LAN bridge with the router NAME-router (198.18.0.254, client side 198.18.1.0/24),
 * BIRD on the router and on every node, `lb announce` on every node; a cluster lab is
 * known by its namespace NAME-lb1. lab_cluster_stop stops the lab's daemons (lab down
 * removes the namespaces and pins); the others are the subcommands on a cluster lab. */
#define LAB_CLUSTER_MAX_LBS 8
struct lab_cluster_opts {
	const char *name, *mode, *router, *lb_config;
	int lbs, backends;
	bool serve;
};
bool lab_cluster_exists(const char *lab);
int lab_cluster_up(const struct lab_cluster_opts *o);
int lab_cluster_stop(const char *lab);
int lab_cluster_status(const char *lab);
int lab_cluster_exec(const char *lab, int argc, char **argv);
int lab_cluster_apply(const char *lab, const char *file);
int lab_cluster_kill(const char *lab, const char *node);
int lab_cluster_revive(const char *lab, const char *node);

/* `lab clients` (stream.c): long-lived TCP connections, counted. `lab up --serve` also
 * starts `lab clients --listen LAB_STREAM_PORT --answer-as NODE` on every backend (argv[0]
 * "bpflab-lab-stream:<lab>:<node>"): it answers each line "ID SEQ" with "NODE ID SEQ". */
#define LAB_STREAM_PORT 7
struct cmd_spec;
extern const struct cmd_spec lab_stream_spec;
int lab_stream_main(const char *lab, int argc, char **argv);
int lab_stream_serve_start(const struct lab *lab); /* EXIT_OK once each one answers */
int lab_stream_serve_stop(const char *lab);        /* how many were stopped */
int lab_stream_serve_pid(const char *lab, const char *node);

/* The client's accounting, apart from its sockets (tests/unit/test_stream.c). */
#define STREAM_NODES_MAX 64
#define STREAM_LINE_MAX 96
enum stream_state { SC_IDLE, SC_CONNECTING, SC_OPEN, SC_BROKEN, SC_FAILED };
enum stream_why { STREAM_OK, STREAM_RST, STREAM_EOF, STREAM_TIMEOUT, STREAM_ERROR, STREAM_BAD,
		  STREAM_WHY_N };
extern const char *const stream_why_names[STREAM_WHY_N];
struct stream_conn {
	int fd;
	uint32_t id, seq;     /* seq: the last message sent */
	enum stream_state state;
	enum stream_why why;  /* once broken */
	int connect_errno;    /* once failed */
	int first, node;      /* backends (index in stream_run.nodes) of the first and last answer */
	bool waiting, moved;  /* seq unanswered; another backend answered once */
	double opened_at, sent_at, last_answer, next_send; /* CLOCK_MONOTONIC seconds */
	double max_gap, max_rtt;
	uint16_t inlen;
	char in[STREAM_LINE_MAX];
};
struct stream_node {
	char name[32];
	uint64_t first, broken, moved_in, moved_out; /* first: connections it answered first */
};
struct stream_run {
	double interval, timeout;
	uint64_t opened, failed_open, sent, answers, moved, broken_total;
	uint64_t broken[STREAM_WHY_N];
	uint64_t tick_answers, tick_broken; /* since the last tick */
	double tick_max_gap;
	int nnodes;
	struct stream_node nodes[STREAM_NODES_MAX];
	/* told of every break and move as it happens ("break", "move"), when set */
	void (*note)(const struct stream_run *r, const struct stream_conn *c, const char *what,
		     int from, double now);
	double t0;
};
/* "NODE ID SEQ" (no newline): 0, or -EPROTO. */
int stream_parse_answer(const char *line, size_t len, size_t *node_len, uint32_t *id,
			uint32_t *seq);
int stream_node_id(struct stream_run *r, const char *name, size_t len); /* -1: table full */
void stream_opened(struct stream_run *r, struct stream_conn *c, double now);
/* An answer line on c: 0, or -EPROTO (c broke: not the message it waits for). */
int stream_answer(struct stream_run *r, struct stream_conn *c, const char *line, size_t len,
		  double now);
void stream_break(struct stream_run *r, struct stream_conn *c, enum stream_why why, double now);
/* Breaks c when its message has waited longer than r->timeout; true if it did. */
bool stream_check_timeout(struct stream_run *r, struct stream_conn *c, double now);

#endif
