#!/usr/bin/python3
"""The fleet-scale benchmark behind `make bench` (tests/bench/run.sh).

Against the Smallstep API simulator on 127.0.0.1 (state in memory, so that
the figures are the clients' and not the disk's), for N = 100, 1,000 and
5,000 devices, it times whole ansible-playbook runs, start-up included, of

  (a) one stepfleet.smallstep.devices task,
  (b) a loop of stepfleet.smallstep.device tasks,
  (c) a loop of ansible.builtin.uri PUT tasks, as operators write them today,

each on a fresh collection, first run and idempotent rerun ((b) and (c) at
N = 100 and 1,000 only: they grow linearly), with the requests and writes
the simulator counted (/_sim/stats) and the speed-up against (c). Then the
peak memory (max RSS) of the devices and device module processes, run
directly on an args file; the size and start-up time (median of 50 runs on
an args file that fails validation at once) of every module binary; and the
simulator's own throughput and p50/p99 latency with 16 concurrent clients
(tests/bench/load).

Every ansible-playbook run is bounded by BENCH_TIMEOUT seconds (default
1800); a run that takes longer is reported as such. Nothing is asserted:
the targets of issue 5 are read from the table. Environment: BENCH_N (e.g.
"100 1000"), BENCH_LOOP_N (the N at which (b) and (c) run), BENCH_KEEP=1
keeps the work directory.

Usage: bench.py ROOT SIM_BINARY LOAD_BINARY
"""

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT, SIM, LOAD = sys.argv[1:4]
NS = [int(n) for n in os.environ.get('BENCH_N', '100 1000 5000').split()]
LOOP_NS = [int(n) for n in os.environ.get('BENCH_LOOP_N', '100 1000').split()]
TIMEOUT = int(os.environ.get('BENCH_TIMEOUT', '1800'))
ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(platform.machine(), platform.machine())
FLEET_PY = os.path.join(ROOT, 'tests', 'e2e', 'targets', 'devices', 'fleet.py')

WORK = tempfile.mkdtemp(prefix='ss-bench.')
os.chmod(WORK, 0o700)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- the simulator ------------------------------------------------------------

TOKEN = os.urandom(24).hex()
with open(os.path.join(WORK, 'token'), 'w', opener=lambda p, f: os.open(p, f, 0o600)) as f:
    f.write(TOKEN)
sim = subprocess.Popen([SIM, '--listen', '127.0.0.1:0', '--token-file', os.path.join(WORK, 'token'),
                        '--url-file', os.path.join(WORK, 'url')],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=open(os.path.join(WORK, 'sim.log'), 'w'))
for _ in range(200):
    if os.path.exists(os.path.join(WORK, 'url')) and os.path.getsize(os.path.join(WORK, 'url')) > 0:
        break
    if sim.poll() is not None:
        sys.exit('bench: the simulator exited; see ' + os.path.join(WORK, 'sim.log'))
    time.sleep(0.05)
