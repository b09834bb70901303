#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/device_info)
# that plugins/action/device_info.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device_info
short_description: Read the devices of a Smallstep device collection
version_added: 0.1.0
description:
  - Read one device of a device collection by its ID
    (C(GET /collections/{collection}/instances/{instance_id})), or list
    every device of the collection (C(GET /collections/{collection}/items),
    following every page of 1000 devices to the end), optionally keeping
    only those whose data match C(filters).
  - Devices are returned as M(stepfleet.smallstep.device) returns them, with
    option-style (snake_case) keys and the keys of C(data) as they are.
  - A device that does not exist is not a failure; the module returns
    C(exists=false), an empty C(device) and an empty C(devices). Listing a
    collection that does not exist returns an empty C(devices) with a
    warning.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
author:
  - stepfleet team (@stepfleet)
options:
  collection:
    description:
      - Slug of the device collection.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - device_collection
  instance_id:
    description:
      - The ID of one device to read, such as a TPM EK URI
        (C(urn:ek:sha256:...)) or an EC2 instance ID. It is escaped as one
        path segment, so C(/), C(+) and C(=) are safe.
      - If not set, every device of the collection is listed.
      - Mutually exclusive with C(filters).
    type: str
    version_added: 0.1.0
    aliases:
      - id
  filters:
    description:
      - "Keep only the devices whose C(data) hold every key of this dict
        with an equal value, for example C({hostname: web1}) or
        C({role: web, rack: 3})."
      - A string and a number or boolean match when they print the same,
        either way round (C('3') and C(3), C('true') and C(true)), since
        templated values arrive as strings. A key the device's data lacks
        never matches.
      - The API cannot filter devices, so every page is read and the
        filters are applied by the module.
      - Mutually exclusive with C(instance_id).
    type: dict
    version_added: 0.1.0
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - stepfleet.smallstep.api.read_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
notes:
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.device
  - module: stepfleet.smallstep.tpm_ek_info
  - module: stepfleet.smallstep.device_collection_info
'''

EXAMPLES = r'''
- name: Is this host's TPM registered?
  stepfleet.smallstep.device_info:
    collection: tpm-servers
    instance_id: "{{ tpm.ek_uri }}"
  delegate_to: localhost
  register: registered

- name: Say so
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is {{ 'registered' if registered.exists else 'not registered' }}"

- name: Every device of the collection
  stepfleet.smallstep.device_info:
    collection: tpm-servers
  register: fleet

- name: Devices whose host left the inventory
  ansible.builtin.debug:
    msg: "{{ fleet.devices | map(attribute='data.hostname') | difference(groups['tpm_hosts']) }}"

- name: The web servers of rack 3
  stepfleet.smallstep.device_info:
    collection: tpm-servers
    filters:
      role: web
      rack: 3
  register: rack3_web
'''

RETURN = r'''
exists:
  description: Whether the device C(instance_id) exists.
  returned: when C(instance_id) is set
  type: bool
  sample: true
device:
  description:
    - The device C(instance_id), empty when it does not exist.
  returned: when C(instance_id) is set
  type: dict
  sample:
    id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
    data:
      hostname: web1
      smallstep:host:id: 7d1e6b1c-3f0a-4e5b-9c2d-8a7f6e5d4c3b
    created_at: "2026-01-15T10:02:03Z"
    updated_at: "2026-01-15T10:02:03Z"
devices:
  description:
    - The devices read, in the order the API lists them; with
      C(instance_id), that device alone (or none).
    - The keys of each device's C(data) are returned as they are, not
      converted.
  returned: success
  type: list
  elements: dict
  sample:
    - id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
      data:
        hostname: web1
        role: web
      created_at: "2026-01-15T10:02:03Z"
      updated_at: "2026-01-15T10:02:03Z"
  contains:
    id:
      description: The device's ID.
      returned: always
      type: str
      sample: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
    data:
      description: The device's data, including the keys the server added (C(smallstep:...)).
      returned: always
      type: dict
      sample:
        hostname: web1
    created_at:
      description: When the device was registered (RFC 3339).
      returned: always
      type: str
      sample: "2026-01-15T10:02:03Z"
    updated_at:
      description: When the device was last changed (RFC 3339).
      returned: always
      type: str
      sample: "2026-01-15T10:02:03Z"
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: GET
    path: /collections/tpm-servers/items
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
      sample: /collections/tpm-servers/items
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
