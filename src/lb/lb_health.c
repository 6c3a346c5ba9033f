// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Health checks for the load balancer: the `check` config line, the fall/rise state
 * machine, the pinned checks/health maps, and `bpflab lb health`, the checker that runs in
 * the foreground as keepalived does. Probes are non-blocking sockets driven by one poll
 * loop, each bounded by the check's timeout, so a backend that never answers or answers
 * garbage is a failed check and never stalls the others. Weights change through the same
 * locked path as `lb backend set`: read the pinned configuration, edit, lb_apply_cfg. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "json.h"
#include "opts.h"
#include "lb_cmd.h"
#include "lb_health.h"
#include "lb_steer.h"

/* ---- the config line ---- */

static const char *const check_types[] = {
	[LB_CHECK_NONE] = "none", [LB_CHECK_TCP] = "tcp", [LB_CHECK_HTTP] = "http",
	[LB_CHECK_UDP] = "udp",
};

const char *lb_check_type_str(__u32 t)
{
	return t < sizeof(check_types) / sizeof(check_types[0]) ? check_types[t] : "?";
}

void lb_check_init(struct lb_check *c, enum lb_check_type t)
{
	memset(c, 0, sizeof(*c));
	c->type = t;
	c->status = 200;
	c->interval_ms = LB_CHECK_INTERVAL_MS;
	c->timeout_ms = LB_CHECK_TIMEOUT_MS;
	c->fall = LB_CHECK_FALL;
	c->rise = LB_CHECK_RISE;
	c->need = 1;
	if (t == LB_CHECK_HTTP)
		strcpy(c->path, "/");
}

/* Bytes of a config word: \xNN, \\, \n, \r, \t, \s (space) escape what a word cannot hold. */
static int unescape(const char *s, __u8 *out, __u32 *len)
{
	__u32 n = 0;

	for (; *s; s++) {
		int c = (unsigned char)*s;

		if (c == '\\') {
			s++;
			switch (*s) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 's': c = ' '; break;
			case '\\': c = '\\'; break;
			case 'x': {
				unsigned v;
				if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]) ||
				    sscanf(s + 1, "%2x", &v) != 1)
					return -EINVAL;
				c = v;
				s += 2;
				break;
			}
			default:
				return -EINVAL;
			}
		}
		if (n >= LB_CHECK_STR)
			return -E2BIG;
		out[n++] = c;
	}
	*len = n;
	return n ? 0 : -EINVAL;
}

static void escape(const __u8 *b, __u32 n, char *out, size_t len)
{
	size_t o = 0;

	for (__u32 i = 0; i < n && o + 5 < len; i++) {
		int c = b[i];

		if (c == '\\')
			o += snprintf(out + o, len - o, "\\\\");
		else if (c == ' ')
			o += snprintf(out + o, len - o, "\\s");
		else if (c == '\n')
			o += snprintf(out + o, len - o, "\\n");
		else if (c == '\r')
			o += snprintf(out + o, len - o, "\\r");
		else if (c == '\t')
			o += snprintf(out + o, len - o, "\\t");
		else if (c == '#' || !isgraph(c))
			o += snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o] = 0;
}

