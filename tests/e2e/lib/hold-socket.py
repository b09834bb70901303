#!/usr/bin/python3
"""Keep a TPM busy: connect to a swtpm server socket and hold it open.

swtpm serves one client at a time, so while this runs every other client of
that TPM waits. Tests start it, wait for its "held" line on stdout, run the
client under test and then kill it; it gives up by itself after SECONDS
(default 60) so an interrupted test run leaves nothing behind for long.

Usage: hold-socket.py unix:/path/to/tpm.sock|tcp:host:port [SECONDS]
"""

import socket
import sys
import time


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-1])
    where = argv[1]
    seconds = float(argv[2]) if len(argv) == 3 else 60.0
    if where.startswith('unix:'):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where[len('unix:'):])
    elif where.startswith('tcp:'):
        host, dummy, port = where[len('tcp:'):].rpartition(':')
        s = socket.create_connection((host, int(port)), timeout=5)
    else:
        sys.exit('hold-socket.py: give unix:/path or tcp:host:port, not %s' % where)
    print('held', flush=True)
    time.sleep(seconds)
    s.close()


if __name__ == '__main__':
    main(sys.argv)
