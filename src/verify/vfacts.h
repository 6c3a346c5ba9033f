/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* First kernel versions of BPF helpers, program types and map types (vfacts.c,
 * generated from public lists by gen_vfacts.sh). */
#ifndef BPFLAB_VFACTS_H
#define BPFLAB_VFACTS_H

struct vfact {
	int id;              /* helper id (BPF_FUNC_*), 0 for types; -1 ends a table */
	const char *name;    /* "bpf_map_lookup_elem", "BPF_MAP_TYPE_RINGBUF" */
	const char *version; /* "3.19"; "" when the list does not say */
};

extern const struct vfact vfacts_helpers[];
extern const struct vfact vfacts_types[];

/* By name ("bpf_ringbuf_output" or "ringbuf_output") or, for helpers, by id; NULL if
 * unknown. */
const struct vfact *vfacts_helper(const char *name, int id);
const struct vfact *vfacts_type(const char *name);

#endif