/* "2", "0.5", "2s" (seconds) or "500ms", into ms. */
static int parse_ms(const char *s, __u32 *ms)
{
	size_t n = strlen(s);
	double v;
	char buf[32];

	if (n >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if (n > 2 && !strcmp(buf + n - 2, "ms")) {
		uint64_t u;
		buf[n - 2] = 0;
		if (parse_u64(buf, LB_CHECK_MIN_MS, LB_CHECK_MAX_MS, &u))
			return -EINVAL;
		*ms = u;
		return 0;
	}
	if (n > 1 && buf[n - 1] == 's')
		buf[n - 1] = 0; /* "2s", as lb save writes it */
	if (parse_seconds(buf, LB_CHECK_MIN_MS / 1000.0, LB_CHECK_MAX_MS / 1000.0, &v))
		return -EINVAL;
	*ms = (__u32)(v * 1000 + 0.5);
	return 0;
}

int lb_check_parse(char **w, int n, struct lb_check *c, char *why, size_t len)
{
	enum lb_check_type t = LB_CHECK_NONE;
	bool timeout_given = false;
	int i = 1;

	if (n < 1)
		goto type;
	for (int k = LB_CHECK_TCP; k <= LB_CHECK_UDP; k++)
		if (!strcmp(w[0], check_types[k]))
			t = k;
	if (!t)
		goto type;
	lb_check_init(c, t);
	if (t == LB_CHECK_HTTP) {
		if (n < 2 || w[1][0] != '/' || strlen(w[1]) >= LB_CHECK_STR) {
			snprintf(why, len, "http needs a PATH starting with '/' (at most %d characters)",
				 LB_CHECK_STR - 1);
			return -EINVAL;
		}
		for (const char *p = w[1]; *p; p++) {
			if (!isgraph((unsigned char)*p)) {
				snprintf(why, len, "http PATH may hold no space or control character");
				return -EINVAL;
			}
		}
		strcpy(c->path, w[1]);
		i = 2;
	} else if (t == LB_CHECK_UDP) {
		if (n < 4 || strcmp(w[2], "expect") || unescape(w[1], c->payload, &c->payload_len) ||
		    unescape(w[3], c->expect, &c->expect_len)) {
			snprintf(why, len, "expected 'udp PAYLOAD expect BYTES' (1-%d bytes each; "
				 "\\xNN \\s \\n \\r \\t \\\\ escapes)", LB_CHECK_STR);
			return -EINVAL;
		}
		i = 4;
	}
	for (; i < n; i += 2) {
		const char *k = w[i], *v = i + 1 < n ? w[i + 1] : NULL;
		uint64_t u;

		if (!v) {
			snprintf(why, len, "'%s' needs a value", k);
			return -EINVAL;
		}
		if (!strcmp(k, "interval") || !strcmp(k, "timeout")) {
			timeout_given |= !strcmp(k, "timeout");
			if (parse_ms(v, !strcmp(k, "interval") ? &c->interval_ms : &c->timeout_ms)) {
				snprintf(why, len, "bad %s '%s': seconds (0.05-3600, e.g. 2, 0.5 or 2s) "
					 "or milliseconds (500ms)", k, v);
				return -EINVAL;
			}
		} else if (!strcmp(k, "fall") || !strcmp(k, "rise")) {
			if (parse_u64(v, 1, LB_CHECK_MAX_COUNT, &u)) {
				snprintf(why, len, "bad %s '%s': a count from 1 to %d", k, v,
					 LB_CHECK_MAX_COUNT);
				return -EINVAL;
			}
			*(!strcmp(k, "fall") ? &c->fall : &c->rise) = u;
		} else if (!strcmp(k, "need")) {
			if (parse_u64(v, 0, LB_MAX_BACKENDS, &u)) {
				snprintf(why, len, "bad need '%s': healthy backends, 0 to %d", v,
					 LB_MAX_BACKENDS);
				return -EINVAL;
			}
			c->need = u;
		} else if (!strcmp(k, "status") && t == LB_CHECK_HTTP) {
			if (parse_u64(v, 100, 599, &u)) {
				snprintf(why, len, "bad status '%s': an HTTP status 100-599", v);
				return -EINVAL;
			}
			c->status = u;
		} else {
			snprintf(why, len, "unknown option '%s' (interval, timeout, fall, rise, need%s)",
				 k, t == LB_CHECK_HTTP ? ", status" : "");
			return -EINVAL;
		}
	}
	if (!timeout_given && c->timeout_ms > c->interval_ms)
		c->timeout_ms = c->interval_ms; /* the default fits a short interval */
	if (c->timeout_ms > c->interval_ms) {
		snprintf(why, len, "timeout %.3gs is longer than interval %.3gs: one check must end "
			 "before the next", c->timeout_ms / 1000.0, c->interval_ms / 1000.0);
		return -EINVAL;
	}
	return 0;
type:
	snprintf(why, len, "expected 'tcp', 'http PATH [status N]' or 'udp PAYLOAD expect BYTES', "
		 "then [interval S] [timeout S] [fall N] [rise N] [need N]");
	return -EINVAL;
}

void lb_check_format(const struct lb_check *c, char *buf, size_t len)
{
	char p[LB_CHECK_STR * 4 + 1], e[LB_CHECK_STR * 4 + 1];
	int o = 0;

	if (c->type == LB_CHECK_HTTP)
		o = snprintf(buf, len, "http %s status %u", c->path, c->status);
	else if (c->type == LB_CHECK_UDP) {
		escape(c->payload, c->payload_len, p, sizeof(p));
		escape(c->expect, c->expect_len, e, sizeof(e));
		o = snprintf(buf, len, "udp %s expect %s", p, e);
	} else
		o = snprintf(buf, len, "%s", lb_check_type_str(c->type));
	if (o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - o, " interval %gs timeout %gs fall %u rise %u need %u",
			 c->interval_ms / 1000.0, c->timeout_ms / 1000.0, c->fall, c->rise, c->need);
}

bool lb_check_eq(const struct lb_check *a, const struct lb_check *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == LB_CHECK_NONE)
		return true;
	return a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->fall == b->fall && a->rise == b->rise && a->need == b->need &&
	       (a->type != LB_CHECK_HTTP || (a->status == b->status && !strcmp(a->path, b->path))) &&
	       (a->type != LB_CHECK_UDP ||
		(a->payload_len == b->payload_len && a->expect_len == b->expect_len &&
		 !memcmp(a->payload, b->payload, a->payload_len) &&
		 !memcmp(a->expect, b->expect, a->expect_len)));
}

/* ---- the state machine ---- */

const char *lb_health_str(__u32 s)
{
	return s == LB_H_UP ? "up" : s == LB_H_DOWN ? "down" : "unknown";
}

__u32 lb_hsm_step(struct lb_hsm *m, const struct lb_check *c, bool ok)
{
	if (ok) {
		m->fails = 0;
		m->oks++;
		if (m->state == LB_H_UNKNOWN || (m->state == LB_H_DOWN && m->oks >= c->rise)) {
			m->state = LB_H_UP;
			return LB_H_UP;
		}
		return LB_H_UNKNOWN;
	}
	m->oks = 0;
	m->fails++;
	if (m->state != LB_H_DOWN && m->fails >= c->fall) {
		m->state = LB_H_DOWN;
		return LB_H_DOWN;
	}
	return LB_H_UNKNOWN;
}

