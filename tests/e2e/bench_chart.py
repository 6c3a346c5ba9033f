#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Checks the chart of `bpflab bench --svg` against the run's JSON Lines and against its
own PNG rendering (rsvg-convert), for bench.bats:

    bench_chart.py CHART.svg CHART.png RUN.jsonl

The SVG must parse, declare a viewBox matching its size, name every row, give every
measured row a bar, a min-max mark and its figures, carry an axis with a unit for each
panel, and show the talk's numbers. The PNG must have the SVG's size, show something,
and leave a white margin on all four sides: a label or a figure running off the canvas
(what this chart used to do) draws into that margin. Exit 0, or 1 naming each failure."""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

NS = "{http://www.w3.org/2000/svg}"
MARGIN = 4  # px that must stay background on every side


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}")
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def main(svg_path, png_path, run_path):
    fails = []
    recs = [json.loads(l) for l in open(run_path) if l.strip()]
    live = [r for r in recs if r.get("type") == "live"]
    progs = [r for r in recs if r.get("type") == "prog"]

    root = ET.parse(svg_path).getroot()
    W, H = float(root.get("width")), float(root.get("height"))
    if root.get("viewBox") != f"0 0 {W:.0f} {H:.0f}":
        fails.append(f"viewBox {root.get('viewBox')!r} is not the size {W:.0f}x{H:.0f}")
    texts = [(t.get("class") or "", "".join(t.itertext())) for t in root.iter(NS + "text")]
    labels = {s for c, s in texts if c == "label"}
    want = [r["label"] for r in live] + \
        [r["name"] + (" vs " + r["baseline"] if r.get("baseline") else "") for r in progs]
    for l in want:
        if l not in labels:
            fails.append(f"row {l!r} has no label in the chart")
    units = [s for c, s in texts if c == "unit"]
    if live and not any(u.startswith("ns of CPU per packet") for u in units):
        fails.append("the live panel has no axis unit")
    if progs and not any(u.startswith("ns per packet") for u in units):
        fails.append("the programs panel has no axis unit")
    if not [s for c, s in texts if c == "ticklabel"]:
        fails.append("no axis tick labels")
    fwd = [r for r in live if r["ok"] and r["name"] in ("linux_forward", "xdp_forward")]
    if fwd:
        for t in ("~30 cores", "~5 cores", "~3 cores"):
            if t not in [s for c, s in texts if c == "note"]:
                fails.append(f"the talk's {t} is not beside ours")
    measured = sum(r["ok"] for r in live) + sum(r["ok"] for r in progs)
    bars = [e for e in root.iter(NS + "rect") if e.get("class") == "bar"]
    talk_bars = 3 if fwd else 0
    if len(bars) != measured + len(fwd) + talk_bars:
        fails.append(f"{len(bars)} bars for {measured} measured rows, {len(fwd)} forwarding "
                     f"rows in cores and {talk_bars} of the talk")
    ranges = [e for e in root.iter(NS + "path") if e.get("class") == "range"]
    if len(ranges) != measured + len(fwd):
        fails.append(f"{len(ranges)} min-max marks for {measured + len(fwd)} measured bars")
    missing = [s for c, s in texts if "missing" in c]
    if len(missing) != sum(not r["ok"] for r in live + progs):
        fails.append("a row that was not measured is not marked so")
    for e in root.iter():
        for k in ("x", "x1", "x2"):
            v = e.get(k)
            if v is not None and not 0 <= float(v) <= W:
                fails.append(f"<{e.tag[len(NS):]} {k}={v}> lies outside the canvas")

    w, h, px = png_pixels(png_path)
    if (w, h) != (round(W), round(H)) or w < 400 or h < 200:
        fails.append(f"PNG is {w}x{h}, the SVG {W:.0f}x{H:.0f}")
    white = (255, 255, 255)
    edge = [(x, y) for y in range(h) for x in list(range(MARGIN)) + list(range(w - MARGIN, w))
            if px[y][x] != white]
    edge += [(x, y) for x in range(w) for y in list(range(MARGIN)) + list(range(h - MARGIN, h))
             if px[y][x] != white]
    if edge:
        fails.append(f"{len(edge)} drawn pixels in the {MARGIN}px margin (first at {edge[0]}): "
                     "something runs off the canvas")
    ink = sum(p != white for row in px for p in row)
    if ink < 0.03 * w * h:
        fails.append(f"the PNG is nearly blank ({ink} drawn pixels)")
    for f in fails:
        print("chart: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
