#!/usr/bin/python3
"""fleet.py N PREFIX [TAG]: print, as JSON, a list of N devices for the
devices module: instance_id a well-formed TPM EK URI, urn:ek:sha256: and the
base64 of SHA-256 over "PREFIX-<i>" (so IDs hold '+' and '/' as real ones
do), and data {hostname: PREFIX-<i>, rack: i % 20, tag: TAG}."""

import base64
import hashlib
import json
import sys


def uri(name):
    return 'urn:ek:sha256:' + base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def main(n, prefix, tag='v1'):
    out = []
    for i in range(int(n)):
        name = '%s-%d' % (prefix, i)
        out.append({'instance_id': uri(name), 'data': {'hostname': name, 'rack': i % 20, 'tag': tag}})
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main(*sys.argv[1:])