/* ---- the maps ---- */

static int map_open(const char *dir, const char *name, enum bpf_map_type type, __u32 ksz,
		    __u32 vsz, __u32 entries, bool create)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	char p[320];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = bpf_obj_get(p);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) && info.type == type &&
		    info.key_size == ksz && info.value_size == vsz)
			return fd;
		close(fd);
		if (!create)
			return -ESTALE;
		/* Of an older layout: health state is rebuilt by the next checks anyway. */
		unlink(p);
	} else if (!create || errno != ENOENT) {
		return -errno;
	}
	fd = bpf_map_create(type, name, ksz, vsz, entries, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, p)) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int lb_checks_open(const char *dir, bool create)
{
	return map_open(dir, LB_CHECKS_PIN, BPF_MAP_TYPE_HASH, sizeof(struct lb_vip_key),
			sizeof(struct lb_check), LB_MAX_VIPS, create);
}

int lb_health_open(const char *dir, bool create)
{
	return map_open(dir, LB_HEALTH_PIN, BPF_MAP_TYPE_HASH, sizeof(__u32),
			sizeof(struct lb_health), LB_MAX_BACKENDS + LB_MAX_VIPS, create);
}

int lb_checks_load(const char *dir, struct lb_cfg *s)
{
	int fd = lb_checks_open(dir, false);

	for (int i = 0; i < s->nvips; i++)
		lb_check_init(&s->vips[i].check, LB_CHECK_NONE);
	if (fd == -ENOENT || fd == -ESTALE)
		return 0;
	if (fd < 0)
		return fd;
	for (int i = 0; i < s->nvips; i++) {
		struct lb_check c;

		if (!bpf_map_lookup_elem(fd, &s->vips[i].key, &c) && c.type <= LB_CHECK_UDP)
			s->vips[i].check = c;
	}
	close(fd);
	return 0;
}

int lb_checks_store(const char *dir, const struct lb_cfg *s)
{
	struct lb_vip_key k, next, *prev = NULL;
	bool any = false;
	int fd, err = 0;

	for (int i = 0; i < s->nvips; i++)
		any |= s->vips[i].check.type != LB_CHECK_NONE;
	fd = lb_checks_open(dir, any);
	if (fd == -ENOENT || fd == -ESTALE)
		return 0; /* nothing checked, and nothing was */
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		int i;
		k = next;
		for (i = 0; i < s->nvips; i++)
			if (lb_vip_eq(&s->vips[i].key, &k) && s->vips[i].check.type != LB_CHECK_NONE)
				break;
		if (i == s->nvips) {
			bpf_map_delete_elem(fd, &k);
			prev = NULL; /* deleting the cursor: walk again from the start */
			continue;
		}
		prev = &k;
	}
	for (int i = 0; i < s->nvips && !err; i++)
		if (s->vips[i].check.type != LB_CHECK_NONE &&
		    bpf_map_update_elem(fd, &s->vips[i].key, &s->vips[i].check, BPF_ANY))
			err = -errno;
	close(fd);
	return err;
}

bool lb_health_live(const struct lb_health *h)
{
	return h->pid && (kill((pid_t)h->pid, 0) == 0 || errno == EPERM);
}

/* ---- the checker ---- */

enum { PH_IDLE, PH_CONNECT, PH_SEND, PH_READ };

struct hb {                     /* one checked backend */
	__u32 id, vi;           /* backend id; index into hi->v */
	bool seen;              /* still in the configuration at the last sync */
	char who[48];
	struct sockaddr_storage sa; /* where the probe connects (IPv4 or IPv6) */
	socklen_t salen;
	struct sockaddr_storage src; /* bound first when srclen: see probe_source */
	socklen_t srclen;
	__u32 mark;             /* SO_MARK steering it to this backend (0: none) */
	struct lb_hsm m;
	struct lb_health h;
	double next;            /* monotonic: the next check is due */
	/* the probe in flight */
	int fd, phase;
	double started, deadline;
	size_t sent, got;
	char buf[256];
};

struct hv {                     /* one checked VIP */
	struct lb_vip_key key;
	__u32 id;
	char name[64];
	struct lb_check check;
	__u32 state;            /* enum lb_health_state: down when fewer than need are up */
	bool seen;
};

struct hinst {
	char ifname[IF_NAMESIZE];
	char dir[256];
	__u32 mode;
	int health_fd;
	struct lb_steer *steer; /* dsr: probes to VIP:port steered to one backend */
	int nb, nv;
	struct hb *b;           /* LB_MAX_BACKENDS */
	struct hv v[LB_MAX_VIPS];
	double next_sync;
};

