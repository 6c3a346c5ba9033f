// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* syncookie target: src/filter/syncookie.bpf.c (the code of `filter --synproxy`) loaded
 * through syncookie_prog_load() with ports 80, 443 and 8000-8010, against
 * model_syncookie.c. Its generator mostly makes TCP to those ports with real option lists
 * (MSS, SACK, timestamps, window scale, NOPs, unknown kinds, bad lengths) before the usual
 * mutations. After each SYN-ACK, settle_tx takes the cookie and the TSval's clock from the
 * output (nothing else), checks the clock is now and the low bits the model's, and
 * proves the cookie by the client's next step: the ACK with ack = cookie + 1 must pass the
 * program, and the same ACK with bit 23 of the cookie flipped must be dropped (not + 1:
 * the kernel's cookie keeps the MSS index in its low bits, so cookie + 1 can be another
 * valid MSS). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "fuzz.h"
#include "syncookie.h"
#include "syncookie_prog.h"
#include "synproxy.h"

static const char *const syncookie_counter_names[SYN_STAT_MAX] = {
	"synack", "ack_ok", "ack_bad", "established", "bad_csum", "bad_flags", "bad_addr",
	"fragment", "syn_data", "error",
};

struct syncookie_fuzz {
	struct syncookie_bpf *skel;
	struct sc_tx tx;         /* where the model's last SYN-ACK keeps its unknowns */
};

static int syncookie_fuzz_setup(struct fuzz_ctx *c)
{
	static const __u16 ports[] = { 80, 443, 8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007,
				       8008, 8009, 8010 };
	struct syncookie_prog_cfg cfg = { .ports = ports, .nports = sizeof(ports) / sizeof(ports[0]) };
	static struct syncookie_fuzz f;

	memset(&f, 0, sizeof(f));
	f.skel = syncookie_prog_load(&cfg);
	if (!f.skel)
		return -errno;
	c->prog_fd = syncookie_prog_fd(f.skel);
	c->priv = &f;
	return 0;
}

static void syncookie_fuzz_teardown(struct fuzz_ctx *c)
{
	struct syncookie_fuzz *f = c->priv;

	syncookie_prog_destroy(f->skel);
}

static int syncookie_fuzz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct syncookie_fuzz *f = c->priv;
	__u64 s[SYN_STAT_MAX];
	int err = syncookie_read_stats(syncookie_prog_stats_fd(f->skel), s);

	if (err)
		return err;
	for (int i = 0; i < SYN_STAT_MAX; i++)
		v[i] = s[i];
	return 0;
}

/* The generator's own TCP checksum (as built: the offsets of the template). */
static void syncookie_fix_tcp(struct fuzz_pkt *p)
{
	uint8_t *l3 = p->data + p->l3_off, *th = p->data + p->l4_off;
	uint32_t len = p->ip_end - p->l4_off;

	fuzz_put16(th + 16, 0);
	fuzz_put16(th + 16, fuzz_csum(th, len, sc_pseudo(p->family, l3, len)));
}

/* A random option list of n bytes: mostly the four a SYN carries, sometimes odd ones. */
static void syncookie_rand_opts(struct fuzz_rng *r, uint8_t *o, int n)
{
	int i = 0;

	memset(o, 0, n);
	while (i < n) {
		int left = n - i;
		switch (fuzz_below(r, 12)) {
		case 0: case 1:
			if (left < 4) goto nop;
			o[i] = 2; o[i + 1] = 4; fuzz_put16(o + i + 2, (uint16_t)fuzz_next(r)); i += 4;
			break;
		case 2: case 3:
			if (left < 10) goto nop;
			o[i] = 8; o[i + 1] = 10; fuzz_bytes(r, o + i + 2, 8); i += 10;
			break;
		case 4:
			if (left < 2) goto nop;
			o[i] = 4; o[i + 1] = 2; i += 2;
			break;
		case 5:
			if (left < 3) goto nop;
			o[i] = 3; o[i + 1] = 3; o[i + 2] = (uint8_t)fuzz_below(r, 20); i += 3;
			break;
		case 6:   /* an option with a length that lies */
			o[i] = (uint8_t)(2 + fuzz_below(r, 8));
			if (left >= 2)
				o[i + 1] = (uint8_t)fuzz_below(r, 50);
			i += 2;
			break;
		case 7:   /* end of list, then garbage */
			o[i] = 0;
			if (left > 1)
				fuzz_bytes(r, o + i + 1, left - 1);
			return;
		case 8: { /* an unknown kind, well formed */
			int l = 2 + (int)fuzz_below(r, 6);
			if (l > left) goto nop;
			o[i] = (uint8_t)(9 + fuzz_below(r, 200)); o[i + 1] = (uint8_t)l;
			fuzz_bytes(r, o + i + 2, l - 2); i += l;
			break;
		}
		default:
		nop:
			o[i++] = 1;
		}
	}
}

