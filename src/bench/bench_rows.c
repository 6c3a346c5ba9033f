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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "bench.h"
#include "bench_rows.h"
#include "bare.h"
#include "bare.skel.h"
#include "syncookie_prog.h"
#include "synproxy.h"

/* filter's bench case writes its 100,000 prefixes (filter_bench.c): the nftables row
 * loads the same list into its set. */
int filter_bench_rules(char **textp, char *list_path, size_t list_len);

/* The source of filter's bench packet: inside one of the 100,000 prefixes. */
#define SET_SRC_IP "10.77.3.4"
/* The port the SYN rows flood (the syncookie case protects the same). */
#define SYN_PORT 80
/* nft -f of the 100,000-element set: it takes ~2 s here; beyond this it is not working. */
#define NFT_SET_TIMEOUT_S 120

#define ROW(i, l, g, k, ...) { .id = i, .label = l, .group = g, .kind = k, __VA_ARGS__ }
#define CASE(i, l, g, base, fn) ROW(i, l, g, R_CASE, .baseline = base, .setup = fn)

/* Table order is the order of the rows in every output. */
const struct row_def bench_rows[] = {
	ROW("xdp_native_drop", "XDP native drop", "drop", R_XDP_NATIVE),
	ROW("xdp_read_drop", "XDP native drop, reads the frame", "drop", R_XDP_READ),
	CASE("count_drop", "bpflab count --drop", "drop", "xdp_native_drop", count_bench_drop_setup),
	CASE("ping_drop", "bpflab ping --drop", "drop", "xdp_native_drop", ping_bench_drop_setup),
	CASE("filter_drop", "bpflab filter, 100k prefixes", "drop", "xdp_native_drop", filter_bench_setup),
	ROW("nft_set_drop", "nftables netdev ingress, 100k prefixes (interval set)", "drop",
	    R_NFT_SET),
	ROW("xdp_generic_drop", "XDP generic drop", "drop", R_XDP_GENERIC),
	ROW("tc_drop", "TC ingress (clsact) drop", "drop", R_TC),
	ROW("nft_ingress_drop", "nftables netdev ingress drop", "drop", R_NFT_INGRESS),
	ROW("nft_raw_drop", "nftables raw prerouting drop", "drop", R_NFT_RAW),
	ROW("iptables_raw_drop", "iptables-legacy raw drop", "drop", R_IPT_RAW, .last = true),
	ROW("udp_closed", "stack: UDP to a closed port", "drop", R_UDP_CLOSED),
	ROW("udp_socket", "stack: UDP socket, read+discard", "drop", R_UDP_SOCKET),
	ROW("xdp_native_tx", "XDP native XDP_TX", "tx", R_XDP_TX),
	ROW("xdp_swap_tx", "XDP_TX after swapping the MACs", "tx", R_XDP_SWAP),
	CASE("lb_nat", "bpflab lb nat, established flow", "tx", "xdp_native_tx", lb_bench_hit_setup),
	CASE("lb_dsr", "bpflab lb dsr, established flow", "tx", "xdp_native_tx", lb_bench_dsr_setup),
	CASE("syncookie", "bpflab filter --synproxy, SYN cookie answered", "tx", "xdp_native_tx",
	     syncookie_bench_setup),
	CASE("syncookie_helper", "the cookie helper alone (SYN not answered)", "tx",
	     "xdp_native_tx", syncookie_bench_helper_setup),
	ROW("syn_kernel", "Linux SYN cookies (tcp_syncookies=2), SYN answered", "tx", R_SYN_KERNEL),
	ROW("syn_nft_synproxy", "nftables SYNPROXY, SYN answered", "tx", R_SYN_NFT),
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
	case R_XDP_NATIVE: case R_XDP_READ: case R_XDP_TX: case R_XDP_SWAP: case R_CASE:
	case R_FWD_XDP:
		return "native";
	case R_XDP_GENERIC:
		return "generic";
	default:
		return NULL;
	}
}

