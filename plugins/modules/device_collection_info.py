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
short_description: Read one or every Smallstep device collection
version_added: 0.1.0
description:
  - Read one device collection by its slug through the Smallstep API
    (C(GET /device-collections/{slug})), or, without C(slug), list every
    device collection of the team, and return them with option-style
    (snake_case) keys, as M(stepfleet.smallstep.device_collection) returns
    them.
  - The API has no list of device collections, but every device collection
    has the collection of its devices under the same slug. So the list reads
    every page of the team's collections (C(GET /collections), 1000 a page)
    and then the device collection of each (C(GET /device-collections/{slug}),
    at most 8 at a time), skipping the collections that are no device
    collection. That is one request per collection of the team.
  - A collection that does not exist is not a failure; the module returns
    C(exists=false) and an empty C(device_collection). A team without device
    collections returns an empty C(device_collections).
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
author:
  - stepfleet team (@stepfleet)
options:
  slug:
    description:
      - Slug of the device collection to read.
      - If not set, every device collection of the team is listed in
        C(device_collections) (since 0.2.0; before, C(slug) was required).
      - Mutually exclusive with C(device_type).
    type: str
    version_added: 0.1.0
    aliases:
      - name
  device_type:
    description:
      - When listing, keep only the device collections of this device type.
      - Mutually exclusive with C(slug).
    type: str
    version_added: 0.2.0
    choices:
      - aws-vm
      - azure-vm
      - gcp-vm
      - tpm
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

- name: Every device collection of the team
  stepfleet.smallstep.device_collection_info:
  register: all_collections

- name: Show their slugs
  ansible.builtin.debug:
    msg: "{{ all_collections.device_collections | map(attribute='slug') | list }}"

- name: Only the TPM collections
  stepfleet.smallstep.device_collection_info:
    device_type: tpm
  register: tpm_collections

- name: Create the workload in each of them
  stepfleet.smallstep.workload:
    collection: "{{ item.slug }}"
    slug: web
    workload_type: nginx
  loop: "{{ tpm_collections.device_collections }}"
  loop_control:
    label: "{{ item.slug }}"

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
  description: Whether the device collection C(slug) exists.
  returned: when C(slug) is set
  type: bool
  sample: true
device_collection:
  description:
    - The device collection C(slug) as the server holds it, with
      option-style (snake_case) keys.
    - Empty when it does not exist.
  returned: when C(slug) is set
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
device_collections:
  description:
    - Every device collection of the team (of C(device_type), when set),
      sorted by slug, each as C(device_collection) returns one.
    - Empty when the team has none.
  returned: when C(slug) is not set
  type: list
  elements: dict
  version_added: 0.2.0
  sample:
    - slug: aws-web
      display_name: AWS web servers
      device_type: aws-vm
      device_type_configuration:
        accounts:
          - "123456789012"
        disable_custom_sans: false
    - slug: tpm-servers
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
      returned: always
      type: str
      sample: tpm-servers
    display_name:
      description: The collection's name in the dashboard.
      returned: always
      type: str
      sample: TPM servers
    device_type:
      description: The type of its devices (C(aws-vm), C(azure-vm), C(gcp-vm) or C(tpm)).
      returned: always
      type: str
      sample: tpm
    device_type_configuration:
      description: The type's configuration, as the options of M(stepfleet.smallstep.device_collection) name it.
      returned: always
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
