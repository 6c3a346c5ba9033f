# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's "Some numbers", on this machine: what each program adds over the bare program
# of its hook, and what a packet costs dropped by XDP vs by the full stack. Full run:
# make bench (or bpflab bench; --svg for a chart).
step "bench: what a packet costs here (quick run: programs + 2 live layers)"
say "BPF_PROG_TEST_RUN vs the bare program of each hook; live: XDP live-frames traffic"
say "into a veth in throwaway namespaces, CPU time of the receiving CPU per packet"
cmd bpflab bench --quick --rows xdp_native_drop,udp_closed --json
"$BPFLAB" bench --quick --rows xdp_native_drop,udp_closed --json 2>/dev/null \
  > "/tmp/$LAB-bench.jsonl" || say "bench failed (see: bpflab bench --quick)"
jq -r 'select(.type == "prog" and .ok and .baseline != null) |
  "   \(.name) vs \(.baseline): \(if .delta_ns.median >= 0 then "+" else "" end)\(.delta_ns.median) ns per packet"' \
  < "/tmp/$LAB-bench.jsonl"
jq -r 'select(.type == "live") | if .ok then
  "   \(.label): \(.ns_per_pkt.median | floor) ns of CPU per packet, \(1000 / .ns_per_pkt.median * 100 | floor / 100) Mpps per core, \(.cores_for_28mpps * 10 | floor / 10) cores for 28 Mpps"
  else "   \(.label): not run: \(.reason)" end' < "/tmp/$LAB-bench.jsonl"
jq -r 'select(.type == "live" and .name == "udp_closed" and .ok) |
  "   the full stack costs \(.ratio_to_xdp_drop * 10 | floor / 10)x an XDP drop: \"more functions, less pps\""' \
  < "/tmp/$LAB-bench.jsonl"
rm -f "/tmp/$LAB-bench.jsonl"
