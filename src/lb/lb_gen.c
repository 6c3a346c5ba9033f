// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `bpflab lb gen`: a traffic generator for bench/lb.sh. XDP live frames
 * (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) send one UDP flow out of IFACE as
 * fast as one CPU can. The frame goes through bpf's bench wrapper xdp_restore, which
 * rewrites the template into every frame: a balancer further on rewrites the recycled
 * pages (PERFORMANCE.md pitfall), then XDP_TX sends it out of IFACE. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "pkt.h"
#include "lb_ctl.h"
#include "bare.skel.h"

#define GEN_BATCH_FRAMES (1u << 20)

int lb_gen(const char *ifname, const char *dst_mac, const char *src, const char *vip,
	   double seconds, int cpu);

int lb_gen(const char *ifname, const char *dst_mac, const char *src, const char *vip,
	   double seconds, int cpu)
{
	static const uint8_t payload[18];
	struct bare_bpf *skel = NULL;
	struct lb_vip_key vk;
	struct pkt_spec s;
	struct xdp_md ctx = {};
	uint8_t frame[PKT_MAX];
	unsigned long long sent = 0;
	double start, elapsed;
	int ifindex, fd, err = EXIT_FAIL;
	__u32 key = 0;
	cpu_set_t set;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	pkt_spec_default(&s);
	if (iface_check_name(ifname) || iface_resolve(ifname, &ifindex))
		return EXIT_USAGE;
	if (lb_parse_mac(dst_mac, s.dst_mac) || lb_parse_vip(vip, &vk) ||
	    parse_ipv4(src, &s.src4)) {
		pr_warn("lb gen: needs --mac MAC of the next hop, --vip VIP:PORT/PROTO, --src ADDR\n");
		return EXIT_USAGE;
	}
	s.dst4.s_addr = vk.addr;
	s.proto = vk.proto;
	s.sport = 40000;
	s.dport = ntohs(vk.port);
	s.payload = payload;
	s.payload_len = sizeof(payload);
	s.tcp_flags = 0x10;
	memset(frame, 0, sizeof(frame));
	o.data_size_in = pkt_build(&s, frame);
	o.data_in = frame;

	skel = bare_bpf__open_and_load();
	if (!skel) {
		pr_warn("lb gen: loading the generator failed: %s\n", strerr(errno));
		return EXIT_FAIL;
	}
	memcpy(skel->bss->restore_tmpl, frame, o.data_size_in);
	skel->bss->restore_len = o.data_size_in;
	fd = bpf_program__fd(skel->progs.xdp_tx);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.restore_jmp), &key, &fd, 0)) {
		pr_warn("lb gen: %s\n", strerr(errno));
		goto out;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu >= 0 && sched_setaffinity(0, sizeof(set), &set))
		pr_warn("lb gen: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
	ctx.data_end = o.data_size_in;
	ctx.ingress_ifindex = ifindex;
	o.ctx_in = &ctx;
	o.ctx_size_in = sizeof(ctx);
	o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	o.batch_size = 256;
	start = now_mono();
	/* Rounds of 64k frames until the time is up: bounded in count and time. */
	while (!exiting && now_mono() - start < seconds) {
		o.repeat = 65536;
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_restore), &o)) {
			pr_warn("lb gen: live frames on %s failed: %s\n", ifname, strerr(errno));
			goto out;
		}
		sent += o.repeat;
		if (sent >= 1000ull * GEN_BATCH_FRAMES)
			break;
	}
	elapsed = now_mono() - start;
	printf("{\"type\":\"gen\",\"interface\":\"%s\",\"frames\":%llu,\"seconds\":%.3f,\"pps\":%.0f}\n",
	       ifname, sent, elapsed, sent / elapsed);
	err = EXIT_OK;
out:
	bare_bpf__destroy(skel);
	return err;
}

int lb_reflect(const char *ifname, double seconds);

/* The bare baseline at the balancer's place: XDP_TX every frame back, unchanged, for
 * `seconds` (bpf_link: gone when we exit). */
int lb_reflect(const char *ifname, double seconds)
{
	struct bare_bpf *skel;
	int ifindex, link, err = EXIT_FAIL;
	double start;

	if (iface_check_name(ifname) || iface_resolve(ifname, &ifindex))
		return EXIT_USAGE;
	skel = bare_bpf__open_and_load();
	if (!skel) {
		pr_warn("lb gen --reflect: loading failed: %s\n", strerr(errno));
		return EXIT_FAIL;
	}
	link = xdp_link_attach(bpf_program__fd(skel->progs.xdp_tx), ifindex, ifname,
			       XDP_MODE_NATIVE, NULL);
	if (link >= 0) {
		printf("{\"type\":\"reflecting\",\"interface\":\"%s\"}\n", ifname);
		fflush(stdout);
		start = now_mono();
		while (!exiting && now_mono() - start < seconds)
			usleep(50000);
		close(link);
		err = EXIT_OK;
	}
	bare_bpf__destroy(skel);
	return err;
}
