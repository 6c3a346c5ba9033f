// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* PLACEHOLDER until the doctor lands: replaced by the real probes. */
#include "commands.h"
#include "util.h"
const char cmd_doctor_usage[] = "usage: bpflab doctor [--json]\n";
int cmd_doctor(int argc, char **argv)
{
	pr_warn("doctor: not built yet\n");
	return EXIT_FAIL;
}