static __u64 now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void event(const struct hinst *hi, const char *ev, const struct hv *v, const struct hb *b,
		  const char *detail)
{
	if (g_opts.json) {
		struct json j;

		json_record_begin(&j, stdout, "health");
		json_kstr(&j, "event", ev);
		json_kstr(&j, "interface", hi->ifname);
		json_kstr(&j, "vip", v->name);
		json_kstr(&j, "backend", b ? b->who : NULL);
		json_kstr(&j, "state", lb_health_str(b ? b->m.state : v->state));
		json_kstr(&j, "result", b ? b->h.last : NULL);
		json_key(&j, "rtt_ms");
		if (b && !strcmp(ev, "check") && !strcmp(b->h.last, "ok"))
			json_double(&j, b->h.rtt_us / 1000.0);
		else
			json_null(&j);
		json_key(&j, "weight");
		if (b)
			json_uint(&j, b->h.weight);
		else
			json_null(&j);
		json_kstr(&j, "detail", detail);
		json_kuint(&j, "time_ms", now_real_ms());
		json_record_end(&j);
		fflush(stdout);
	} else if (strcmp(ev, "check")) {
		printf("lb health %s: %s %s%s%s%s%s\n", hi->ifname, v->name, b ? b->who : "", b ? " " : "",
		       ev, detail ? ": " : "", detail ? detail : "");
		fflush(stdout);
	}
}

/* Sets backend id's weight through the locked control plane; *was: its weight before. */
static int set_weight(struct hinst *hi, __u32 id, __u16 w, __u16 *was)
{
	struct lb_cfg *s = calloc(1, sizeof(*s));
	struct lb_inst in;
	int ret, i;

	if (!s)
		return EXIT_FAIL;
	if ((ret = inst_find(hi->ifname, &in)))
		goto out_free;
	if ((ret = inst_open(&in, true, false)) || (ret = lb_read_cfg(&in, s)))
		goto out;
	for (i = 0; i < s->nbackends && s->backends[i].id != id; i++)
		;
	if (i == s->nbackends) {
		ret = EXIT_FAIL; /* removed meanwhile: nothing to drain */
		goto out;
	}
	*was = s->backends[i].weight;
	if (*was != w) {
		s->backends[i].weight = w;
		ret = lb_apply_cfg(&in, s);
	}
out:
	inst_close(&in);
out_free:
	free(s);
	return ret;
}

static void health_write(struct hinst *hi, __u32 key, struct lb_health *h)
{
	h->pid = getpid();
	if (hi->health_fd >= 0)
		bpf_map_update_elem(hi->health_fd, &key, h, BPF_ANY);
}

static void drain(struct hinst *hi, struct hb *b)
{
	__u16 was = 0;
	char d[64];

	if (set_weight(hi, b->id, 0, &was))
		return;
	if (was) {
		b->h.weight = was;
		b->h.drained = 1;
	}
	snprintf(d, sizeof(d), "weight %u -> 0 (existing flows kept)", was);
	event(hi, "drain", &hi->v[b->vi], b, d);
}

static void restore(struct hinst *hi, struct hb *b)
{
	__u16 was = 0;
	char d[64];

	if (!b->h.drained)
		return;
	if (!set_weight(hi, b->id, b->h.weight, &was)) {
		snprintf(d, sizeof(d), "weight %u -> %u", was, b->h.weight);
		event(hi, "restore", &hi->v[b->vi], b, d);
	}
	b->h.drained = 0;
}

static void vip_update(struct hinst *hi, struct hv *v)
{
	struct lb_health h = {};
	__u32 up = 0, total = 0, st;

	for (int i = 0; i < hi->nb; i++) {
		if (hi->b[i].vi != (__u32)(v - hi->v))
			continue;
		total++;
		up += hi->b[i].m.state == LB_H_UP;
	}
	st = up >= v->check.need ? LB_H_UP : LB_H_DOWN;
	/* Undecided backends (no result yet) do not make a VIP down at start. */
	for (int i = 0; i < hi->nb && st == LB_H_DOWN; i++)
		if (hi->b[i].vi == (__u32)(v - hi->v) && hi->b[i].m.state == LB_H_UNKNOWN)
			return;
	if (st != v->state) {
		char d[64];
		v->state = st;
		snprintf(d, sizeof(d), "%u of %u backends healthy, need %u", up, total, v->check.need);
		event(hi, st == LB_H_UP ? "vip_up" : "vip_down", v, NULL, d);
		h.since_ms = now_real_ms();
	} else {
		__u32 key = LB_HKEY_VIP | v->id;
		struct lb_health old;
		if (hi->health_fd >= 0 && !bpf_map_lookup_elem(hi->health_fd, &key, &old))
			h.since_ms = old.since_ms;
	}
	h.state = v->state;
	h.healthy = up;
	h.total = total;
	h.need = v->check.need;
	snprintf(h.who, sizeof(h.who), "%s", v->name);
	health_write(hi, LB_HKEY_VIP | v->id, &h);
}

static void probe_close(struct hb *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->phase = PH_IDLE;
}

