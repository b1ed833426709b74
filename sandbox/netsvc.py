"""pkghunt network services, run INSIDE a sandbox's network namespace (outside its pid/mount namespaces).

Fake DNS, catch-all TCP/UDP sinkhole and a forwarder from 127.0.0.1:<index_port> to the index proxy's
Unix socket. Every observation is one NDJSON line on stdout: `ready` first, then `dns`, `tcp`, `udp`,
`error`, and `stats` last. Python rather than Node because the sinkhole needs SO_ORIGINAL_DST,
IP_TRANSPARENT and IP_RECVORIGDSTADDR, none of which Node exposes. Standard library only.

The nftables rules loaded by the adapter route traffic here: TCP via nat REDIRECT (original destination
read with getsockopt SO_ORIGINAL_DST), UDP via TPROXY (original destination read from the
IP_RECVORIGDSTADDR control message, and DNS answers sent back from that same address).
"""

import base64
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

SO_ORIGINAL_DST = 80
IP_TRANSPARENT = 19
IP_RECVORIGDSTADDR = 20
SOL_IPV6 = 41
IPV6_RECVORIGDSTADDR = 74
IPV6_TRANSPARENT = 75

DNS_NET = (127 << 24) | (53 << 16)  # 127.53.0.0/16
DNS_TTL = 60
QTYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
          35: "NAPTR", 43: "DS", 48: "DNSKEY", 64: "SVCB", 65: "HTTPS", 255: "ANY"}
TLS_HANDSHAKE = 0x16

CONFIG_DEFAULTS = {
    "dns_port": 10053,
    "tcp_port": 10080,
    "udp_port": 10081,
    "index_port": 10082,
    "index_socket": None,
    "max_capture": 65536,
    "idle_timeout": 1.5,
    "max_connection_s": 30.0,
    "max_events": 5000,
    "max_handlers": 256,
}


class Output:
    """Serialises events from many threads onto stdout; drops events beyond a budget, counting them."""

    def __init__(self, max_events):
        self.lock = threading.Lock()
        self.max_events = max_events
        self.count = 0
        self.dropped = 0
        self.closed = False
        self.counts = {"dns": 0, "tcp": 0, "udp": 0, "error": 0}

    def emit(self, event, essential=False):
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self.lock:
            if self.closed:
                return
            kind = event.get("type")
            if kind in self.counts:
                self.counts[kind] += 1
            if not essential:
                if self.count >= self.max_events:
                    self.dropped += 1
                    return
                self.count += 1
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except (BrokenPipeError, OSError):
                self.closed = True


