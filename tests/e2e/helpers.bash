# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Shared by the bats files: unique lab names, BPF requirement, teardown, JSON checks.

BPFLAB=${BPFLAB:-$BATS_TEST_DIRNAME/../../.output/bpflab}

# Every test gets its own lab name, so two runs (or two files) can never clash.
unique_lab() {
  echo "t$(printf '%x' $$)$(printf '%x' $((RANDOM % 4096)))" | cut -c1-12
}

# Skips without root, except under CI where it fails: a test needing BPF never
# passes silently there.
require_bpf() {
  if [ "$(id -u)" -ne 0 ]; then
    if [ -n "${CI:-}" ]; then
      echo "needs root to load BPF, and CI is set" >&2
      return 1
    fi
    skip "needs root"
  fi
}

# Asserts a jq expression over JSON text: json_assert "$output" '.type == "summary"'
json_assert() {
  local json=$1 expr=$2
  if ! printf '%s\n' "$json" | jq -e "$expr" >/dev/null; then
    echo "JSON assertion failed: $expr" >&2
    printf '%s\n' "$json" | head -c 2000 >&2
    return 1
  fi
}

# Waits until a bpflab JSON stream file has a line of the given type (default: attached).
wait_for_line() {
  local file=$1 pattern=${2:-'"type":"attached"'} i
  for i in $(seq 1 100); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for $pattern in $file" >&2
  cat "$file" >&2
  return 1
}

lab_exec() { # lab node cmd...
  local lab=$1 node=$2; shift 2
  "$BPFLAB" lab exec --name "$lab" "$node" -- "$@"
}

# A copy of the binary (and of any files given) in a fresh world-readable directory, for
# tests that run as another user: the checkout itself may be 0700 (cloned under /root),
# and the user must not need to read it. Sets UNPRIV_DIR; unpriv_cleanup removes it.
unpriv_copy() {
  UNPRIV_DIR=$(mktemp -d /tmp/bpflab-unpriv-XXXXXX)
  chmod 755 "$UNPRIV_DIR"
  install -m 755 "$BPFLAB" "$UNPRIV_DIR/bpflab"
  local f
  for f in "$@"; do install -m 644 "$f" "$UNPRIV_DIR/"; done
}
unpriv_cleanup() { [ -z "${UNPRIV_DIR:-}" ] || rm -rf "$UNPRIV_DIR"; }

# Runs a command as uid/gid 65534 with exactly the given capabilities (setpriv's
# spelling: +bpf,+net_admin), or with none when the list is empty.
as_nobody_with() { # caps cmd...
  local caps=$1; shift
  if [ -n "$caps" ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$caps" --ambient-caps="$caps" "$@"
  else
    setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
  fi
}
