#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that the modules' documentation matches their Go argument specs.

Run from the repository root after `make build`:

    python3 tests/docs/check_docs.py

For each module named in the Makefile it compares the options that
`ansible-doc --json` shows (doc fragments merged) with what the module's
binary prints for `--argspec`, recursively: names, type, required, default,
choices, aliases, elements and sub-options. Every option and sub-option,
at any depth, must have version_added. It also checks that
`ansible-doc -l stepfleet.smallstep` lists exactly those modules without a
warning, that each module of the `api` action group extends the
stepfleet.smallstep.api doc fragment (and no other module does), and that
options the module treats as no_log are described as secret.

ansible-doc runs against a collections path made in a temporary directory,
with a symlink to this repository, so nothing needs installing. Only the
standard library is used here; the raw docs and meta/runtime.yml are read by
a helper that runs under ansible-doc's own interpreter, with ansible's
libraries. The last line of output is "N passed, N failed"; the exit code is
1 when a check failed.
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

NAMESPACE, NAME = 'stepfleet', 'smallstep'
COLLECTION = NAMESPACE + '.' + NAME
API_FRAGMENT = COLLECTION + '.api'
API_GROUP = 'api'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHES = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64'}

# Runs under ansible's interpreter: prints, as JSON, the doc fragments each
# module's DOCUMENTATION extends, the options each fragment declares, and
# the action groups of meta/runtime.yml.
RAW_DOCS_HELPER = r'''
import json, os, sys
from ansible.utils.plugin_docs import read_docstring
import yaml

root, modules = sys.argv[1], sys.argv[2:]
out = {"modules": {}, "fragments": {}, "action_groups": None}
for name in modules:
    path = os.path.join(root, "plugins", "modules", name + ".py")
    if not os.path.exists(path):
        out["modules"][name] = None
        continue
    doc = read_docstring(path)["doc"] or {}
    frags = doc.get("extends_documentation_fragment") or []
    if isinstance(frags, str):
        frags = [frags]
    out["modules"][name] = {"fragments": list(frags), "options": sorted((doc.get("options") or {}).keys())}
frag_dir = os.path.join(root, "plugins", "doc_fragments")
for f in sorted(os.listdir(frag_dir)) if os.path.isdir(frag_dir) else []:
    if not f.endswith(".py") or f.startswith("_"):
        continue
    ns = {}
    with open(os.path.join(frag_dir, f)) as fh:
        exec(compile(fh.read(), f, "exec"), ns)
    cls = ns.get("ModuleDocFragment")
    text = getattr(cls, "DOCUMENTATION", "") if cls else ""
    data = yaml.safe_load(text) or {}
    out["fragments"][f[:-3]] = sorted((data.get("options") or {}).keys())
runtime = os.path.join(root, "meta", "runtime.yml")
if os.path.exists(runtime):
    with open(runtime) as fh:
        out["action_groups"] = (yaml.safe_load(fh) or {}).get("action_groups") or {}
print(json.dumps(out))
'''