__u32 row_verdict(const struct row_def *d, const struct row_state *s)
{
	return d->kind == R_XDP_TX || d->kind == R_XDP_SWAP ? XDP_TX : s->b.expect_retval;
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

/* One counter of a namespace's /proc/net/snmp or netstat (a line of names after `proto`,
 * then a line of values), read in place: no process per read, since the clean-run checks
 * read again every 10 ms. -1 when not found. */
static long long ns_mib(const char *ns, const char *file, const char *proto, const char *name)
{
	char path[64], names[4096] = "", line[4096];
	int home = netns_save();
	long long v = -1;
	FILE *f = NULL;

	if (home < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	if (!netns_enter(ns))
		f = fopen(path, "r");
	netns_restore(home);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *s1, *s2, *n, *val;

		if (strncmp(line, proto, strlen(proto)))
			continue;
		if (!names[0]) {
			snprintf(names, sizeof(names), "%s", line);
			continue;
		}
		n = strtok_r(names, " \n", &s1);
		val = strtok_r(line, " \n", &s2);
		for (; n && val; n = strtok_r(NULL, " \n", &s1), val = strtok_r(NULL, " \n", &s2))
			if (!strcmp(n, name)) {
				v = strtoll(val, NULL, 10);
				break;
			}
		break;
	}
	fclose(f);
	return v;
}

/* Packets an interface of ns received, from its /proc/net/dev, read in place. -1. */
static long long ns_dev_rx(const char *ns, const char *ifname)
{
	char line[512];
	int home = netns_save();
	size_t n = strlen(ifname);
	long long v = -1;
	FILE *f = NULL;

	if (home < 0)
		return -1;
	if (!netns_enter(ns))
		f = fopen("/proc/thread-self/net/dev", "r");
	netns_restore(home);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");
		unsigned long long bytes, pkts;

		if (!strncmp(p, ifname, n) && p[n] == ':' &&
		    sscanf(p + n + 1, "%llu %llu", &bytes, &pkts) == 2) {
			v = (long long)pkts;
			break;
		}
	}
	fclose(f);
	return v;
}

long long row_nft_set_dropped(const struct bench_env *e)
{
	return benv_read_after(e->ns_rx, "nft list chain netdev bpflab_bench_set in", "packets ",
			       -1);
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
	case R_NFT_SET:
		/* Every frame rX receives meets the rule (run_broken checks the rule's own
		 * counter once the traffic stopped): nft reads its 100,000 elements for any
		 * listing, seconds of work too slow for the reads around a window. */
		c->handled = ns_dev_rx(e->ns_rx, e->if_r);
		break;
	case R_SYN_KERNEL:
	case R_SYN_NFT:
		/* What left: the SYN-ACKs the sink on gX received. */
		c->handled = percpu_sum_u64(bpf_map__fd(s->skel->maps.rx_count), &key, &sum, 1) ?
			     -1 : (long long)sum;
		c->ip_in = ns_mib(e->ns_rx, "snmp", "Ip:", "InReceives");
		c->cookies = d->kind == R_SYN_KERNEL ?
			     ns_mib(e->ns_rx, "netstat", "TcpExt:", "SyncookiesSent") : -1;
		if (c->ip_in < 0 || (d->kind == R_SYN_KERNEL && c->cookies < 0))
			return -1;
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
	case R_XDP_SWAP:
	case R_CASE:
		if (benv_veth_read(e->ns_rx, e->if_r, &c->v))
			return -1;
		c->handled = veth_verdict(&c->v, row_verdict(d, s));
		c->lost = s->has_case && s->b.lost ? s->b.lost(&s->b) : 0;
		if (c->lost < 0)
			return -1;
		break;
	}
	/* Last, next to the caller's read of the generator's count (some layer counters
	 * take a process to read): refused / offered is then over the same interval. */
	if (benv_veth_read(e->ns_gen, e->if_g, &c->gv))
		return -1;
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
	s->g.gap_ns = &skel->bss->gen_gap_ns;
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

/* The bare rows' frame from filter's bench source: a packet the set drops. */
static void set_frame(struct benv_gen *g)
{
	benv_gen_udp_frame(g, false);
	inet_pton(AF_INET, SET_SRC_IP, g->frame + 14 + 12);
	pkt_fix_checksums(g->frame, g->len);
}

