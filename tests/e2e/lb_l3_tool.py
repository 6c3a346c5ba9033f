#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Tunnel packets made by hand, for tests/e2e/lb_l3.bats (the L3 lab, `lb decap`), each
# command bounded in count and time:
#   send ipip|gue OUTER_DST CLIENT CPORT VIP VPORT N   from the LB's namespace: N UDP
#        datagrams CLIENT:CPORT -> VIP:VPORT, each wrapped in IPIP (protocol 4 or 41,
#        raw socket: the kernel adds the outer header) or GUE (UDP to 6080) to OUTER_DST;
#        any mix of IPv4 and IPv6 outer and inner. Prints {"sent": N}
#   matrix BACKEND4 BACKEND6 CLIENT4 CLIENT6 VIP4 VIP6 CPORT VPORT N   `send` N times for
#        each of ipip|gue x outer v4|v6 x inner v4|v6 (8 x N datagrams), one process
#   arp IFACE TARGET SECONDS   one ARP request for TARGET out of IFACE; prints
#        {"answered": true|false} (false after SECONDS)
#   echo PORT SECONDS ADDR...   UDP echo bound to each ADDR (the VIPs on lo): replies
#        leave from the VIP itself
#   listen PORT SECONDS N ADDR...   waits for N datagrams on ADDR:PORT (or SECONDS);
#        prints {"count": n, "from": [distinct source addresses]}
import ipaddress, json, select, socket, struct, sys, time

GUE_PORT = 6080


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_packet(src, sport, dst, dport, payload):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    ulen = 8 + len(payload)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 17, ulen)
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", ulen, 17)
    c = csum(pseudo + struct.pack("!HHHH", sport, dport, ulen, 0) + payload) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, ulen, c) + payload
    if s.version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, s.packed, d.packed)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return h + udp
    return struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, s.packed, d.packed) + udp


def send(kind, outer, client, cport, vip, vport, n):
    fam = socket.AF_INET6 if ":" in outer else socket.AF_INET
    inner_v6 = ":" in vip
    if kind == "ipip":
        s = socket.socket(fam, socket.SOCK_RAW, 41 if inner_v6 else 4)
        dst = (outer, 0)
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        dst = (outer, GUE_PORT)
    for i in range(n):
        s.sendto(udp_packet(client, cport, vip, vport, b"ping %d" % i), dst)
        time.sleep(0.005)
    print(json.dumps({"sent": n}))


def matrix(b4, b6, c4, c6, v4, v6, cport, vport, n):
    total = 0
    for kind in ("ipip", "gue"):
        for outer in (b4, b6):
            for client, vip in ((c4, v4), (c6, v6)):
                send(kind, outer, client, cport, vip, vport, n)
                total += n
    print(json.dumps({"sent_total": total}))


def arp(iface, target, seconds):
    import fcntl
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((iface, 0))
    mac = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", iface.encode()))[18:24]
    ip = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", iface.encode()))[20:24]
    tgt = socket.inet_aton(target)
    req = (b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
           mac + ip + b"\0" * 6 + tgt)
    s.send(req.ljust(60, b"\0"))
    end = time.monotonic() + seconds
    answered = False
    while not answered and time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            f = s.recv(128)
            answered = len(f) >= 42 and f[20:22] == b"\0\x02" and f[28:32] == tgt
    print(json.dumps({"answered": answered}))


def echo(port, seconds, addrs):
    socks = []
    for a in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, port))
        socks.append(s)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select(socks, [], [], 0.2)
        for s in r:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)


def listen(port, seconds, n, addrs):
    socks = []
    for a in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, port))
        socks.append(s)
    print(json.dumps({"listening": port}), flush=True)
    count, seen = 0, []
    end = time.monotonic() + seconds
    while count < n and time.monotonic() < end:
        r, _, _ = select.select(socks, [], [], 0.1)
        for s in r:
            _, peer = s.recvfrom(2048)
            count += 1
            if peer[0] not in seen:
                seen.append(peer[0])
    print(json.dumps({"count": count, "from": seen}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "send" and len(a) == 8:
        send(a[1], a[2], a[3], int(a[4]), a[5], int(a[6]), min(int(a[7]), 1000))
    elif a and a[0] == "matrix" and len(a) == 10:
        matrix(*a[1:7], int(a[7]), int(a[8]), min(int(a[9]), 100))
    elif a and a[0] == "arp" and len(a) == 4:
        arp(a[1], a[2], min(float(a[3]), 10))
    elif a and a[0] == "echo" and len(a) >= 4:
        echo(int(a[1]), min(float(a[2]), 60), a[3:])
    elif a and a[0] == "listen" and len(a) >= 5:
        listen(int(a[1]), min(float(a[2]), 60), int(a[3]), a[4:])
    else:
        sys.exit(__doc__ or "usage: see the comment at the top of lb_l3_tool.py")