class Names:
    """Hands out one 127.53.x.y address per DNS name, and maps it back for connection events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_name = {}
        self.by_ip = {}

    def address_for(self, name):
        key = name.lower()
        with self.lock:
            ip = self.by_name.get(key)
            if ip is None:
                n = len(self.by_name) + 1
                if n > 0xFFFE:
                    return None
                ip = socket.inet_ntoa(struct.pack("!I", DNS_NET | n))
                self.by_name[key] = ip
                self.by_ip[ip] = key
            return ip

    def name_for(self, ip):
        with self.lock:
            return self.by_ip.get(ip)


def now():
    return round(time.time(), 6)


def fmt_addr(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def b64(data):
    return base64.b64encode(data).decode("ascii")


def parse_sockaddr(raw):
    """struct sockaddr_in / sockaddr_in6 as found in SO_ORIGINAL_DST and IP_RECVORIGDSTADDR."""
    family = struct.unpack("=H", raw[:2])[0]
    port = struct.unpack("!H", raw[2:4])[0]
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if family == socket.AF_INET6 and len(raw) >= 24:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24]), port
    raise ValueError(f"unknown address family {family}")


# --- DNS ---------------------------------------------------------------------------------------------

def read_qname(msg, offset):
    labels = []
    jumps = 0
    end = None
    while True:
        if offset >= len(msg):
            raise ValueError("name runs past the message")
        length = msg[offset]
        if length == 0:
            offset += 1
            break
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(msg):
                raise ValueError("truncated pointer")
            jumps += 1
            if jumps > 16:
                raise ValueError("pointer loop")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | msg[offset + 1]
            continue
        if length & 0xC0:
            raise ValueError("bad label type")
        label = msg[offset + 1: offset + 1 + length]
        if len(label) != length:
            raise ValueError("truncated label")
        labels.append(label.decode("latin-1"))
        offset += 1 + length
        if sum(len(x) + 1 for x in labels) > 255:
            raise ValueError("name too long")
    return ".".join(labels), (end if end is not None else offset)


def dns_answer(query, names):
    """Returns (response bytes, name, type name, answer ip or None); raises ValueError on garbage."""
    if len(query) < 12:
        raise ValueError("message shorter than a DNS header")
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000:
        raise ValueError("message is a response, not a query")
    if qdcount < 1:
        raise ValueError("query without a question")
    name, end = read_qname(query, 12)
    if end + 4 > len(query):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", query[end: end + 4])
    question = query[12: end + 4]
    answer_ip = names.address_for(name) if qtype == 1 and qclass in (1, 255) and name else None
    # AAAA and every other type get NOERROR with no answer (NODATA): clients fall back to A, whose
    # 127.53.x.y address maps the connection back to the name.
    rflags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080
    header = struct.pack("!HHHHHH", qid, rflags, 1, 1 if answer_ip else 0, 0, 0)
    body = question
    if answer_ip:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, DNS_TTL, 4) + socket.inet_aton(answer_ip)
    return header + body, name, QTYPES.get(qtype, f"TYPE{qtype}"), answer_ip


# --- services ----------------------------------------------------------------------------------------

class Services:
    def __init__(self, config):
        self.config = config
        self.out = Output(config["max_events"])
        self.names = Names()
        self.active = {}
        self.active_lock = threading.Lock()
        self.handler_slots = threading.BoundedSemaphore(config["max_handlers"])
        self.error_budget = 100
        self.stopping = threading.Event()
        self.last_activity = 0.0
        self.watched = []
        # Connection handlers running that record events (TCP sinkhole, DNS over TCP).
        self.inflight = 0

    def touch(self):
        self.last_activity = time.monotonic()

    def drain(self, quiet=0.05, limit=1.0):
        """On stop, lets queued datagrams, backlogged connections and just-closed clients be recorded
        before open connections are flushed: the adapter often stops us right after the last client."""
        self._wait_quiet(quiet, limit, 0.01, busy=lambda: False)

    def _wait_quiet(self, quiet, limit, step, busy):
        """Waits (at most `limit` s) until no datagram or connection is waiting, `busy()` is false and
        nothing happened for `quiet` s."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                pending, _, _ = select.select(self.watched, [], [], 0)
            except (OSError, ValueError):
                pending = []
            if not pending and not busy() and time.monotonic() - self.last_activity >= quiet:
                return
            time.sleep(step)

    def _handling(self):
        with self.active_lock:
            return self.inflight > 0 or bool(self.active)

    def settle(self, ident, quiet=0.03, limit=2.0):
        """Answers `sync ID` on stdin once everything that reached us so far is recorded: no datagram
        or connection waiting, no handler running, and quiet for `quiet` s (at most `limit` s). The
        adapter asks after a phase's processes are dead, to split the events by phase."""
        self._wait_quiet(quiet, limit, 0.005, busy=self._handling)
        self.out.emit({"type": "synced", "time": now(), "id": ident}, essential=True)

    def error(self, where, message):
        with self.active_lock:
            if self.error_budget <= 0:
                return
            self.error_budget -= 1
        self.out.emit({"type": "error", "time": now(), "where": where, "message": str(message)[:500]})

    def spawn(self, target, *args):
        threading.Thread(target=self.guard, args=(target, *args), daemon=True).start()

    def guard(self, target, *args):
        try:
            target(*args)
        except Exception as exc:  # a service thread must never take the process down
            self.error(getattr(target, "__name__", "thread"), repr(exc))

    # DNS over UDP: TPROXY delivers every udp/53 datagram here with its original destination intact.
    def dns_udp_loop(self, sock, family):
        level, opt = (socket.SOL_IP, IP_RECVORIGDSTADDR) if family == socket.AF_INET else (SOL_IPV6, IPV6_RECVORIGDSTADDR)
        while True:
            try:
                data, anc, _flags, client = sock.recvmsg(65535, 256)
                self.touch()
            except OSError as exc:
                self.error("dns_udp", exc)
                time.sleep(0.05)
                continue
            server = None
            for lvl, typ, raw in anc:
                if lvl == level and typ == opt:
                    try:
                        server = parse_sockaddr(raw)
                    except ValueError:
                        pass
            try:
                response, name, qtype, answer = dns_answer(data, self.names)
            except ValueError as exc:
                self.error("dns_udp", f"Cannot parse DNS query from {fmt_addr(client[0], client[1])}: {exc}")
                continue
            self.out.emit({"type": "dns", "time": now(), "transport": "udp", "name": name, "qtype": qtype,
                           "answer": answer, "server": fmt_addr(*server) if server else None,
                           "client": fmt_addr(client[0], client[1])})
            try:
                self.reply_from(family, server, client, response)
            except OSError as exc:
                self.error("dns_udp", f"Cannot answer {fmt_addr(client[0], client[1])}: {exc}")

    def reply_from(self, family, server, client, payload):
        """Answers from the address the client wrote to, so connected UDP sockets accept the reply."""
        if server is None:
            return
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET:
                s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
            else:
                s.setsockopt(SOL_IPV6, IPV6_TRANSPARENT, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(server)
            s.sendto(payload, client[:2] if family == socket.AF_INET else client)
        finally:
            s.close()

    def udp_capture_loop(self, sock, family):
        level, opt = (socket.SOL_IP, IP_RECVORIGDSTADDR) if family == socket.AF_INET else (SOL_IPV6, IPV6_RECVORIGDSTADDR)
        cap = self.config["max_capture"]
        while True:
            try:
                data, anc, flags, client = sock.recvmsg(65535, 256)
                self.touch()
            except OSError as exc:
                self.error("udp", exc)
                time.sleep(0.05)
                continue
            dst = None
            for lvl, typ, raw in anc:
                if lvl == level and typ == opt:
                    try:
                        dst = parse_sockaddr(raw)
                    except ValueError:
                        pass
            if dst is None:
                dst = sock.getsockname()[:2]
            self.out.emit({"type": "udp", "time": now(), "ip": dst[0], "port": dst[1],
                           "hostname": self.names.name_for(dst[0]), "client": fmt_addr(client[0], client[1]),
                           "data_b64": b64(data[:cap]), "truncated": len(data) > cap or bool(flags & socket.MSG_TRUNC),
                           "sent_bytes": len(data)})

    def accept_loop(self, listener, handler, where):
        while True:
            try:
                conn, peer = listener.accept()
                self.touch()
            except OSError as exc:
                self.error(where, exc)
                time.sleep(0.05)
                continue
            if not self.handler_slots.acquire(blocking=False):
                # Too many open connections: record that one came, without reading it.
                self.guard(self.record_refused, conn, peer)
                continue
            # The index forwarder records nothing: settle() need not wait for pip's keep-alives.
            counted = handler != self.index_forward
            if counted:
                with self.active_lock:
                    self.inflight += 1
            self.spawn(self.with_slot, handler, conn, peer, counted)

    def with_slot(self, handler, conn, peer, counted=False):
        try:
            handler(conn, peer)
        finally:
            if counted:
                with self.active_lock:
                    self.inflight -= 1
                self.touch()
            self.handler_slots.release()
            try:
                conn.close()
            except OSError:
                pass

    def original_dst(self, conn):
        if conn.family == socket.AF_INET:
            return parse_sockaddr(conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16))
        return parse_sockaddr(conn.getsockopt(SOL_IPV6, SO_ORIGINAL_DST, 28))

    def record_refused(self, conn, peer):
        try:
            ip, port = self.original_dst(conn)
        except (OSError, ValueError):
            ip, port = conn.getsockname()[:2]
        conn.close()
        self.out.emit({"type": "tcp", "time": now(), "ip": ip, "port": port, "hostname": self.names.name_for(ip),
                       "client": fmt_addr(peer[0], peer[1]), "data_b64": "", "truncated": True, "sent_bytes": 0,
                       "duration_ms": 0, "open": False, "note": "not read: too many concurrent connections"})

    # TCP sinkhole: REDIRECT brings every outgoing TCP connection here.
    def tcp_capture(self, conn, peer):
        started = time.time()
        try:
            ip, port = self.original_dst(conn)
        except (OSError, ValueError) as exc:
            self.error("tcp", f"Cannot read the original destination: {exc}")
            ip, port = conn.getsockname()[:2]
        state = {"type": "tcp", "time": round(started, 6), "ip": ip, "port": port,
                 "hostname": self.names.name_for(ip), "client": fmt_addr(peer[0], peer[1]),
                 "buf": bytearray(), "sent_bytes": 0, "done": False, "lock": threading.Lock()}
        key = id(state)
        with self.active_lock:
            self.active[key] = state
        try:
            self.tcp_converse(conn, state, started)
        except OSError:
            pass
        finally:
            with self.active_lock:
                self.active.pop(key, None)
            self.finish_tcp(state, open_=False)

    def tcp_converse(self, conn, state, started):
        cap = self.config["max_capture"]
        idle = self.config["idle_timeout"]
        deadline = started + self.config["max_connection_s"]
        conn.settimeout(idle)
        answered = False
        while time.time() < deadline:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                break
            self.touch()
            if not chunk:
                break
            with state["lock"]:
                room = cap - len(state["buf"])
                if room > 0:
                    state["buf"] += chunk[:room]
                state["sent_bytes"] += len(chunk)
                head = bytes(state["buf"])
            if answered:
                continue
            verdict = classify(head)
            if verdict == "http-complete":
                conn.sendall(http_response())
                answered = True
                try:
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                conn.settimeout(min(idle, 0.3))
            elif verdict == "tls-complete":
                # Nothing plausible to answer to a ClientHello without a certificate: record and hang up.
                break

    def finish_tcp(self, state, open_):
        with state["lock"]:
            if state["done"]:
                return
            state["done"] = True
            data = bytes(state["buf"])
            sent = state["sent_bytes"]
        event = {k: v for k, v in state.items() if k not in ("buf", "done", "lock", "sent_bytes")}
        event.update({"data_b64": b64(data), "truncated": sent > len(data), "sent_bytes": sent,
                      "duration_ms": round((time.time() - state["time"]) * 1000), "open": open_})
        self.out.emit(event)

    # DNS over TCP: length-prefixed messages, answered in order until the client hangs up.
    def dns_tcp(self, conn, peer):
        try:
            server = self.original_dst(conn)
        except (OSError, ValueError):
            server = None
        conn.settimeout(self.config["idle_timeout"])
        buf = b""
        while len(buf) < 65536 + 2:
            try:
                chunk = conn.recv(65536)
            except (socket.timeout, OSError):
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2:
                size = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + size:
                    break
                msg, buf = buf[2: 2 + size], buf[2 + size:]
                try:
                    response, name, qtype, answer = dns_answer(msg, self.names)
                except ValueError as exc:
                    self.error("dns_tcp", f"Cannot parse DNS query: {exc}")
                    return
                self.out.emit({"type": "dns", "time": now(), "transport": "tcp", "name": name, "qtype": qtype,
                               "answer": answer, "server": fmt_addr(*server) if server else None,
                               "client": fmt_addr(peer[0], peer[1])})
                conn.sendall(struct.pack("!H", len(response)) + response)

    # Index forwarder: pip inside the sandbox talks to 127.0.0.1:<index_port>, the proxy lives outside.
    def index_forward(self, conn, peer):
        path = self.config["index_socket"]
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(path)
        except OSError as exc:
            self.error("index", f"Cannot reach the index proxy at {path}: {exc}")
            upstream.close()
            return
        try:
            pump = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
            pump.start()
            pipe(conn, upstream)
            pump.join(600)
        finally:
            upstream.close()

    def flush_active(self):
        with self.active_lock:
            pending = list(self.active.values())
        for state in pending:
            self.finish_tcp(state, open_=True)


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def classify(head):
    """Decides whether the client said enough to answer (HTTP) or to hang up (TLS)."""
    if len(head) >= 5 and head[0] == TLS_HANDSHAKE and head[1] == 3:
        record_len = struct.unpack("!H", head[3:5])[0]
        return "tls-complete" if len(head) >= 5 + record_len else "tls"
    end = head.find(b"\r\n\r\n")
    first = head.split(b" ", 1)[0]
    if not first.isalpha() or not first.isupper() or b" HTTP/" not in head.split(b"\r\n", 1)[0]:
        return "raw"
    if end < 0:
        return "http"
    lines = head[:end].split(b"\r\n")
    length = 0
    chunked = False
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        key = key.strip().lower()
        if key == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                length = 0
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    body = head[end + 4:]
    if chunked:
        return "http-complete" if body.endswith(b"0\r\n\r\n") else "http"
    return "http-complete" if len(body) >= length else "http"


