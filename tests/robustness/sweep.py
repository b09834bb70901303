#!/usr/bin/python3
"""sweep.py SECRETS FILE...: look for secrets in captured output.

SECRETS is a file (keep it 0600) of secrets, one per line, each optionally
preceded by a label and a tab ("api token<TAB>..."). Every FILE is searched
for each secret whole and for any piece of it of PIECE (12) characters or
more, so that a secret cut short (an error page truncated in the middle of
an echoed header) or split over two lines is found too. Prints one line per
file and secret found, with the label, the count and the first offset,
never the secret itself; the last line sums up. Exits 1 when anything was
found, 2 on a usage error.

As a module: sweep(secrets, paths) -> list of findings.
"""

import sys

PIECE = 12


def read_secrets(path):
    out = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip():
                continue
            label, dummy, secret = line.rpartition('\t')
            out.append((label or 'secret %d' % n, secret.strip()))
    return out


def find(text, secret):
    """(whole, pieces, first): how often secret occurs whole, at how many
    places a piece of it remains once the whole occurrences are masked, and
    the offset of the first of either (-1 when none)."""
    whole = text.count(secret)
    offsets = [text.find(secret)] if whole else []
    rest = text.replace(secret, '\0' * len(secret))
    starts = set()
    for i in range(len(secret) - PIECE + 1):
        w = secret[i:i + PIECE]
        j = rest.find(w)
        while j >= 0:
            starts.add(j - i)  # where the secret would start
            offsets.append(j)
            j = rest.find(w, j + 1)
    return whole, len(starts), min(offsets) if offsets else -1


def sweep(secrets, paths):
    found = []
    for path in paths:
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError as e:
            found.append((path, 'unreadable', 0, 0, str(e)))
            continue
        for label, secret in secrets:
            whole, pieces, first = find(text, secret)
            if whole or pieces:
                found.append((path, label, whole, pieces, first))
    return found


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    secrets = read_secrets(argv[1])
    if not secrets:
        print('sweep.py: no secret in %s' % argv[1], file=sys.stderr)
        return 2
    found = sweep(secrets, argv[2:])
    for path, label, whole, pieces, first in found:
        print('FOUND %s in %s: %s whole, %s pieces of %d+ characters, first at offset %s'
              % (label, path, whole, pieces, PIECE, first))
    print('%d secrets searched in %d files: %s' % (len(secrets), len(argv) - 2,
                                                   'none found' if not found else '%d findings' % len(found)))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
