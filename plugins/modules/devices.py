#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/devices)
# that plugins/action/devices.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: devices
short_description: Register, update or remove many devices of a Smallstep device collection in one task
version_added: 0.2.0
description:
  - Reconciles a list of devices (instances of a device collection) with
    the Smallstep API in one task, the bulk counterpart of
    M(stepfleet.smallstep.device), for fleets of hundreds or thousands of
    hosts.
  - It reads the collection once (C(/device-collections/{collection})) and
    all its devices through the paged list
    (C(/collections/{collection}/items), 1000 a page), compares each listed
    device's C(data) with the server's, leaving out the keys the server
    added itself (those starting with C(smallstep:), which are kept on
    update and never compared), and writes only the devices that differ,
    C(parallel) at a time. A second identical run reports C(changed=false),
    sends no write and, for N devices, at most ceil(N/1000)+1 requests.
  - Every instance ID is checked before any request; so are duplicates in
    the list.
  - When some writes fail, the others are still made; the task then fails
    with a message that lists each failed device with the HTTP status, the
    server's message and the request ID, and the counts of what was done.
    A rerun retries only what is still different.
  - In check mode it reads but never writes, and reports the counts and IDs
    of what it would create, update and remove. When the collection does
    not exist it reports every device as created, with a warning, since an
    earlier task of the play may create it; a real run then fails. In diff
    mode it shows each device that changes, before and after, keyed by its
    ID.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It talks to the API, so it usually
    runs on the controller, once for the play (C(run_once=true),
    C(delegate_to=localhost)).
author:
  - stepfleet team (@stepfleet)
options:
  collection:
    description:
      - Slug of the device collection.
      - The collection must exist.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - device_collection
  devices:
    description:
      - The devices, each listed once.
      - An empty list changes nothing, unless C(exclusive=true), which then
        removes every device of the collection.
    type: list
    version_added: 0.1.0
    elements: dict
    required: true
    suboptions:
      instance_id:
        description:
          - The device's ID in its collection. For a TPM collection it is
            the EK URI, C(urn:ek:sha256:) and the standard base64 (with
            padding) of the SHA-256 of the EK public key, as C(ek_uri) of
            M(stepfleet.smallstep.tpm_ek_info) returns it. For cloud VMs it
            is the EC2 instance ID, the Azure managed identity's principal
            object ID, or the Compute Engine instance ID.
          - An ID that starts with C(urn:ek:) is always checked to be a
            well-formed EK URI, before any request.
        type: str
        version_added: 0.1.0
        required: true
        aliases:
          - id
      data:
        description:
          - The device's metadata, free-form keys and values.
          - Replaces the keys you own; keys starting with C(smallstep:)
            belong to the server and are kept.
          - If not set, an existing device keeps its data and a new one is
            registered with none.
        type: dict
        version_added: 0.1.0
  device_type:
    description:
      - The collection's device type. When set, every C(instance_id) is
        checked to have that type's format before any request (C(tpm) an EK
        URI, C(aws-vm) C(i-) and 8 or 17 hex digits, C(azure-vm) a UUID,
        C(gcp-vm) decimal digits), and the collection's own type must match
        it, or the module fails without writing.
    type: str
    version_added: 0.1.0
    choices:
      - aws-vm
      - azure-vm
      - gcp-vm
      - tpm
  exclusive:
    description:
      - Also remove the devices of the collection that are not listed.
      - Check mode lists the devices it would remove (C(ids.removed)).
      - Only with C(state=present).
    type: bool
    version_added: 0.1.0
    default: false
  parallel:
    description:
      - How many writes are sent at once, from 1 to 64. Reads are not
        concurrent; the list is read page after page.
    type: int
    version_added: 0.1.0
    default: 8
  state:
    description:
      - C(present) registers the listed devices or updates their data.
      - C(absent) removes the listed devices; one that is not there is
        counted as unchanged.
    type: str
    version_added: 0.1.0
    choices:
      - present
      - absent
    default: present
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the collection, reports the counts and IDs of what it would change, never writes.
  diff_mode:
    support: full
    details: Shows each device that changes (ID and data) before and after, keyed by its ID.
notes:
  - IDs hold C(/) and C(+) for TPM devices; the module escapes each as one
    path segment.
  - Each write is retried on 429, 502, 503 and 504 as C(retries) and
    C(retry_timeout) allow, like every API module's requests.
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.device
  - module: stepfleet.smallstep.tpm_ek_info
  - module: stepfleet.smallstep.device_collection
