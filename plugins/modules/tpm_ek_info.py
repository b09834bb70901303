#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is a Go binary (modules-src/cmd/tpm_ek_info)
# that plugins/action/tpm_ek_info.py runs.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tpm_ek_info
short_description: Read the endorsement keys of a host's TPM 2.0 and its Smallstep device ID
version_added: 0.1.0
description:
  - Read the endorsement keys (EKs) of the TPM 2.0 of the host the task runs
    on, with their certificates where the TPM holds them, and return the
    EK URI that identifies the host in a Smallstep TPM device collection.
  - It reads EK certificates from NV (TCG low range for RSA 2048 and ECC
    P-256, and the high range), checks their key against the TPM's own EK
    (from a persistent handle, or recreated from the TCG default template
    and flushed at once), and reports persistent endorsement keys.
    Problems that leave other keys readable become warnings.
  - The module is a Go binary run on the target, not on the controller; its
    action plugin runs the build for the target's architecture (amd64 or
    arm64). It needs no Python on the target.
  - It is not in the C(group/stepfleet.smallstep.api) action group, because
    it does not talk to the API and takes no connection options.
  - It only reads, so it never reports a change, runs the same in check
    mode, and has no diff.
author:
  - stepfleet team (@stepfleet)
options:
  tpm_path:
    description:
      - The TPM to read.
      - If not set, C(/dev/tpmrm0) (the kernel's resource manager), then
        C(/dev/tpm0).
      - A path is a TPM character device; C(unix:/path/to/sock) is a swtpm
        server socket (C(swtpm socket --server type=unixio,path=...));
        C(tcp:host:port) is a swtpm server port
        (C(swtpm socket --server type=tcp,port=...)).
      - Reading a TPM device needs read and write permission on it (root,
        or the C(tss) group); use C(become).
    type: str
    version_added: 0.1.0
  ek_type:
    description:
      - The EK whose URI C(ek_uri) returns.
      - If not set, RSA 2048 if the TPM has one, else ECC P-256, else the
        first EK listed.
      - The module fails if the TPM has no EK of the type asked for, and says
        which it has.
    type: str
    version_added: 0.1.0
    choices:
      - rsa2048
      - ecc-p256
      - ecc-p384
      - ecc-p521
      - rsa3072
      - rsa4096
  fail_if_missing:
    description:
      - Fail when there is no TPM at C(tpm_path) (or at either default
        device).
      - With C(false), a host without a TPM returns C(found=false), an empty
        C(eks) and C(ek_uri), instead of failing; a TPM that is there but
        cannot be read still fails.
    type: bool
    version_added: 0.1.0
    default: true
  set_facts:
    description:
      - Also set the fact C(smallstep_tpm) on the host, with C(found),
        C(ek_uri), C(eks) and C(tpm_path).
    type: bool
    version_added: 0.1.0
    default: true
attributes:
  check_mode:
    support: full
    details: Reads the same way in check mode.
  diff_mode:
    support: N/A
    details: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
    details: Linux TPM devices, or swtpm sockets on any POSIX host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - The EK URI is C(urn:ek:sha256:) and the standard base64 (with padding)
    of the SHA-256 of the EK public key's DER (PKIX) encoding. The same key
    gives the same URI whether it was read from its certificate or from the
    TPM.
  - The only command that is not a read is TPM2_CreatePrimary, when the
    TPM keeps neither a certificate nor a persistent copy of an EK; the key
    it creates is flushed before the module ends.
seealso:
  - module: stepfleet.smallstep.device
  - name: Smallstep documentation
    description: TPM device collections and the Smallstep agent.
    link: https://smallstep.com/docs/
  - name: TCG EK Credential Profile for TPM Family 2.0
    description: Where TPMs keep their EK certificates and templates.
    link: https://trustedcomputinggroup.org/resource/tcg-ek-credential-profile-for-tpm-family-2-0/
'''

EXAMPLES = r'''
- name: Read the host's TPM
  stepfleet.smallstep.tpm_ek_info:
  become: true
  register: tpm

- name: Show the ID to register
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is {{ tpm.ek_uri }}"

- name: Register it from the controller
  stepfleet.smallstep.device:
    api_token: "{{ vault_smallstep_api_token }}"
    collection: tpm-servers
    instance_id: "{{ tpm.ek_uri }}"
    device_type: tpm
    data:
      hostname: "{{ inventory_hostname }}"
  delegate_to: localhost

- name: A software TPM (swtpm) on a Unix socket, the ECC P-256 key
  stepfleet.smallstep.tpm_ek_info:
    tpm_path: unix:/run/swtpm/tpm0.sock
    ek_type: ecc-p256

- name: Hosts without a TPM are skipped later instead of failing here
  stepfleet.smallstep.tpm_ek_info:
    fail_if_missing: false
  become: true

- name: Only TPM hosts go on
  ansible.builtin.meta: end_host
  when: not smallstep_tpm.found
'''

RETURN = r'''
found:
  description: Whether a TPM was found and read. C(false) only with C(fail_if_missing=false).
  returned: success
  type: bool
  sample: true
tpm_path:
  description: The TPM that was read, spelled so that it can be given as C(tpm_path) again.
  returned: when a TPM was found
  type: str
  sample: /dev/tpmrm0
ek_uri:
  description:
    - The device ID to register with M(stepfleet.smallstep.device); the URI of
      the EK that C(ek_type) selects (by default RSA 2048 first).
    - Empty when no TPM was found.
  returned: success
  type: str
  sample: urn:ek:sha256:qB6c/jFuT1ZgwqH5vrBjRAvTthRP3WmW6snAceMiZF0=
ek:
  description: The selected EK, the item of C(eks) whose URI is C(ek_uri).
  returned: when a TPM was found
  type: dict
  sample:
    type: RSA
    bits: 2048
    public_key_pem: "-----BEGIN PUBLIC KEY-----\n..."
    fingerprint: sha256:a81e9cfe316e4f5660c2a1f9beb063440bd3b6144fdd6996eac9c071e322645d
    uri: urn:ek:sha256:qB6c/jFuT1ZgwqH5vrBjRAvTthRP3WmW6snAceMiZF0=
    certificate_pem: "-----BEGIN CERTIFICATE-----\n..."
    issuer: CN=swtpm-localca
    not_before: "2026-12-03T16:59:47Z"
    not_after: "9999-12-31T23:59:59Z"
    source: nv:0x01c00002
    verified_by: handle:0x81010001
eks:
  description:
    - Every endorsement key of the TPM, RSA 2048 and ECC P-256 (TCG low
      range) first, then high-range certificates, then other persistent
      endorsement keys. A key appears once.
    - Empty when no TPM was found.
  returned: success
  type: list
  elements: dict
  sample:
    - type: RSA
      bits: 2048
      public_key_pem: "-----BEGIN PUBLIC KEY-----\n..."
      fingerprint: sha256:a81e9cfe316e4f5660c2a1f9beb063440bd3b6144fdd6996eac9c071e322645d
      uri: urn:ek:sha256:qB6c/jFuT1ZgwqH5vrBjRAvTthRP3WmW6snAceMiZF0=
      certificate_pem: "-----BEGIN CERTIFICATE-----\n..."
      issuer: CN=swtpm-localca
      not_before: "2026-12-03T16:59:47Z"
      not_after: "9999-12-31T23:59:59Z"
      source: nv:0x01c00002
      verified_by: handle:0x81010001
    - type: ECC
      curve: P-256
      public_key_pem: "-----BEGIN PUBLIC KEY-----\n..."
      fingerprint: sha256:e528968eb22fb5a9f7a7abb004f3aa3378caccd16c9cf9f0d743232fa5e6bc58
      uri: urn:ek:sha256:5SiWjrIvtan3p6uwBPOqM3jKzNFsnPnw10MjL6XmvFg=
      source: template
  contains:
    type:
      description: Key type, C(RSA) or C(ECC).
      returned: always
      type: str
      sample: RSA
    bits:
      description: RSA modulus size.
      returned: for RSA keys
      type: int
      sample: 2048
    curve:
      description: ECC curve, C(P-256), C(P-384) or C(P-521).
      returned: for ECC keys
      type: str
      sample: P-256
    public_key_pem:
      description: The public key, a PKIX C(PUBLIC KEY) PEM block.
      returned: always
      type: str
      sample: "-----BEGIN PUBLIC KEY-----\n..."
    fingerprint:
      description: C(sha256:) and the hex SHA-256 of the key's DER (PKIX) encoding.
      returned: always
      type: str
      sample: sha256:a81e9cfe316e4f5660c2a1f9beb063440bd3b6144fdd6996eac9c071e322645d
    uri:
      description: The key's device ID, C(urn:ek:sha256:) and the same digest in standard base64.
      returned: always
      type: str
      sample: urn:ek:sha256:qB6c/jFuT1ZgwqH5vrBjRAvTthRP3WmW6snAceMiZF0=
    certificate_pem:
      description: The EK certificate, PEM.
      returned: when the TPM holds a certificate for the key
      type: str
      sample: "-----BEGIN CERTIFICATE-----\n..."
    issuer:
      description: The certificate's issuer.
      returned: when the TPM holds a certificate for the key
      type: str
      sample: CN=swtpm-localca
    not_before:
      description: Start of the certificate's validity (RFC 3339, UTC).
      returned: when the TPM holds a certificate for the key
      type: str
      sample: "2026-12-03T16:59:47Z"
    not_after:
      description: End of the certificate's validity (RFC 3339, UTC).
      returned: when the TPM holds a certificate for the key
      type: str
      sample: "9999-12-31T23:59:59Z"
    source:
      description:
        - Where the key was read. C(nv:0x01c00002) is a certificate in NV,
          C(handle:0x81010001) a persistent key, C(template) a key recreated
          from the TCG default template (C(template:nv:0x01c00004) when the
          TPM keeps its own template in NV).
      returned: always
      type: str
      sample: nv:0x01c00002
    verified_by:
      description:
        - For a certificate's key, how the TPM's own key was read when it
          was found to be the same key (a C(source) value).
      returned: when a certificate's key was checked against the TPM
      type: str
      sample: handle:0x81010001
ansible_facts:
  description: Facts set on the host.
  returned: when C(set_facts=true)
  type: dict
  contains:
    smallstep_tpm:
      description: C(found), C(ek_uri), C(eks) and C(tpm_path) as above (no C(tpm_path) when no TPM was found).
      returned: when C(set_facts=true)
      type: dict
      sample:
        found: true
        ek_uri: urn:ek:sha256:qB6c/jFuT1ZgwqH5vrBjRAvTthRP3WmW6snAceMiZF0=
        tpm_path: /dev/tpmrm0
        eks: []
'''