def http_response():
    body = b"ok\n"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n" + body)


def bind_udp(family, host, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET:
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        s.setsockopt(socket.SOL_IP, IP_RECVORIGDSTADDR, 1)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(SOL_IPV6, IPV6_TRANSPARENT, 1)
        s.setsockopt(SOL_IPV6, IPV6_RECVORIGDSTADDR, 1)
    s.bind((host, port))
    return s


def bind_tcp(family, host, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(512)
    return s


def die_with_parent():
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv):
    if len(argv) != 3 or argv[1] != "--config":
        sys.stderr.write("usage: netsvc.py --config JSON\n")
        return 2
    config = dict(CONFIG_DEFAULTS)
    config.update(json.loads(argv[2]))
    die_with_parent()
    svc = Services(config)
    ipv6 = socket.has_ipv6
    v4, v6 = socket.AF_INET, socket.AF_INET6
    sockets = [
        (svc.dns_udp_loop, bind_udp(v4, "127.0.0.1", config["dns_port"]), v4),
        (svc.udp_capture_loop, bind_udp(v4, "127.0.0.1", config["udp_port"]), v4),
    ]
    listeners = [
        (bind_tcp(v4, "127.0.0.1", config["tcp_port"]), svc.tcp_capture, "tcp"),
        (bind_tcp(v4, "127.0.0.1", config["dns_port"]), svc.dns_tcp, "dns_tcp"),
    ]
    if config["index_socket"]:
        listeners.append((bind_tcp(v4, "127.0.0.1", config["index_port"]), svc.index_forward, "index"))
    if ipv6:
        try:
            sockets.append((svc.dns_udp_loop, bind_udp(v6, "::1", config["dns_port"]), v6))
            sockets.append((svc.udp_capture_loop, bind_udp(v6, "::1", config["udp_port"]), v6))
            listeners.append((bind_tcp(v6, "::1", config["tcp_port"]), svc.tcp_capture, "tcp6"))
            listeners.append((bind_tcp(v6, "::1", config["dns_port"]), svc.dns_tcp, "dns_tcp6"))
        except OSError as exc:
            ipv6 = False
            svc.error("setup", f"IPv6 services unavailable: {exc}")

    def stop(_signum, _frame):
        svc.stopping.set()

    svc.watched = [sock for _, sock, _ in sockets] + [listener for listener, _, _ in listeners]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for loop, sock, family in sockets:
        svc.spawn(loop, sock, family)
    for listener, handler, where in listeners:
        svc.spawn(svc.accept_loop, listener, handler, where)
    svc.spawn(watch_stdin, svc)
    svc.out.emit({"type": "ready", "time": now(), "pid": os.getpid(), "dns_port": config["dns_port"],
                  "tcp_port": config["tcp_port"], "udp_port": config["udp_port"],
                  "index_port": config["index_port"] if config["index_socket"] else None, "ipv6": ipv6},
                 essential=True)
    while not svc.stopping.wait(3600):
        pass
    svc.drain()
    svc.flush_active()
    with svc.out.lock:
        counts = dict(svc.out.counts)
        dropped = svc.out.dropped
    svc.out.emit({"type": "stats", "time": now(), "dns": counts["dns"], "tcp": counts["tcp"],
                  "udp": counts["udp"], "errors": counts["error"], "dropped": dropped}, essential=True)
    with svc.out.lock:
        svc.out.closed = True
    os._exit(0)


def watch_stdin(svc):
    """The adapter holds our stdin open and writes `sync ID` lines (see Services.settle); EOF means
    it went away, so stop instead of lingering."""
    try:
        for line in sys.stdin.buffer:
            words = line.split()
            if len(words) == 2 and words[0] == b"sync" and words[1].isdigit():
                svc.spawn(svc.settle, int(words[1]))
    except OSError:
        pass
    svc.stopping.set()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
