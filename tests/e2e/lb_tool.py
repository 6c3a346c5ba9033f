#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Servers and clients for the lb tests and demo, every one bounded in time, IPv4 and
# IPv6 alike (servers listen on both; clients take either kind of address):
#   serve NAME PORT SECONDS      answers each connection with NAME; "stream" gets NAME
#                                every 20 ms until the client goes
#   clients ADDR PORT N [each]   N connections in turn; prints {"answers": {NAME: count},
#                                "failed": n} (with "each": first a line per connection)
#   flood ADDR PORT SECONDS      UDP datagrams as fast as one process can, from 16
#                                sockets (16 flows); prints {"sent": n}
#   stream ADDR PORT SECONDS     one long connection; prints {"names": [distinct names in
#                                order], "lines": n, "error": null|"..."}
#   udpecho NAME PORT[,PORT..] SECONDS [ADDR..]
#                                answers each UDP datagram with NAME; with ADDRs, one socket
#                                per ADDR and PORT bound to it, so the answer leaves from the
#                                address the datagram was sent to (a VIP on lo in dsr/encap)
#   udp ADDR PORT N [FIRST]      N datagrams, each from a socket of its own (N flows; source
#                                ports FIRST.. when given), each
#                                waiting 1 s for its answer; the socket is connected, so an
#                                answer from any address but ADDR:PORT is not taken; prints
#                                {"answers": {NAME: count}, "failed": n}
import json, select, socket, sys, threading, time


def serve(name, port, seconds):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # one socket for both families: IPv4 clients arrive as ::ffff:a.b.c.d
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(512)
    s.settimeout(0.2)
    end = time.monotonic() + seconds

    def handle(c):
        try:
            c.settimeout(2)
            req = c.recv(64)
            if req.startswith(b"stream"):
                while time.monotonic() < end:
                    c.sendall(name.encode() + b"\n")
                    time.sleep(0.02)
            else:
                c.sendall(name.encode() + b"\n")
        except OSError:
            pass
        finally:
            c.close()

    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def clients(addr, port, n, each=False):
    answers, failed, ports = {}, 0, set()
    for i in range(n):
        try:
            c = socket.create_connection((addr, port), timeout=2)
            # The server closes first, so the kernel may hand out a source port again: the
            # same 4-tuple is the same flow to the balancer. Report how many were distinct.
            ports.add(c.getsockname()[1])
            c.sendall(b"hello\n")
            name = c.makefile().readline().strip()
            c.close()
            if each:
                print(f"request {i + 1:2}: answered by {name or '(nothing)'}", flush=True)
            if name:
                answers[name] = answers.get(name, 0) + 1
            else:
                failed += 1
        except OSError:
            failed += 1
    print(json.dumps({"answers": answers, "failed": failed, "flows": len(ports)}))


def stream(addr, port, seconds):
    names, lines, err = [], 0, None
    end = time.monotonic() + seconds
    try:
        c = socket.create_connection((addr, port), timeout=2)
        c.sendall(b"stream\n")
        f = c.makefile()
        while time.monotonic() < end:
            line = f.readline()
            if not line:
                err = "closed by peer"
                break
            name = line.strip()
            lines += 1
            if not names or names[-1] != name:
                names.append(name)
        c.close()
    except OSError as e:
        err = str(e)
    print(json.dumps({"names": names, "lines": lines, "error": err}))


def udpecho(name, ports, seconds, addrs):
    socks = []
    for port in ports:
        if not addrs:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
            socks.append(s)
        # A wildcard socket answers from the address routing picks, not the one the
        # datagram came to: in dsr that is the backend's own, which the client drops.
        for a in addrs:
            s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((a, port))
            socks.append(s)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select(socks, [], [], 0.2)
        for s in r:
            _, peer = s.recvfrom(2048)
            s.sendto(name.encode(), peer)


def udp(addr, port, n, first=0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    answers, failed, socks = {}, 0, []
    for i in range(n):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        # Kept open to the end, so no two take the same source port: N datagrams are N
        # flows to the balancer. With FIRST, source ports FIRST.. so that a later run
        # cannot meet an earlier run's flow still in the conntrack.
        socks.append(s)
        s.settimeout(3)  # a loaded CI machine: an echo can take over a second
        try:
            if first:
                s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", first + i))
            s.connect((addr, port))
            s.send(b"hello")
            name = s.recv(2048).decode(errors="replace").strip()
            answers[name] = answers.get(name, 0) + 1
        except OSError:
            failed += 1
    for s in socks:
        s.close()
    print(json.dumps({"answers": answers, "failed": failed}))


def flood(addr, port, seconds):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    socks = [socket.socket(fam, socket.SOCK_DGRAM) for _ in range(16)]
    payload, sent = b"x" * 18, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in socks:
            for _ in range(64):
                try:
                    s.sendto(payload, (addr, port))
                    sent += 1
                except OSError:
                    pass
    print(json.dumps({"sent": sent}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "clients":
        clients(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["each"])
    elif cmd == "flood":
        flood(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "stream":
        stream(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "udpecho":
        udpecho(sys.argv[2], [int(p) for p in sys.argv[3].split(",")], float(sys.argv[4]),
                sys.argv[5:])
    elif cmd == "udp":
        udp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if sys.argv[5:] else 0)
    else:
        sys.exit("usage: lb_tool.py serve|clients|flood|stream|udpecho|udp ...")
