#!/usr/bin/env python3
"""Print a TCP port P such that P and P+1 can both be bound on 127.0.0.1.

swtpm needs two ports (server and control). Ports are drawn below Linux's
ephemeral range (32768 and up), where outgoing connections take theirs, and
tried by binding: a port that is bound but not listening refuses no connect
test, yet fails swtpm's bind.
"""
import random
import socket
import sys


def bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


for _ in range(200):
    p = random.randrange(20000, 32000)
    if bindable(p) and bindable(p + 1):
        print(p)
        sys.exit(0)
sys.exit("no two free adjacent TCP ports in 20000-32000")
