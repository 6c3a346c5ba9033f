#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Validates bpflab --json output against the schema written in docs/json.md.

docs/json.md holds one table per record, under a heading
    ### COMMAND `TYPE` ...        (a record: a line of COMMAND's output with "type": "TYPE")
    ### object `NAME` ...         (an object other rows refer to by NAME)
    ### any `TYPE` ...            (a record any command may print, e.g. error)
whose rows are | `field` | `TYPE` | meaning |. A field written `name?` may be absent.
Types: string, int, number (int or float), bool, null, "literal", 42, A|B (in a table: A\\|B), [T] (array of T),
{T} (object with any keys, values of T), NAME (an object of the schema).
Every field a record has must be documented and of its type; every field not marked ?
must be there.

usage: json_schema.py SCHEMA.md COMMAND FILE...   validate; prints the record types seen
       json_schema.py SCHEMA.md --records           lists COMMAND TYPE of every record
"""
import json
import re
import sys

HEAD = re.compile(r"^###\s+([a-z]+)\s+`([a-z_]+)`")
ROW = re.compile(r"^\|\s*`([a-z0-9_]+\??)`\s*\|\s*`([^`]+)`\s*\|")


def load(path):
    schemas = {}  # (kind, name) -> {field: (type, optional)}
    cur = None
    for line in open(path, encoding="utf-8"):
        m = HEAD.match(line)
        if m:
            cur = {}
            schemas[(m.group(1), m.group(2))] = cur
            continue
        if line.startswith("#"):
            cur = None
            continue
        m = ROW.match(line)
        if m and cur is not None:
            name, t = m.group(1), m.group(2).strip().replace("\\|", "|")
            cur[name.rstrip("?")] = (t, name.endswith("?"))
    return schemas


def split_union(t):
    parts, depth, cur = [], 0, ""
    for c in t:
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        if c == "|" and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    parts.append(cur.strip())
    return parts


def check(v, t, schemas, where, errs):
    inner = None
    for a in split_union(t):
        sub = []
        if match(v, a, schemas, where, sub):
            if not sub:
                return
            inner = inner or sub  # the shape fits, something inside does not
    if inner:
        errs.extend(inner)
    else:
        errs.append("%s: %s is not %s" % (where, json.dumps(v)[:80], t))


def match(v, t, schemas, where, errs):
    """True when v has the shape of the single type t; errs collects inner errors."""
    if t == "string":
        return isinstance(v, str)
    if t == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "bool":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    if t.startswith('"'):
        return v == t.strip('"')
    if re.fullmatch(r"-?[0-9]+", t):
        return isinstance(v, int) and not isinstance(v, bool) and v == int(t)
    if t.startswith("["):
        if not isinstance(v, list):
            return False
        for i, x in enumerate(v):
            check(x, t[1:-1], schemas, "%s[%d]" % (where, i), errs)
        return True
    if t.startswith("{"):
        if not isinstance(v, dict):
            return False
        for k, x in v.items():
            check(x, t[1:-1], schemas, "%s.%s" % (where, k), errs)
        return True
    obj = schemas.get(("object", t))
    if obj is None:
        errs.append("%s: the schema has no object %s" % (where, t))
        return True
    if not isinstance(v, dict):
        return False
    fields(v, obj, schemas, where, errs)
    return True


def fields(v, obj, schemas, where, errs):
    for k, x in v.items():
        if k not in obj:
            errs.append("%s.%s: not in docs/json.md" % (where, k))
            continue
        check(x, obj[k][0], schemas, "%s.%s" % (where, k), errs)
    for k, (_, optional) in obj.items():
        if not optional and k not in v:
            errs.append("%s.%s: missing" % (where, k))


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "--records":
        for (kind, name) in load(sys.argv[1]):
            if kind != "object":
                print(kind, name)
        return 0
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    schemas, cmd = load(sys.argv[1]), sys.argv[2]
    errs, seen, n = [], set(), 0
    for path in sys.argv[3:]:
        for ln, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            where = "%s:%d" % (path, ln)
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                errs.append("%s: not JSON (%s): %s" % (where, e, line[:80]))
                continue
            n += 1
            if not isinstance(r, dict) or not isinstance(r.get("type"), str):
                errs.append("%s: a record without a \"type\"" % where)
                continue
            obj = schemas.get((cmd, r["type"])) or schemas.get(("any", r["type"]))
            if obj is None:
                errs.append("%s: docs/json.md has no record %s `%s`" % (where, cmd, r["type"]))
                continue
            seen.add(r["type"])
            fields(r, obj, schemas, "%s %s" % (where, r["type"]), errs)
    for e in errs[:40]:
        print(e)
    print("%s: %d records, types %s, %d errors" % (cmd, n, " ".join(sorted(seen)), len(errs)))
    return 1 if errs or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