static void probe_done(struct hinst *hi, struct hb *b, bool ok, const char *why)
{
	struct hv *v = &hi->v[b->vi];
	__u32 tr;

	probe_close(b);
	b->h.checks++;
	b->h.failed += !ok;
	snprintf(b->h.last, sizeof(b->h.last), "%s", ok ? "ok" : why);
	if (ok)
		b->h.rtt_us = (__u32)((now_mono() - b->started) * 1e6);
	tr = lb_hsm_step(&b->m, &v->check, ok);
	b->h.state = b->m.state;
	b->h.fails = b->m.fails;
	b->h.oks = b->m.oks;
	event(hi, "check", v, b, NULL);
	if (tr) {
		b->h.since_ms = now_real_ms();
		event(hi, tr == LB_H_UP ? "up" : "down", v, b, ok ? NULL : why);
		if (tr == LB_H_DOWN)
			drain(hi, b);
		else
			restore(hi, b);
	}
	health_write(hi, b->id, &b->h);
	vip_update(hi, v);
}

static void probe_start(struct hinst *hi, struct hb *b, double now)
{
	const struct lb_check *c = &hi->v[b->vi].check;
	int type = c->type == LB_CHECK_UDP ? SOCK_DGRAM : SOCK_STREAM;

	b->started = now;
	b->deadline = now + c->timeout_ms / 1000.0;
	b->next = now + c->interval_ms / 1000.0;
	b->sent = b->got = 0;
	b->fd = socket(b->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0) {
		probe_done(hi, b, false, "no socket");
		return;
	}
	if (b->mark && setsockopt(b->fd, SOL_SOCKET, SO_MARK, &b->mark, sizeof(b->mark))) {
		probe_done(hi, b, false, "SO_MARK refused");
		return;
	}
	if (b->srclen && bind(b->fd, (struct sockaddr *)&b->src, b->srclen)) {
		probe_done(hi, b, false, "cannot bind the probe's source");
		return;
	}
	if (connect(b->fd, (struct sockaddr *)&b->sa, b->salen) && errno != EINPROGRESS) {
		probe_done(hi, b, false, strerror(errno));
		return;
	}
	b->phase = type == SOCK_DGRAM ? PH_SEND : PH_CONNECT;
}

/* An HTTP status line "HTTP/1.x NNN ..." with c's status: else why it is not. */
static const char *http_verdict(const struct hb *b, const struct lb_check *c, char *why,
				size_t len)
{
	unsigned st;
	char sp;

	if (b->got < 12 || strncmp(b->buf, "HTTP/1.", 7) || !isdigit((unsigned char)b->buf[7]) ||
	    sscanf(b->buf + 8, "%c%3u", &sp, &st) != 2 || sp != ' ' || b->buf[12] != ' ') {
		if (b->got >= 13 || memchr(b->buf, '\n', b->got) || b->got == sizeof(b->buf) - 1)
			return "not an HTTP response";
		return NULL; /* not enough yet */
	}
	if (st != c->status) {
		snprintf(why, len, "status %u, want %u", st, c->status);
		return why;
	}
	return "";
}

/* One step of b's probe after poll said revents. */
static void probe_step(struct hinst *hi, struct hb *b, short revents)
{
	const struct lb_check *c = &hi->v[b->vi].check;
	char why[48], req[LB_CHECK_STR + 128];
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (b->phase == PH_CONNECT) {
		if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err) {
			probe_done(hi, b, false, strerror(err));
			return;
		}
		if (!(revents & POLLOUT))
			return;
		if (c->type == LB_CHECK_TCP) {
			probe_done(hi, b, true, NULL);
			return;
		}
		b->phase = PH_SEND;
	}
	if (b->phase == PH_SEND) {
		if (c->type == LB_CHECK_UDP)
			n = send(b->fd, c->payload, c->payload_len, MSG_NOSIGNAL);
		else {
			int l = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
					 "User-Agent: bpflab-lb-health\r\nConnection: close\r\n\r\n",
					 c->path, hi->v[b->vi].name);
			n = send(b->fd, req + b->sent, l - b->sent, MSG_NOSIGNAL);
			if (n > 0 && b->sent + n < (size_t)l) {
				b->sent += n;
				return;
			}
		}
		if (n < 0) {
			if (errno != EAGAIN)
				probe_done(hi, b, false, strerror(errno));
			return;
		}
		b->phase = PH_READ;
		return;
	}
	if (b->phase != PH_READ || !(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	n = recv(b->fd, b->buf + b->got, sizeof(b->buf) - 1 - b->got, 0);
	if (n < 0) {
		if (errno != EAGAIN)
			probe_done(hi, b, false, strerror(errno));
		return;
	}
	if (c->type == LB_CHECK_UDP) {
		bool ok = (size_t)n >= c->expect_len && !memcmp(b->buf, c->expect, c->expect_len);
		probe_done(hi, b, ok, ok ? NULL : "unexpected reply");
		return;
	}
	b->got += n;
	b->buf[b->got] = 0;
	const char *v = http_verdict(b, c, why, sizeof(why));
	if (v)
		probe_done(hi, b, !*v, v);
	else if (n == 0)
		probe_done(hi, b, false, b->got ? "not an HTTP response" : "closed without a response");
}

static bool is_vip_addr(const struct lb_cfg *s, const struct sockaddr_storage *a)
{
	for (int i = 0; i < s->nvips; i++) {
		const struct lb_vip_key *k = &s->vips[i].key;

		if (a->ss_family == AF_INET && k->family == LB_FAM4 &&
		    ((const struct sockaddr_in *)a)->sin_addr.s_addr == k->addr.v4)
			return true;
		if (a->ss_family == AF_INET6 && k->family == LB_FAM6 &&
		    !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, k->addr.b, 16))
			return true;
	}
	return false;
}

