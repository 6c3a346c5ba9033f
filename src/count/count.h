/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by count.bpf.c and cmd_count.c. */
#ifndef BPFLAB_COUNT_H
#define BPFLAB_COUNT_H

enum count_proto {
	CP_IPV4, CP_IPV6, CP_ARP, CP_ICMP, CP_ICMPV6, CP_TCP, CP_UDP, CP_OTHER, CP_MALFORMED,
	CP__MAX
};

#define COUNT_ACTIONS 5 /* XDP_ABORTED .. XDP_REDIRECT */

/* One slot per CPU: no atomics on the hot path, user space sums. */
struct count_stats {
	__u64 packets[CP__MAX];
	__u64 bytes[CP__MAX];
	__u64 actions[COUNT_ACTIONS];
};

#endif
