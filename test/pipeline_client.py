#!/usr/bin/env python3
"""test/pipeline_client.py SOCKET_DIR PORT USER DB FILE: sends every line of
FILE as one simple-protocol Query message, without waiting for the results
of the previous ones, and reads the results in a second thread.

Used by test/bench_statements.sh: with the next statement always waiting in
the socket, the serving backend never sleeps for its client, so the
instructions counted per statement do not depend on how fast the client
answered (with psql, one statement at a time, that varied by about 0.2%).
Exits non-zero if the server reports an error or the connection fails.
Trust authentication only (the benchmark's throwaway cluster)."""
import os
import socket
import struct
import sys
import threading


def message(kind, payload):
    return kind + struct.pack("!I", len(payload) + 4) + payload


def main():
    sockdir, port, user, db, path = sys.argv[1:6]
    with open(path, encoding="utf-8") as f:
        statements = [line.rstrip("\n") for line in f if line.strip()]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(sockdir, f".s.PGSQL.{port}"))
    params = b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
    body = struct.pack("!I", 196608) + params
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    rf = s.makefile("rb")

    def read_message():
        head = rf.read(5)
        if len(head) < 5:
            raise SystemExit("connection closed by the server")
        kind, length = head[:1], struct.unpack("!I", head[1:])[0]
        return kind, rf.read(length - 4)

    while True:
        kind, payload = read_message()
        if kind == b"E":
            raise SystemExit("connection refused: " + payload.decode(errors="replace"))
        if kind == b"R" and struct.unpack("!I", payload[:4])[0] != 0:
            raise SystemExit("only trust authentication is supported")
        if kind == b"Z":
            break

    def writer():
        for st in statements:
            s.sendall(message(b"Q", st.encode() + b"\0"))

    t = threading.Thread(target=writer)
    t.start()
    errors = 0
    for _ in statements:
        while True:
            kind, payload = read_message()
            if kind == b"E":
                errors += 1
                sys.stderr.write(payload.decode(errors="replace") + "\n")
            if kind == b"Z":
                break
    t.join()
    s.sendall(message(b"X", b""))
    s.close()
    if errors:
        raise SystemExit(f"{errors} statements failed")


main()
