/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sizes shared by bare.bpf.c and the user side of `bpflab bench`. */
#ifndef BPFLAB_BARE_H
#define BPFLAB_BARE_H

/* Longest frame xdp_restore puts back before each repetition (bytes, a multiple of 8). */
#define BARE_RESTORE_MAX 256
/* Longest frame the live generator rewrites into every page (a multiple of 8): the bare
 * rows' 60-byte UDP frame and every bench case's packet fit. */
#define BARE_GEN_MAX 128

#endif
