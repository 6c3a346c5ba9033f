# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# "Kernel support has to be assessed": the doctor probes this kernel by doing, then says
# what each command can do here. Full report: bpflab doctor (or --json).
step "doctor: what this kernel supports, probed by loading and attaching tiny programs"
show "$BPFLAB" doctor --short
