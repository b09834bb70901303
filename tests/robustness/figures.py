#!/usr/bin/python3
"""figures.py DIR [LOG...]: the robustness figures of one load scenario.

DIR is what tests/e2e/targets/load/scenario.sh left: the simulator's logs
(sim-1.log, killed with SIGKILL in round 1; sim-2.log, its restart), its
counters after each round (stats-N.json), its state at the kill, before
round 2 and after it, each round's module results (results-N.json), the
inventory, the token and the process-list samples (ps.txt). LOG... are the
playbook outputs. Prints a table and how each figure was obtained; exits 1
when a device was lost, duplicated, or a secret was found in any captured
output. With --json, prints the figures as JSON instead.
"""

import collections
import glob
import json
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402  (beside this file)

COLLECTION = 'e2e-load'
LINE = re.compile(r'\bmsg=request method=(\S+) path=(\S+) status=(\d+)(?:.*\bfault=(\S+))?')
ROUTES = {
    'GET dev': 'GET /collections/{slug}/instances/{id}',
    'PUT dev': 'PUT /collections/{slug}/instances/{id}',
    'GET coll': 'GET /device-collections/{slug}',
}
KINDS = ['429', '500', '502', '503', '504', 'hang', 'reset', 'truncate']


def load(path, default=None):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def route_of(method, path):
    """The simulator's route template of an API path of this scenario."""
    p = path[len('/api'):] if path.startswith('/api') else path
    if re.fullmatch(r'/collections/[^/]+/instances/[^/]+', p):
        return method + ' /collections/{slug}/instances/{id}'
    if re.fullmatch(r'/device-collections/[^/]+', p):
        return method + ' /device-collections/{slug}'
    return method + ' ' + p


def log_counts(path):
    """Stats as the simulator would have counted them, from its request log
    (for the instance killed with SIGKILL, whose counters died with it)."""
    out = {'requests': 0, 'faults': collections.Counter(), 'by_route': collections.Counter()}
    try:
        f = open(path, encoding='utf-8', errors='replace')
    except OSError:
        return out
    with f:
        for line in f:
            m = LINE.search(line)
            if not m or m.group(2).startswith('/api/_sim/'):
                continue
            out['requests'] += 1
            out['by_route'][route_of(m.group(1), m.group(2))] += 1
            if m.group(4):
                out['faults'][m.group(4)] += 1
    return out


def stats_counts(s):
    if not s:
        return {'requests': 0, 'faults': collections.Counter(), 'by_route': collections.Counter()}
    return {'requests': s['requests'],
            'faults': collections.Counter({k: v for k, v in s['faults']['by_kind'].items() if v}),
            'by_route': collections.Counter(s['by_route'])}


def minus(a, b):
    return {'requests': a['requests'] - b['requests'],
            'faults': a['faults'] - b['faults'],
            'by_route': a['by_route'] - b['by_route']}


def plus(a, b):
    return {'requests': a['requests'] + b['requests'],
            'faults': a['faults'] + b['faults'],
            'by_route': a['by_route'] + b['by_route']}


def right_hosts(state, hosts):
    """The hosts whose device STATE holds under the host's URI with exactly
    the host's data (the server's "smallstep:" keys aside)."""
    devices = ((state or {}).get('collections') or {}).get(COLLECTION, {}).get('devices') or {}
    out = set()
    for h, v in hosts.items():
        d = devices.get(v['load_uri'])
        if not d:
            continue
        own = {k: x for k, x in (d.get('data') or {}).items() if not k.startswith('smallstep:')}
        if own == {'hostname': h, 'rack': v['load_rack']}:
            out.add(h)
    return out


def duplicates(state, hosts):
    """Devices beyond one per host: several devices naming the same host,
    and devices that are no host's."""
    devices = ((state or {}).get('collections') or {}).get(COLLECTION, {}).get('devices') or {}
    per_host = collections.Counter()
    strangers = 0
    for d in devices.values():
        name = (d.get('data') or {}).get('hostname')
        if name in hosts:
            per_host[name] += 1
        else:
            strangers += 1
    return sum(n - 1 for n in per_host.values() if n > 1) + strangers


