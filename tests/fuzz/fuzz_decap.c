// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* decap targets: decap.bpf.c loaded through decap_prog_load() as `bpflab lb decap` loads
 * it, XDP and tc, against model_decap.c. Most packets are tunnel packets (IPIP v4/v6 and
 * GUE around a random inner packet, often to a VIP), the rest the default generator's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "decap.h"
#include "decap_prog.h"

static const char *const decap_fz_vip_words[DECAP_FZ_NVIPS] = {
	"10.77.0.1", "[2001:db8:77::1]:80/tcp", "[2001:db8:77::1]:53/udp",
};

static const char *const decap_fz_names[DECAP_FZ_NCOUNTERS] = {
	"pass_not_for_us", "pass_not_encap", "decap", "drop_no_vip", "drop_outer_fragment",
	"drop_outer_malformed", "drop_inner_malformed", "drop_inner_fragment",
	"vip0_packets", "vip0_bytes", "vip1_packets", "vip1_bytes", "vip2_packets", "vip2_bytes",
};

struct decap_fz {
	struct decap_bpf *skel;
	struct decap_model m;
};

static int decap_fz_setup(struct fuzz_ctx *c, bool tc)
{
	struct decap_fz *f = calloc(1, sizeof(*f));
	struct decap_prog_cfg pc = {};
	char why[128];

	if (!f)
		return -ENOMEM;
	memcpy(pc.mac, c->env.own_mac, 6);
	memcpy(f->m.own_mac, c->env.own_mac, 6);
	f->skel = decap_prog_load(&pc);
	if (!f->skel) {
		free(f);
		return -errno;
	}
	for (int i = 0; i < DECAP_FZ_NVIPS; i++) {
		struct decap_vip_key k;
		struct decap_model_vip *v = &f->m.vips[i];
		if (decap_parse_vip(decap_fz_vip_words[i], &k, why, sizeof(why)) ||
		    decap_prog_add_vip(f->skel, &k, i)) {
			decap_prog_destroy(f->skel);
			free(f);
			return -EINVAL;
		}
		/* The model's own copy, from the same words read by hand. */
		v->family = k.family;
		memcpy(v->addr, k.addr, 16);
		v->port = fuzz_get16((const uint8_t *)&k.port);
		v->proto = k.proto;
	}
	c->prog_fd = decap_prog_fd(f->skel, tc);
	c->tc = tc;
	c->priv = f;
	return 0;
}

static int decap_fz_setup_xdp(struct fuzz_ctx *c) { return decap_fz_setup(c, false); }
static int decap_fz_setup_tc(struct fuzz_ctx *c) { return decap_fz_setup(c, true); }

static void decap_fz_teardown(struct fuzz_ctx *c)
{
	struct decap_fz *f = c->priv;

	decap_prog_destroy(f->skel);
	free(f);
}

/* A tunnel packet: a random inner packet (often to a VIP, TCP/UDP to its port), wrapped
 * in IPIP or GUE by the template builder, then usually mutated. */
static void decap_fz_gen(struct fuzz_rng *r, struct fuzz_ctx *c, struct fuzz_pkt *p)
{
	static struct fuzz_tmpl in, out;
	static uint8_t ib[FUZZ_PKT_MAX];
	struct decap_fz *f = c->priv;
	uint32_t n;
	bool gue;

	if (fuzz_chance(r, 1, 5)) {
		fuzz_gen_default(r, &c->env, p);
		return;
	}
	do {
		fuzz_tmpl_random(r, &c->env, &in);
		if (in.family == 0)
			continue;
		if (fuzz_chance(r, 2, 3)) {
			const struct decap_model_vip *v = &f->m.vips[fuzz_below(r, DECAP_FZ_NVIPS)];
			in.family = v->family;
			memcpy(in.dst, v->addr, 16);
			in.next = in.family == 6 ? in.next : 0;
			in.ip_opts_len = in.family == 4 ? in.ip_opts_len : 0;
			if (fuzz_chance(r, 3, 4)) {
				in.proto = v->proto ? v->proto : fuzz_chance(r, 1, 2) ? IPPROTO_TCP : IPPROTO_UDP;
				in.dport = v->port ? v->port : (uint16_t)fuzz_next(r);
				in.sport = (uint16_t)fuzz_next(r);
				in.tcp_flags = 0x02;
			}
		}
		n = fuzz_build_ip(&in, ib, sizeof(ib));
		if (!n || n > FUZZ_PAYLOAD_MAX)
			continue;
		fuzz_tmpl_random(r, &c->env, &out);
		if (out.family == 0)
			out.family = 4 + 2 * fuzz_below(r, 2);
		if (out.family == 4)
			out.next = 0;
		gue = fuzz_chance(r, 1, 2);
		out.proto = gue ? IPPROTO_UDP : (ib[0] >> 4) == 4 ? 4 : 41;
		if (gue) {
			out.sport = 49152 + fuzz_below(r, 16384);
			out.dport = fuzz_chance(r, 15, 16) ? LB_GUE_PORT : (uint16_t)fuzz_next(r);
		}
		/* Mostly well-formed outer headers: the deep paths need them. */
		if (fuzz_chance(r, 3, 4)) {
			out.frag_off = 0x4000;
			out.ip_opts_len = fuzz_chance(r, 1, 8) ? out.ip_opts_len : 0;
			out.next = fuzz_chance(r, 1, 8) ? out.next : 0;
		}
		out.payload_len = (int)n;
		memcpy(out.payload, ib, n);
	} while (in.family == 0 || !n || n > FUZZ_PAYLOAD_MAX || !fuzz_build(&out, p));
	snprintf(p->what, sizeof(p->what), "%s/ip%d-in-ip%d%s%s", gue ? "gue" : "ipip",
		 in.family, out.family, out.nvlan ? "/vlan" : "", out.next ? "/ext" : "");
	if (fuzz_chance(r, 1, 2))
		fuzz_mutate(r, &c->env, p);
}

static void decap_fz_model(struct fuzz_ctx *c, const struct fuzz_pkt *in, struct fuzz_expect *x)
{
	struct decap_fz *f = c->priv;

	decap_model(&f->m, c->tc, in, x);
}

static int decap_fz_counters(struct fuzz_ctx *c, uint64_t *v)
{
	struct decap_fz *f = c->priv;
	struct decap_counters dc;
	int err = decap_prog_counters(f->skel, &dc);

	if (err)
		return err;
	memcpy(v, dc.c, sizeof(dc.c));
	for (int i = 0; i < DECAP_FZ_NVIPS; i++) {
		struct decap_stats s;
		if ((err = decap_prog_vip_stats(f->skel, i, &s)))
			return err;
		v[DC__MAX + 2 * i] = s.packets;
		v[DC__MAX + 2 * i + 1] = s.bytes;
	}
	return 0;
}

static const struct fuzz_target fuzz_decap_xdp = {
	.name = "decap_xdp", .setup = decap_fz_setup_xdp, .teardown = decap_fz_teardown,
	.gen = decap_fz_gen, .model = decap_fz_model, .read_counters = decap_fz_counters,
	.ncounters = DECAP_FZ_NCOUNTERS, .counter_names = decap_fz_names,
};

static const struct fuzz_target fuzz_decap_tc = {
	.name = "decap_tc", .setup = decap_fz_setup_tc, .teardown = decap_fz_teardown,
	.gen = decap_fz_gen, .model = decap_fz_model, .read_counters = decap_fz_counters,
	.ncounters = DECAP_FZ_NCOUNTERS, .counter_names = decap_fz_names,
};
