// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The rows of bench's live section: the same traffic dropped at each layer of the talk's
 * picture, bounced back by XDP_TX, and forwarded by Linux and by XDP — and bpflab's own
 * programs beside the bare rows, each set up by its feature's bench case (the path its
 * command and tests use), on that case's own packet. Each row is loaded once, then
 * attached, counted and detached for every repetition (bench_live.c measures). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "bench.h"
#include "bench_rows.h"
#include "bare.h"
#include "bare.skel.h"

#define ROW(i, l, g, k, ...) { .id = i, .label = l, .group = g, .kind = k, __VA_ARGS__ }
#define CASE(i, l, g, base, fn) ROW(i, l, g, R_CASE, .baseline = base, .setup = fn)

/* Table order is the order of the rows in every output. */
const struct row_def bench_rows[] = {
	ROW("xdp_native_drop", "XDP native drop", "drop", R_XDP_NATIVE),
	ROW("xdp_read_drop", "XDP native drop, reads the frame", "drop", R_XDP_READ),
	CASE("count_drop", "bpflab count --drop", "drop", "xdp_native_drop", count_bench_drop_setup),
	CASE("ping_drop", "bpflab ping --drop", "drop", "xdp_native_drop", ping_bench_drop_setup),
	CASE("filter_drop", "bpflab filter, 100k prefixes", "drop", "xdp_native_drop", filter_bench_setup),
	ROW("xdp_generic_drop", "XDP generic drop", "drop", R_XDP_GENERIC),
	ROW("tc_drop", "TC ingress (clsact) drop", "drop", R_TC),
	ROW("nft_ingress_drop", "nftables netdev ingress drop", "drop", R_NFT_INGRESS),
	ROW("nft_raw_drop", "nftables raw prerouting drop", "drop", R_NFT_RAW),
	ROW("iptables_raw_drop", "iptables-legacy raw drop", "drop", R_IPT_RAW, .last = true),
	ROW("udp_closed", "stack: UDP to a closed port", "drop", R_UDP_CLOSED),
	ROW("udp_socket", "stack: UDP socket, read+discard", "drop", R_UDP_SOCKET),
	ROW("xdp_native_tx", "XDP native XDP_TX", "tx", R_XDP_TX),
	CASE("lb_nat", "bpflab lb nat, established flow", "tx", "xdp_native_tx", lb_bench_hit_setup),
	CASE("lb_dsr", "bpflab lb dsr, established flow", "tx", "xdp_native_tx", lb_bench_dsr_setup),
	CASE("syncookie", "bpflab filter --synproxy, SYN cookie answered", "tx", "xdp_native_tx",
	     syncookie_bench_setup),
	ROW("linux_forward", "forward: Linux ip_forward", "forward", R_FWD_LINUX),
	ROW("nft_dnat_forward", "forward: nftables DNAT, established", "forward", R_FWD_NAT),
	ROW("xdp_forward", "forward: XDP fib_lookup+redirect", "forward", R_FWD_XDP),
};
const size_t bench_nrows = sizeof(bench_rows) / sizeof(bench_rows[0]);

const struct row_def *row_def_of(const char *id)
{
	for (size_t j = 0; j < bench_nrows; j++)
		if (!strcmp(bench_rows[j].id, id))
			return &bench_rows[j];
	return NULL;
}

bool bench_live_known(const char *id)
{
	return row_def_of(id) != NULL;
}