/* The source of b's probes. The kernel's own choice, unless that is a VIP: an IPv6 VIP on
 * the LB's interface (the L2 lab puts it there) can win source selection, and the
 * backend would then answer a VIP it holds itself. Then the interface's first global
 * address of the family that is no VIP. srclen 0: the kernel's choice. */
static void probe_source(const struct lb_cfg *s, const char *ifname, struct hb *b)
{
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	struct ifaddrs *ifs, *ia;
	int fd = socket(b->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	b->srclen = 0;
	if (fd < 0)
		return;
	/* a UDP connect sends nothing: it only asks the routing table */
	if (connect(fd, (struct sockaddr *)&b->sa, b->salen) ||
	    getsockname(fd, (struct sockaddr *)&got, &gl) || !is_vip_addr(s, &got)) {
		close(fd);
		return;
	}
	close(fd);
	if (getifaddrs(&ifs))
		return;
	for (ia = ifs; ia; ia = ia->ifa_next) {
		struct sockaddr_storage c = {};

		if (!ia->ifa_addr || ia->ifa_addr->sa_family != b->sa.ss_family ||
		    strcmp(ia->ifa_name, ifname))
			continue;
		if (b->sa.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ia->ifa_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr))
				continue;
			memcpy(&c, a6, sizeof(*a6));
			((struct sockaddr_in6 *)&c)->sin6_port = 0;
			b->srclen = sizeof(*a6);
		} else {
			memcpy(&c, ia->ifa_addr, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)&c)->sin_port = 0;
			b->srclen = sizeof(struct sockaddr_in);
		}
		if (is_vip_addr(s, &c)) {
			b->srclen = 0;
			continue;
		}
		b->src = c;
		break;
	}
	freeifaddrs(ifs);
}

/* The configuration again: new backends get checked, gone ones forgotten. */
static int sync_cfg(struct hinst *hi)
{
	struct lb_cfg *s = calloc(1, sizeof(*s));
	struct lb_inst in;
	int ret;

	if (!s)
		return EXIT_FAIL;
	if ((ret = inst_find(hi->ifname, &in)) || (ret = inst_open(&in, false, false)) ||
	    (ret = lb_read_cfg(&in, s)))
		goto out;
	hi->mode = in.meta.mode;
	for (int i = 0; i < hi->nv; i++)
		hi->v[i].seen = false;
	for (int i = 0; i < hi->nb; i++)
		hi->b[i].seen = false;
	for (int i = 0; i < s->nvips; i++) {
		const struct lb_cfg_vip *cv = &s->vips[i];
		int k;

		if (cv->check.type == LB_CHECK_NONE)
			continue;
		for (k = 0; k < hi->nv && !lb_vip_eq(&hi->v[k].key, &cv->key); k++)
			;
		if (k == hi->nv) {
			memset(&hi->v[k], 0, sizeof(hi->v[k]));
			hi->nv++;
			hi->v[k].key = cv->key;
			hi->v[k].state = LB_H_UNKNOWN;
			lb_fmt_vip(&cv->key, hi->v[k].name, sizeof(hi->v[k].name));
		}
		hi->v[k].id = cv->id;
		hi->v[k].check = cv->check;
		hi->v[k].seen = true;
	}
	for (int j = 0; j < s->nbackends; j++) {
		const struct lb_cfg_backend *cb = &s->backends[j];
		char who[48];
		int k, vi;
		struct hb *b;

		for (vi = 0; vi < hi->nv && !(hi->v[vi].seen && lb_vip_eq(&hi->v[vi].key, &cb->vip));
		     vi++)
			;
		if (vi == hi->nv)
			continue;
		lb_fmt_addr_port(&cb->addr, lb_be_port(cb), who, sizeof(who));
		for (k = 0; k < hi->nb && !(hi->b[k].id == cb->id && !strcmp(hi->b[k].who, who)); k++)
			;
		b = &hi->b[k];
		if (k == hi->nb) {
			memset(b, 0, sizeof(*b));
			hi->nb++;
			b->fd = -1;
			b->id = cb->id;
			snprintf(b->who, sizeof(b->who), "%s", who);
			snprintf(b->h.who, sizeof(b->h.who), "%s", who);
			b->h.weight = cb->weight;
			/* A state a killed checker left: a backend it drained stays drained until
			 * it passes `rise` checks, and gets its weight back then. */
			if (hi->health_fd >= 0) {
				struct lb_health old;
				if (!bpf_map_lookup_elem(hi->health_fd, &b->id, &old) &&
				    !strcmp(old.who, who) && old.drained && !cb->weight) {
					b->h = old;
					b->m.state = LB_H_DOWN;
				}
			}
			b->next = now_mono() + (double)(k % 16) / 64; /* spread the first round */
		}
		b->seen = true;
		b->vi = vi;
		memset(&b->sa, 0, sizeof(b->sa));
		if (cb->addr.family == LB_FAM6) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&b->sa;

			a6->sin6_family = AF_INET6;
			memcpy(&a6->sin6_addr, cb->addr.a.b, 16);
			a6->sin6_port = lb_be_port(cb);
			b->salen = sizeof(*a6);
		} else {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&b->sa;

			a4->sin_family = AF_INET;
			a4->sin_addr.s_addr = cb->addr.a.v4;
			a4->sin_port = lb_be_port(cb);
			b->salen = sizeof(*a4);
		}
		probe_source(s, hi->ifname, b);
		/* dsr and encap: on the wire the probe goes to VIP:port at this backend, on L2
		 * or in the VIP's tunnel (lb_steer.h); nat: to the backend, as lb's own
		 * packets do. A mixed-family encap VIP's backend cannot be steered: it is
		 * probed at its own address. */
		b->mark = hi->steer && lb_steer_covers(cb) &&
			  (hi->mode == LB_MODE_DSR || lb_cfg_vip_encap(s, &cb->vip) != LB_ENCAP_NONE)
			  ? lb_steer_mark(cb->id) : 0;
		/* Health wins over a weight set behind its back (an apply of an older file). */
		if (b->m.state == LB_H_DOWN && cb->weight) {
			b->h.drained = 0;
			drain(hi, b);
			health_write(hi, b->id, &b->h);
		} else if (b->m.state != LB_H_DOWN && !b->h.drained) {
			b->h.weight = cb->weight;
		}
	}
	/* Forget what left the configuration; give back the weight of a backend whose VIP
	 * lost its check while drained. */
	for (int i = 0; i < hi->nb; i++) {
		struct hb *b = &hi->b[i];
		if (b->seen)
			continue;
		probe_close(b);
		if (b->h.drained)
			restore(hi, b);
		if (hi->health_fd >= 0)
			bpf_map_delete_elem(hi->health_fd, &b->id);
		hi->b[i--] = hi->b[--hi->nb];
	}
	for (int i = 0; i < hi->nv; i++) {
		if (hi->v[i].seen)
			continue;
		__u32 key = LB_HKEY_VIP | hi->v[i].id;
		if (hi->health_fd >= 0)
			bpf_map_delete_elem(hi->health_fd, &key);
		/* its backends were dropped above; indexes of later VIPs shift down */
		for (int j = 0; j < hi->nb; j++)
			if (hi->b[j].vi > (__u32)i)
				hi->b[j].vi--;
		memmove(&hi->v[i], &hi->v[i + 1], (hi->nv - i - 1) * sizeof(hi->v[0]));
		hi->nv--;
		i--;
	}
	if (hi->steer)
		lb_steer_sync(hi->steer, s, &in.meta);
