#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary
# (modules-src/cmd/device_collection_info) that
# plugins/action/device_collection_info.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device_collection_info
short_description: Read a Smallstep device collection
version_added: 0.1.0
description:
  - Read one device collection by its slug through the Smallstep API
    (C(GET /device-collections/{slug})) and return it with option-style
    (snake_case) keys, as M(stepfleet.smallstep.device_collection) returns
    it.
  - C(slug) is required. The Smallstep API (versions 2023-03-01 and
    2023-11-01) has no endpoint that lists device collections, so the module
    cannot list them.
  - A collection that does not exist is not a failure; the module returns
    C(exists=false) and an empty C(device_collection).
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
author:
  - stepfleet team (@stepfleet)
options:
  slug:
    description:
      - Slug of the device collection.
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
  - module: stepfleet.smallstep.device_collection
  - module: stepfleet.smallstep.workload_info
  - module: stepfleet.smallstep.device_info
'''

EXAMPLES = r'''
- name: Read a device collection
  stepfleet.smallstep.device_collection_info:
    slug: tpm-servers
  register: servers

- name: Stop before anything changes when the collection is missing
  ansible.builtin.assert:
    that: servers.exists
    fail_msg: Create the device collection tpm-servers first.

- name: Show its device type
  ansible.builtin.debug:
    msg: "tpm-servers holds {{ servers.device_collection.device_type }} devices"

- name: With the connection set once for every API module of the block
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  block:
    - name: Read a collection by its other option name
      stepfleet.smallstep.device_collection_info:
        name: aws-web
      register: aws_web
'''

RETURN = r'''
exists:
  description: Whether the device collection exists.
  returned: success
  type: bool
  sample: true
device_collection:
  description:
    - The device collection as the server holds it, with option-style
      (snake_case) keys.
    - Empty when it does not exist.
  returned: success
  type: dict
  sample:
    slug: tpm-servers
    display_name: TPM servers
    device_type: tpm
    device_type_configuration:
      force_cn: false
      require_eab: false
    created_at: "2026-01-15T10:00:00Z"
    updated_at: "2026-01-15T10:00:00Z"
  contains:
    slug:
      description: The collection's slug.
      returned: when it exists
      type: str
      sample: tpm-servers
    display_name:
      description: The collection's name in the dashboard.
      returned: when it exists
      type: str
      sample: TPM servers
    device_type:
      description: The type of its devices (C(aws-vm), C(azure-vm), C(gcp-vm) or C(tpm)).
      returned: when it exists
      type: str
      sample: tpm
    device_type_configuration:
      description: The type's configuration, as the options of M(stepfleet.smallstep.device_collection) name it.
      returned: when it exists
      type: dict
      sample:
        force_cn: false
    created_at:
      description: When the collection was created (RFC 3339).
      returned: when the server sends it
      type: str
      sample: "2026-01-15T10:00:00Z"
    updated_at:
      description: When the collection was last changed (RFC 3339).
      returned: when the server sends it
      type: str
      sample: "2026-01-15T10:00:00Z"
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: GET
    path: /device-collections/tpm-servers
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
      sample: /device-collections/tpm-servers
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
