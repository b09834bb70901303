# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the enrollment_token binary built for the host's architecture.

A result that holds a token is marked no_log, as if the task had
C(no_log: true): Ansible masks nothing a binary module returns, so a task
that forgot no_log would print the secret at -v and in ANSIBLE_LOG_PATH.
The registered variable still holds it. Async is refused: async_status
would return the token later, past this plugin.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.stepfleet.smallstep.plugins.plugin_utils.binary_action import BinaryModuleAction


class ActionModule(BinaryModuleAction):
    MODULE = 'enrollment_token'
    ASYNC = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if 'token' in result:
            result['_ansible_no_log'] = True
        return result
