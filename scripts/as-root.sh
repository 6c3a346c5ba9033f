#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs its arguments as root: directly when we are root, through sudo when it exists,
# otherwise stops with a message that says what is needed.
set -e
if [ "$(id -u)" -eq 0 ]; then exec "$@"; fi
if command -v sudo >/dev/null 2>&1; then exec sudo -E "$@"; fi
echo "bpflab: this needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_PERFMON) and sudo is not installed; run it as root" >&2
exit 4
