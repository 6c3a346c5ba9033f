// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* steer target: src/lb/steer.bpf.c loaded through lb_steer_load() and configured through
 * lb_steer_sync() from a parsed config file, as `lb health` in dsr mode does (it then
 * attaches both programs; the test run needs no attachment). One target drives both
 * programs: the generator picks a direction per packet (egress: probes carrying the
 * checker's SO_MARK, passed in the test run's skb->mark; ingress: answers to them), so
 * the flows egress remembers are what ingress is tested against. The model is stateful:
 * reproduce a failure at index I with --seed S --index 0 --count I+1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fuzz.h"
#include "lb.h"
#include "lb_ctl.h"
#include "lb_health.h"
#include "lb_steer.h"

/* The configuration, as a user writes it: two checked VIPs (backend ids 1..3, one backend
 * on its own port), one without a check (id 4: never steered), and two checked encap VIPs
 * (id 5 IPIP, id 6 GUE on its own port) whose backends sit on other subnets. */
static const char steer_fz_conf[] =
	"vip 10.77.0.100:80/tcp\n"
	"backend 10.77.0.100:80/tcp 10.77.0.11\n"
	"backend 10.77.0.100:80/tcp 10.77.0.12:8080\n"
	"check 10.77.0.100:80/tcp tcp\n"
	"vip 10.77.0.100:53/udp\n"
	"backend 10.77.0.100:53/udp 10.77.0.11\n"
	"check 10.77.0.100:53/udp udp ping expect pong\n"
	"vip 10.77.0.101:443/tcp\n"
	"backend 10.77.0.101:443/tcp 10.77.0.13\n"
	"vip 10.77.0.102:80/tcp encap ipip\n"
	"backend 10.77.0.102:80/tcp 10.77.11.11\n"
	"check 10.77.0.102:80/tcp http /\n"
	"vip 10.77.0.102:53/udp encap gue\n"
	"backend 10.77.0.102:53/udp 10.77.12.12:5353\n"
	"check 10.77.0.102:53/udp udp ping expect pong\n"
	"vip [fd00:77::100]:80/tcp\n"
	"backend [fd00:77::100]:80/tcp fd00:77::11\n"
	"backend [fd00:77::100]:80/tcp [fd00:77::12]:8080\n"
	"check [fd00:77::100]:80/tcp tcp\n"
	"vip [fd00:77::100]:53/udp encap gue\n"
	"backend [fd00:77::100]:53/udp fd00:77:12::12\n"
	"check [fd00:77::100]:53/udp udp ping expect pong\n"
	"vip [fd00:77::101]:443/tcp encap ipip\n"
	"backend [fd00:77::101]:443/tcp fd00:77:13::13\n"
	"check [fd00:77::101]:443/tcp tcp\n";

/* lb's --tunnel-src of each family: the outer sources of encap probes; the checker's
 * IPv6 source */
static const uint8_t steer_fz_tsrc[4] = { 10, 77, 2, 2 };
static const uint8_t steer_fz_tsrc6[16] = { 0xfd, 0, 0, 0x77, 0, 2, [15] = 2 };
static const uint8_t steer_fz_lb6[16] = { 0xfd, 0, 0, 0x77, [15] = 2 };

static const char *const steer_fz_names[STEERM_NCOUNTERS] = {
	"steered", "restored", "malformed", "encap", "drop_encap", "state_mismatch",
};

struct steer_fz {
	struct lb_steer *st;
	struct lb_cfg cfg;
	struct steerm m;
	int egress_fd, ingress_fd, flows_fd;
	uint64_t state_mismatch;
	/* every backend of the config (also the unchecked one), for the generator */
	int nbe;
	uint8_t fam[STEERM_IDS];
	uint8_t be_addr[STEERM_IDS][16], be_port[STEERM_IDS][2], vip[STEERM_IDS][16],
		vip_port[STEERM_IDS][2], proto[STEERM_IDS];
};

static int steer_fz_config(struct steer_fz *f)
{
	char path[] = "/tmp/bpflab-fuzz-steer-XXXXXX";
	int fd = mkstemp(path), err;

	if (fd < 0)
		return -errno;
	err = write(fd, steer_fz_conf, sizeof(steer_fz_conf) - 1) ==
			      (ssize_t)(sizeof(steer_fz_conf) - 1) ? 0 : -EIO;
	close(fd);
	if (!err)
		err = lb_cfg_parse_file(path, &f->cfg);
	unlink(path);
	if (err)
		return err < 0 ? err : -EINVAL;
	if (f->cfg.nbackends >= STEERM_IDS)
		return -E2BIG;
	/* ids: lb gives them when it applies the config; the steering only needs them
	 * distinct, so the fuzzer numbers the backends 1..n in file order. */
	for (int i = 0; i < f->cfg.nbackends; i++) {
		struct lb_cfg_backend *b = &f->cfg.backends[i];
		int v = lb_cfg_find_vip(&f->cfg, &b->vip);
		__be16 bp = lb_be_port(b);

		b->id = i + 1;
		memcpy(f->be_addr[i + 1], b->addr.a.b, 16);
		f->fam[i + 1] = b->vip.family;
		memcpy(f->be_port[i + 1], &bp, 2);
		memcpy(f->vip[i + 1], b->vip.addr.b, 16);
		memcpy(f->vip_port[i + 1], &b->vip.port, 2);
		f->proto[i + 1] = b->vip.proto;
		/* the model's own copy: steered only when the VIP has a check */
		if (v >= 0 && f->cfg.vips[v].check.type != LB_CHECK_NONE) {
			struct steerm_be *m = &f->m.be[i + 1];
			m->used = true;
			m->fam = f->fam[i + 1];
			memcpy(m->vip, f->vip[i + 1], 16);
			memcpy(m->be, f->be_addr[i + 1], 16);
			memcpy(m->vip_port, f->vip_port[i + 1], 2);
			memcpy(m->be_port, f->be_port[i + 1], 2);
			m->proto = f->proto[i + 1];
			m->encap = (uint8_t)f->cfg.vips[v].encap;
		}
	}
	f->nbe = f->cfg.nbackends;
	memcpy(f->m.tunnel_src, steer_fz_tsrc, 4);
	memcpy(f->m.tunnel_src6, steer_fz_tsrc6, 16);
	return 0;
}

