#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Loopback traffic for the checked-in captures (see README.md).  Each
scenario is a few connections between two sockets of this process, so both
ends of every connection are on this host.  Usage: traffic.py SCENARIO PORT"""
import socket
import struct
import sys
import time


def listener(port, family=socket.AF_INET, host='127.0.0.1'):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    return s


def pair(s, host, port, family=socket.AF_INET):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect((host, port))
    a, _ = s.accept()
    return c, a


def close(port):
    """Orderly closes: the client's FIN first, then the server's; then the server's first."""
    for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
        s = listener(port, family, host)
        c, a = pair(s, host, port, family)
        c.sendall(b'hello')
        a.recv(5)
        a.sendall(b'world')
        c.recv(5)
        c.close()
        time.sleep(0.02)
        a.close()
        time.sleep(0.02)
        c, a = pair(s, host, port, family)
        a.close()
        time.sleep(0.02)
        c.close()
        s.close()
        time.sleep(0.05)


def simclose(port):
    """Both ends shut down before either FIN arrives: FINs are dropped (nft, see
    README.md) while /tmp/tt-fin-drop exists, so they cross when retransmitted."""
    s = listener(port)
    c, a = pair(s, '127.0.0.1', port)
    open('/tmp/tt-fin-drop-go', 'w').close()
    time.sleep(0.3)     # the driver adds the drop rule
    c.shutdown(socket.SHUT_WR)
    a.shutdown(socket.SHUT_WR)
    time.sleep(1.5)     # the driver removes it; retransmitted FINs cross
    c.close()
    a.close()
    s.close()


def reset(port):
    """A server that aborts (SO_LINGER 0), a refused connect, a client that closes unread data."""
    s = listener(port)
    c, a = pair(s, '127.0.0.1', port)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    a.close()
    try:
        c.recv(1)
    except ConnectionResetError:
        pass
    c.close()
    time.sleep(0.02)
    r = socket.socket()
    try:
        r.connect(('127.0.0.1', port + 10))
    except ConnectionRefusedError:
        pass
    r.close()
    time.sleep(0.02)
    c, a = pair(s, '127.0.0.1', port)
    a.sendall(b'unread')
    time.sleep(0.02)
    c.close()
    time.sleep(0.02)
    try:
        a.recv(1)
    except ConnectionResetError:
        pass
    a.close()
    s.close()


def synack(port):
    """One connection whose third ACK is dropped for a while (nft, see README.md)."""
    s = listener(port)
    c = socket.socket()
    c.connect(('127.0.0.1', port))
    a, _ = s.accept()   # returns once a retransmitted SYN+ACK is answered
    c.close()
    time.sleep(0.02)
    a.close()
    s.close()


if __name__ == '__main__':
    globals()[sys.argv[1]](int(sys.argv[2]))