/* The option lists real clients send (the responder recognises these whole, without its
 * option walk): Linux with timestamps, with and without SACK; Linux without timestamps;
 * BSD and macOS; Windows. Random values, and one time in four a byte changed, so that
 * the lists next to a known one take the walk. Returns the option bytes written (0: none). */
static int syncookie_real_opts(struct fuzz_rng *r, uint8_t *o)
{
	static const uint8_t layouts[5][24] = {
		{ 2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0 },
		{ 2, 4, 0, 0, 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0 },
		{ 2, 4, 0, 0, 1, 1, 4, 2, 1, 3, 3, 0 },
		{ 2, 4, 0, 0, 1, 3, 3, 0, 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 0, 0 },
		{ 2, 4, 0, 0, 1, 3, 3, 0, 1, 1, 4, 2 },
	};
	static const int lens[5] = { 20, 20, 12, 24, 12 }, ws_at[5] = { 19, 19, 11, 7, 7 },
			 ts_at[5] = { 8, 8, -1, 12, -1 };
	int k = (int)fuzz_below(r, 5), n = lens[k];

	memcpy(o, layouts[k], n);
	fuzz_put16(o + 2, (uint16_t)fuzz_next(r));
	o[ws_at[k]] = (uint8_t)fuzz_below(r, 20);
	if (ts_at[k] >= 0)
		fuzz_bytes(r, o + ts_at[k], 8);
	if (fuzz_chance(r, 1, 4))
		o[fuzz_below(r, n)] = (uint8_t)(fuzz_chance(r, 1, 2) ? fuzz_below(r, 12) : fuzz_next(r));
	return n;
}

static void syncookie_fuzz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	static const uint8_t flags[] = { 0x02, 0x02, 0x02, 0x02, 0xc2, 0x10, 0x12, 0x03, 0x06,
					 0x14, 0x00, 0x04, 0x11, 0x18 };
	struct fuzz_tmpl t;
	uint8_t opts[40];
	int real;

	if (fuzz_chance(r, 1, 5)) {
		fuzz_gen_default(r, &c->env, p);
		return;
	}
	fuzz_tmpl_random(r, &c->env, &t);
	if (t.family == 0)
		t.family = 4;
	t.proto = IPPROTO_TCP;
	t.sport = (uint16_t)fuzz_next(r);
	t.dport = fuzz_chance(r, 1, 8) ? (uint16_t)fuzz_next(r) :
		  fuzz_chance(r, 1, 2) ? 80 : fuzz_chance(r, 1, 2) ? 443 : (uint16_t)(8000 + fuzz_below(r, 12));
	t.tcp_seq = (uint32_t)fuzz_next(r);
	t.tcp_ack = (uint32_t)fuzz_next(r);
	t.tcp_flags = fuzz_chance(r, 1, 10) ? (uint8_t)fuzz_next(r) : flags[fuzz_below(r, sizeof(flags))];
	real = fuzz_chance(r, 1, 3) ? syncookie_real_opts(r, opts) : 0;
	t.tcp_opts_len = real ? (uint8_t)real : (uint8_t)(4 * fuzz_below(r, 11));
	t.payload_len = fuzz_chance(r, 1, 8) ? (int)fuzz_below(r, 30) : 0;
	fuzz_bytes(r, t.payload, t.payload_len);
	if (!fuzz_build(&t, p))
		return;
	if (t.tcp_opts_len && p->l4_off + 20u + t.tcp_opts_len <= p->len) {
		if (!real)
			syncookie_rand_opts(r, opts, t.tcp_opts_len);
		memcpy(p->data + p->l4_off + 20, opts, t.tcp_opts_len);
	}
	if (p->l4_off + 20u <= p->ip_end && p->ip_end <= p->len && !(t.frag_off & 0x1fff))
		syncookie_fix_tcp(p);
	snprintf(p->what, sizeof(p->what), "syn-tmpl flags %02x opts %u%s", t.tcp_flags,
		 t.tcp_opts_len, real ? " (a real client's list)" : "");
	if (fuzz_chance(r, 1, 3))
		fuzz_mutate(r, &c->env, p);
}