const char *bench_live_id_list(void)
{
	static char buf[512];
	size_t off = 0;

	if (buf[0])
		return buf;
	for (size_t j = 0; j < bench_nrows && off < sizeof(buf); j++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", j ? "," : "", bench_rows[j].id);
	return buf;
}

const char *row_xdp_mode(const struct row_def *d)
{
	switch (d->kind) {
	case R_XDP_NATIVE: case R_XDP_READ: case R_XDP_TX: case R_CASE: case R_FWD_XDP:
		return "native";
	case R_XDP_GENERIC:
		return "generic";
	default:
		return NULL;
	}
}

__u32 row_verdict(const struct row_def *d, const struct row_state *s)
{
	return d->kind == R_XDP_TX ? XDP_TX : s->b.expect_retval;
}

unsigned long long veth_verdict(const struct benv_veth *v, __u32 verdict)
{
	switch (verdict) {
	case XDP_DROP: return v->drops;
	case XDP_TX: return v->tx;
	case XDP_REDIRECT: return v->redirect;
	case XDP_PASS: return v->packets - v->drops - v->tx - v->redirect;
	}
	return 0;
}

int row_count_read(struct bench_env *e, const struct row_def *d, struct row_state *s,
			  struct row_count *c)
{
	__u64 sum;
	__u32 key = 0;

	memset(c, 0, sizeof(*c));
	switch (d->kind) {
	case R_XDP_NATIVE: case R_XDP_READ: case R_XDP_GENERIC: case R_TC:
	case R_FWD_LINUX: case R_FWD_NAT: case R_FWD_XDP:
		c->handled = percpu_sum_u64(bpf_map__fd(s->skel->maps.rx_count), &key, &sum, 1) ?
			     -1 : (long long)sum;
		break;
	case R_NFT_INGRESS:
		c->handled = benv_read_after(e->ns_rx, "nft list chain netdev bpflab_bench in",
					     "packets ", -1);
		break;
	case R_NFT_RAW:
		c->handled = benv_read_after(e->ns_rx, "nft list chain ip bpflab_bench pre",
					     "packets ", -1);
		break;
	case R_IPT_RAW:
		c->handled = benv_read_after(e->ns_rx, "iptables-legacy -t raw -L PREROUTING -v -x -n",
					     "DROP", 0);
		break;
	case R_UDP_CLOSED:
		c->handled = benv_udp_noports(e->ns_rx);
		break;
	case R_UDP_SOCKET:
		c->handled = atomic_load(&s->helper.got);
		break;
	case R_XDP_TX:
	case R_CASE:
		if (benv_veth_read(e->ns_rx, e->if_r, &c->v))
			return -1;
		c->handled = veth_verdict(&c->v, row_verdict(d, s));
		c->lost = s->has_case && s->b.lost ? s->b.lost(&s->b) : 0;
		if (c->lost < 0)
			return -1;
		break;
	}
	return c->handled < 0 ? -1 : 0;
}

/* Loads the bare programs with the generator's frame: the bare rows' UDP frame, or the
 * bench case's own packet (its MACs and addresses as the case configured them). */
static int load_bare(struct row_state *s, char *why, size_t wlen)
{
	struct bare_bpf *skel = bare_bpf__open();
	int err;

	if (!skel) {
		snprintf(why, wlen, "cannot open the bare programs: %s", strerror(errno));
		return -1;
	}
	memcpy((void *)skel->rodata->gen_tmpl, s->g.frame, s->g.len);
	skel->rodata->gen_len = s->g.len;
	err = bare_bpf__load(skel);
	if (err) {
		snprintf(why, wlen, "cannot load the bare programs: %s", strerr(err));
		bare_bpf__destroy(skel);
		return -1;
	}
	s->skel = skel;
	s->g.prog_fd = bpf_program__fd(skel->progs.xdp_gen);
	s->g.count_fd = bpf_map__fd(skel->maps.gen_count);
	return 0;
}

static int load_case(const struct row_def *d, struct row_state *s, char *why, size_t wlen)
{
	int err;

	err = d->setup(&s->b);
	s->has_case = true;
	if (err) {
		snprintf(why, wlen, "setup of %s failed: %s", s->b.name ? s->b.name : d->id,
			 strerr(err));
		return -1;
	}
	if (s->b.pkt_len < 14 || s->b.pkt_len > BARE_GEN_MAX) {
		snprintf(why, wlen, "the case's packet of %zu bytes does not fit the generator's "
			 "%d", s->b.pkt_len, BARE_GEN_MAX);
		return -1;
	}
	if (s->b.expect_retval != XDP_DROP && s->b.expect_retval != XDP_TX) {
		snprintf(why, wlen, "a live row measures programs that drop or transmit, not %s",
			 xdp_action_str(s->b.expect_retval));
		return -1;
	}
	memcpy(s->g.frame, s->b.pkt, s->b.pkt_len);
	s->g.len = s->b.pkt_len;
	return load_bare(s, why, wlen);
}

/* The veths a row attaches XDP to: rX (what is measured), dX (the forwarders' sink) and
 * gX (the TX sink on the generator's side). */
enum row_at { AT_RX, AT_DST, AT_GEN };

/* Attaches prog_fd at `at` in `mode` into the row's link there; on failure, why says what
 * failed (fmt) and it returns -1. */
static int row_xdp_attach(struct bench_env *e, struct row_state *s, enum row_at at, int prog_fd,
			  enum xdp_mode mode, char *why, size_t wlen, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
static int row_xdp_attach(struct bench_env *e, struct row_state *s, enum row_at at, int prog_fd,
			  enum xdp_mode mode, char *why, size_t wlen, const char *fmt, ...)
{
	const char *ns = at == AT_RX ? e->ns_rx : at == AT_DST ? e->ns_dst : e->ns_gen;
	const char *ifname = at == AT_RX ? e->if_r : at == AT_DST ? e->if_d : e->if_g;
	int idx = at == AT_RX ? e->idx_r : at == AT_DST ? e->idx_d : e->idx_g;
	int *link = at == AT_RX ? &s->link_r : at == AT_DST ? &s->link_d : &s->link_g;
	va_list ap;

	*link = benv_xdp_attach(ns, prog_fd, idx, ifname, mode);
	if (*link >= 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(why, wlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int attach_case(struct bench_env *e, struct row_state *s, char *why, size_t wlen)
{
	if (row_xdp_attach(e, s, AT_RX, s->b.prog_fd, XDP_MODE_NATIVE, why, wlen,
			   "XDP native attach of %s failed", s->b.name))
		return -1;
	if (s->b.events_fd > 0) {
		if (benv_drain_start(s->b.events_fd, e->o->cpu_rx, &s->helper, why, wlen))
			return -1;
		s->helping = true;
	}
	return 0;
}

static int setup_nft(struct bench_env *e, const struct row_def *d, struct row_state *s,
		     char *why, size_t wlen)
{
	int err;

	s->nft = true;
	if (d->kind == R_NFT_INGRESS)
		err = benv_run(e->ns_rx, "nft add table netdev bpflab_bench") ||
		      benv_run(e->ns_rx, "nft add chain netdev bpflab_bench in { type filter hook "
			       "ingress device %s priority 0 ; }", e->if_r) ||
		      benv_run(e->ns_rx, "nft add rule netdev bpflab_bench in udp dport %d "
			       "counter drop", BENV_UDP_PORT);
	else
		err = benv_run(e->ns_rx, "nft add table ip bpflab_bench") ||
		      benv_run(e->ns_rx, "nft add chain ip bpflab_bench pre { type filter hook "
			       "prerouting priority raw ; }") ||
		      benv_run(e->ns_rx, "nft add rule ip bpflab_bench pre udp dport %d "
			       "counter drop", BENV_UDP_PORT);
	if (err) {
		snprintf(why, wlen, "nft refused the %s table (run with -v)",
			 d->kind == R_NFT_INGRESS ? "netdev ingress" : "raw prerouting");
		return -1;
	}
	return 0;
}

static int setup_tc(struct bench_env *e, struct row_state *s, char *why, size_t wlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->idx_r, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = bpf_program__fd(s->skel->progs.tc_drop_count));
	int home = netns_save(), err;

	if (home < 0 || netns_enter(e->ns_rx)) {
		if (home >= 0)
			netns_restore(home);
		snprintf(why, wlen, "cannot enter %s", e->ns_rx);
		return -1;
	}
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST)
		err = bpf_tc_attach(&hook, &to);
	netns_restore(home);
	s->tc = true;
	if (err) {
		snprintf(why, wlen, "TC attach failed: %s", strerr(err));
		return -1;
	}
	return 0;
}

static bool have_nft(char *why, size_t wlen)
{
	if (!access("/usr/sbin/nft", X_OK) || !access("/sbin/nft", X_OK) ||
	    !access("/usr/bin/nft", X_OK))
		return true;
	snprintf(why, wlen, "nft is not installed");
	return false;
}

int row_setup(struct bench_env *e, const struct row_def *d, struct row_state *s,
		     char *why, size_t wlen)
{
	s->g.e = e;
	if (!s->loaded) {
		s->loaded = true;
		if (d->kind == R_CASE) {
			if (load_case(d, s, why, wlen))
				return -1;
		} else {
			benv_gen_udp_frame(&s->g, d->kind == R_FWD_LINUX || d->kind == R_FWD_XDP);
			if (load_bare(s, why, wlen))
				return -1;
		}
	}
	if (d->kind == R_CASE && attach_case(e, s, why, wlen))
		return -1;

	switch (d->kind) {
	case R_XDP_NATIVE:
	case R_XDP_READ:
	case R_XDP_GENERIC:
		return row_xdp_attach(e, s, AT_RX, bpf_program__fd(d->kind == R_XDP_READ ?
				      s->skel->progs.xdp_drop_read : s->skel->progs.xdp_drop_count),
				      d->kind == R_XDP_GENERIC ? XDP_MODE_GENERIC : XDP_MODE_NATIVE,
				      why, wlen, "XDP %s attach on veth failed",
				      d->kind == R_XDP_GENERIC ? "generic" : "native");
	case R_TC:
		return setup_tc(e, s, why, wlen);
	case R_NFT_INGRESS:
	case R_NFT_RAW:
		if (!have_nft(why, wlen))
			return -1;
		return setup_nft(e, d, s, why, wlen);
	case R_IPT_RAW:
		if (access("/usr/sbin/iptables-legacy", X_OK) && access("/sbin/iptables-legacy", X_OK)) {
			snprintf(why, wlen, "iptables-legacy is not installed (Debian: apt-get install "
				 "iptables; the plain iptables here is nftables underneath, measured "
				 "by nft_raw_drop)");
			return -1;
		}
		s->ipt = true;
		if (benv_run(e->ns_rx, "iptables-legacy -t raw -A PREROUTING -p udp --dport %d -j DROP",
			     BENV_UDP_PORT)) {
			snprintf(why, wlen, "iptables-legacy refused the raw rule (no ip_tables module?)");
			return -1;
		}
		return 0;
	case R_UDP_CLOSED:
		return 0;
	case R_UDP_SOCKET:
		if (benv_reader_start(e, &s->helper, why, wlen))
			return -1;
		s->helping = true;
		return 0;
	case R_XDP_TX:
		if (row_xdp_attach(e, s, AT_RX, bpf_program__fd(s->skel->progs.xdp_tx),
				   XDP_MODE_NATIVE, why, wlen, "XDP native attach of XDP_TX failed"))
			return -1;
		break;
	case R_CASE:
		break;
	case R_FWD_NAT:
		/* The kernel's way to balance one flow, as lb nat does (conntrack, then NAT of
		 * an established flow): the frame for rX's own address is rewritten to dX's
		 * and forwarded there. */
		if (!have_nft(why, wlen))
			return -1;
		s->nft = true;
		if (benv_run(e->ns_rx, "nft add table ip bpflab_bench_nat") ||
		    benv_run(e->ns_rx, "nft add chain ip bpflab_bench_nat pre { type nat hook "
			     "prerouting priority dstnat ; }") ||
		    benv_run(e->ns_rx, "nft add rule ip bpflab_bench_nat pre udp dport %d dnat to "
			     BENV_DST_IP, BENV_UDP_PORT)) {
			snprintf(why, wlen, "nft refused the DNAT rule (run with -v)");
			return -1;
		}
		/* the sink counts what was forwarded */
		__attribute__((fallthrough));
	case R_FWD_LINUX:
	case R_FWD_XDP:
		if (row_xdp_attach(e, s, AT_DST, bpf_program__fd(s->skel->progs.xdp_drop_count),
				   XDP_MODE_NATIVE, why, wlen, "XDP attach on the sink veth failed"))
			return -1;
		if (d->kind == R_FWD_XDP)
			return row_xdp_attach(e, s, AT_RX, bpf_program__fd(s->skel->progs.xdp_fwd),
					      XDP_MODE_NATIVE, why, wlen,
					      "XDP native attach of the forwarder failed");
		return 0;
	}
	/* What goes back out of rX lands on gX: XDP_TX into a veth needs an XDP program on
	 * the peer, and a plain drop there is the cheapest sink (the same for every TX row). */
	if (row_verdict(d, s) == XDP_TX) {
		if (row_xdp_attach(e, s, AT_GEN, bpf_program__fd(s->skel->progs.xdp_drop),
				   XDP_MODE_NATIVE, why, wlen,
				   "XDP attach of the sink on the generator's veth failed"))
			return -1;
	}
	return 0;
}

void row_detach(struct bench_env *e, struct row_state *s)
{
	if (s->helping)
		benv_helper_stop(&s->helper);
	s->helping = false;
	if (s->link_r >= 0)
		close(s->link_r);
	if (s->link_d >= 0)
		close(s->link_d);
	if (s->link_g >= 0)
		close(s->link_g);
	s->link_r = s->link_d = s->link_g = -1;
	if (s->tc) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->idx_r, .attach_point = BPF_TC_INGRESS);
		int home = netns_save();

		if (home >= 0 && !netns_enter(e->ns_rx))
			bpf_tc_hook_destroy(&hook);
		if (home >= 0)
			netns_restore(home);
		s->tc = false;
	}
	if (s->nft) {
		benv_run(e->ns_rx, "nft delete table netdev bpflab_bench");
		benv_run(e->ns_rx, "nft delete table ip bpflab_bench");
		benv_run(e->ns_rx, "nft delete table ip bpflab_bench_nat");
		s->nft = false;
	}
	if (s->ipt) {
		benv_run(e->ns_rx, "iptables-legacy -t raw -D PREROUTING -p udp --dport %d -j DROP",
			 BENV_UDP_PORT);
		s->ipt = false;
	}
}

void row_unload(struct row_state *s)
{
	if (s->has_case && s->b.cleanup)
		s->b.cleanup(&s->b);
	s->has_case = false;
	bare_bpf__destroy(s->skel);
	s->skel = NULL;
	s->loaded = false;
}