'''

EXAMPLES = r'''
- name: Register every host's TPM with one task
  hosts: tpm_hosts
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: Read the endorsement key on each host
      stepfleet.smallstep.tpm_ek_info:
      become: true
      register: tpm

    - name: Note the host's device
      ansible.builtin.set_fact:
        device_entry:
          instance_id: "{{ tpm.ek_uri }}"
          data:
            hostname: "{{ inventory_hostname }}"
            groups: "{{ group_names }}"

    - name: Register all the hosts of this batch at once, from the controller
      stepfleet.smallstep.devices:
        collection: tpm-servers
        device_type: tpm
        devices: "{{ ansible_play_batch | map('extract', hostvars, 'device_entry') | list }}"
      run_once: true
      delegate_to: localhost

- name: Make a collection hold exactly these EC2 instances
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Register three instances and remove every other one
      stepfleet.smallstep.devices:
        collection: aws-web
        device_type: aws-vm
        exclusive: true
        parallel: 16
        devices:
          - id: i-0d460b88a96dfdd08
            data: {region: eu-central-1, role: web}
          - id: i-0a1b2c3d4e5f60718
            data: {region: eu-central-1, role: web}
          - id: i-0123456789abcdef0
            data: {region: eu-west-1, role: web}
      register: web

    - name: Say what changed
      ansible.builtin.debug:
        msg: "created {{ web.created }}, updated {{ web.updated }}, removed {{ web.removed }}"

- name: Remove decommissioned devices
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Remove two TPM devices
      stepfleet.smallstep.devices:
        collection: tpm-servers
        state: absent
        devices:
          - instance_id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
          - instance_id: urn:ek:sha256:2jmj7l5rSw0yVb/vlWAYkK/YBwk0wLbaBGBhjMnhKx8=
'''

RETURN = r'''
created:
  description: How many devices were registered (in check mode, would be).
  returned: always
  type: int
  sample: 12
updated:
  description: How many devices had their data replaced (in check mode, would have).
  returned: always
  type: int
  sample: 3
removed:
  description: How many devices were removed (in check mode, would be).
  returned: always
  type: int
  sample: 0
unchanged:
  description:
    - How many listed devices needed no write (with C(state=absent), also
      those that were not there).
  returned: always
  type: int
  sample: 985
ids:
  description: The instance IDs of each outcome, in the order listed (removals by C(exclusive) sorted).
  returned: always
  type: dict
  contains:
    created:
      description: IDs registered.
      returned: always
      type: list
      elements: str
    updated:
      description: IDs whose data was replaced.
      returned: always
      type: list
      elements: str
    removed:
      description: IDs removed.
      returned: always
      type: list
      elements: str
    unchanged:
      description: IDs that needed no write.
      returned: always
      type: list
      elements: str
    failed:
      description: IDs whose write failed.
      returned: when some writes failed
      type: list
      elements: str
failures:
  description: One entry per device whose write failed; C(msg) lists them too.
  returned: when some writes failed
  type: list
  elements: dict
  sample:
    - instance_id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
      operation: create
      method: PUT
      status: 503
      message: service unavailable
      request_id: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
  contains:
    instance_id:
      description: The device.
      returned: always
      type: str
    operation:
      description: C(create), C(update) or C(remove).
      returned: always
      type: str
    method:
      description: HTTP method of the write.
      returned: always
      type: str
    status:
      description: HTTP status of the answer; C(0) when no answer came (then the write may have happened).
      returned: always
      type: int
    message:
      description:
        - The server's message, or why no answer came.
        - When the write was sent more than once, it ends with C((after N tries)).
      returned: always
      type: str
    request_id:
      description: Request ID (C(X-Request-Id)) to quote to Smallstep support.
      returned: when known
      type: str
failure:
  description:
    - Details of a failed read of the collection or its list, which stops
      the module before any write (C(msg) sums it up).
  returned: when reading the collection failed
  type: dict
  contains:
    method:
      description: HTTP method of the request.
      returned: always
      type: str
    path:
      description: Path of the request, below C(api_url).
      returned: always
      type: str
    status:
      description: HTTP status of the answer; C(0) when no answer came.
      returned: always
      type: int
    message:
      description: The server's message, or why no answer came.
      returned: always
      type: str
    request_id:
      description: Request ID (C(X-Request-Id)).
      returned: always
      type: str
    tries:
      description: How many times the request was sent, when it was retried.
      returned: when the request was sent more than once
      type: int
      sample: 6
'''