static void syncookie_fuzz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				 struct fuzz_expect *x)
{
	struct syncookie_fuzz *f = c->priv;

	sc_model(in, x, &f->tx);
}

/* The ACK the client sends for a SYN-ACK carrying `cookie`: the SYN's addresses, ports
 * and seq + 1, no VLAN, every checksum right. XDP verdict, or -errno. */
static int syncookie_send_ack(struct fuzz_ctx *c, const struct fuzz_pkt *syn, uint32_t cookie_ack)
{
	struct ref_pkt r;
	uint8_t f[128] = {}, out[256];
	uint32_t iplen;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	ref_parse(syn->data, syn->len, &r);
	const uint8_t *l3 = syn->data + r.l3, *th = syn->data + r.l4;
	memcpy(f, syn->data, 12);
	iplen = r.family == 4 ? 20 : 40;
	uint8_t *ip = f + 14, *t = ip + iplen;
	if (r.family == 4) {
		fuzz_put16(f + 12, 0x0800);
		ip[0] = 0x45;
		fuzz_put16(ip + 2, (uint16_t)(iplen + 20));
		fuzz_put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, l3 + 12, 8);
		fuzz_put16(ip + 10, fuzz_csum(ip, 20, 0));
	} else {
		fuzz_put16(f + 12, 0x86dd);
		ip[0] = 0x60;
		fuzz_put16(ip + 4, 20);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, l3 + 8, 32);
	}
	memcpy(t, th, 4);
	fuzz_put32(t + 4, fuzz_get32(th + 4) + 1);
	fuzz_put32(t + 8, cookie_ack);
	t[12] = 5 << 4;
	t[13] = 0x10;
	fuzz_put16(t + 14, 502);
	fuzz_put16(t + 16, fuzz_csum(t, 20, sc_pseudo(r.family, ip, 20)));
	o.data_size_in = 14 + iplen + 20;
	if (bpf_prog_test_run_opts(c->prog_fd, &o))
		return -errno;
	return (int)o.retval;
}

static bool sc_settle(struct fuzz_ctx *c, const struct sc_tx *tx, const struct fuzz_pkt *in,
		      const uint8_t *out, uint32_t out_len, struct fuzz_expect *x, char *why,
		      size_t whylen)
{
	uint8_t *t = x->out + tx->l4;
	uint32_t cookie;
	int v;

	if (out_len != x->out_len)
		return true; /* the byte comparison reports it */
	cookie = fuzz_get32(out + tx->l4 + 4);
	fuzz_put32(t + 4, cookie);
	if (tx->ts) {
		uint32_t ts = fuzz_get32(out + tx->l4 + 28), now;
		struct timespec n;

		clock_gettime(CLOCK_MONOTONIC, &n);
		now = (uint32_t)(n.tv_sec * 1000ull + n.tv_nsec / 1000000);
		if ((uint32_t)(now - (ts & ~0x3fu)) > 2000) {
			snprintf(why, whylen, "TSval %08x is not the clock in ms (now %u)", ts, now);
			return false;
		}
		/* the low 6 bits stay the model's: copy only the clock */
		fuzz_put32(t + 28, (ts & ~0x3fu) | (t[31] & 0x3f));
	}
	fuzz_put16(t + 16, 0);
	fuzz_put16(t + 16, fuzz_csum(t, x->out_len - tx->l4,
				     sc_pseudo(tx->family, x->out + tx->l3, x->out_len - tx->l4)));
	v = syncookie_send_ack(c, in, cookie + 1);
	if (v != XDP_PASS) {
		snprintf(why, whylen, "the client's ACK for cookie %08x: verdict %d, not XDP_PASS: "
			 "the cookie does not validate", cookie, v);
		return false;
	}
	x->counters[SYN_ACK_OK]++;
	v = syncookie_send_ack(c, in, (cookie ^ 0x00800000) + 1);
	if (v != XDP_DROP) {
		snprintf(why, whylen, "an ACK for cookie %08x with bit 23 flipped: verdict %d, not XDP_DROP", cookie, v);
		return false;
	}
	x->counters[SYN_ACK_BAD]++;
	return true;
}

