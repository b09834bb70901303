# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options and attributes shared by every module that talks to the
Smallstep API, and (READ_ONLY) the check and diff attributes of those that
only read.

The Go side declares the same options once, in
modules-src/internal/smallstep/options.go; tests/docs/check_docs.py keeps the
two in step.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the Smallstep API, without a trailing slash.
      - If not set, the value of the C(SMALLSTEP_API_URL) environment variable
        is used, and if that is not set either, the default.
      - The environment is read where the module runs. API modules usually
        run on the controller (C(delegate_to=localhost) or a play on
        C(localhost)).
      - When something is not found, the module checks once that C(GET
        /authorities) answers before it takes the 404 to mean "not there",
        so that a URL outside the API (one without C(/api), say) fails the
        task instead of passing for an empty team.
    type: str
    version_added: 0.1.0
    default: https://gateway.smallstep.com/api
  api_token:
    description:
      - Smallstep API token, sent as a bearer token in the C(Authorization)
        header. Create one in the Smallstep dashboard under team settings.
      - This is a secret. The module itself masks the value in everything it
        returns (messages, diff, returned objects), because Ansible does not
        apply C(no_log) to binary modules. Keep it in Ansible Vault or in the
        environment, and prefer setting it once with C(module_defaults) for
        C(group/stepfleet.smallstep.api).
      - If not set, the value of the C(SMALLSTEP_API_TOKEN) environment
        variable is used; one of the two is required.
    type: str
    version_added: 0.1.0
    required: true
  api_version:
    description:
      - API version the module asks for, sent as the
        C(X-Smallstep-Api-Version) header.
      - The modules are written against this version's request and response
        bodies; change it only if you know the bodies are the same.
    type: str
    version_added: 0.1.0
    default: '2023-03-01'
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate.
      - Set to C(false) only for a test endpoint; the token is sent either way,
        and the module warns that certificate checks are off.
    type: bool
    version_added: 0.1.0
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities that the API's TLS
        certificate is checked against, instead of the system's trust store.
      - The file is read where the module runs.
    type: path
    version_added: 0.1.0
  timeout:
    description:
      - Timeout of each HTTP request to the API, in seconds.
    type: int
    version_added: 0.1.0
    default: 30
  retries:
    description:
      - How many more times an idempotent request (GET, PUT, DELETE) is sent
        when the API answers 429, 502, 503 or 504, or the connection is reset
        or times out. Waits grow exponentially with jitter (the first 0.25 to
        0.5 seconds, each next one up to twice as long, at most ten seconds),
        or follow the server's C(Retry-After) (at most a minute).
      - Requests that create something each time (POST) are never repeated.
      - When the last try fails, the message says how many tries were made.
    type: int
    version_added: 0.1.0
    default: 5
  retry_timeout:
    description:
      - Time, in seconds, that all tries of one request may take together;
        no retry starts that would end past it.
    type: int
    version_added: 0.1.0
    default: 120
  allow_http:
    description:
      - Allow a plain C(http://) C(api_url) to a host other than this machine.
      - Without it such a URL is refused, since the token would cross the
        network unencrypted. Loopback addresses (the simulator) need no
        opt-in.
    type: bool
    version_added: 0.1.0
    default: false
attributes:
  platform:
    support: full
    platforms: posix
  action_group:
    support: full
    membership:
      - stepfleet.smallstep.api
'''

    # The check and diff attributes of a module that only reads.
    READ_ONLY = r'''
attributes:
  check_mode:
    support: full
    details: Reads the same way in check mode.
  diff_mode:
    support: N/A
    details: Nothing changes, so there is no diff.
'''
