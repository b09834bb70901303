#!/usr/bin/python3
"""What AWX does with meta/awx/credential_type.yml, without AWX.

  awx.py check ROOT
      Checks the credential type (its JSON twin, inputs, secret token,
      injectors that only use defined inputs and allowed variable names),
      renders its env injectors for sample inputs (an empty URL gives the
      default gateway; the job_env that AWX stores masks the token), and
      checks execution-environment.yml (ansible-builder 3, no Python or
      system packages, the tarball of galaxy.yml's version). Prints "ok ..."
      or "not ok ..." per check.

  awx.py exec ROOT INPUTS -- COMMAND...
      Renders the env injectors the way AWX's CredentialType.inject_credential
      does (Jinja2 ImmutableSandboxedEnvironment, only inputs with a value in
      the namespace) with the inputs in the JSON file INPUTS, prints the
      environment AWX would store for the job (secrets masked), and runs
      COMMAND in an environment that holds the injected variables and no
      other SMALLSTEP_* variable. The token travels only through that
      environment, never through arguments.

Runs under the python that has ansible (and so Jinja2 and PyYAML).
"""

import json
import os
import re
import sys

import yaml
from jinja2 import meta, sandbox

TYPE_FILE = 'meta/awx/credential_type.yml'
EE_FILE = 'execution-environment.yml'
EXPECTED_ENV = {'SMALLSTEP_API_URL', 'SMALLSTEP_API_TOKEN'}
DEFAULT_URL = 'https://gateway.smallstep.com/api'
# AWX refuses ANSIBLE_* and the variables of its ENV_BLOCKLIST
# (awx/main/fields.py, CredentialTypeInjectorField); this is a cautious
# superset of the blocklist's kind of names.
PROHIBITED = re.compile(r'^(ANSIBLE_|AWX_|JOB_|INVENTORY_|PROJECT_|TOWER_|CALLBACK_|RUNNER_)|^(PATH|HOME|PYTHONPATH|VIRTUAL_ENV|PROOT_.*)$')
MASK = '**********'


def load_type(root):
    with open(os.path.join(root, TYPE_FILE)) as f:
        return yaml.safe_load(f)


def render_env(ctype, inputs, safe=False):
    """The env injectors rendered as AWX renders them: a namespace of the
    inputs that have a value, secret ones masked in the safe variant."""
    secret = {f['id'] for f in ctype['inputs']['fields'] if f.get('secret')}
    namespace = {}
    for k, v in inputs.items():
        if isinstance(v, bool):
            namespace[k] = v
        elif v:
            namespace[k] = MASK if safe and k in secret else v
    env = sandbox.ImmutableSandboxedEnvironment()
    return {k: env.from_string(t).render(**namespace) for k, t in ctype['injectors'].get('env', {}).items()}