static bool syncookie_fuzz_settle(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				  const uint8_t *out, uint32_t out_len, struct fuzz_expect *x,
				  char *why, size_t whylen)
{
	struct syncookie_fuzz *f = c->priv;

	return sc_settle(c, &f->tx, in, out, out_len, x, why, whylen);
}

static const struct fuzz_target fuzz_syncookie = {
	.name = "syncookie", .setup = syncookie_fuzz_setup, .teardown = syncookie_fuzz_teardown,
	.gen = syncookie_fuzz_gen, .model = syncookie_fuzz_model,
	.read_counters = syncookie_fuzz_counters, .ncounters = SYN_STAT_MAX,
	.counter_names = syncookie_counter_names, .settle_tx = syncookie_fuzz_settle,
};

/* filter_syn target: the same packets through what `filter start --synproxy
 * 80,443,8000-8010` runs, the filter program, with one rule in front of the responder
 * (SYNs to 443 denied) and the default allow. The reference is model_filter.c's, then,
 * for what it lets through, model_syncookie.c's: the responder is reached only after the
 * rules, and answers exactly as on its own. Counters: the responder's, then the filter's. */
#define FSYN_NC (SYN_STAT_MAX + FS__N)

struct filter_syn_fuzz {
	struct filter_bpf *skel;
	struct filter_fds fds;
	struct fm_set set;
	struct sc_tx tx;
};

static const char *filter_syn_counter_names[FSYN_NC];

static int filter_syn_fuzz_setup(struct fuzz_ctx *c)
{
	static struct filter_syn_fuzz f;
	static struct synproxy_cfg syn;
	struct fr_tables *t = calloc(1, sizeof(*t));
	struct fr_set s;
	char err[512];
	__u32 gen;
	int e;

	for (int i = 0; i < FSYN_NC; i++)
		filter_syn_counter_names[i] = i < SYN_STAT_MAX ? syncookie_counter_names[i] :
					      filter_counter_names[i - SYN_STAT_MAX];
	memset(&f, 0, sizeof(f));
	memset(&syn, 0, sizeof(syn));
	f.set.n = 1;
	f.set.r[0] = (struct fm_rule){ .prio = 10, .action = FA_DENY, .nproto = 1,
				       .proto = { IPPROTO_TCP }, .ndport = 1,
				       .dport = { { 443, 443 } }, .has_flags = 1, .fmask = 0x12,
				       .fval = 0x02 };
	if (!t)
		return -ENOMEM;
	e = synproxy_parse_ports("80,443,8000-8010", &syn, err, sizeof(err));
	if (!e)
		e = fr_parse("fuzz.rules", "10 deny proto tcp dport 443 flags syn,!ack\n", &s, err,
			     sizeof(err));
	if (!e) {
		e = fr_compile(&s, t, err, sizeof(err));
		fr_set_free(&s);
	}
	if (e) {
		printf("# filter_syn set-up refused: %s\n", err);
		e = -EINVAL;
		goto out;
	}
	f.skel = filter_prog_load(&(struct filter_prog_cfg){ .no_event_limit = true, .syn = &syn });
	if (!f.skel) {
		e = -errno;
		goto out;
	}
	filter_fds_from_skel(f.skel, &f.fds);
	if ((e = filter_install(&f.fds, t, &gen))) {
		filter_prog_destroy(f.skel);
		goto out;
	}
	c->prog_fd = filter_prog_fd(f.skel);
	c->priv = &f;
out:
	fr_tables_free(t);
	free(t);
	return e;
}