static void steer_fz_teardown(struct fuzz_ctx *c)
{
	struct steer_fz *f = c->priv;

	if (!f)
		return;
	lb_steer_detach(f->st);
	free(f);
	c->priv = NULL;
}

static int steer_fz_setup(struct fuzz_ctx *c)
{
	struct steer_fz *f = calloc(1, sizeof(*f));
	struct lb_meta meta = { .mode = LB_MODE_DSR };
	int err;

	if (!f)
		return -ENOMEM;
	c->priv = f;
	err = steer_fz_config(f);
	if (!err)
		err = lb_steer_load(&f->st);
	if (err) {
		steer_fz_teardown(c);
		return err;
	}
	memcpy(&meta.tunnel_src4, steer_fz_tsrc, 4);
	memcpy(meta.tunnel_src6.b, steer_fz_tsrc6, 16);
	lb_steer_sync(f->st, &f->cfg, &meta);
	f->egress_fd = lb_steer_prog_fd(f->st, 0);
	f->ingress_fd = lb_steer_prog_fd(f->st, 1);
	f->flows_fd = lb_steer_flows_fd(f->st);
	c->prog_fd = f->egress_fd;
	c->tc = true;
	c->tc_pass = (uint32_t)-1;  /* TCX_NEXT: the steering never ends a tcx chain */
	return 0;
}

/* Empties steer_flows and the model's table together, long before LRU eviction could
 * make them differ. */
static void steer_fz_reset(struct steer_fz *f)
{
	struct lb_steer_flow k, next;

	while (!bpf_map_get_next_key(f->flows_fd, NULL, &next)) {
		k = next;
		if (bpf_map_delete_elem(f->flows_fd, &k))
			break;
	}
	steerm_reset(&f->m);
}

static const uint16_t steer_fz_sport0 = 40000;

