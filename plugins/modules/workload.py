#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/workload)
# that plugins/action/workload.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: workload
short_description: Manage a workload of a Smallstep device collection
version_added: 0.1.0
description:
  - Create, update or delete a workload of a device collection through the
    Smallstep API (C(/device-collections/{collection}/workloads/{slug})).
  - A workload is a certificate that every device of the collection gets
    from the Smallstep agent, for a service such as nginx or postgres; the
    options say what goes into it, where the agent writes the files and how
    the service is reloaded.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller
    or a host that can reach the API.
  - The module is idempotent. It reads the workload, compares it with the
    options the way the server means them (server defaults filled in,
    C(device_metadata_key_sans) compared as a set while the order of
    C(static_sans) counts, durations such as C(24h) and C(24h0m0s) equal)
    and writes only when they differ. A second identical run reports
    C(changed=false) and sends no write.
  - In check mode it reads but never writes, and reports whether it would
    change the workload. In diff mode it shows the workload before and
    after, with option-style (snake_case) keys.
  - The device collection must exist, except with C(state=absent), where a
    missing collection means there is nothing to delete, and in check mode,
    where a missing collection is reported as a change with a warning, since
    an earlier task of the play may create it.
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
      - The workload's slug, its identifier within the collection.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - name
  display_name:
    description:
      - Name shown in the dashboard.
      - If not set, a new workload is named after its slug and an existing
        one keeps its name.
    type: str
    version_added: 0.1.0
  workload_type:
    description:
      - The kind of service the certificate is for.
      - Required when C(state=present).
    type: str
    version_added: 0.1.0
    choices:
      - etcd
      - generic
      - git
      - grafana
      - haproxy
      - httpd
      - kafka
      - mysql
      - nginx
      - nodejs
      - postgres
      - redis
      - tomcat
      - zookeeper
  static_sans:
    description:
      - Subject alternative names put in every device's certificate.
      - The first one is the certificate's Common Name, so the order counts.
    type: list
    version_added: 0.1.0
    elements: str
  device_metadata_key_sans:
    description:
      - Names of keys of the device's data (see the C(data) option of
        M(stepfleet.smallstep.device)) whose values become SANs of that
        device's certificate.
      - Compared as a set.
    type: list
    version_added: 0.1.0
    elements: str
  certificate_info:
    description:
      - The certificate and where the agent writes it.
      - The server fills in C(type=X509) when this is not set.
    type: dict
    version_added: 0.1.0
    suboptions:
      type:
        description:
          - Kind of certificate.
        type: str
        version_added: 0.1.0
        choices:
          - X509
          - SSH_USER
          - SSH_HOST
        default: X509
      duration:
        description:
          - Validity of the certificate, as a Go duration such as C(24h) or
            C(720h0m0s). Checked before any request.
        type: str
        version_added: 0.1.0
      crt_file:
        description:
          - Path on the device where the agent writes the certificate.
        type: str
        version_added: 0.1.0
      key_file:
        description:
          - Path on the device where the agent writes the private key.
        type: str
        version_added: 0.1.0
      root_file:
        description:
          - Path on the device where the agent writes the root certificate.
        type: str
        version_added: 0.1.0
      uid:
        description:
          - Owner (numeric user ID) of the files on the device.
        type: int
        version_added: 0.1.0
      gid:
        description:
          - Group (numeric group ID) of the files on the device.
        type: int
        version_added: 0.1.0
      mode:
        description:
          - Permissions of the files on the device. A string is octal digits
            (C('0400'), C('640')); a number is the mode's value (C(256) is
            C(0400)). Unlike Ansible's file modules, symbolic modes
            (C(u=r)) and the C(0o) prefix are not accepted.
          - Quote octal modes; an unquoted C(0400) in YAML 1.1 is the number
            256, which means the same, but C(400) unquoted is 400 decimal.
          - The API stores and returns the decimal value.
        type: raw
        version_added: 0.1.0
  key_info:
    description:
      - The private key the agent generates.
      - The server fills in C(type=DEFAULT) and C(format=DEFAULT) when this
        is not set.
    type: dict
    version_added: 0.1.0
    suboptions:
      type:
        description:
          - Key algorithm.
        type: str
        version_added: 0.1.0
        choices:
          - DEFAULT
          - ECDSA_P256
          - ECDSA_P384
          - ECDSA_P521
          - RSA_2048
          - RSA_3072
          - RSA_4096
          - ED25519
      format:
        description:
          - Encoding of the key file.
        type: str
        version_added: 0.1.0
        choices:
          - DEFAULT
          - DER
          - OPENSSH
          - PKCS8
      pub_file:
        description:
          - Path on the device where the agent writes the public key.
        type: str
        version_added: 0.1.0
  reload_info:
    description:
      - How the agent makes the service use a renewed certificate.
      - The server fills in C(method=AUTOMATIC) when this is not set.
    type: dict
    version_added: 0.1.0
    suboptions:
      method:
        description:
          - C(AUTOMATIC) lets the agent choose for the workload type,
            C(CUSTOM) runs the hooks, C(SIGNAL) signals the process in
            C(pid_file), C(DBUS) restarts the systemd unit C(unit_name).
        type: str
        version_added: 0.1.0
        required: true
        choices:
          - AUTOMATIC
          - CUSTOM
          - SIGNAL
          - DBUS
      pid_file:
        description:
          - File holding the PID of the process to signal.
          - Required when C(method=SIGNAL).
        type: str
        version_added: 0.1.0
      signal:
        description:
          - Number of the signal to send, such as C(1) for SIGHUP.
          - Required when C(method=SIGNAL).
        type: int
        version_added: 0.1.0
      unit_name:
        description:
          - Name of the systemd unit to restart.
          - Required when C(method=DBUS).
        type: str
        version_added: 0.1.0
  hooks:
    description:
      - Commands the agent runs on the device around signing and renewal.
    type: dict
    version_added: 0.1.0
    suboptions:
      sign:
        description:
          - Hooks around the first signing.
        type: dict
        version_added: 0.1.0
        suboptions:
          shell:
            description:
              - Shell that runs the commands, such as C(/bin/sh).
            type: str
            version_added: 0.1.0
          before:
            description:
              - Commands run before.
            type: list
            version_added: 0.1.0
            elements: str
          after:
            description:
              - Commands run after success.
            type: list
            version_added: 0.1.0
            elements: str
          on_error:
            description:
              - Commands run after a failure.
            type: list
            version_added: 0.1.0
            elements: str
      renew:
        description:
          - Hooks around each renewal.
        type: dict
        version_added: 0.1.0
        suboptions:
          shell:
            description:
              - Shell that runs the commands, such as C(/bin/sh).
            type: str
            version_added: 0.1.0
          before:
            description:
              - Commands run before.
            type: list
            version_added: 0.1.0
            elements: str
          after:
            description:
              - Commands run after success.
            type: list
            version_added: 0.1.0
            elements: str
          on_error:
            description:
              - Commands run after a failure.
            type: list
            version_added: 0.1.0
            elements: str
  admin_emails:
    description:
      - Emails of the workload's administrators.
      - Sent on every write, but the API does not return them, so they are
        not compared and never cause a change on their own.
    type: list
    version_added: 0.1.0
    elements: str
  state:
    description:
      - C(present) creates the workload or brings it in line with the
        options; C(absent) deletes it.
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
    details: Reads the workload, reports whether it would change, never writes.
  diff_mode:
    support: full
    details: Shows the workload before and after, with option-style keys.