out:
	inst_close(&in);
	free(s);
	return ret;
}

static int hinst_init(struct hinst *hi, const char *iface)
{
	struct lb_inst in;
	int ret;

	memset(hi, 0, sizeof(*hi));
	hi->health_fd = -1;
	if ((ret = inst_find(iface, &in)) || (ret = inst_open(&in, true, false)))
		goto out;
	snprintf(hi->ifname, sizeof(hi->ifname), "%s", in.ifname);
	snprintf(hi->dir, sizeof(hi->dir), "%s", in.dir);
	hi->mode = in.meta.mode;
	hi->health_fd = lb_health_open(in.dir, true);
	if (hi->health_fd < 0) {
		pr_warn("cannot make the health map in %s: %s\n", in.dir, strerr(hi->health_fd));
		ret = EXIT_FAIL;
		goto out;
	}
	hi->b = calloc(LB_MAX_BACKENDS, sizeof(*hi->b));
	if (!hi->b) {
		ret = EXIT_FAIL;
		goto out;
	}
	/* dsr needs the steering for every check; nat only for encap VIPs, which without
	 * it are checked at the backend's own address (and say so). */
	{
		int err = lb_steer_attach(&hi->steer, &in);
		if (err && hi->mode == LB_MODE_DSR) {
			pr_warn("cannot steer checks of %s to one backend each (%s): dsr checks need "
				"the tc egress program\n", in.ifname, strerr(err));
			ret = EXIT_FAIL;
			goto out;
		}
		if (err)
			pr_warn("cannot steer checks of %s through the VIP (%s): the backends of its "
				"encap VIPs are checked at their own addresses\n", in.ifname,
				strerr(err));
	}
out:
	inst_close(&in);
	return ret;
}

