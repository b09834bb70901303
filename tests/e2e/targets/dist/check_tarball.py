#!/usr/bin/python3
"""Check what the collection tarball holds, from its file list.

Usage: check_tarball.py ROOT TARBALL

Prints "ok <check>" or "not ok <check>: <problems>" per check:
- no Go sources, Go module files, build files, tests or test state;
- for each module the Makefile builds (API_MODULES, TARGET_MODULES), its
  binary for linux/amd64 and linux/arm64, mode 0755, an ELF for that
  machine, its documentation and its action plugin; no other binary;
- the role, the main play, meta/runtime.yml, the AWX credential type and
  execution-environment.yml;
- every file git tracks that galaxy.yml's build_ignore does not exclude;
- MANIFEST.json's name, version, license and dependencies as galaxy.yml has
  them.
Runs under the python that has ansible (for PyYAML).
"""

import fnmatch
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

_spec = importlib.util.spec_from_file_location('elf_check', os.path.join(HERE, '..', '..', 'lib', 'elf-check.py'))
elf_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(elf_check)

MACHINES = {'amd64': 62, 'arm64': 183}
REQUIRED = [
    'README.md', 'meta/runtime.yml', 'meta/awx/credential_type.yml', 'meta/awx/credential_type.json',
    'execution-environment.yml', 'playbooks/site.yml', 'roles/agent/tasks/main.yml',
    'roles/agent/meta/argument_specs.yml', 'roles/agent/meta/main.yml', 'roles/agent/README.md',
    'plugins/doc_fragments/api.py', 'plugins/plugin_utils/binary_action.py',
]
FORBIDDEN = [
    ('*.go', 'Go source'), ('go.mod', 'Go module file'), ('go.sum', 'Go module file'),
    ('modules-src/*', 'Go sources'), ('Makefile', 'build file'), ('bin/*', 'simulator binary'),
    ('build/*', 'build output'), ('dist/*', 'build output'), ('*.tar.gz', 'tarball'),
    ('.git/*', 'git state'), ('.ci/*', 'CI script'), ('scripts/*', 'build script'),
    ('tests/*', 'tests, their helpers and state'),
    ('*.log', 'log'), ('*__pycache__*', 'Python cache'), ('.work/*', 'test state'),
]


def makefile_modules(root):
    with open(os.path.join(root, 'Makefile')) as f:
        text = f.read()
    mods = []
    for var in ('API_MODULES', 'TARGET_MODULES'):
        m = re.search(r'^%s\s*:?=\s*(.*)$' % var, text, re.M)
        mods += m.group(1).split() if m else []
    return mods


def main(root, tarball):
    results = []

    def report(what, problems):
        results.append(not problems)
        print(('ok ' if not problems else 'not ok ') + what + (': ' + '; '.join(problems[:8]) if problems else ''))

    with open(os.path.join(root, 'galaxy.yml')) as f:
        galaxy = yaml.safe_load(f)
    with tarfile.open(tarball) as tar:
        members = {m.name[2:] if m.name.startswith('./') else m.name: m for m in tar.getmembers()}
        files = {n: m for n, m in members.items() if m.isfile()}
        manifest = json.load(tar.extractfile(members['MANIFEST.json'])) if 'MANIFEST.json' in members else {}
        modules = makefile_modules(root)

        problems = ['%s (%s)' % (n, why) for n in sorted(files) for pat, why in FORBIDDEN if fnmatch.fnmatch(n, pat)]
        report('no Go sources, build files, tests or test state inside', problems)

        problems = []
        for mod in modules:
            for arch, machine in MACHINES.items():
                name = 'plugins/bin/%s_linux_%s' % (mod, arch)
                m = files.get(name)
                if m is None:
                    problems.append('%s is missing' % name)
                    continue
                if m.mode & 0o7777 != 0o755:
                    problems.append('%s has mode %o, not 755' % (name, m.mode & 0o7777))
                data = tar.extractfile(m).read()
                tmp = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'check_tarball.%d.bin' % os.getpid())
                with open(tmp, 'wb') as out:
                    out.write(data)
                try:
                    ok, what = elf_check.check(tmp, machine)
                finally:
                    os.unlink(tmp)
                if not ok:
                    problems.append('%s: %s' % (name, what))
        report('a binary for linux/amd64 and linux/arm64 of each of the %d modules, mode 0755, ELF for its machine' % len(modules), problems)

        expected = {'plugins/bin/%s_linux_%s' % (m, a) for m in modules for a in MACHINES}
        extra = sorted(n for n in files if n.startswith('plugins/bin/') and n not in expected)
        report('no other binary in plugins/bin', ['%s is no module of the Makefile' % n for n in extra])

        problems = ['plugins/%s/%s.py is missing' % (kind, m) for m in modules for kind in ('modules', 'action')
                    if 'plugins/%s/%s.py' % (kind, m) not in files]
        report('every module\'s documentation and action plugin', problems)

        want = list(REQUIRED) + [f for f in ('CHANGELOG.md',) if os.path.exists(os.path.join(root, f))]
        report('the role, the main play, meta/, the AWX credential type and the execution environment',
               ['%s is missing' % n for n in want if n not in files])

        problems = []
        try:
            tracked = subprocess.run(['git', '-C', root, 'ls-files'], stdout=subprocess.PIPE, check=True,
                                     universal_newlines=True).stdout.split('\n')
        except (OSError, subprocess.CalledProcessError):
            tracked = None
        if tracked is not None:
            ignore = galaxy.get('build_ignore') or []
            # galaxy.yml itself becomes MANIFEST.json.
            for n in [t for t in tracked if t and t != 'galaxy.yml']:
                parts = n.split('/')
                ignored = any(fnmatch.fnmatch(n, pat) or any(fnmatch.fnmatch('/'.join(parts[:i]), pat) for i in range(1, len(parts)))
                              for pat in ignore)
                if not ignored and os.path.exists(os.path.join(root, n)) and n not in files:
                    problems.append('%s is tracked, not in build_ignore, but missing' % n)
            report('every tracked file that build_ignore does not exclude', problems)

        info = manifest.get('collection_info', {})
        problems = []
        for key in ('namespace', 'name', 'version', 'license', 'dependencies', 'repository'):
            if info.get(key) != galaxy.get(key):
                problems.append('%s is %r, galaxy.yml says %r' % (key, info.get(key), galaxy.get(key)))
        report('MANIFEST.json has galaxy.yml\'s name, version %s, license, repository and dependencies' % galaxy.get('version'), problems)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