def acked_at_kill_missing(d, hosts):
    """Device writes the killed simulator answered with 2xx (its log says
    so: it logs a request after answering it) missing from the state file
    it left."""
    state = load(os.path.join(d, 'state-at-kill.json'))
    if state is None:
        return None
    held = ((state.get('collections') or {}).get(COLLECTION) or {}).get('devices') or {}
    prefix = '/api/collections/%s/instances/' % COLLECTION
    acked = set()
    with open(os.path.join(d, 'sim-1.log'), encoding='utf-8', errors='replace') as f:
        for line in f:
            m = LINE.search(line)
            if m and m.group(1) == 'PUT' and m.group(2).startswith(prefix) and m.group(3).startswith('2'):
                acked.add(urllib.parse.unquote(m.group(2)[len(prefix):]))
    by_uri = {v['load_uri']: h for h, v in hosts.items()}
    return {by_uri.get(i, i) for i in acked - set(held)}


def secrets_found(d, logs):
    """Places in every captured output that hold the API token, whole or a
    piece of 12 characters or more (sweep.py): the playbook logs, the
    simulator's logs, the process-list samples, the results and the states
    and counters kept. DIR/token and DIR/auth.header hold it by design and
    are not output."""
    with open(os.path.join(d, 'token'), encoding='utf-8') as f:
        secrets = [('API token', f.read().strip())]
    files = list(logs)
    for pat in ('sim-*.log', 'sim.out', 'ps.txt', 'results-*.json', 'stats-*.json', 'state*.json', 'kill.txt'):
        files += sorted(glob.glob(os.path.join(d, pat)))
    found = {path: whole + pieces for path, dummy_label, whole, pieces, dummy_first in sweep.sweep(secrets, files)}
    return sum(found.values()), found, len(files)