notes:
  - The options replace the whole workload (the API's PUT); a nested option
    left out is reset to the server's default, and the module shows that as
    a change.
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.device_collection
  - module: stepfleet.smallstep.device
  - name: Smallstep documentation
    description: Device collections, workloads and the Smallstep agent.
    link: https://smallstep.com/docs/
'''

EXAMPLES = r'''
- name: Workloads of the tpm-servers collection
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: An nginx certificate with fixed names; the first SAN is the Common Name
      stepfleet.smallstep.workload:
        collection: tpm-servers
        slug: nginx
        display_name: Web front end
        workload_type: nginx
        static_sans:
          - www.example.com
          - example.com
        certificate_info:
          type: X509
          duration: 168h
          crt_file: /etc/nginx/tls/server.crt
          key_file: /etc/nginx/tls/server.key
          root_file: /etc/nginx/tls/root.crt
          uid: 0
          gid: 33
          mode: '0640'
        key_info:
          type: ECDSA_P256
          format: DEFAULT
        reload_info:
          method: DBUS
          unit_name: nginx.service

    - name: A postgres certificate named after each device's own data
      stepfleet.smallstep.workload:
        collection: tpm-servers
        slug: postgres
        workload_type: postgres
        device_metadata_key_sans:
          - hostname
          - ansible_host
        certificate_info:
          crt_file: /var/lib/postgresql/server.crt
          key_file: /var/lib/postgresql/server.key
          mode: '0600'
        reload_info:
          method: SIGNAL
          pid_file: /var/run/postgresql/15-main.pid
          signal: 1
        hooks:
          renew:
            shell: /bin/sh
            after:
              - logger -t step-agent "postgres certificate renewed"
            on_error:
              - logger -p user.err -t step-agent "postgres renewal failed"

    - name: Preview a change
      stepfleet.smallstep.workload:
        collection: tpm-servers
        slug: nginx
        workload_type: nginx
        static_sans:
          - www.example.com
      check_mode: true
      diff: true

    - name: Remove a workload
      stepfleet.smallstep.workload:
        collection: tpm-servers
        slug: redis
        state: absent
'''

RETURN = r'''
workload:
  description:
    - The workload as the server holds it after the task, with option-style
      (snake_case) keys.
    - In check mode, the workload as it would be.
    - Server defaults are filled in and empty values left out;
      C(device_metadata_key_sans) is sorted; C(certificate_info.duration) is
      in Go's form (C(168h0m0s)); C(certificate_info.mode) is the decimal
      value of the mode.
  returned: when C(state=present) and the task succeeded
  type: dict
  sample:
    slug: nginx
    display_name: Web front end
    workload_type: nginx
    static_sans:
      - www.example.com
      - example.com
    certificate_info:
      type: X509
      duration: 168h0m0s
      crt_file: /etc/nginx/tls/server.crt
      key_file: /etc/nginx/tls/server.key
      root_file: /etc/nginx/tls/root.crt
      uid: 0
      gid: 33
      mode: 416
    key_info:
      type: ECDSA_P256
      format: DEFAULT
    reload_info:
      method: DBUS
      unit_name: nginx.service
  contains:
    slug:
      description: The workload's slug.
      returned: always
      type: str
      sample: nginx
    display_name:
      description: Name shown in the dashboard.
      returned: always
      type: str
      sample: Web front end
    workload_type:
      description: The kind of service.
      returned: always
      type: str
      sample: nginx
    static_sans:
      description: Fixed SANs, in order.
      returned: when set
      type: list
      elements: str
      sample:
        - www.example.com
        - example.com
    device_metadata_key_sans:
      description: Device data keys whose values become SANs, sorted.
      returned: when set
      type: list
      elements: str
      sample:
        - ansible_host
        - hostname
    certificate_info:
      description: The certificate and its files, keys as in C(certificate_info).
      returned: always
      type: dict
      sample:
        type: X509
        duration: 168h0m0s
        mode: 416
    key_info:
      description: The key, keys as in C(key_info).
      returned: always
      type: dict
      sample:
        type: DEFAULT
        format: DEFAULT
    reload_info:
      description: How the service is reloaded, keys as in C(reload_info).
      returned: always
      type: dict
      sample:
        method: AUTOMATIC
    hooks:
      description: Hooks, keys as in C(hooks).
      returned: when set
      type: dict
      sample:
        renew:
          shell: /bin/sh
          after:
            - logger -t step-agent renewed
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: PUT
    path: /device-collections/tpm-servers/workloads/nginx
    status: 400
    message: "staticSANs: must be a list of strings"
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
      sample: /device-collections/tpm-servers/workloads/nginx
    status:
      description: HTTP status of the answer; C(0) when no answer came (connection or TLS error, timeout).
      returned: always
      type: int
      sample: 400
    message:
      description: The server's message, or why no answer came.
      returned: always
      type: str
      sample: "staticSANs: must be a list of strings"
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
