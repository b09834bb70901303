#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/device)
# that plugins/action/device.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device
short_description: Register a device in a Smallstep device collection
version_added: 0.1.0
description:
  - Register, update or remove one device (an instance of a device
    collection) through the Smallstep API
    (C(/collections/{collection}/instances/{instance_id})).
  - Registering a device before its agent starts pre-approves it; the agent
    then enrolls without a manual approval.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It talks to the API, so it usually
    runs on the controller (C(delegate_to=localhost)), with the device's ID
    read on the device itself, for example by
    M(stepfleet.smallstep.tpm_ek_info).
  - The module is idempotent. It reads the device and compares C(data) with
    the device's data, leaving out keys the server added itself (those
    starting with C(smallstep:)), which are kept on update and never
    compared. It writes only when they differ. A second identical run
    reports C(changed=false) and sends no write.
  - In check mode it reads but never writes, and reports whether it would
    change the device. When the collection does not exist it reports the
    change with a warning, since an earlier task of the play may create it;
    a real run then fails. In diff mode it shows the device before and after.
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
  instance_id:
    description:
      - The device's ID in its collection. For a TPM collection it is the
        EK URI, C(urn:ek:sha256:) and the standard base64 (with padding) of
        the SHA-256 of the EK public key, as C(ek_uri) of
        M(stepfleet.smallstep.tpm_ek_info) returns it. For cloud VMs it is
        the EC2 instance ID, the Azure managed identity's principal object
        ID, or the Compute Engine instance ID.
      - An ID that starts with C(urn:ek:) is always checked to be a
        well-formed EK URI, before any request.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - id
  data:
    description:
      - The device's metadata, free-form keys and values (hostname, region,
        roles). Workloads can turn values into SANs with their
        C(device_metadata_key_sans).
      - Replaces the keys you own; keys starting with C(smallstep:) belong
        to the server and are kept.
      - If not set, an existing device keeps its data and a new one is
        registered with none.
    type: dict
    version_added: 0.1.0
  device_type:
    description:
      - The collection's device type. When set, C(instance_id) is checked to
        have that type's format before any request (C(tpm) an EK URI,
        C(aws-vm) C(i-) and 8 or 17 hex digits, C(azure-vm) a UUID,
        C(gcp-vm) decimal digits).
      - When the device is new, the collection's own type must match it, or
        the module fails without writing (the collection is read anyway to
        tell a missing collection from a missing device). The collection's
        type is never changed.
    type: str
    version_added: 0.1.0
    choices:
      - aws-vm
      - azure-vm
      - gcp-vm
      - tpm
  state:
    description:
      - C(present) registers the device or updates its data; C(absent)
        removes it.
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
    details: Reads the device, reports whether it would change, never writes.
  diff_mode:
    support: full
    details: Shows the device (ID and data) before and after.
notes:
  - The ID holds C(/) and C(+) for TPM devices; the module escapes it as one
    path segment.
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.tpm_ek_info
  - module: stepfleet.smallstep.device_collection
  - name: Smallstep documentation
    description: Device collections, device registration and the Smallstep agent.
    link: https://smallstep.com/docs/
'''

EXAMPLES = r'''
- name: Register every host's TPM with Smallstep
  hosts: tpm_hosts
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: Read the endorsement key on the host
      stepfleet.smallstep.tpm_ek_info:
      become: true
      register: tpm

    - name: Register the host by its EK URI, from the controller
      stepfleet.smallstep.device:
        collection: tpm-servers
        instance_id: "{{ tpm.ek_uri }}"
        device_type: tpm
        data:
          hostname: "{{ inventory_hostname }}"
          ansible_host: "{{ ansible_host | default(inventory_hostname) }}"
          groups: "{{ group_names }}"
      delegate_to: localhost

- name: Cloud VMs and removal
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: Register an EC2 instance
      stepfleet.smallstep.device:
        collection: aws-web
        id: i-0d460b88a96dfdd08
        device_type: aws-vm
        data:
          region: eu-central-1
          role: web

    - name: Remove a device that was decommissioned
      stepfleet.smallstep.device:
        collection: tpm-servers
        instance_id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
        state: absent
'''

RETURN = r'''
device:
  description:
    - The device as the server holds it after the task.
    - In check mode, when it would change, the device as it would be, with
      C(id) and C(data) only.
    - The keys of C(data) are returned as they are, not converted.
  returned: when C(state=present) and the task succeeded
  type: dict
  sample:
    id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
    data:
      hostname: web1
      ansible_host: 192.0.2.10
      groups:
        - tpm_hosts
      smallstep:host:id: 7d1e6b1c-3f0a-4e5b-9c2d-8a7f6e5d4c3b
    created_at: "2026-01-15T10:02:03Z"
    updated_at: "2026-01-15T10:02:03Z"
  contains:
    id:
      description: The device's ID (C(instance_id)).
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
      returned: unless check mode predicted a change
      type: str
      sample: "2026-01-15T10:02:03Z"
    updated_at:
      description: When the device was last changed (RFC 3339).
      returned: unless check mode predicted a change
      type: str
      sample: "2026-01-15T10:02:03Z"
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: PUT
    path: /collections/tpm-servers/instances/urn:ek:sha256:RFtvG%2B0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE%3D
    status: 401
    message: invalid token
    request_id: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
  contains:
    method:
      description: HTTP method of the request.
      returned: always
      type: str
      sample: PUT
    path:
      description: Path of the request, below C(api_url), with the device ID escaped.
      returned: always
      type: str
      sample: /collections/tpm-servers/instances/urn:ek:sha256:RFtvG%2B0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE%3D
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