/* The syncookie case's SYN (Linux's options), addressed to the stack of rX: the bare
 * rows' MACs and addresses, taken from their frame. */
static void syn_frame(struct benv_gen *g)
{
	struct pkt_spec ps;

	benv_gen_udp_frame(g, false);
	pkt_spec_default(&ps);
	memcpy(ps.dst_mac, g->frame, 6);
	memcpy(ps.src_mac, g->frame + 6, 6);
	memcpy(&ps.src4, g->frame + 14 + 12, 4);
	memcpy(&ps.dst4, g->frame + 14 + 16, 4);
	ps.sport = 40000;
	ps.dport = SYN_PORT;
	g->len = syncookie_bench_syn(&ps, g->frame);
}

/* filter's 100,000 prefixes as an nftables interval set, in one `nft -f` (element by
 * element would take minutes), timed; the table stays for the section, the hook comes
 * and goes with each repetition. */
static int load_nft_set(struct bench_env *e, struct row_state *s, char *why, size_t wlen)
{
	char list[64], nftf[64] = "/tmp/bpflab-bench-nft-XXXXXX", line[64], *text = NULL;
	FILE *in = NULL, *out = NULL;
	int fd, err, n = 0;
	double t0;

	err = filter_bench_rules(&text, list, sizeof(list));
	free(text);
	if (err) {
		snprintf(why, wlen, "cannot write filter's prefix list: %s", strerr(err));
		return -1;
	}
	fd = mkstemp(nftf);
	if (fd >= 0)
		out = fdopen(fd, "w");
	in = fopen(list, "r");
	if (!in || !out) {
		snprintf(why, wlen, "cannot write the nftables set file: %s", strerror(errno));
		err = -1;
		goto out;
	}
	fprintf(out, "table netdev bpflab_bench_set {\n  set blk {\n    type ipv4_addr\n"
		"    flags interval\n    elements = {");
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			fprintf(out, "%s\n      %s", n++ ? "," : "", line);
	}
	fprintf(out, "\n    }\n  }\n}\n");
	if (fclose(out)) {
		out = NULL;
		snprintf(why, wlen, "cannot write the nftables set file: %s", strerror(errno));
		err = -1;
		goto out;
	}
	out = NULL;
	t0 = now_mono();
	err = benv_run(e->ns_rx, "timeout %d nft -f %s", NFT_SET_TIMEOUT_S, nftf);
	if (err) {
		snprintf(why, wlen, "nft -f refused or timed out (%d s) on the set of %d prefixes "
			 "(run with -v)", NFT_SET_TIMEOUT_S, n);
		err = -1;
		goto out;
	}
	s->nft_set = true;
	pr_info("bench live: nftables set of %d prefixes loaded in %.1f s (nft -f)\n", n,
		now_mono() - t0);
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	unlink(list);
	if (fd >= 0)
		unlink(nftf);
	return err ? -1 : 0;
}

/* The kernel's own SYN cookies: a listener on rX's address with a backlog of 1, and
 * tcp_syncookies=2 (cookies for every SYN, not only once the queue is full), so every SYN
 * of the flood is answered from the cookie path and none is queued. */
static int setup_syn_kernel(struct bench_env *e, struct row_state *s, char *why, size_t wlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SYN_PORT) };
	int home = netns_save(), fd = -1;

	if (benv_run(e->ns_rx, "sysctl -qw net.ipv4.tcp_syncookies=2")) {
		snprintf(why, wlen, "cannot set net.ipv4.tcp_syncookies=2 in %s", e->ns_rx);
		return -1;
	}
	inet_pton(AF_INET, BENV_RX_IP, &a.sin_addr);
	if (home >= 0 && !netns_enter(e->ns_rx)) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))) {
			close(fd);
			fd = -1;
		}
	}
	if (home >= 0)
		netns_restore(home);
	if (fd <= 0) {
		snprintf(why, wlen, "cannot listen on " BENV_RX_IP ":%d in %s", SYN_PORT, e->ns_rx);
		return -1;
	}
	s->listen_fd = fd;
	return 0;
}