class Report(object):
    """Collects named checks and their problems."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems):
        if problems:
            self.failed += 1
            print('FAIL %s' % name)
            for p in problems:
                print('     - %s' % p)
        else:
            self.passed += 1
            print('ok   %s' % name)


def makefile_modules():
    """The modules `make modules` builds: API_MODULES and TARGET_MODULES."""
    with open(os.path.join(ROOT, 'Makefile')) as fh:
        text = fh.read()
    found = {}
    for var in ('API_MODULES', 'TARGET_MODULES'):
        m = re.search(r'^%s\s*:?=\s*(.*)$' % var, text, re.M)
        if not m:
            raise SystemExit('check_docs: cannot find %s in the Makefile; which modules should be checked?' % var)
        found[var] = m.group(1).split()
    return found['API_MODULES'] + found['TARGET_MODULES']


def host_binary(module):
    system = platform.system().lower()
    arch = ARCHES.get(platform.machine().lower(), platform.machine().lower())
    return os.path.join(ROOT, 'plugins', 'bin', '%s_%s_%s' % (module, system, arch))


def go_tool():
    return shutil.which('go') or next((p for p in ('/usr/local/go/bin/go',) if os.path.exists(p)), None)


def stale_sources(module, binary):
    """Go files of the module's own packages that are newer than its binary:
    then --argspec may describe an old spec. Empty when go is not at hand."""
    go = go_tool()
    if not go:
        return []
    res = subprocess.run([go, 'list', '-deps', '-f', '{{if not .Standard}}{{.Dir}}{{end}}', './modules-src/cmd/' + module],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, timeout=120, check=False)
    if res.returncode != 0:
        return []
    built = os.path.getmtime(binary)
    newer = []
    for d in res.stdout.decode().split():
        if not os.path.realpath(d).startswith(os.path.realpath(ROOT) + os.sep):
            continue
        for f in sorted(os.listdir(d)):
            p = os.path.join(d, f)
            if f.endswith('.go') and not f.endswith('_test.go') and os.path.getmtime(p) > built:
                newer.append(os.path.relpath(p, ROOT))
    return newer


def argspec(module):
    """The Go spec as the binary describes it, or (None, problem)."""
    binary = host_binary(module)
    if not os.path.exists(binary):
        return None, '%s is missing: run `make build` (or `make modules`) first' % os.path.relpath(binary, ROOT)
    try:
        res = subprocess.run([binary, '--argspec'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    except OSError as e:
        return None, 'cannot run %s: %s' % (binary, e)
    if res.returncode != 0:
        return None, '%s --argspec exited %d: %s' % (binary, res.returncode, res.stderr.decode(errors='replace').strip())
    try:
        return json.loads(res.stdout), None
    except ValueError as e:
        return None, '%s --argspec printed no JSON (%s): %r' % (binary, e, res.stdout[:200])


def same_value(a, b):
    """Equality that keeps bool apart from int (True == 1 in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(a) == sorted(b) and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def same_set(a, b):
    """Unordered comparison, as validate-modules compares choices and aliases."""
    return len(a) == len(b) and all(any(same_value(x, y) for y in b) for x in a) and all(any(same_value(x, y) for x in a) for y in b)


def as_list(v):
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def compare_options(spec, doc, where, problems):
    """Compare a Go spec's options with documented options, recursively."""
    spec = spec or {}
    doc = doc or {}
    for name in sorted(set(spec) - set(doc)):
        problems.append('%s%s: in the Go spec, not documented' % (where, name))
    for name in sorted(set(doc) - set(spec)):
        problems.append('%s%s: documented, not in the Go spec' % (where, name))
    for name in sorted(set(spec) & set(doc)):
        s, d = spec[name], doc[name] or {}
        path = where + name
        s_type, d_type = s.get('type', 'str'), d.get('type', 'str')
        if s_type != d_type:
            problems.append('%s: type is %s in Go, %s in the docs' % (path, s_type, d_type))
        s_req, d_req = bool(s.get('required', False)), bool(d.get('required', False))
        if s_req != d_req:
            problems.append('%s: required is %s in Go, %s in the docs' % (path, s_req, d_req))
        s_def, d_def = s.get('default'), d.get('default')
        if not same_value(s_def, d_def):
            problems.append('%s: default is %s in Go, %s in the docs' % (path, json.dumps(s_def), json.dumps(d_def)))
        for key in ('choices', 'aliases'):
            s_val, d_val = as_list(s.get(key)), as_list(d.get(key))
            if not same_set(s_val, d_val):
                problems.append('%s: %s are %s in Go, %s in the docs' % (path, key, json.dumps(s_val), json.dumps(d_val)))
        s_el, d_el = s.get('elements'), d.get('elements')
        if s_el != d_el:
            problems.append('%s: elements is %s in Go, %s in the docs' % (path, s_el, d_el))
        if s.get('no_log'):
            text = ' '.join(as_list(d.get('description'))).lower()
            if 'secret' not in text:
                problems.append('%s: no_log in Go, but its description does not say it is a secret' % path)
        s_sub, d_sub = s.get('options'), d.get('suboptions')
        if (s_sub is None) != (d_sub is None):
            problems.append('%s: %s sub-options in Go, %s in the docs' % (path, 'has' if s_sub is not None else 'no', 'has' if d_sub is not None else 'no'))
        elif s_sub is not None:
            compare_options(s_sub, d_sub, path + '.', problems)


def missing_version_added(options, where, problems):
    """Every option and sub-option, at any depth, says when it came."""
    for name in sorted(options or {}):
        d = options[name] or {}
        path = where + name
        if not d.get('version_added'):
            problems.append('%s: no version_added' % path)
        missing_version_added(d.get('suboptions'), path + '.', problems)


def run_ansible_doc(args, env, cwd):
    res = subprocess.run(['ansible-doc'] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, timeout=300, check=False)
    return res.returncode, res.stdout.decode(errors='replace'), res.stderr.decode(errors='replace')


def ansible_python():
    """The interpreter ansible-doc runs under, from its shebang line."""
    exe = shutil.which('ansible-doc')
    if not exe:
        raise SystemExit('check_docs: ansible-doc is not on PATH')
    with open(exe, 'rb') as fh:
        first = fh.readline().decode(errors='replace').strip()
    if first.startswith('#!'):
        parts = first[2:].split()
        if parts and os.path.basename(parts[0]) == 'env' and len(parts) > 1:
            return shutil.which(parts[1]) or parts[1]
        if parts:
            return parts[0]
    return sys.executable


def main():
    report = Report()
    modules = makefile_modules()
    tmp = tempfile.mkdtemp(prefix='check_docs.')
    try:
        ns_dir = os.path.join(tmp, 'ansible_collections', NAMESPACE)
        os.makedirs(ns_dir)
        link = os.path.join(ns_dir, NAME)
        os.symlink(ROOT, link)
        env = dict(os.environ)
        env['ANSIBLE_COLLECTIONS_PATH'] = tmp
        env.pop('ANSIBLE_COLLECTIONS_PATHS', None)
        env['ANSIBLE_NOCOLOR'] = '1'
        env['ANSIBLE_DEPRECATION_WARNINGS'] = 'true'
        print('checking %s at %s (modules: %s)' % (COLLECTION, ROOT, ', '.join(modules)))

        # ansible-doc -l: exactly these modules, nothing on stderr (2.14
        # warns there and drops a module whose docs it cannot read).
        rc, out, err = run_ansible_doc(['-l', '--json', COLLECTION], env, tmp)
        problems = []
        if rc != 0:
            problems.append('ansible-doc -l exited %d' % rc)
        if err.strip():
            problems.append('ansible-doc -l wrote to stderr: %s' % err.strip())
        try:
            listed = set(json.loads(out))
        except ValueError:
            listed = set()
            problems.append('ansible-doc -l --json printed no JSON: %r' % out[:200])
        expected = set('%s.%s' % (COLLECTION, m) for m in modules)
        for m in sorted(expected - listed):
            problems.append('%s is not listed' % m)
        for m in sorted(listed - expected):
            problems.append('%s is listed but is not a module the Makefile builds' % m)
        report.check('ansible-doc -l %s lists exactly %d modules, no warnings' % (COLLECTION, len(expected)), problems)

        raw = None
        res = subprocess.run([ansible_python(), '-c', RAW_DOCS_HELPER, ROOT] + modules,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp, timeout=120, check=False)
        if res.returncode == 0:
            raw = json.loads(res.stdout)
        else:
            report.check('read raw docs and meta/runtime.yml', ['helper failed: %s' % res.stderr.decode(errors='replace').strip()])
        groups = (raw or {}).get('action_groups') or {}
        api_group = [g for g in groups.get(API_GROUP, []) if isinstance(g, str)]
        fragment_options = set(((raw or {}).get('fragments') or {}).get('api') or [])
        if raw is not None and not fragment_options:
            report.check('doc fragment %s' % API_FRAGMENT, ['plugins/doc_fragments/api.py declares no options'])

        for module in modules:
            fqcn = '%s.%s' % (COLLECTION, module)
            rc, out, err = run_ansible_doc(['--json', '-t', 'module', fqcn], env, tmp)
            problems = []
            doc = None
            if rc != 0 or err.strip():
                problems.append('ansible-doc --json exited %d, stderr: %s' % (rc, err.strip() or '(empty)'))
            try:
                doc = json.loads(out)[fqcn]['doc']
            except (ValueError, KeyError, TypeError):
                problems.append('ansible-doc --json gave no doc for %s: %r' % (fqcn, out[:200]))
            if doc is not None:
                filename = os.path.realpath(doc.get('filename', ''))
                want = os.path.realpath(os.path.join(ROOT, 'plugins', 'modules', module + '.py'))
                if filename != want:
                    problems.append('ansible-doc read %s, not %s' % (doc.get('filename'), want))
                if doc.get('module') != module:
                    problems.append('DOCUMENTATION says module: %s' % doc.get('module'))
            report.check('%s: ansible-doc shows it, JSON parses, no warnings' % fqcn, problems)

            spec, why = argspec(module)
            problems = []
            if spec is None:
                problems.append(why)
            elif doc is None:
                problems.append('no documentation to compare with')
            else:
                newer = stale_sources(module, host_binary(module))
                if newer:
                    print('     note: %s is older than %s; rebuild if the spec changed' % (
                        os.path.relpath(host_binary(module), ROOT), ', '.join(newer[:3]) + (' ...' if len(newer) > 3 else '')))
                compare_options(spec, doc.get('options'), '', problems)
            report.check('%s: documented options match the Go argument spec' % fqcn, problems)

            problems = []
            if doc is None:
                problems.append('no documentation to read')
            else:
                missing_version_added(doc.get('options'), '', problems)
            report.check('%s: every option and sub-option has version_added' % fqcn, problems)

            if raw is None:
                continue
            problems = []
            info = raw['modules'].get(module)
            if info is None:
                problems.append('plugins/modules/%s.py does not exist' % module)
            else:
                extends = API_FRAGMENT in info['fragments']
                in_group = module in api_group or fqcn in api_group
                if in_group and not extends:
                    problems.append('in action group %r but DOCUMENTATION does not extend %s' % (API_GROUP, API_FRAGMENT))
                if extends and not in_group:
                    problems.append('extends %s but is not in action group %r of meta/runtime.yml' % (API_FRAGMENT, API_GROUP))
                if extends:
                    own = sorted(set(info['options']) & fragment_options)
                    if own:
                        problems.append('documents %s itself instead of taking them from %s' % (', '.join(own), API_FRAGMENT))
                    if doc is not None:
                        missing = sorted(fragment_options - set(doc.get('options') or {}))
                        if missing:
                            problems.append('merged docs lack fragment options %s' % ', '.join(missing))
                if doc is not None:
                    membership = ((doc.get('attributes') or {}).get('action_group') or {}).get('membership') or []
                    group_fqcn = '%s.%s' % (COLLECTION, API_GROUP)
                    if in_group and group_fqcn not in membership:
                        problems.append('attributes.action_group.membership lacks %s' % group_fqcn)
                    if not in_group and group_fqcn in membership:
                        problems.append('attributes.action_group.membership names %s, but meta/runtime.yml does not' % group_fqcn)
            report.check('%s: %s fragment and action group agree with meta/runtime.yml' % (fqcn, API_FRAGMENT), problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print('%d passed, %d failed' % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == '__main__':
    sys.exit(main())
