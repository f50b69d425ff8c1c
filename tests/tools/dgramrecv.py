#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A receiver for the tests: binds an AF_UNIX datagram socket at PATH and
writes each datagram it gets to OUT as one JSON line, until SECS pass or it
is killed.

  dgramrecv.py journal PATH OUT SECS   journald's native protocol
                                       (systemd.io/JOURNAL_NATIVE_PROTOCOL):
                                       one object of FIELD: value per entry
  dgramrecv.py raw PATH OUT SECS       {"data": "..."} per datagram
                                       (sd_notify's, syslog's)

PATH is bound before anything else, and OUT created empty then, so a test
may wait for OUT to exist before it starts the sender.
"""
import json
import os
import socket
import struct
import sys
import time


def parse_native(data):
    """FIELD=value\\n, or FIELD\\n<le64 length><value>\\n for binary values."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("entry does not end in a newline")
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            name, value = line[:eq], line[eq + 1:]
            i = nl + 1
        else:
            name = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field %r not closed by a newline" % name)
            i = nl + 10 + n
        fields[name.decode()] = value.decode("utf-8", "replace")
    return fields


def main():
    mode, path, out, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s.bind(path)
    os.chmod(path, 0o666)
    deadline = time.monotonic() + secs
    with open(out + ".tmp", "w") as f:
        os.rename(out + ".tmp", out)
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(64))
            except socket.timeout:
                continue
            if mode == "journal":
                try:
                    rec = parse_native(data)
                except ValueError as e:
                    rec = {"_PARSE_ERROR": str(e)}
                if anc:
                    rec["_ANCILLARY"] = "fd passed: entry too big for a datagram"
            else:
                rec = {"data": data.decode("utf-8", "replace")}
            f.write(json.dumps(rec, sort_keys=True) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