URL = open(os.path.join(WORK, 'url')).read().strip()


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method, headers={
        'Authorization': 'Bearer ' + TOKEN, 'X-Smallstep-Api-Version': '2023-03-01',
        'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def stats():
    return api('GET', '/_sim/stats')


def make_collection(slug):
    api('PUT', '/device-collections/' + slug, {'slug': slug, 'displayName': slug, 'deviceType': 'tpm', 'deviceTypeConfiguration': {}})


def fleet_file(n):
    path = os.path.join(WORK, 'fleet-%d.json' % n)
    if not os.path.exists(path):
        with open(path, 'w') as f:
            subprocess.run([sys.executable, FLEET_PY, str(n), 'bench'], stdout=f, check=True)
    return path


# --- Ansible --------------------------------------------------------------------

os.makedirs(os.path.join(WORK, 'collections', 'ansible_collections', 'stepfleet'))
os.symlink(ROOT, os.path.join(WORK, 'collections', 'ansible_collections', 'stepfleet', 'smallstep'))
open(os.path.join(WORK, 'ansible.cfg'), 'w').close()
ENV = dict(os.environ,
           ANSIBLE_COLLECTIONS_PATH=os.path.join(WORK, 'collections'),
           ANSIBLE_CONFIG=os.path.join(WORK, 'ansible.cfg'),
           ANSIBLE_LOCAL_TEMP=os.path.join(WORK, 'tmp-local'),
           ANSIBLE_REMOTE_TEMP=os.path.join(WORK, 'tmp-remote'),
           ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCALHOST_WARNING='0',
           ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_NOCOLOR='1',
           ANSIBLE_STDOUT_CALLBACK='default',
           SMALLSTEP_API_URL=URL, SMALLSTEP_API_TOKEN=TOKEN)

PLAY_HEAD = '''- name: bench
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    devs: "{{ lookup('ansible.builtin.file', fleet) | from_json }}"
  tasks:
'''

PLAYBOOKS = {
    'a': PLAY_HEAD + '''    - name: Register the fleet with one task
      stepfleet.smallstep.devices:
        collection: "{{ coll }}"
        device_type: tpm
        devices: "{{ devs }}"
''',
    'b': PLAY_HEAD + '''    - name: Register each device with its own task
      stepfleet.smallstep.device:
        collection: "{{ coll }}"
        device_type: tpm
        instance_id: "{{ item.instance_id }}"
        data: "{{ item.data }}"
      loop: "{{ devs }}"
      loop_control:
        label: "{{ item.instance_id }}"
''',
    # What an operator writes today: one PUT per device with the uri module,
    # the ID escaped as one path segment, the token from the environment.
    'c': PLAY_HEAD + '''    - name: Register each device with a PUT
      ansible.builtin.uri:
        url: "{{ api_url }}/collections/{{ coll }}/instances/{{ item.instance_id | urlencode | replace('/', '%2F') }}"
        method: PUT
        headers:
          Authorization: "Bearer {{ lookup('ansible.builtin.env', 'SMALLSTEP_API_TOKEN') }}"
          X-Smallstep-Api-Version: "2023-03-01"
        body_format: json
        body:
          data: "{{ item.data }}"
        status_code: 200
      vars:
        api_url: "{{ lookup('ansible.builtin.env', 'SMALLSTEP_API_URL') }}"
      loop: "{{ devs }}"
      loop_control:
        label: "{{ item.instance_id }}"
''',
}
NAMES = {'a': '(a) devices, one task', 'b': '(b) device, loop', 'c': '(c) uri PUT, loop'}
for k, text in PLAYBOOKS.items():
    with open(os.path.join(WORK, 'play-%s.yml' % k), 'w') as f:
        f.write(text)


def playbook(method, n, run, coll):
    """Run one playbook; return (seconds or None on timeout or failure, note, stats delta)."""
    logf = os.path.join(WORK, 'log-%s-%d-%s.txt' % (method, n, run))
    before = stats()
    t0 = time.monotonic()
    note = ''
    try:
        with open(logf, 'w') as out:
            rc = subprocess.run(['ansible-playbook', '-i', 'localhost,', '-e', 'coll=' + coll, '-e', 'fleet=' + fleet_file(n),
                                 os.path.join(WORK, 'play-%s.yml' % method)],
                                env=ENV, cwd=WORK, stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False).returncode
        secs = time.monotonic() - t0
        if rc != 0:
            note = 'failed (rc %d, see %s)' % (rc, logf)
            secs = None
    except subprocess.TimeoutExpired:
        secs, note = None, 'timeout after %ds' % TIMEOUT
    after = stats()
    return secs, note, {'requests': after['requests'] - before['requests'], 'writes': after['writes'] - before['writes']}


def peak_rss_kib(argv):
    """Max RSS of one child process in KiB, through getrusage in a fresh
    interpreter so that no other child counts."""
    code = ('import resource, subprocess, sys\n'
            'subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)\n'
            'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n')
    out = subprocess.run([sys.executable, '-c', code] + argv, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def module_args(extra):
    path = os.path.join(WORK, 'args-%d.json' % time.monotonic_ns())
    args = {'api_url': URL, 'api_token': TOKEN, '_ansible_check_mode': False, '_ansible_diff': False}
    args.update(extra)
    with open(path, 'w', opener=lambda p, f: os.open(p, f, 0o600)) as f:
        json.dump(args, f)
    return path


def binary(module):
    return os.path.join(ROOT, 'plugins', 'bin', '%s_linux_%s' % (module, ARCH))


def main():
    # --- the runs -------------------------------------------------------------------

    rows = []
    log('bench: simulator at %s (state in memory); work directory %s' % (URL, WORK))
    for n in NS:
        for method in 'abc':
            if method != 'a' and n not in LOOP_NS:
                continue
            coll = 'bench-%s-%d' % (method, n)
            make_collection(coll)
            for run in ('first', 'rerun'):
                log('bench: N=%d %s %s ...' % (n, NAMES[method], run))
                secs, note, delta = playbook(method, n, run, coll)
                log('bench:   %s' % ('%.1fs' % secs if secs is not None else note))
                rows.append({'n': n, 'method': method, 'run': run, 'secs': secs, 'note': note, **delta})

    mem = []
    for n in NS:
        coll = 'bench-mem-%d' % n
        make_collection(coll)
        devs = json.load(open(fleet_file(n)))
        for run in ('first', 'rerun'):
            args = module_args({'collection': coll, 'device_type': 'tpm', 'devices': devs})
            mem.append(('devices', n, run, peak_rss_kib([binary('devices'), args])))
    coll = 'bench-mem-one'
    make_collection(coll)
    one = json.load(open(fleet_file(100)))[0]
    for run in ('first', 'rerun'):
        args = module_args({'collection': coll, 'device_type': 'tpm', 'instance_id': one['instance_id'], 'data': one['data']})
        mem.append(('device', 1, run, peak_rss_kib([binary('device'), args])))

    bins = []
    bad = module_args({'bench_unknown_option': 1})
    for name in sorted(os.listdir(os.path.join(ROOT, 'plugins', 'bin'))):
        if not name.endswith('_linux_' + ARCH):
            continue
        path = os.path.join(ROOT, 'plugins', 'bin', name)
        times = []
        for dummy in range(50):
            t0 = time.perf_counter()
            subprocess.run([path, bad], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.perf_counter() - t0)
        bins.append((name[:-len('_linux_' + ARCH)], os.path.getsize(path), statistics.median(times)))

    log('bench: simulator under load (16 clients) ...')
    load = json.loads(subprocess.run([LOAD, '-url', URL, '-token-file', os.path.join(WORK, 'token'), '-clients', '16',
                                      '-duration', os.environ.get('BENCH_LOAD_DURATION', '5s')],
                                     capture_output=True, text=True, check=True).stdout)

    # --- the table ------------------------------------------------------------------

    cpu = ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    ansible_version = subprocess.run(['ansible-playbook', '--version'], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    print('Fleet-scale benchmark: %s, %d CPU (%s), %s; simulator on 127.0.0.1, state in memory' % (
        ansible_version, os.cpu_count(), cpu or platform.machine(), platform.platform()))
    print()
    print('Whole ansible-playbook runs (start-up included), each method on its own fresh collection')
    print('%6s  %-24s %-6s %10s %9s %7s  %s' % ('N', 'method', 'run', 'wall (s)', 'requests', 'writes', 'vs (c)'))
    ref = {(r['n'], r['run']): r['secs'] for r in rows if r['method'] == 'c'}
    for r in rows:
        wall = '%.1f' % r['secs'] if r['secs'] is not None else '-'
        c = ref.get((r['n'], r['run']))
        if r['method'] == 'c':
            ratio = '1.0x'
        elif c and r['secs']:
            ratio = '%.1fx faster' % (c / r['secs']) if c >= r['secs'] else '%.1fx slower' % (r['secs'] / c)
        else:
            ratio = '(c) not run' if c is None else 'n/a'
        print('%6d  %-24s %-6s %10s %9d %7d  %s%s' % (r['n'], NAMES[r['method']], r['run'], wall, r['requests'], r['writes'],
                                                      ratio, ('  ' + r['note']) if r['note'] else ''))
    print()
    print('Targets of issue 5 (read here, not asserted)')
    secs = {(r['n'], r['method'], r['run']): r['secs'] for r in rows}
    WHICH = {'first': 'first run', 'rerun': 'rerun'}

    def target(label, value, goal, ok):
        print('  %-50s %-10s %-10s %s' % (label, value, goal, 'met' if ok else 'MISSED'))

    def speedup(x, run):
        a, c = secs.get((1000, x, run)), secs.get((1000, 'c', run))
        return c / a if a and c else None
    for run, goal in (('first', 30), ('rerun', 50)):
        x = speedup('a', run)
        if x is not None:
            target('N=1000: (a) faster than (c), %s' % WHICH[run], '%.1fx' % x, '>= %dx' % goal, x >= goal)
    for run in ('first', 'rerun'):
        x = speedup('b', run)
        if x is not None:
            target('N=1000: (b) no slower than (c), %s' % WHICH[run], '%.1fx' % x, '>= 1.0x', x >= 1)
    for module, n, run, kib in mem:
        if module == 'devices' and n == 5000:
            target('N=5000: devices module peak memory, %s' % WHICH[run], '%.1f MiB' % (kib / 1024), '< 64 MiB', kib < 64 * 1024)
    print()
    print('Peak memory (max RSS) of the module process, run directly on an args file')
    print('%-9s %6s %-6s %10s' % ('module', 'N', 'run', 'MiB'))
    for module, n, run, kib in mem:
        print('%-9s %6d %-6s %10.1f' % (module, n, run, kib / 1024))
    print()
    print('Module binaries (linux/%s): size and start-up (median of 50 runs failing validation)' % ARCH)
    print('%-24s %10s %12s' % ('module', 'MiB', 'start-up ms'))
    for name, size, secs in bins:
        print('%-24s %10.2f %12.1f' % (name, size / 1048576, secs * 1000))
    print()
    print('Simulator under load: %d concurrent clients, %.0f s per phase' % (load['put']['clients'], load['put']['duration_ms'] / 1000))
    print('%-5s %10s %8s %10s %9s %9s' % ('phase', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms'))
    for k in ('put', 'get'):
        p = load[k]
        print('%-5s %10d %8d %10.0f %9.2f %9.2f' % (k.upper(), p['requests'], p['errors'], p['per_second'], p['p50_ms'], p['p99_ms']))


try:
    main()
finally:
    sim.terminate()
    try:
        sim.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sim.kill()
    if os.environ.get('BENCH_KEEP') == '1':
        log('bench: work directory kept: ' + WORK)
    else:
        shutil.rmtree(WORK, ignore_errors=True)
