#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/authority_info)
# that plugins/action/authority_info.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: authority_info
short_description: Read a Smallstep team's certificate authorities and its agent CA
version_added: 0.1.0
description:
  - List the certificate authorities of the team the API token belongs to
    (C(GET /authorities), every page), and find the team's agents authority,
    C(agents.<team>.ca.smallstep.com), whose team name and root fingerprint
    the Smallstep agent is configured with.
  - The module is a Go binary; its action plugin runs the build for the
    architecture of the host it runs on. It usually runs on the controller
    or a host that can reach the API.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
  - When the team has no agents authority it warns and returns an empty
    C(agents).
author:
  - stepfleet team (@stepfleet)
extends_documentation_fragment:
  - stepfleet.smallstep.api
  - stepfleet.smallstep.api.read_only
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
notes:
  - The module masks the API token in its result itself; see C(api_token).
seealso:
  - module: stepfleet.smallstep.device
  - name: Smallstep documentation
    description: Authorities, the agent and its configuration.
    link: https://smallstep.com/docs/
'''

EXAMPLES = r'''
- name: Configure the Smallstep agent
  hosts: tpm_hosts
  module_defaults:
    group/stepfleet.smallstep.api:
      api_token: "{{ vault_smallstep_api_token }}"
  tasks:
    - name: Find the team and the agent CA's fingerprint, once
      stepfleet.smallstep.authority_info:
      delegate_to: localhost
      run_once: true
      register: smallstep

    - name: Write the agent's configuration
      ansible.builtin.copy:
        dest: /etc/step-agent/agent.yaml
        mode: '0600'
        content: |
          team: {{ smallstep.agents.team }}
          fingerprint: {{ smallstep.agents.fingerprint }}
      become: true

    - name: List every authority's domain
      ansible.builtin.debug:
        msg: "{{ smallstep.authorities | map(attribute='domain') | list }}"
      run_once: true

- name: Stop before enrolling when the team has no agents authority
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the authorities (URL and token from SMALLSTEP_API_URL and SMALLSTEP_API_TOKEN)
      stepfleet.smallstep.authority_info:
      register: smallstep

    - name: Require the agents authority
      ansible.builtin.assert:
        that:
          - smallstep.agents.fingerprint is defined
        fail_msg: >-
          The team has no agents authority (agents.<team>.ca.smallstep.com);
          create it in the Smallstep dashboard first.
'''

RETURN = r'''
authorities:
  description:
    - Every authority of the team, with option-style (snake_case) keys.
  returned: success
  type: list
  elements: dict
  sample:
    - id: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
      name: Agents
      domain: agents.demo.ca.smallstep.com
      type: devops
      fingerprint: 2f4c0f3b8e0d6a7b4c1e9f8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a
      root: |
        -----BEGIN CERTIFICATE-----
        MIIBqjCCAU+gAwIBAgIQ...
        -----END CERTIFICATE-----
      created_at: "2026-01-15T10:00:00Z"
  contains:
    id:
      description: The authority's ID.
      returned: always
      type: str
      sample: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
    name:
      description: The authority's name.
      returned: always
      type: str
      sample: Agents
    domain:
      description: The authority's domain.
      returned: always
      type: str
      sample: agents.demo.ca.smallstep.com
    type:
      description: Kind of authority (C(devops), C(managed) or C(advanced)).
      returned: always
      type: str
      sample: devops
    fingerprint:
      description: Hex SHA-256 of the authority's root certificate.
      returned: when the server sends it
      type: str
      sample: 2f4c0f3b8e0d6a7b4c1e9f8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a
    root:
      description: The authority's root certificate, PEM.
      returned: when the server sends it
      type: str
      sample: "-----BEGIN CERTIFICATE-----\n..."
    created_at:
      description: When the authority was created (RFC 3339).
      returned: always
      type: str
      sample: "2026-01-15T10:00:00Z"
    admin_emails:
      description: Emails of the authority's administrators.
      returned: when the server sends them
      type: list
      elements: str
      sample:
        - pki-team@example.com
agents:
  description:
    - The team's agents authority (domain C(agents.<team>.ca.smallstep.com))
      and the team name taken from its domain; what the agent's
      configuration needs.
    - Empty when the team has none (the module warns then).
  returned: success
  type: dict
  sample:
    team: demo
    fingerprint: 2f4c0f3b8e0d6a7b4c1e9f8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a
    domain: agents.demo.ca.smallstep.com
    id: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
    authority_id: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
    name: Agents
    root: "-----BEGIN CERTIFICATE-----\n..."
  contains:
    team:
      description: The team's name, the C(<team>) of the domain; the agent's C(team) setting.
      returned: when the team has an agents authority
      type: str
      sample: demo
    fingerprint:
      description: Hex SHA-256 of the agents authority's root; the agent's C(fingerprint) setting.
      returned: when the team has an agents authority
      type: str
      sample: 2f4c0f3b8e0d6a7b4c1e9f8a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a
    domain:
      description: The agents authority's domain.
      returned: when the team has an agents authority
      type: str
      sample: agents.demo.ca.smallstep.com
    id:
      description: The agents authority's ID.
      returned: when the team has an agents authority
      type: str
      sample: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
    authority_id:
      description: The same as C(id).
      returned: when the team has an agents authority
      type: str
      sample: 0b2d7c4e-5f61-4a8b-9c0d-1e2f3a4b5c6d
    name:
      description: The agents authority's name.
      returned: when the team has an agents authority
      type: str
      sample: Agents
    root:
      description: The agents authority's root certificate, PEM.
      returned: when the team has an agents authority
      type: str
      sample: "-----BEGIN CERTIFICATE-----\n..."
failure:
  description:
    - Details of a failed API request, also summed up in C(msg) (which names
      the method, path, HTTP status, server message and request ID).
  returned: when an API request failed
  type: dict
  sample:
    method: GET
    path: /authorities
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
      description: Path of the request, below C(api_url).
      returned: always
      type: str
      sample: /authorities
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
