#!/usr/bin/env python3
"""A stand-in for systemd's end of the sd_notify protocol, for tests.

    notify-recv.py SOCKET LOG PORT [SECONDS]

Binds a Unix datagram socket at SOCKET (what NOTIFY_SOCKET names), records
every notification in LOG, and exits after SECONDS (default 60) or on
SIGTERM.  Each datagram becomes lines "SEQ PID KEY=VALUE", one per
assignment, with the sender's PID from SCM_CREDENTIALS as systemd sees it.
A datagram that is not a list of KEY=VALUE lines is recorded as
"SEQ PID bad:..." so that the test can fail on it.

When READY=1 arrives, and before the next datagram is read, two probes of
127.0.0.1:PORT are recorded (as "SEQ PID probe:...") because systemd would
now declare the service started and let clients in:
  probe:bound=yes|no     binding the port ourselves fails with EADDRINUSE,
                         so the daemon's socket exists
  probe:ping=rst|...     a CoAP ping (empty CON) sent now is answered with
                         a RST; a connected UDP socket reports "refused"
                         when nothing was bound when the ping arrived
  probe:ping_ms=N        how long the answer took
A MONOTONIC_USEC value is compared with our CLOCK_MONOTONIC:
  probe:monotonic_skew_ms=N
"""

import errno
import os
import select
import signal
import socket
import struct
import sys
import time

MAX_DATAGRAM = 4096  # systemd's own limit is larger; ours has no reason to be


def probe_bound(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        return "yes" if e.errno == errno.EADDRINUSE else "error-%d" % e.errno
    finally:
        s.close()
    return "no"


def probe_ping(port):
    """Returns (outcome, milliseconds).  Retransmits like CoAP (same
    message ID, timeouts 1, 2 and 4 s) so that a loaded machine is not
    mistaken for a daemon that does not answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    mid = os.getpid() & 0xFFFF
    # Version 1, type CON, token length 0, code 0.00 (empty), message ID.
    ping = struct.pack("!BBH", 0x40, 0x00, mid)
    data = b""
    try:
        s.connect(("127.0.0.1", port))
        for timeout in (1.0, 2.0, 4.0):
            s.settimeout(timeout)
            s.send(ping)
            try:
                data = s.recv(64)
                break
            except socket.timeout:
                continue
        else:
            return "timeout", int((time.monotonic() - start) * 1000)
    except ConnectionRefusedError:
        return "refused", int((time.monotonic() - start) * 1000)
    except OSError as e:
        return "error-%d" % e.errno, int((time.monotonic() - start) * 1000)
    finally:
        s.close()
    ms = int((time.monotonic() - start) * 1000)
    if len(data) >= 4:
        first, code, rmid = struct.unpack("!BBH", data[:4])
        # RST (type 3) with our message ID.
        if first >> 6 == 1 and (first >> 4) & 3 == 3 and code == 0 and rmid == mid:
            return "rst", ms
    return "other-" + data.hex(), ms


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    path, log_path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seconds = float(sys.argv[4]) if len(sys.argv) == 5 else 60.0
    deadline = time.monotonic() + seconds

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    tmp = path + ".tmp"
    sock.bind(tmp)
    # Appear under the final name only once bound with SO_PASSCRED set, so a
    # daemon started when the name exists cannot race us.
    os.rename(tmp, path)

    seq = 0
    creds_size = socket.CMSG_SPACE(struct.calcsize("3i"))
    with open(log_path, "a", buffering=1) as log:
        while not stop:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = select.select([sock], [], [], min(left, 0.5))
            except InterruptedError:
                continue
            if not r:
                continue
            data, anc, _, _ = sock.recvmsg(MAX_DATAGRAM, creds_size)
            seq += 1
            pid = 0
            for level, kind, blob in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", blob[: struct.calcsize("3i")])[0]
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                log.write("%d %d bad:not-utf8\n" % (seq, pid))
                continue
            fields = [f for f in text.split("\n") if f != ""]
            if not fields:
                log.write("%d %d bad:empty\n" % (seq, pid))
            for f in fields:
                key, eq, _ = f.partition("=")
                if not eq or not key or not key.replace("_", "").isalnum() or not key.isupper():
                    log.write("%d %d bad:%r\n" % (seq, pid, f))
                else:
                    log.write("%d %d %s\n" % (seq, pid, f))
                if f.startswith("MONOTONIC_USEC="):
                    try:
                        sent = int(f.split("=", 1)[1])
                        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
                        log.write("%d %d probe:monotonic_skew_ms=%d\n"
                                  % (seq, pid, (now - sent) // 1000))
                    except ValueError:
                        log.write("%d %d bad:monotonic\n" % (seq, pid))
            if "READY=1" in fields:
                log.write("%d %d probe:bound=%s\n" % (seq, pid, probe_bound(port)))
                outcome, ms = probe_ping(port)
                log.write("%d %d probe:ping_ms=%d\n" % (seq, pid, ms))
                log.write("%d %d probe:ping=%s\n" % (seq, pid, outcome))
    sock.close()
    try:
        os.unlink(path)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
