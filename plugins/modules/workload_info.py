#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/workload_info)
# that plugins/action/workload_info.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: workload_info
short_description: Read a workload of a Smallstep device collection
version_added: 0.1.0
description:
  - Read one workload of a device collection through the Smallstep API
    (C(GET /device-collections/{collection}/workloads/{slug})) and return it
    with option-style (snake_case) keys, as M(stepfleet.smallstep.workload)
    returns it.
  - C(slug) is required. The Smallstep API (versions 2023-03-01 and
    2023-11-01) has no endpoint that lists a collection's workloads, so the
    module cannot list them.
  - A workload that does not exist, or whose collection does not exist, is
    not a failure; the module returns C(exists=false) and an empty
    C(workload).
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
author:
  - stepfleet team (@stepfleet)
options:
  collection:
    description:
      - Slug of the device collection the workload belongs to.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - device_collection
  slug:
    description:
      - Slug of the workload.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - name
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - stepfleet.smallstep.api.read_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
notes:
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.workload
  - module: stepfleet.smallstep.device_collection_info
'''

EXAMPLES = r'''
- name: Read the workload web of the collection tpm-servers
  stepfleet.smallstep.workload_info:
    collection: tpm-servers
    slug: web
  register: web

- name: Show where the agent writes its certificate
  ansible.builtin.debug:
    msg: "{{ web.workload.certificate_info.crt_file | default('the default path') }}"
  when: web.exists

- name: Compare two collections' workloads before copying one
  stepfleet.smallstep.workload_info:
    device_collection: "{{ item }}"
    name: web
  loop:
    - tpm-servers
    - tpm-servers-staging
  register: webs

- name: Report the collections that lack it
  ansible.builtin.debug:
    msg: "{{ webs.results | rejectattr('exists') | map(attribute='item') | list }}"
'''

RETURN = r'''
exists:
  description: Whether the workload exists.
  returned: success
  type: bool
  sample: true
workload:
  description:
    - The workload as the server holds it, with option-style (snake_case)
      keys.
    - Empty when it does not exist.
  returned: success
  type: dict
  sample:
    slug: web
    display_name: web
    workload_type: nginx
    static_sans:
      - www.example.com
    certificate_info:
      type: X509
      crt_file: /etc/nginx/tls/server.crt
      key_file: /etc/nginx/tls/server.key
  contains:
    slug:
      description: The workload's slug.
      returned: when it exists
      type: str
      sample: web
    display_name:
      description: The workload's name in the dashboard.
      returned: when it exists
      type: str
      sample: web
    workload_type:
      description: The kind of workload (C(nginx), C(generic), ...).
      returned: when it exists
      type: str
      sample: nginx
    static_sans:
      description: Fixed SANs of its certificates.
      returned: when set
      type: list
      elements: str
      sample:
        - www.example.com
    device_metadata_key_sans:
      description: Device data keys whose values become SANs.
      returned: when set
      type: list
      elements: str
      sample:
        - hostname
    certificate_info:
      description: Where and how the agent writes the certificate.
      returned: when the server sends it
      type: dict
      sample:
        type: X509
        crt_file: /etc/nginx/tls/server.crt
    key_info:
      description: The certificate's key type and protection.
      returned: when the server sends it
      type: dict
      sample:
        type: DEFAULT
    reload_info:
      description: How the agent tells the service about a new certificate.
      returned: when set
      type: dict
      sample:
        method: SIGNAL
        pid_file: /run/nginx.pid
        signal: 1
    hooks:
      description: Commands the agent runs around signing and renewal.
      returned: when set
      type: dict
      sample:
        renew:
          after:
            - systemctl reload nginx
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: GET
    path: /device-collections/tpm-servers/workloads/web
    status: 401
    message: invalid token
    request_id: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
  contains:
    method:
      description: HTTP method of the request.
      returned: always
      type: str
      sample: GET
    path:
      description: Path of the request, below C(api_url), each name escaped as one path segment.
      returned: always
      type: str
      sample: /device-collections/tpm-servers/workloads/web
    status:
      description: HTTP status of the answer; C(0) when no answer came (connection or TLS error, timeout).
      returned: always
      type: int
      sample: 401
    message:
      description: The server's message, or why no answer came.
      returned: always
      type: str
      sample: invalid token
    request_id:
      description: Request ID (C(X-Request-Id)) to quote to Smallstep support.
      returned: always
      type: str
      sample: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
    tries:
      description: How many times the request was sent, when it was retried.
      returned: when the request was sent more than once
      type: int
      sample: 6
'''
