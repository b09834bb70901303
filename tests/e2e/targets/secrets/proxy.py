#!/usr/bin/python3
"""proxy.py CERT KEY UPSTREAM PORTFILE: an HTTPS front for the simulator, and
an API that echoes requests back, for the secrets target.

Listens on a free port of 127.0.0.1 with TLS (CERT and KEY, PEM), writes the
port to PORTFILE once it listens, and serves until killed:

  /echo-json/...  400 with {"message": "..."} that quotes the request line
                  and every header, Authorization included, as a careless
                  API or proxy would;
  /echo-html/...  502 with an HTML page quoting them, placed so that the
                  bearer token straddles the 200th character of the body,
                  where a client that shortens error pages would cut it;
  anything else   forwarded to UPSTREAM (http://HOST:PORT, no path), the
                  answer passed back.

Its log (stderr) has the request line and status only.
"""

import http.client
import http.server
import json
import os
import socketserver
import ssl
import sys
import urllib.parse

HOP = {'connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length'}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    upstream = None

    def _body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def _send(self, status, ctype, body, headers=()):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _echo(self):
        return '%s %s; headers: %s' % (self.command, self.path,
                                       '; '.join('%s: %s' % (k, v) for k, v in self.headers.items()))

    def _handle(self):
        body = self._body()
        if self.path.startswith('/echo-json/'):
            msg = json.dumps({'message': 'cannot handle this request: ' + self._echo()}).encode()
            self._send(400, 'application/json', msg)
            return
        if self.path.startswith('/echo-html/'):
            auth = self.headers.get('Authorization', '')
            # The token's middle at character 200 of the page.
            head = '<html><body><h1>502 Bad Gateway</h1><pre>'
            pad = max(0, 200 - len(head) - len('Authorization: ') - len(auth) // 2)
            page = head + ' ' * pad + 'Authorization: ' + auth + '\n' + self._echo() + '</pre></body></html>\n'
            self._send(502, 'text/html', page.encode())
            return
        u = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self._send(502, 'text/plain', ('upstream: %s' % e.__class__.__name__).encode())
            return
        finally:
            conn.close()
        self._send(resp.status, resp.getheader('Content-Type') or 'application/octet-stream', data,
                   [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != 'content-type'])

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle

    def log_message(self, fmt, *args):
        # Request line and status only: never a header.
        sys.stderr.write('%s %s\n' % (self.log_date_time_string(), fmt % args))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    cert, key, upstream, portfile = argv[1:]
    Handler.upstream = upstream
    srv = Server(('127.0.0.1', 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = portfile + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.replace(tmp, portfile)
    srv.serve_forever()


if __name__ == '__main__':
    main(sys.argv)
