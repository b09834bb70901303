#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary
# (modules-src/cmd/enrollment_token) that plugins/action/enrollment_token.py
# runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: enrollment_token
short_description: Generate an enrollment token for a Smallstep device
version_added: 0.1.0
description:
  - Generate a new enrollment token for one registered device through the
    Smallstep API
    (C(POST /device-collections/{collection}/{instance_id}/enrollment-token)).
    The token is a JWT with which the Smallstep agent on that device
    enrolls.
  - The token is a secret and the server shows it only once. The module
    returns it in C(token) and nowhere else (not in C(msg), the diff or
    warnings). A result that holds the token is marked no_log, as if the
    task had C(no_log=true); Ansible prints it as censored at every
    verbosity and in C(ANSIBLE_LOG_PATH), and the registered variable still
    holds the token. Give the task C(no_log=true) all the same, so that a
    reader sees the secret, and hand the token on only to tasks that also
    have C(no_log=true), such as one that writes it to a file with mode
    C(0600).
  - In a loop the task needs C(no_log=true) of its own, and it cannot run
    with C(async) or C(until) (each try would generate a token); these are
    refused before any request. Ansible puts a
    loop's overall result together past the masking, where callbacks such
    as junit and tree, and AWX job events, record it whole, and
    C(async_status) would return the token unmasked.
  - Every run generates a new token, so the task always reports
    C(changed=true); there is no idempotent form. Put it behind a condition
    (for example, only when the agent has not enrolled yet).
  - In check mode the module sends no request at all and says so in C(msg).
  - The request is a POST and is never retried, since a retried request
    could create two tokens; C(retries) does not apply to it. When the API
    refuses it (4xx, 501, 503, 505), or it never left or was never read
    (connection refused, name not resolved, TLS handshake failed), the task
    fails with C(changed=false); a 404 from a wrong C(api_url) says so.
    When it fails with another 5xx, or the connection is cut or times out
    after it was sent, a token may exist all the same, so the task fails
    with C(changed=true) and says so.
  - A C(urn:ek:) C(instance_id) must be a well-formed TPM EK URI; a
    malformed one fails before any request.
  - The device must be registered first, with M(stepfleet.smallstep.device).
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller.
author:
  - stepfleet team (@stepfleet)
options:
  collection:
    description:
      - Slug of the device collection the device belongs to.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - device_collection
  instance_id:
    description:
      - The device's ID in its collection, such as a TPM EK URI
        (C(urn:ek:sha256:...)) or an EC2 instance ID. It is escaped as one
        path segment.
    type: str
    version_added: 0.1.0
    required: true
    aliases:
      - id
  title:
    description:
      - The token's name, as shown in the dashboard.
      - If not set, the server picks one (C(Enrollment token for
        <instance_id>)).
    type: str
    version_added: 0.1.0
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    details: Reports the change and sends no request.
  diff_mode:
    support: partial
    details: Shows the device and title a token is asked for, never the token.
notes:
  - The module masks the API token in its result itself; see C(api_token).
  - Check the result of a task whose output C(no_log) hides with C(is
    failed) and C(msg); C(msg) never holds the token.
seealso:
  - module: stepfleet.smallstep.device
  - module: stepfleet.smallstep.device_info
  - name: Smallstep documentation
    description: Device enrollment and the Smallstep agent.
    link: https://smallstep.com/docs/
'''

EXAMPLES = r'''
- name: Generate an enrollment token for this host's device
  stepfleet.smallstep.enrollment_token:
    collection: tpm-servers
    instance_id: "{{ tpm.ek_uri }}"
    title: "Enrollment token for {{ inventory_hostname }}"
  delegate_to: localhost
  no_log: true
  register: enrollment

- name: Hand the token to the agent in a file only root can read
  ansible.builtin.copy:
    dest: /etc/step-agent/enrollment-token
    content: "{{ enrollment.token }}"
    owner: root
    group: root
    mode: "0600"
  become: true
  no_log: true

- name: A token for an EC2 instance, only when it has none yet
  stepfleet.smallstep.enrollment_token:
    collection: aws-web
    id: i-0d460b88a96dfdd08
  when: not agent_enrolled | default(false)
  no_log: true
  register: ec2_enrollment

- name: Say what was generated, without the secret
  ansible.builtin.debug:
    msg: "token {{ ec2_enrollment.enrollment_token.id }} ({{ ec2_enrollment.enrollment_token.title }})"
  when: ec2_enrollment is changed
'''

RETURN = r'''
token:
  description:
    - The enrollment token (a JWT). This is a secret; the server shows it
      only this once.
    - Its presence marks the whole result no_log, so Ansible prints the result
      as censored; read it from the registered variable.
  returned: when a token was generated (not in check mode)
  type: str
  sample: eyJhbGciOiJFUzI1NiIsImtpZCI6Ij...
enrollment_token:
  description: What identifies the token, without the secret.
  returned: when a token was generated (not in check mode)
  type: dict
  sample:
    id: a94fa793-7e2a-40b4-b0fe-ccee7c4afc4a
    title: Enrollment token for web1
    collection: tpm-servers
    instance_id: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
  contains:
    id:
      description: The token's ID.
      returned: always
      type: str
      sample: a94fa793-7e2a-40b4-b0fe-ccee7c4afc4a
    title:
      description: The token's name.
      returned: always
      type: str
      sample: Enrollment token for web1
    collection:
      description: The device collection (C(collection)).
      returned: always
      type: str
      sample: tpm-servers
    instance_id:
      description: The device (C(instance_id)).
      returned: always
      type: str
      sample: urn:ek:sha256:RFtvG+0HVi1sMHtQbV9HOTXPONfDrMfpmaFMidwWVJE=
msg:
  description: In check mode, that a token would be generated and no request was sent.
  returned: in check mode
  type: str
  sample: 'check mode: a new enrollment token would be generated for device "i-0d460b88a96dfdd08" of collection "aws-web"; no request was sent'
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
    - It never holds C(tries), which the other API modules return after
      retries, since the module's only request, a POST, is sent once.
  returned: when an API request failed
  type: dict
  sample:
    method: POST
    path: /device-collections/tpm-servers/i-0d460b88a96dfdd08/enrollment-token
    status: 401
    message: invalid token
    request_id: 6f1c0e9a-2b7d-4c3e-8f5a-1b2c3d4e5f60
  contains:
    method:
      description: HTTP method of the request.
      returned: always
      type: str
      sample: POST
    path:
      description: Path of the request, below C(api_url), each name escaped as one path segment.
      returned: always
      type: str
      sample: /device-collections/tpm-servers/i-0d460b88a96dfdd08/enrollment-token
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
'''
