#!/usr/bin/python3
"""Turn the output of one ansible-playbook run into test result lines.

Every task whose name starts with "check: " is a test; it passes on a host
when it reports ok there and fails when it reports failed there. Prints one
line per check and host, "PASS <target>: <check> [host]" or "FAIL ...", then
as the last line "<passed> <failed>". When ansible-playbook failed (rc != 0)
but no check did, the first task failure that was not ignored is reported,
so an unexpected module error never passes silently.

Usage: checks.py TARGET LOG RC
"""

import re
import sys

TASK = re.compile(r'^(?:TASK|RUNNING HANDLER) \[(.*)\] \*+$')
RESULT = re.compile(r'^(ok|changed|fatal|failed|skipping): \[([^\]]+)\]')
PREFIX = 'check: '
MAX_DETAIL = 25


def read_result(lines, i):
    """The result printed from line i on: the line itself and, when it opens a
    multi-line JSON object (verbose output), the lines up to its close."""
    out = [lines[i]]
    if lines[i].endswith('{'):
        for line in lines[i + 1:i + 400]:
            out.append(line)
            if line.startswith('}'):
                break
    return out


def main(target, log, rc):
    with open(log, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    results = {}  # (check, host) -> PASS | FAIL | SKIP, in the order first seen
    details = {}
    fatals = []  # failures of any task that were not ignored
    task = None
    for i, line in enumerate(lines):
        m = TASK.match(line)
        if m:
            task = m.group(1)
            continue
        if line == '...ignoring' and fatals and fatals[-1][3] == i - 1:
            fatals.pop()
            continue
        m = RESULT.match(line)
        if not m or task is None:
            continue
        status, host = m.group(1), m.group(2)
        failed = status in ('fatal', 'failed')
        if failed:
            detail = read_result(lines, i)
            end = i + len(detail) - 1
            fatals.append((task, host, detail, end))
        if not task.startswith(PREFIX):
            continue
        key = (task[len(PREFIX):], host)
        if failed:
            results[key] = 'FAIL'
            details[key] = detail
        elif status == 'skipping':
            results.setdefault(key, 'SKIP')
        else:
            results.setdefault(key, 'PASS')

    # Checks in the order they ran, the hosts of each in name order.
    order = {}
    for name, dummy in results:
        order.setdefault(name, len(order))
    keys = sorted(results, key=lambda k: (order[k[0]], k[1]))
    passed = failed = 0
    for name, host in keys:
        res = results[(name, host)]
        print('%s %s: %s [%s]' % (res, target, name, host))
        if res == 'PASS':
            passed += 1
        elif res == 'FAIL':
            failed += 1
            for d in details[(name, host)][:MAX_DETAIL]:
                print('     ' + d[:300])
    if rc != 0 and failed == 0:
        failed += 1
        if fatals:
            t, h, detail, dummy = fatals[0]
            print('FAIL %s: ansible-playbook stopped at task "%s" [%s]' % (target, t, h))
            for d in detail[:MAX_DETAIL]:
                print('     ' + d[:300])
        else:
            print('FAIL %s: ansible-playbook exited with %d' % (target, rc))
    elif rc == 0 and not results:
        passed += 1
        print('PASS %s: playbook ran without errors' % target)
    print('%d %d' % (passed, failed))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