static void steer_fz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	static struct fuzz_tmpl t;
	struct steer_fz *f = c->priv;
	uint32_t id = 1 + fuzz_below(r, f->nbe), mark;
	bool ingress = fuzz_chance(r, 1, 2);
	char kind[40];

	if (f->m.nflows >= STEERM_RESET_AT)
		steer_fz_reset(f);
	f->m.ingress = ingress;
	c->prog_fd = ingress ? f->ingress_fd : f->egress_fd;
	/* the checker's mark mostly; sometimes an unknown id, another mark or none */
	switch (fuzz_below(r, 10)) {
	case 0: mark = LB_STEER_MAGIC | fuzz_below(r, 0x10000); break;
	case 1: mark = (uint32_t)fuzz_next(r); break;
	case 2: mark = 0; break;
	default: mark = lb_steer_mark(id); break;
	}
	if (fuzz_chance(r, 1, 4)) {
		fuzz_gen_default(r, &c->env, p);
		snprintf(kind, sizeof(kind), " %s mark=%#x", ingress ? "ingress" : "egress", mark);
		strncat(p->what, kind, sizeof(p->what) - strlen(p->what) - 1);
		if (p->len > FUZZ_PKT_MAX - 48)
			p->len = FUZZ_PKT_MAX - 48;
		p->mark = mark;
		return;
	}
	do {
		memset(&t, 0, sizeof(t));
		t.family = f->fam[id];
		/* not ours: an extension header in front of the ports */
		if (t.family == 6 && fuzz_chance(r, 1, 16)) {
			t.next = 1;
			t.ext_type[0] = fuzz_chance(r, 1, 2) ? 0 : 60;
			t.ext_len[0] = 8;
		}
		t.ttl = 64;
		t.ip_id = (uint16_t)fuzz_next(r);
		t.proto = fuzz_chance(r, 1, 12) ? (fuzz_chance(r, 1, 2) ? IPPROTO_ICMP : 47)
						: f->proto[id];
		if (t.proto == IPPROTO_TCP) {
			t.tcp_flags = fuzz_chance(r, 1, 3) ? 0x02 : 0x10 | (uint8_t)fuzz_below(r, 0x10);
			t.tcp_seq = (uint32_t)fuzz_next(r);
			t.tcp_ack = (uint32_t)fuzz_next(r);
			t.tcp_opts_len = (uint8_t)(4 * fuzz_below(r, 3));
		}
		t.payload_len = (int)fuzz_below(r, 64);
		fuzz_bytes(r, t.payload, t.payload_len);
		if (fuzz_chance(r, 1, 16))
			t.frag_off = fuzz_chance(r, 1, 2) ? 0x2000 : (uint16_t)(1 + fuzz_below(r, 100));
		/* a small pool of checker ports, so answers meet remembered flows */
		uint16_t lport = (uint16_t)(steer_fz_sport0 + fuzz_below(r, 48));
		const uint8_t *lb = t.family == 4 ? c->env.local4[0] : steer_fz_lb6;
		int alen = t.family == 4 ? 4 : 16;
		if (!ingress) {
			memcpy(t.dst_mac, c->env.peer_mac, 6);
			memcpy(t.src_mac, c->env.own_mac, 6);
			memcpy(t.src, lb, alen);
			memcpy(t.dst, f->be_addr[id], alen);
			t.sport = lport;
			t.dport = fuzz_get16(f->be_port[id]);
			if (fuzz_chance(r, 1, 10))
				t.dst[alen - 1] ^= (uint8_t)(1 + fuzz_below(r, 255));
			if (fuzz_chance(r, 1, 10))
				t.dport = fuzz_get16(f->vip_port[id]);
		} else {
			memcpy(t.dst_mac, c->env.own_mac, 6);
			memcpy(t.src_mac, c->env.peer_mac, 6);
			memcpy(t.src, f->vip[id], alen);
			memcpy(t.dst, lb, alen);
			t.sport = fuzz_get16(f->vip_port[id]);
			t.dport = lport;
			if (fuzz_chance(r, 1, 10))
				memcpy(t.src, f->be_addr[id], alen);
			if (fuzz_chance(r, 1, 10))
				t.sport = fuzz_get16(f->be_port[id]);
		}
		if (fuzz_chance(r, 1, 20))
			memcpy(t.src, t.family == 4 ? c->env.peer4 : c->env.peer6, alen);
	} while (!fuzz_build(&t, p));
	snprintf(p->what, sizeof(p->what), "%s/%u id=%u mark=%#x", ingress ? "ingress" : "egress",
		 t.proto, id, mark);
	if (fuzz_chance(r, 1, 3))
		fuzz_mutate(r, &c->env, p);
	/* room for the (IPv6) GUE headers an encap probe gets, in the model's output frame */
	if (p->len > FUZZ_PKT_MAX - 48)
		p->len = FUZZ_PKT_MAX - 48;
	p->mark = ingress && fuzz_chance(r, 3, 4) ? 0 : mark;
}

static void steer_fz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct steer_fz *f = c->priv;

	steerm_model(&f->m, in, x);
}

/* After a steered probe: steer_flows must hold its flow with the backend it went to. */
static void steer_fz_check_state(struct steer_fz *f)
{
	const struct steerm_flow *m = &f->m.last;
	struct lb_steer_flow k = {};
	struct lb_steer_be v, want = {};

	if (!f->m.check)
		return;
	f->m.check = false;
	memcpy(k.vip.b, m->vip, 16);
	memcpy(k.lb.b, m->lb, 16);
	memcpy(&k.vip_port, m->vip_port, 2);
	memcpy(&k.lb_port, m->lb_port, 2);
	k.proto = m->proto;
	k.family = m->fam;
	memcpy(want.vip.b, m->be.vip, 16);
	memcpy(want.be.b, m->be.be, 16);
	want.family = m->be.fam;
	memcpy(&want.vip_port, m->be.vip_port, 2);
	memcpy(&want.be_port, m->be.be_port, 2);
	want.proto = m->be.proto;
	want.used = 1;
	want.encap = m->be.encap;
	if (m->be.encap && m->be.fam == 4)
		memcpy(want.tunnel_src.b, f->m.tunnel_src, 4);
	else if (m->be.encap)
		memcpy(want.tunnel_src.b, f->m.tunnel_src6, 16);
	if (bpf_map_lookup_elem(f->flows_fd, &k, &v) || memcmp(&v, &want, sizeof(v)))
		f->state_mismatch++;
}

static int steer_fz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct steer_fz *f = c->priv;
	__u64 k[LB_STEER__MAX];
	int err;

	steer_fz_check_state(f);
	err = lb_steer_counters(f->st, k);
	if (err)
		return err;
	for (int i = 0; i < LB_STEER__MAX; i++)
		v[i] = k[i];
	v[STEERM_C_STATE] = f->state_mismatch;
	return 0;
}

static const struct fuzz_target fuzz_steer = {
	.name = "steer",
	.setup = steer_fz_setup,
	.teardown = steer_fz_teardown,
	.gen = steer_fz_gen,
	.model = steer_fz_model,
	.read_counters = steer_fz_counters,
	.ncounters = STEERM_NCOUNTERS,
	.counter_names = steer_fz_names,
};