/* bpflab filter --synproxy's own nftables SYNPROXY (synproxy.c) on rX, without the XDP
 * part in front: the stack answers every SYN. */
static int setup_syn_nft(struct bench_env *e, struct row_state *s, char *why, size_t wlen)
{
	struct synproxy_cfg cfg = { .nports = 1, .ports = { { SYN_PORT, SYN_PORT } } };
	int home = netns_save(), err = -ENOENT;

	snprintf(cfg.ifname, sizeof(cfg.ifname), "%s", e->if_r);
	if (home >= 0 && !netns_enter(e->ns_rx))
		err = synproxy_start(&cfg);
	if (home >= 0)
		netns_restore(home);
	if (err) {
		snprintf(why, wlen, "the nftables SYNPROXY could not be set up: %s (run with -v)",
			 strerr(err));
		return -1;
	}
	s->synproxy = true;
	return 0;
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
			if (d->kind == R_NFT_SET)
				set_frame(&s->g);
			else if (d->kind == R_SYN_KERNEL || d->kind == R_SYN_NFT)
				syn_frame(&s->g);
			else
				benv_gen_udp_frame(&s->g, d->kind == R_FWD_LINUX ||
						   d->kind == R_FWD_XDP);
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
	case R_NFT_SET:
		if (!have_nft(why, wlen))
			return -1;
		if (!s->nft_set && load_nft_set(e, s, why, wlen))
			return -1;
		s->nft_set_on = true;
		if (benv_run(e->ns_rx, "nft add chain netdev bpflab_bench_set in { type filter hook "
			     "ingress device %s priority 0 ; }", e->if_r) ||
		    benv_run(e->ns_rx, "nft add rule netdev bpflab_bench_set in ip saddr @blk "
			     "counter drop")) {
			snprintf(why, wlen, "nft refused the netdev ingress chain on the set (run "
				 "with -v)");
			return -1;
		}
		return 0;
	case R_SYN_KERNEL:
	case R_SYN_NFT:
		if (d->kind == R_SYN_KERNEL ? setup_syn_kernel(e, s, why, wlen) :
		    !have_nft(why, wlen) || setup_syn_nft(e, s, why, wlen))
			return -1;
		/* The SYN-ACKs land on gX: counted there by an XDP drop, so they reach
		 * neither the generator's stack (which would answer with RSTs) nor anything
		 * else that costs the receiver. */
		return row_xdp_attach(e, s, AT_GEN, bpf_program__fd(s->skel->progs.xdp_drop_count),
				      XDP_MODE_NATIVE, why, wlen,
				      "XDP attach of the SYN-ACK counter on the generator's veth failed");
	case R_UDP_CLOSED:
		return 0;
	case R_UDP_SOCKET:
		if (benv_reader_start(e, &s->helper, why, wlen))
			return -1;
		s->helping = true;
		return 0;
	case R_XDP_TX:
	case R_XDP_SWAP:
		if (row_xdp_attach(e, s, AT_RX, bpf_program__fd(d->kind == R_XDP_TX ?
				   s->skel->progs.xdp_tx : s->skel->progs.xdp_tx_swap),
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
	if (s->nft_set_on) {
		benv_run(e->ns_rx, "nft delete chain netdev bpflab_bench_set in");
		s->nft_set_on = false;
	}
	if (s->listen_fd > 0) {
		close(s->listen_fd);
		s->listen_fd = 0;
		benv_run(e->ns_rx, "sysctl -qw net.ipv4.tcp_syncookies=1"); /* a netns's default */
	}
	if (s->synproxy) {
		int home = netns_save();

		if (home >= 0 && !netns_enter(e->ns_rx))
			synproxy_stop(e->if_r);
		if (home >= 0)
			netns_restore(home);
		s->synproxy = false;
	}
}

void row_unload(struct row_state *s)
{
	if (s->has_case && s->b.cleanup)
		s->b.cleanup(&s->b);
	s->has_case = false;
	if (s->nft_set && s->g.e)
		benv_run(s->g.e->ns_rx, "nft delete table netdev bpflab_bench_set");
	s->nft_set = false;
	bare_bpf__destroy(s->skel);
	s->skel = NULL;
	s->loaded = false;
}
