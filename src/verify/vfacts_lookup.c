// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Look-ups in the generated facts table (vfacts.c). */
#include <string.h>
#include <strings.h>

#include "vfacts.h"

const struct vfact *vfacts_helper(const char *name, int id)
{
	for (const struct vfact *f = vfacts_helpers; f->name; f++) {
		if (name && (!strcmp(f->name, name) || !strcmp(f->name + 4, name)))
			return f;
		if (!name && id > 0 && f->id == id)
			return f;
	}
	return NULL;
}

const struct vfact *vfacts_type(const char *name)
{
	for (const struct vfact *f = vfacts_types; f->name; f++)
		if (!strcasecmp(f->name, name))
			return f;
	return NULL;
}
