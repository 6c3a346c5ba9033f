#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""How many of the kernel verifier's messages bpflab verify's classes cover.

usage: count_msgs.py KERNEL/kernel/bpf/verifier.c [src/verify/vlog_patterns.c MESSAGES] [-v]
MESSAGES: one verifier message a line, the ones bpflab verify classified in the stored
logs, e.g. for f in tests/data/vlogs/*; do bpflab verify --json --explain $f | jq -r
'.message // empty'; done > messages.txt

Counts the distinct format strings of verbose(env, "...") calls in verifier.c (adjacent
string literals joined, the trailing newline dropped). A format counts as covered when a
needle of a verifier rule (vlog_patterns.c) is part of its literal text, or when the text
of the format, its conversions read as wildcards, matches a line the stored logs of this
project's stored logs hold as their error message (the messages the classes were tested
on). Informational lines (states, "Validating ...") are not error messages and are not
taken from the logs."""
import re, sys

src = open(sys.argv[1]).read()
pat_c = sys.argv[2] if len(sys.argv) > 2 else "src/verify/vlog_patterns.c"
msgs = sys.argv[3] if len(sys.argv) > 3 else "/dev/null"

fmts = set()
for m in re.finditer(r'\bverbose\(\s*env\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', src):
    s = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
    s = s.replace("\\n", "").replace('\\"', '"').replace("\\t", "\t").strip()
    if s and not re.fullmatch(r'(%[-0-9.]*[a-z]+|[\s,;:()=+\-\[\]])*', s):
        fmts.add(s)

# verifier needles (rules with PRE are libbpf's)
text = open(pat_c).read()
needles = []
for rule in re.split(r'\n\t\{ \{ ', text)[1:]:
    if re.search(r'\n\t  PRE, \{', rule):
        continue
    m = re.search(r'\n\t  (?:false|PRE), \{(.*?)\} \},', rule, re.S)
    if m:
        needles += [n for n in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))]

lines = {l.strip() for l in open(msgs, errors="replace") if l.strip()}

def rx(fmt):
    parts = re.split(r'%[-0-9.]*(?:ll|l|z)?[a-z]', fmt)
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts))

covered = set()
for f in fmts:
    lit = re.sub(r'%[-0-9.]*(?:ll|l|z)?[a-z]', '\0', f)
    if any(n and n in lit for n in needles):
        covered.add(f)
        continue
    r = rx(f)
    if any(r.search(l) for l in lines):
        covered.add(f)

print(f"distinct verbose(env, ...) format strings: {len(fmts)}")
print(f"covered by a class: {len(covered)} ({100.0 * len(covered) / len(fmts):.1f}%)")
if "-v" in sys.argv:
    for f in sorted(covered):
        print("  +", f)
