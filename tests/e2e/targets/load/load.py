#!/usr/bin/python3
"""Helpers of the load scenario (scenario.sh).

load.py inventory N OUT
    Writes an inventory of N made-up hosts, load-001 ... (local connection,
    /usr/bin/python3), each with load_uri, a well-formed TPM EK URI
    (urn:ek:sha256: and the base64 of SHA-256 over the host's name, so IDs
    hold '+', '/' and '=' as real ones do), and load_rack (its number
    modulo 20). Every tenth host also gets load_timeout: 5, so that a hang
    fault outlasts its client's timeout instead of ending in a 504.

load.py durable STATE LOG
    After the simulator was killed with SIGKILL: STATE (the state file it
    left) must be valid JSON, and every device PUT that LOG (its request
    log) shows answered with 2xx must be in it: the simulator logs a request
    only after answering it, so these include every write a client saw
    acknowledged. Prints one line; exits 1 when a write is missing.

load.py puts LOG
    Prints how many device PUTs LOG shows (to decide when to kill).
"""

import base64
import hashlib
import json
import re
import sys
import urllib.parse

COLLECTION = 'e2e-load'
LINE = re.compile(r'\bmsg=request method=(\S+) path=(\S+) status=(\d+)')
DEVICE_PATH = '/api/collections/%s/instances/' % COLLECTION


def uri(name):
    return 'urn:ek:sha256:' + base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def inventory(n, out):
    hosts = {}
    for i in range(1, int(n) + 1):
        name = 'load-%03d' % i
        h = {'load_uri': uri(name), 'load_rack': i % 20}
        if i % 10 == 0:
            h['load_timeout'] = 5
        hosts[name] = h
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
    inv = {'all': {'vars': local, 'hosts': {'localhost': {}}, 'children': {'load': {'hosts': hosts}}}}
    with open(out, 'w') as f:
        json.dump(inv, f, indent=1)


def device_puts(log):
    """The device IDs of the device PUTs in LOG, with their status."""
    out = []
    with open(log, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = LINE.search(line)
            if m and m.group(1) == 'PUT' and m.group(2).startswith(DEVICE_PATH):
                out.append((urllib.parse.unquote(m.group(2)[len(DEVICE_PATH):]), int(m.group(3))))
    return out


def puts(log):
    print(len(device_puts(log)))


def durable(state, log):
    try:
        with open(state, encoding='utf-8') as f:
            data = json.load(f)
        held = data['collections'][COLLECTION]['devices']
    except (OSError, ValueError, KeyError, TypeError) as e:
        print('the state file %s is not valid after SIGKILL: %s' % (state, e))
        return 1
    acked = {i for i, status in device_puts(log) if 200 <= status < 300}
    missing = sorted(acked - set(held))
    if missing:
        print('%d of the %d device writes answered before SIGKILL are not in the state file: %s'
              % (len(missing), len(acked), ', '.join(missing[:5])))
        return 1
    print('the state file is valid JSON and holds all %d device writes answered before SIGKILL (%d devices)'
          % (len(acked), len(held)))
    return 0


def main(argv):
    cmds = {'inventory': (inventory, 2), 'durable': (durable, 2), 'puts': (puts, 1)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        sys.exit(__doc__)
    fn, dummy = cmds[argv[1]]
    return fn(*argv[2:]) or 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
