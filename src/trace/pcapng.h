/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A pcapng writer for `bpflab trace --pcap`: one section (SHB), one interface block
 * (IDB) per interface seen, with its name and nanosecond timestamps (if_tsresol 9), and
 * one enhanced packet block (EPB) per packet with a comment (the verdict or drop reason).
 * Every interface is Ethernet: libpcap (tcpdump) refuses a section whose interfaces have
 * different link types, so records without a link-layer header get a synthetic one
 * (pcapng_packet_ip). Written in host byte order, as the format allows (the SHB's
 * byte-order magic tells readers). */
#ifndef BPFLAB_PCAPNG_H
#define BPFLAB_PCAPNG_H

#include <stddef.h>
#include <linux/types.h>

#define PCAPNG_SNAPLEN 65535

struct pcapng;

/* Creates (truncates) path and writes the section header; "-" is standard output.
 * NULL with errno set. */
struct pcapng *pcapng_open(const char *path);
/* The interface id of (netns, ifindex), adding its IDB the first time: if_name is name
 * (or "ifN"), if_description says "ifindex N netns INODE". -errno on a write error. */
int pcapng_interface(struct pcapng *p, __u32 netns, __u32 ifindex, const char *name);
/* One packet from its Ethernet header: cap_len bytes of data, orig_len on the wire,
 * ts_ns since the Unix epoch (see pcapng_realtime_ns), comment may be NULL. 0 or -errno
 * (the first write error sticks: later calls return it). */
int pcapng_packet(struct pcapng *p, int if_id, __u64 ts_ns, const void *data,
		  __u32 cap_len, __u32 orig_len, const char *comment);
/* The same for data starting at an IPv4/IPv6 header: a 14-byte Ethernet header with
 * zero addresses and the EtherType of the IP version goes in front (orig_len grows by
 * 14 too). */
int pcapng_packet_ip(struct pcapng *p, int if_id, __u64 ts_ns, const void *ip,
		     __u32 cap_len, __u32 orig_len, const char *comment);
/* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) to ns since the epoch, with the offset between
 * the two clocks measured when the file was opened. */
__u64 pcapng_realtime_ns(const struct pcapng *p, __u64 mono_ns);
/* Packets written so far. */
__u64 pcapng_packets(const struct pcapng *p);
/* Flushes and closes (not standard output's stream, which is flushed). 0 or -errno. */
int pcapng_close(struct pcapng *p);

#endif
