/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Active health checks of the load balancer (docs/lb.md "Health checks"): the per-VIP
 * check of the configuration, the fall/rise state machine that decides when a backend is
 * drained and restored, and the two maps `lb health` keeps beside the balancer's pins
 * (checks: the checks applied; health: each backend's and VIP's state, for `lb show`). */
#ifndef BPFLAB_LB_HEALTH_H
#define BPFLAB_LB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum lb_check_type { LB_CHECK_NONE = 0, LB_CHECK_TCP, LB_CHECK_HTTP, LB_CHECK_UDP };

#define LB_CHECK_STR 64
/* keepalived's and HAProxy's usual defaults: a failed backend is out after ~6 s. */
#define LB_CHECK_INTERVAL_MS 2000
#define LB_CHECK_TIMEOUT_MS 1000
#define LB_CHECK_FALL 3
#define LB_CHECK_RISE 2
#define LB_CHECK_MIN_MS 50
#define LB_CHECK_MAX_MS 3600000
#define LB_CHECK_MAX_COUNT 100

/* One VIP's check, as the config line `check VIP ...` says (fixed size: it is a map value). */
struct lb_check {
	__u32 type;          /* enum lb_check_type; NONE: no check */
	__u32 status;        /* http: the status that means healthy */
	__u32 interval_ms, timeout_ms;
	__u32 fall, rise;    /* consecutive failures to drain, successes to restore */
	__u32 need;          /* fewer healthy backends: the VIP is down */
	__u32 payload_len, expect_len;
	char path[LB_CHECK_STR];    /* http, NUL-terminated */
	__u8 payload[LB_CHECK_STR]; /* udp: sent */
	__u8 expect[LB_CHECK_STR];  /* udp: the reply must start with these bytes */
};

/* The check defaults of type t. */
void lb_check_init(struct lb_check *c, enum lb_check_type t);
/* Parses the words after "check VIP" (argv-like). 0, or -EINVAL with why filled. */
int lb_check_parse(char **w, int n, struct lb_check *c, char *why, size_t len);
/* The words again, as lb_check_parse reads them back ("tcp interval 2 ..."). */
void lb_check_format(const struct lb_check *c, char *buf, size_t len);
bool lb_check_eq(const struct lb_check *a, const struct lb_check *b);
const char *lb_check_type_str(__u32 t);

/* A backend's health, from the results of its checks. */
enum lb_health_state { LB_H_UNKNOWN = 0, LB_H_UP, LB_H_DOWN };

struct lb_hsm {
	__u32 state;         /* enum lb_health_state */
	__u32 fails, oks;    /* consecutive */
};
/* One check result into the state machine: returns the new state when it changed (UP or
 * DOWN), else LB_H_UNKNOWN. From UNKNOWN one success is UP (a backend starts healthy, as
 * in keepalived) and `fall` failures DOWN; from UP `fall` failures; from DOWN `rise`
 * successes. */
__u32 lb_hsm_step(struct lb_hsm *m, const struct lb_check *c, bool ok);
const char *lb_health_str(__u32 state);

/* The health map's value: a backend's (key: its id) or a VIP's (key: LB_HKEY_VIP | id). */
#define LB_HKEY_VIP 0x80000000u
struct lb_health {
	__u32 state;         /* enum lb_health_state */
	__u32 pid;           /* the checker that wrote it */
	__u32 fails, oks;
	__u32 weight;        /* backend: the weight to restore after a drain */
	__u32 drained;       /* backend: the checker set its weight to 0 */
	__u32 healthy, total;/* VIP: backends up, backends */
	__u32 need;          /* VIP */
	__u32 rtt_us;        /* backend: last successful check */
	__u64 checks, failed;
	__u64 since_ms;      /* CLOCK_REALTIME of the last state change */
	char who[48];        /* backend address or VIP, to tell a reused id apart */
	char last[48];       /* last result: "ok", "timeout", "connection refused", ... */
};

/* Maps pinned beside the balancer's (dir: its pin folder), made on first use. */
#define LB_CHECKS_PIN "checks"
#define LB_HEALTH_PIN "health"
/* Opens (create: makes and pins when missing or of another layout) the map; fd or -errno. */
int lb_checks_open(const char *dir, bool create);
int lb_health_open(const char *dir, bool create);

struct lb_cfg;
struct lb_inst;
/* The checks of every VIP of s, from / into the checks map (call store under the lock). */
int lb_checks_load(const char *dir, struct lb_cfg *s);
int lb_checks_store(const char *dir, const struct lb_cfg *s);
/* Is the checker that wrote h alive? */
bool lb_health_live(const struct lb_health *h);

/* `bpflab lb health`, in the foreground until SIGINT/SIGTERM or duration (< 0: forever). */
int lb_health_run(char **ifaces, int n, double duration);
struct cmd_spec;
extern const struct cmd_spec lb_health_spec;
int lb_health_main(int argc, char **argv);

#endif