def main(argv):
    as_json = '--json' in argv
    args = [a for a in argv[1:] if a != '--json']
    if not args:
        sys.exit(__doc__)
    d, logs = args[0], args[1:]
    hosts = load(os.path.join(d, 'inventory.json'))['all']['children']['load']['hosts']
    results = {n: load(os.path.join(d, 'results-%d.json' % n), {}) for n in (1, 2, 3)}
    stats = {n: stats_counts(load(os.path.join(d, 'stats-%d.json' % n))) for n in (1, 2, 3)}

    # Requests and faults by round. The first simulator was killed: its
    # share comes from its request log. The second one's counters are read
    # after each round; its log, complete since it was stopped cleanly,
    # must agree with them.
    first = log_counts(os.path.join(d, 'sim-1.log'))
    second_log = log_counts(os.path.join(d, 'sim-2.log'))
    rounds = {1: plus(first, stats[1]), 2: minus(stats[2], stats[1]), 3: minus(stats[3], stats[2])}
    total = plus(first, stats[3])
    log_agrees = second_log['requests'] == stats[3]['requests'] and second_log['faults'] == stats[3]['faults']

    def failed(n):
        return {h for h, r in results[n].items() if r.get('failed')}

    def changed(n):
        return {h for h, r in results[n].items() if r.get('changed') and not r.get('failed')}

    # Retries, two ways. (a) Tasks that failed report how many tries their
    # last request took (failure.tries); each try past the first is a retry.
    # (b) Requests sent minus logical requests: what the same outcome costs
    # without faults. Per host, an unchanged device is one GET of the
    # device; a registration is that GET, a GET of the collection and the
    # PUT. The collection play's own requests are taken from round 3 (no
    # faults, nothing to change). Exact for round 2 (no outage, no task
    # failed, so also every fault injected there must have been retried
    # once); round 1's refused tries never reached the simulator and its
    # in-flight requests at the kill were never logged, so only (a) is
    # given for it.
    retries_failed = {n: sum(max(0, (r.get('failure') or {}).get('tries', 1) - 1)
                             for r in results[n].values() if r.get('failed')) for n in (1, 2, 3)}
    coll_play = collections.Counter({k: v for k, v in rounds[3]['by_route'].items()
                                     if k not in (ROUTES['GET dev'], ROUTES['PUT dev'])})
    logical2 = collections.Counter(coll_play)
    logical2[ROUTES['GET dev']] += len(hosts)
    logical2[ROUTES['GET coll']] += len(changed(2))
    logical2[ROUTES['PUT dev']] += len(changed(2))
    retries2 = rounds[2]['requests'] - sum(logical2.values())
    faults2 = sum(rounds[2]['faults'].values())

    # Devices lost: writes the killed simulator had answered but its state
    # file lacks; hosts whose task succeeded in round 1 but whose device was
    # not right after the restart; hosts whose device is not right after
    # the converging round.
    lost_kill = acked_at_kill_missing(d, hosts)
    ok1 = set(results[1]) - failed(1)
    lost_acked = ok1 - right_hosts(load(os.path.join(d, 'state-before-2.json')), hosts)
    after2 = load(os.path.join(d, 'state-after-2.json'))
    lost_final = set(hosts) - right_hosts(after2, hosts)
    lost = (lost_kill if lost_kill is not None else set(hosts)) | lost_acked | lost_final
    dups = duplicates(after2, hosts)
    secrets, secret_files, scanned = secrets_found(d, logs)

    refused1 = sum(1 for h in failed(1) if 'connection refused' in results[1][h].get('msg', ''))
    fig = {
        'hosts': len(hosts),
        'requests_sent': {'run1': rounds[1]['requests'], 'run2': rounds[2]['requests'],
                          'run3': rounds[3]['requests'], 'total': total['requests']},
        'faults_injected': {'run1': dict(rounds[1]['faults']), 'run2': dict(rounds[2]['faults']),
                            'run3': dict(rounds[3]['faults']), 'total': dict(total['faults'])},
        'retries_in_failed_tasks': {'run1': retries_failed[1], 'run2': retries_failed[2], 'run3': retries_failed[3]},
        'retries_run2': {'requests': rounds[2]['requests'], 'logical': sum(logical2.values()),
                         'retries': retries2, 'faults': faults2},
        'tasks_failed': {'run1': len(failed(1)), 'run1_refused': refused1, 'run2': len(failed(2)), 'run3': len(failed(3))},
        'tasks_changed': {'run1': len(changed(1)), 'run2': len(changed(2)), 'run3': len(changed(3))},
        'devices_lost': len(lost),
        'devices_lost_detail': {'answered_before_kill_missing_after': None if lost_kill is None else len(lost_kill),
                                'acknowledged_in_run1_missing_before_run2': len(lost_acked),
                                'missing_after_run2': len(lost_final)},
        'duplicate_devices': dups,
        'secrets_found': secrets,
        'secrets_files': secret_files,
        'files_scanned': scanned,
        'log_agrees_with_counters': log_agrees,
        'seconds': int(open(os.path.join(d, 'seconds')).read()) if os.path.exists(os.path.join(d, 'seconds')) else None,
    }
    bad = fig['devices_lost'] or fig['duplicate_devices'] or fig['secrets_found']
    if as_json:
        json.dump(fig, sys.stdout, indent=1)
        print()
        return 1 if bad else 0

    def kinds(c):
        return ', '.join('%s %d' % (k, c[k]) for k in KINDS if c.get(k)) or '-'

    rows = [
        ('requests sent (received by the simulator)', rounds[1]['requests'], rounds[2]['requests'], rounds[3]['requests'], total['requests']),
        ('faults injected', sum(rounds[1]['faults'].values()), faults2, sum(rounds[3]['faults'].values()), sum(total['faults'].values())),
    ]
    rows += [('  ' + k, rounds[1]['faults'][k], rounds[2]['faults'][k], rounds[3]['faults'][k], total['faults'][k])
             for k in KINDS if total['faults'][k]]
    rows += [
        ('retries made (a): tries past the first, failed tasks', retries_failed[1], retries_failed[2], retries_failed[3],
         sum(retries_failed.values())),
        ('retries made (b): requests sent - logical requests', '', retries2, rounds[3]['requests'] - sum(coll_play.values()) - len(hosts), ''),
        ('tasks failed', len(failed(1)), len(failed(2)), len(failed(3)), len(failed(1)) + len(failed(2)) + len(failed(3))),
        ('tasks changed', len(changed(1)), len(changed(2)), len(changed(3)), ''),
        ('devices lost (must be 0)', '', '', '', len(lost)),
        ('duplicate devices (must be 0)', '', '', '', dups),
        ('secrets found in captured output (must be 0)', '', '', '', secrets),
    ]
    w = max(len(r[0]) for r in rows)
    print('%-*s %7s %7s %7s %7s' % (w, 'load scenario: %d hosts, forks 20' % len(hosts), 'run 1', 'run 2', 'run 3', 'total'))
    print('-' * (w + 32))
    for r in rows:
        print('%-*s %7s %7s %7s %7s' % ((w,) + r))
    print()
    print('How the figures were obtained:')
    print('- run 1: 10%% faults; the simulator got SIGKILL mid-run (%s) and was restarted on the same port and state;'
          % open(os.path.join(d, 'kill.txt')).read().strip())
    print('  run 2: faults still on, must converge; run 3: faults off, must change nothing and write nothing.')
    print('- requests, faults: the simulator\'s counters (/_sim/stats) after each run; the killed instance\'s share')
    print('  is counted from its request log (its counters died with it; requests in flight at the kill are not')
    print('  in it). The restarted instance\'s log %s its counters.'
          % ('agrees with' if log_agrees else 'DOES NOT agree with'))
    print('- retries (a): a task that fails reports the tries of its last request (failure.tries); each try past')
    print('  the first is a retry. Retries that then succeeded leave no trace in a result, hence (b).')
    print('- retries (b): requests sent minus the logical requests of the same outcome without faults: per host')
    print('  1 (GET of the device) when unchanged, 3 (GET device, GET collection, PUT) when registered, plus the')
    print('  collection play\'s requests as measured in run 3. Run 2 (%d sent, %d logical): %d retries for %d faults'
          % (rounds[2]['requests'], sum(logical2.values()), retries2, faults2))
    print('  injected; no task failed in it, so each fault must have been retried exactly once: %s.'
          % ('they agree' if retries2 == faults2 and not failed(2) else 'THEY DO NOT AGREE'))
    print('  Not given for run 1: refused tries during the outage never reached the simulator.')
    print('- tasks failed in run 1: %d, %d of them on a refused connection while the simulator was down.'
          % (len(failed(1)), refused1))
    print('- devices lost: %s device writes answered before the SIGKILL but missing from the state file it left,'
          % ('?' if lost_kill is None else len(lost_kill)))
    print('  %d hosts whose run 1 task succeeded but whose device was not right after the restart, %d hosts whose'
          % (len(lost_acked), len(lost_final)))
    print('  device is not held under its URI with its exact data after run 2 (from /_sim/state).')
    print('- duplicate devices: devices beyond one per host after run 2, and devices that are no host\'s.')
    print('- secrets: places holding the API token, whole or a piece of 12+ characters (sweep.py), in %d files:'
          % scanned)
    print('  the playbook outputs (-vvv for runs 1 and 2), the simulator\'s logs, %d samples of `ps -eo args`,'
          % open(os.path.join(d, 'ps.txt'), errors='replace').read().count('\n--\n'))
    print('  the results and the states and counters kept.')
    for path, n in secret_files.items():
        print('  FOUND %d in %s' % (n, path))
    if fig['seconds'] is not None:
        print('- the three runs took %ds.' % fig['seconds'])
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
