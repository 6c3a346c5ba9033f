#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Runs the examples of a Markdown file that are marked as runnable, and checks them.

A marked example is the fenced block right after a line
    <!-- runnable: lab=NAME [up[=ARG,ARG...]] [check=exit] [timeout=S] -->
Its `$ ` lines are run in order by one bash (cwd: the repository; `bpflab` on PATH is the
build under test), with every word NAME replaced by a throwaway lab name, `.output/` by the
build folder under test. `up` first brings that lab up (`lab up --name LAB ARG...`). Every
command must exit 0, and every other non-blank line of the block must match a line of the
output (stdout and stderr), with these allowances, so that only stable text is checked:
whitespace runs match any whitespace, every number matches any number, `...` matches
anything. check=exit checks the exit codes only. Whatever happens, the lab is removed.

usage: doc_examples.py FILE.md LAB   (exit 0: all passed; 1: one failed; 2: none marked)
       doc_examples.py --list FILE.md
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!--\s*runnable:(.*?)-->\s*$")
NUM = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def examples(path):
    """(line number, attrs, [lines]) for each marked block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        i += 1
        if not m:
            continue
        attrs = {}
        for word in m.group(1).split():
            k, _, v = word.partition("=")
            attrs[k] = v
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        start = i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        out.append((start, attrs, body))
        i += 1
    return out


def pattern(line):
    """The regex an expected output line stands for."""
    parts = []
    for piece in line.strip().split("..."):
        p = ""
        pos = 0
        for m in NUM.finditer(piece):
            p += re.escape(piece[pos:m.start()]) + r"[0-9]+(?:\.[0-9]+)?"
            pos = m.end()
        p += re.escape(piece[pos:])
        parts.append(re.sub(r"(\\\s)+", r"\\s+", p))
    return re.compile(".*".join(parts))


def subst(text, name, lab, out):
    if name:
        text = re.sub(r"\b%s\b" % re.escape(name), lab, text)
    return text.replace(".output/", out.rstrip("/") + "/")


def run_one(path, start, attrs, body, lab, out, bpflab):
    name = attrs.get("lab", "")
    cmds, expect = [], []
    for line in body:
        if line.startswith("$ "):
            cmds.append(subst(line[2:], name, lab, out))
        elif line.strip() and line.strip() != "...":
            expect.append(subst(line, name, lab, out))
    where = "%s:%d" % (path, start)
    script = ["set -o pipefail"]
    if "up" in attrs:
        extra = " ".join(shlex.quote(a) for a in attrs["up"].split(",") if a)
        script.append("bpflab lab up --name %s %s >/dev/null || exit 99" % (lab, extra))
    script.append("__bg=()")
    for n, c in enumerate(cmds):
        # each command's own exit code; a background one's (`CMD &`) is taken at the end
        if re.search(r"[^&]&\s*(#.*)?$", c):
            script.append("%s\n__bg+=(\"$!:%d\")" % (c, n))
            continue
        script.append("%s\nrc=$?; [ $rc -eq 0 ] || { echo \"__doc_failed__ $rc %d\"; exit 98; }"
                      % (c, n))
    script.append('for j in "${__bg[@]}"; do wait "${j%%:*}"; rc=$?; '
                  '[ $rc -eq 0 ] || { echo "__doc_failed__ $rc ${j#*:}"; exit 98; }; done')
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(bpflab) + ":" + env["PATH"]
    env["OUT"] = out
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write("\n".join(script) + "\n")
        # its own process group, so a timeout ends the background jobs too
        p = subprocess.Popen(["bash", f.name], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            raw, _ = p.communicate(timeout=float(attrs.get("timeout", 90)))
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            raw, _ = p.communicate()
            rc = -1
        finally:
            os.unlink(f.name)
        output = raw.decode(errors="replace")
    finally:
        cleanup(lab, body, env)
    got = [l.strip() for l in output.split("\n")]
    fails = []
    if rc != 0:
        m = re.search(r"__doc_failed__ (\d+) (\d+)", output)
        fails.append("exit %s of: $ %s" % (m.group(1), cmds[int(m.group(2))]) if m else
                     ("timed out" if rc == -1 else "exit %d" % rc))
    if attrs.get("check") != "exit" and not fails:
        for e in expect:
            if not any(pattern(e).fullmatch(g) for g in got):
                fails.append("no output line matches: %s" % e.strip())
    if fails:
        print("FAIL %s (lab %s)" % (where, lab))
        for f in fails:
            print("  " + f)
        print("  output was:")
        for l in output.rstrip("\n").split("\n")[-60:]:
            print("    | " + l)
        return False
    print("ok   %s: %d commands, %d output lines checked" % (where, len(cmds),
          0 if attrs.get("check") == "exit" else len(expect)))
    return True


def cleanup(lab, body, env):
    """An example that failed half-way may leave a balancer pinned: stop it, then the lab."""
    text = "\n".join(body)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    if "lb start" in text:
        subprocess.run(["bpflab", "--netns", lab + "-lb", "lb", "stop", "eth0"], **quiet)
    subprocess.run(["bpflab", "lab", "down", "--name", lab], **quiet)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--list":
        for start, attrs, body in examples(sys.argv[2]):
            print("%s:%d %s" % (sys.argv[2], start, " ".join("%s=%s" % kv for kv in attrs.items())))
        return 0
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, lab = sys.argv[1], sys.argv[2]
    bpflab = os.environ.get("BPFLAB", ".output/bpflab")
    out = os.environ.get("BPFLAB_OUT", os.path.dirname(os.path.abspath(bpflab)))
    ex = examples(path)
    if not ex:
        print("no runnable example in %s" % path)
        return 2
    ok = all([run_one(path, s, a, b, lab, out, os.path.abspath(bpflab)) for s, a, b in ex])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
