#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/device_collection)
# that plugins/action/device_collection.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: device_collection
short_description: Manage a Smallstep device collection
version_added: 0.1.0
description:
  - Create, update or delete a device collection of a Smallstep team through
    the Smallstep API (C(/device-collections/{slug})).
  - A device collection groups devices of one type (AWS, Azure or Compute
    Engine VMs, or machines identified by their TPM) that get certificates
    for the collection's workloads.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller
    or a host that can reach the API.
  - The module is idempotent. It reads the collection, compares it with the
    options the way the server means them (server defaults filled in, lists
    of accounts, resource groups, project IDs and service accounts compared
    as sets) and writes only when they differ. A second identical run reports
    C(changed=false) and sends no write.
  - In check mode it reads but never writes, and reports whether it would
    change the collection. In diff mode it shows the collection before and
    after, with option-style (snake_case) keys.
  - Like C(display_name), the type's option (C(aws_vm), C(azure_vm),
    C(gcp_vm) or C(tpm)) may be left out to keep an existing collection's
    configuration as it is; when given, it replaces the configuration
    whole, so a field left out of it is removed (or reset to the server's
    default).
author:
  - stepfleet team (@stepfleet)
options:
  slug:
    description:
      - The collection's slug, its identifier in API paths and in the
        dashboard's URL.
      - A lowercase name, as the API names collections, such as
        C(tpm-servers); capital letters or a C(/) fail before any request.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - name
  display_name:
    description:
      - Name shown in the dashboard.
      - If not set, a new collection is named after its slug and an existing
        one keeps its name.
    type: str
    version_added: 0.1.0
  device_type:
    description:
      - Type of the devices the collection holds.
      - Required when C(state=present).
      - The API cannot change the type of an existing collection; the module
        fails and says so. Delete the collection (C(state=absent),
        C(purge=true)) and create it again.
      - C(aws-vm), C(azure-vm) and C(gcp-vm) need the option of the same name
        (C(aws_vm), C(azure_vm), C(gcp_vm)); C(tpm) may take C(tpm).
    type: str
    version_added: 0.1.0
    choices:
      - aws-vm
      - azure-vm
      - gcp-vm
      - tpm
  aws_vm:
    description:
      - Configuration of an C(aws-vm) collection.
      - Mutually exclusive with C(azure_vm), C(gcp_vm) and C(tpm), and only
        accepted with C(device_type=aws-vm).
    type: dict
    version_added: 0.1.0
    suboptions:
      accounts:
        description:
          - AWS account IDs whose EC2 instances may join. Compared as a set.
        type: list
        version_added: 0.1.0
        elements: str
        required: true
      disable_custom_sans:
        description:
          - Do not allow SANs other than the instance's own in certificates.
        type: bool
        version_added: 0.1.0
  azure_vm:
    description:
      - Configuration of an C(azure-vm) collection.
      - Mutually exclusive with C(aws_vm), C(gcp_vm) and C(tpm), and only
        accepted with C(device_type=azure-vm).
    type: dict
    version_added: 0.1.0
    suboptions:
      tenant_id:
        description:
          - Microsoft Entra (Azure AD) tenant ID.
        type: str
        version_added: 0.1.0
        required: true
      resource_groups:
        description:
          - Resource groups whose VMs may join. Compared as a set.
        type: list
        version_added: 0.1.0
        elements: str
        required: true
      audience:
        description:
          - Audience of the managed identity tokens.
          - The server uses C(https://management.azure.com/) when it is not
            set, and the module compares with that.
        type: str
        version_added: 0.1.0
      disable_custom_sans:
        description:
          - Do not allow SANs other than the VM's own in certificates.
        type: bool
        version_added: 0.1.0
  gcp_vm:
    description:
      - Configuration of a C(gcp-vm) collection.
      - At least one of C(gcp_vm.project_ids) and C(gcp_vm.service_accounts)
        is required.
      - Mutually exclusive with C(aws_vm), C(azure_vm) and C(tpm), and only
        accepted with C(device_type=gcp-vm).
    type: dict
    version_added: 0.1.0
    suboptions:
      project_ids:
        description:
          - Google Cloud project IDs whose instances may join. Compared as a
            set.
        type: list
        version_added: 0.1.0
        elements: str
      service_accounts:
        description:
          - Service account emails whose instances may join. Compared as a
            set.
        type: list
        version_added: 0.1.0
        elements: str
      disable_custom_sans:
        description:
          - Do not allow SANs other than the instance's own in certificates.
        type: bool
        version_added: 0.1.0
  tpm:
    description:
      - Configuration of a C(tpm) collection; optional.
      - Mutually exclusive with C(aws_vm), C(azure_vm) and C(gcp_vm), and
        only accepted with C(device_type=tpm).
    type: dict
    version_added: 0.1.0
    suboptions:
      attestor_roots:
        description:
          - PEM bundle of the root certificates that TPM EK certificates must
            chain to (the TPM manufacturers' roots).
        type: str
        version_added: 0.1.0
      attestor_intermediates:
        description:
          - PEM bundle of intermediate certificates for those chains.
        type: str
        version_added: 0.1.0
      force_cn:
        description:
          - Put the device's name in the certificate's Common Name.
        type: bool
        version_added: 0.1.0
      require_eab:
        description:
          - Require external account binding when devices enroll.
        type: bool
        version_added: 0.1.0
  admin_emails:
    description:
      - Emails of the collection's administrators.
      - Sent on every write, but the API does not return them, so they are
        not compared and never cause a change on their own.
    type: list
    version_added: 0.1.0
    elements: str
  state:
    description:
      - C(present) creates the collection or brings it in line with the
        options; C(absent) deletes it.
    type: str
    version_added: 0.1.0
    choices:
      - present
      - absent
    default: present
  purge:
    description:
      - With C(state=absent), also delete the collection's devices and
        workloads (the API's C(purge=true)).
      - Without it, deleting a collection that still holds devices or
        workloads fails with a message saying so; in check mode too, for
        devices.
      - With C(state=present) it has no effect, and the module warns.
    type: bool
    version_added: 0.1.0
    default: false
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reads the collection, reports whether it would change, never writes.
  diff_mode:
    support: full
    details: Shows the collection before and after, with option-style keys.
notes:
  - Only the fields the module manages are compared; C(admin_emails) is sent
    but not compared.
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.workload
  - module: stepfleet.smallstep.device
  - name: Smallstep documentation
    description: Device collections, workloads and the Smallstep agent.
    link: https://smallstep.com/docs/
'''

EXAMPLES = r'''
- name: Manage Smallstep from the controller
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: A collection of machines identified by their TPM
      stepfleet.smallstep.device_collection:
        slug: tpm-servers
        display_name: TPM servers
        device_type: tpm
        tpm:
          attestor_roots: "{{ lookup('ansible.builtin.file', 'files/tpm-vendor-roots.pem') }}"
          force_cn: true
        admin_emails:
          - pki-team@example.com

    - name: A collection of EC2 instances of two accounts
      stepfleet.smallstep.device_collection:
        slug: aws-web
        display_name: AWS web servers
        device_type: aws-vm
        aws_vm:
          accounts:
            - "123456789012"
            - "210987654321"
          disable_custom_sans: false

    - name: A collection of Azure VMs
      stepfleet.smallstep.device_collection:
        slug: azure-db
        device_type: azure-vm
        azure_vm:
          tenant_id: 0d4f3c2b-1a2b-4c3d-9e8f-0123456789ab
          resource_groups:
            - prod-db

    - name: A collection of Compute Engine instances
      stepfleet.smallstep.device_collection:
        slug: gcp-batch
        device_type: gcp-vm
        gcp_vm:
          project_ids:
            - batch-prod-4711

    - name: See what would change, without changing it
      stepfleet.smallstep.device_collection:
        slug: tpm-servers
        display_name: TPM servers (renamed)
        device_type: tpm
      check_mode: true
      diff: true
      register: preview

    - name: Delete a collection with its devices and workloads
      stepfleet.smallstep.device_collection:
        slug: old-lab
        state: absent
        purge: true

# The token from the controller's environment: export SMALLSTEP_API_TOKEN
# before running ansible-playbook; the module reads it where it runs.
- name: A self-hosted endpoint with a private CA
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the collection
      stepfleet.smallstep.device_collection:
        api_url: https://smallstep.internal.example.com/api
        ca_path: /etc/pki/internal-root.pem
        timeout: 60
        slug: tpm-lab
        device_type: tpm
'''

RETURN = r'''
device_collection:
  description:
    - The collection as the server holds it after the task, with
      option-style (snake_case) keys.
    - In check mode, the collection as it would be.
    - Server defaults are filled in and empty values left out; lists compared
      as sets are sorted.
  returned: when C(state=present) and the task succeeded
  type: dict
  sample:
    slug: tpm-servers
    display_name: TPM servers
    device_type: tpm
    device_type_configuration:
      force_cn: true
  contains:
    slug:
      description: The collection's slug.
      returned: always
      type: str
      sample: tpm-servers
    display_name:
      description: Name shown in the dashboard.
      returned: always
      type: str
      sample: TPM servers
    device_type:
      description: Type of the collection's devices.
      returned: always
      type: str
      sample: tpm
    device_type_configuration:
      description:
        - The type's configuration, with the keys of C(aws_vm), C(azure_vm),
          C(gcp_vm) or C(tpm) that are set.
      returned: always
      type: dict
      sample:
        force_cn: true
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: PUT
    path: /device-collections/tpm-servers
    status: 422
    message: "deviceType: must be one of aws-vm, azure-vm, gcp-vm, tpm"
    request_id: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
  contains:
    method:
      description: HTTP method of the request.
      returned: always
      type: str
      sample: PUT
    path:
      description: Path of the request, below C(api_url).
      returned: always
      type: str
      sample: /device-collections/tpm-servers
    status:
      description: HTTP status of the answer; C(0) when no answer came (connection or TLS error, timeout).
      returned: always
      type: int
      sample: 422
    message:
      description: The server's message, or why no answer came.
      returned: always
      type: str
      sample: "deviceType: must be one of aws-vm, azure-vm, gcp-vm, tpm"
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
