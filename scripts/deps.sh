#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs what bpflab needs to build, test and demo, from Debian's packages only.
# Quick no-op when everything is there; elsewhere prints the exact list.
set -euo pipefail
PKGS=(clang llvm make gcc pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
      iproute2 iputils-ping bats jq python3 nftables iptables ethtool bpftrace)
PKGS+=(curl wrk) # lab up --serve: HTTP clients for the backends' servers (README, docs.bats)
PKGS+=(strace) # lb.bats: SIGKILL injected inside the pin commit
PKGS+=(hping3) # filter_syn.bats, lab up --attacker: the SYN floods
PKGS+=(procps util-linux file librsvg2-bin) # rsvg-convert: the bench chart test; sysctl, pkill; nsenter, setpriv, unshare; the hard-way tour (examples/hello) shows `file hello.bpf.o`
PKGS+=(tcpdump tshark) # test_pcapng: trace --pcap files must open in both
PKGS+=(bird2) # lab up --lbs N --router bird: BGP, BFD and ECMP on the router and every LB node
PKGS+=(nginx linux-perf) # bench/lb_wrk.sh: the backends' HTTP servers; --profile: perf record
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bpflab needs these packages (Debian names): ${missing[*]}" >&2
  echo "install them with your distribution's package manager, then run make again" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "root is needed to install packages: ${missing[*]}" >&2; exit 4; fi; }
export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "${missing[@]}"
