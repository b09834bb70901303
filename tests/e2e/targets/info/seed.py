#!/usr/bin/python3
"""Register COUNT devices in a collection of the simulator, fast: one
keep-alive connection, one PUT per device. For the paging test of
device_info, which needs more devices than one page (1000) holds.

Usage: seed.py URL AUTH_HEADER_FILE COLLECTION COUNT
The token is read from the header file (mode 0600), never taken as an
argument. Device i gets the ID bulk-NNNN and the data {bulk: true, n: i}.
"""

import http.client
import json
import sys
import urllib.parse


def main(url, header_file, collection, count):
    with open(header_file) as f:
        name, dummy, value = f.read().strip().partition(': ')
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    for i in range(count):
        path = '%s/collections/%s/instances/bulk-%04d' % (u.path, urllib.parse.quote(collection, safe=''), i)
        body = json.dumps({'data': {'bulk': True, 'n': i}})
        conn.request('PUT', path, body=body, headers={name: value, 'Content-Type': 'application/json',
                                                      'X-Smallstep-Api-Version': '2023-03-01'})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status // 100 != 2:
            sys.exit('seed.py: PUT %s: HTTP %d %s' % (path, resp.status, data[:200].decode(errors='replace')))
    print(count)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