def check(root):
    results = []

    def report(ok, what, detail=''):
        results.append(ok)
        print(('ok ' if ok else 'not ok ') + what + (': ' + detail if detail and not ok else ''))

    ctype = load_type(root)
    with open(os.path.join(root, TYPE_FILE[:-4] + '.json')) as f:
        twin = json.load(f)
    report(twin == ctype, 'credential_type.json says what credential_type.yml says')

    fields = ctype.get('inputs', {}).get('fields', [])
    ids = [f.get('id') for f in fields]
    problems = []
    if not ctype.get('name') or ctype.get('kind') not in ('cloud', 'net'):
        problems.append('needs a name and kind cloud (or net), the kinds a custom type may have')
    if len(set(ids)) != len(ids) or len({f.get('label') for f in fields}) != len(fields):
        problems.append('field ids and labels must be unique')
    for f in fields:
        if f.get('type', 'string') not in ('string', 'boolean') or not f.get('label'):
            problems.append('field %s needs a label and type string or boolean' % f.get('id'))
    token = next((f for f in fields if f.get('id') == 'api_token'), {})
    if token.get('secret') is not True:
        problems.append('api_token must be secret: true, so that AWX encrypts it and masks it in job_env')
    required = ctype.get('inputs', {}).get('required', [])
    if 'api_token' not in required or not set(required) <= set(ids):
        problems.append('required must name api_token and only defined fields, not %s' % required)
    report(not problems, 'the inputs: api_url, and api_token required and secret', '; '.join(problems))

    injectors = ctype.get('injectors', {})
    problems = []
    if set(injectors) != {'env'}:
        problems.append('only env injectors (extra_vars would show the token among the job\'s variables), not %s' % sorted(injectors))
    env_tmpls = injectors.get('env', {})
    if set(env_tmpls) != EXPECTED_ENV:
        problems.append('env must set exactly %s, not %s' % (sorted(EXPECTED_ENV), sorted(env_tmpls)))
    for name, tmpl in env_tmpls.items():
        if PROHIBITED.match(name):
            problems.append('AWX refuses the variable %s' % name)
        undeclared = meta.find_undeclared_variables(sandbox.ImmutableSandboxedEnvironment().parse(tmpl)) - set(ids)
        if undeclared:
            problems.append('%s uses undefined inputs %s' % (name, sorted(undeclared)))
    report(not problems, 'the injectors: SMALLSTEP_API_URL and SMALLSTEP_API_TOKEN from defined inputs', '; '.join(problems))

    sample = {'api_url': 'https://api.example.test/api', 'api_token': 'sample-token-5d1e'}
    env = render_env(ctype, sample)
    report(env == {'SMALLSTEP_API_URL': sample['api_url'], 'SMALLSTEP_API_TOKEN': sample['api_token']},
           'rendered env carries both inputs as they are', json.dumps(env))
    env = render_env(ctype, {'api_url': '', 'api_token': 'sample-token-5d1e'})
    report(env.get('SMALLSTEP_API_URL') == DEFAULT_URL, 'an empty API URL injects the default gateway, not an empty URL', json.dumps(env))
    safe = render_env(ctype, sample, safe=True)
    report(sample['api_token'] not in json.dumps(safe) and safe.get('SMALLSTEP_API_TOKEN') == MASK,
           'the job_env AWX stores masks the token', json.dumps(safe))

    with open(os.path.join(root, EE_FILE)) as f:
        ee = yaml.safe_load(f)
    with open(os.path.join(root, 'galaxy.yml')) as f:
        galaxy = yaml.safe_load(f)
    deps = ee.get('dependencies', {})
    problems = []
    if ee.get('version') != 3:
        problems.append('version must be 3 (ansible-builder 3), not %r' % ee.get('version'))
    if not (ee.get('images', {}).get('base_image', {}).get('name')):
        problems.append('images.base_image.name is missing')
    if 'ansible-core' not in str(deps.get('ansible_core', {}).get('package_pip', '')):
        problems.append('dependencies.ansible_core.package_pip must install ansible-core')
    if deps.get('python') or deps.get('system'):
        problems.append('the collection needs no Python or system package, but python=%r system=%r' % (deps.get('python'), deps.get('system')))
    for f in ('requirements.txt', 'bindep.txt'):
        if os.path.exists(os.path.join(root, f)):
            problems.append('%s exists: the collection should need no such packages' % f)
    want = 'stepfleet-smallstep-%s.tar.gz' % galaxy['version']
    names = [c.get('name', '') for c in (deps.get('galaxy') or {}).get('collections', [])]
    if not any(n.endswith('/' + want) or n == 'stepfleet.smallstep' for n in names):
        problems.append('dependencies.galaxy must install %s (galaxy.yml version %s), not %s' % (want, galaxy['version'], names))
    report(not problems, 'execution-environment.yml: ansible-builder 3, ansible-core and the collection, no Python or system packages', '; '.join(problems))
    return 0 if all(results) else 1


def run(root, inputs_file, command):
    ctype = load_type(root)
    with open(inputs_file) as f:
        inputs = json.load(f)
    injected = render_env(ctype, inputs)
    print('job_env as AWX stores it: ' + json.dumps(render_env(ctype, inputs, safe=True), sort_keys=True), flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith('SMALLSTEP_')}
    env.update(injected)
    os.execvpe(command[0], command, env)


def main(argv):
    if len(argv) == 3 and argv[1] == 'check':
        return check(argv[2])
    if len(argv) > 5 and argv[1] == 'exec' and argv[4] == '--':
        return run(argv[2], argv[3], argv[5:])
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