int lb_health_run(char **ifaces, int n, double duration)
{
	struct hinst *his = calloc(n ? n : 1, sizeof(*his));
	struct pollfd *pfd = calloc(LB_MAX_BACKENDS, sizeof(*pfd));
	struct hb **who = calloc(LB_MAX_BACKENDS, sizeof(*who));
	int nh = n ? n : 1, ret = EXIT_OK;
	double start = now_mono();

	if (!his || !pfd || !who) {
		ret = EXIT_FAIL;
		goto out;
	}
	for (int i = 0; i < nh; i++) {
		if ((ret = hinst_init(&his[i], n ? ifaces[i] : NULL)))
			goto out;
		if ((ret = sync_cfg(&his[i])))
			goto out;
		his[i].next_sync = now_mono() + 1;
		if (!his[i].nv)
			pr_warn("lb health: no VIP on %s has a check (add 'check VIP tcp' to the "
				"configuration); waiting for one\n", his[i].ifname);
	}
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "health_started");
		json_key(&j, "interfaces");
		json_arr_begin(&j);
		for (int i = 0; i < nh; i++)
			json_str(&j, his[i].ifname);
		json_arr_end(&j);
		json_kint(&j, "pid", getpid());
		json_record_end(&j);
		fflush(stdout);
	} else {
		for (int i = 0; i < nh; i++)
			printf("lb health on %s: %d VIPs checked, %d backends\n", his[i].ifname, his[i].nv,
			       his[i].nb);
		fflush(stdout);
	}
	while (!exiting) {
		double now = now_mono(), wake = now + 0.5;
		int np = 0, r;

		if (duration >= 0 && now - start >= duration)
			break;
		for (int i = 0; i < nh; i++) {
			struct hinst *hi = &his[i];

			if (now >= hi->next_sync) {
				hi->next_sync = now + 1;
				if ((ret = sync_cfg(hi)))
					goto out; /* the balancer went away */
			}
			for (int k = 0; k < hi->nb; k++) {
				struct hb *b = &hi->b[k];

				if (b->phase != PH_IDLE && now >= b->deadline)
					probe_done(hi, b, false, b->phase == PH_CONNECT ? "timeout (connect)"
						   : "timeout (no answer)");
				if (b->phase == PH_IDLE && now >= b->next)
					probe_start(hi, b, now);
				if (b->phase != PH_IDLE) {
					pfd[np].fd = b->fd;
					pfd[np].events = b->phase == PH_READ ? POLLIN : POLLOUT;
					who[np] = b;
					np++;
					if (b->deadline < wake)
						wake = b->deadline;
				} else if (b->next < wake) {
					wake = b->next;
				}
			}
			if (hi->next_sync < wake)
				wake = hi->next_sync;
		}
		r = poll(pfd, np, (int)((wake - now) * 1000) + 1);
		if (r < 0 && errno != EINTR) {
			ret = EXIT_FAIL;
			break;
		}
		for (int i = 0; r > 0 && i < np; i++) {
			if (!pfd[i].revents || who[i]->fd != pfd[i].fd)
				continue;
			for (int h = 0; h < nh; h++)
				if (who[i] >= his[h].b && who[i] < his[h].b + LB_MAX_BACKENDS)
					probe_step(&his[h], who[i], pfd[i].revents);
		}
	}
	if (exiting)
		ret = EXIT_OK;
out:
	for (int i = 0; his && i < nh; i++) {
		for (int k = 0; his[i].b && k < his[i].nb; k++)
			probe_close(&his[i].b[k]);
		/* Drained backends stay drained and their state stays: the next checker
		 * takes over from it (the pid in each entry says this one is gone). */
		if (his[i].health_fd >= 0)
			close(his[i].health_fd);
		lb_steer_detach(his[i].steer);
		free(his[i].b);
	}
	free(his);
	free(pfd);
	free(who);
	return ret;
}

/* ---- the subcommand ---- */

struct health_args {
	double duration;
};

static const struct opt_def health_opts[] = {
	OPTS_DURATION(struct health_args, duration),
	OPTS_END
};

const struct cmd_spec lb_health_spec = {
	.name = "lb health",
	.args = "[IFACE...] [--duration S]",
	.about =
	"The health checker, in the foreground as keepalived runs: every backend of every VIP\n"
	"with a `check` line is probed at the check's interval, each probe bounded by its\n"
	"timeout. After `fall` failed checks in a row a backend is drained (weight 0: no new\n"
	"flows, existing ones kept), after `rise` good ones it gets its weight back; a VIP with\n"
	"fewer than `need` healthy backends is marked down. In dsr mode, and for encap VIPs in\n"
	"either mode, the probe goes to VIP:port at that one backend (a tc program on the\n"
	"interface steers it, in the VIP's tunnel for encap), so it proves the backend serves\n"
	"the VIP. IPv4 and IPv6. State is kept beside the balancer's pins (`lb show` shows it);\n"
	"a checker started after a killed one takes over its drained backends.\n",
	.opts = health_opts,
	.notes = "config (per VIP, after its vip line):\n"
		 "  check 198.18.0.100:80/tcp http /healthz status 200 interval 1 timeout 0.5 fall 3 rise 2\n"
		 "  check 198.18.0.100:80/tcp tcp need 2\n"
		 "  check 198.18.0.53:53/udp udp ping expect pong\n",
	.json_help = "JSON Lines: health_started, then a health record per check and event",
	.first_arg = OPT_IFACE,
	.min_args = 0,
	.max_args = -1,
};

int lb_health_main(int argc, char **argv)
{
	struct health_args a = { .duration = -1 };
	int err;

	if ((err = opts_parse(&lb_health_spec, argc, argv, &a)) != OPTS_GO_ON)
		return err;
	for (int i = optind; i < argc; i++)
		if (iface_check_name(argv[i]))
			return EXIT_USAGE;
	if ((err = require_root("bpflab lb health")))
		return err;
	return lb_health_run(argv + optind, argc - optind, a.duration);
}