static void filter_syn_fuzz_teardown(struct fuzz_ctx *c)
{
	struct filter_syn_fuzz *f = c->priv;

	filter_prog_destroy(f->skel);
}

static int filter_syn_fuzz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct filter_syn_fuzz *f = c->priv;
	struct filter_running *r = calloc(1, sizeof(*r));
	__u64 s[SYN_STAT_MAX];
	int err = r ? syncookie_read_stats(filter_prog_syn_stats_fd(f->skel), s) : -ENOMEM;

	if (!err)
		err = filter_read_running(&f->fds, r);
	if (!err) {
		for (int i = 0; i < SYN_STAT_MAX; i++)
			v[i] = s[i];
		for (int i = 0; i < FS__N; i++)
			v[SYN_STAT_MAX + i] = r->c[i];
	}
	free(r);
	return err;
}

static void filter_syn_fuzz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				  struct fuzz_expect *x)
{
	struct filter_syn_fuzz *f = c->priv;
	static struct fuzz_expect fx, sx;
	uint64_t *fc = x->counters + SYN_STAT_MAX;
	struct ref_pkt r;

	memset(&fx, 0, sizeof(fx));
	filter_model(&f->set, in, &fx);
	x->verdict = fx.verdict;
	x->events = fx.events;
	for (int i = 0; i < FS__N; i++)
		fc[i] = fx.counters[i];
	memset(&f->tx, 0, sizeof(f->tx));
	if (fx.verdict != FUZZ_PASS || ref_parse(in->data, in->len, &r) != REF_OK)
		return;
	memset(&sx, 0, sizeof(sx));
	sc_model(in, &sx, &f->tx);
	if (sx.verdict == FUZZ_PASS)
		return; /* not the responder's: the filter's pass */
	/* the responder decided: its verdict and counters instead of the filter's pass */
	x->verdict = sx.verdict;
	memcpy(x->out, sx.out, sx.out_len);
	x->out_len = sx.out_len;
	for (int i = 0; i < SYN_STAT_MAX; i++)
		x->counters[i] = sx.counters[i];
	fc[FS_PASS]--;
	fc[FS_SYNPROXY]++;
}

/* The client's two ACKs (sc_settle) go through the filter too: no rule, then the
 * responder, which decides both. */
static bool filter_syn_fuzz_settle(struct fuzz_ctx *c, const struct fuzz_pkt *in,
				   const uint8_t *out, uint32_t out_len, struct fuzz_expect *x,
				   char *why, size_t whylen)
{
	struct filter_syn_fuzz *f = c->priv;
	uint64_t *fc = x->counters + SYN_STAT_MAX;

	if (out_len != x->out_len)
		return true;
	fc[FS_PACKETS] += 2;
	fc[FS_NOMATCH] += 2;
	fc[FS_SYNPROXY] += 2;
	return sc_settle(c, &f->tx, in, out, out_len, x, why, whylen);
}

static const struct fuzz_target fuzz_filter_syn = {
	.name = "filter_syn", .setup = filter_syn_fuzz_setup,
	.teardown = filter_syn_fuzz_teardown, .gen = syncookie_fuzz_gen,
	.model = filter_syn_fuzz_model, .read_counters = filter_syn_fuzz_counters,
	.ncounters = FSYN_NC, .counter_names = filter_syn_counter_names,
	.event_counters = (1ULL << (SYN_STAT_MAX + FS_EVENTS)) |
			  (1ULL << (SYN_STAT_MAX + FS_SUPPRESSED)) |
			  (1ULL << (SYN_STAT_MAX + FS_EVENTS_LOST)),
	.settle_tx = filter_syn_fuzz_settle,
};
