# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the enrollment_token binary built for the host's architecture.

A result that holds a token is marked no_log, as if the task had
no_log: true: Ansible masks nothing a binary module returns, so a task
that forgot no_log would print the secret at -v and in ANSIBLE_LOG_PATH.
The registered variable still holds it.

That mark covers one result. A loop's overall result (results: [...]) is
put together by Ansible after the last item, past this plugin, and
callbacks such as junit and tree, and AWX's job events, record it whole;
async results come back through async_status, past it too. So a loop
without the task's own no_log, and async, are refused before any request;
so is until, each of whose tries would make a token of its own.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.stepfleet.smallstep.plugins.plugin_utils.binary_action import BinaryModuleAction


class ActionModule(BinaryModuleAction):
    MODULE = 'enrollment_token'

    def run(self, tmp=None, task_vars=None):
        refused = self._refuse()
        if refused:
            return dict(failed=True, changed=False, msg=refused)
        result = super(ActionModule, self).run(tmp, task_vars)
        if 'token' in result:
            result['_ansible_no_log'] = True
        return result

    def _refuse(self):
        """Why the task cannot run as it is, or None."""
        if self._task.async_val:
            return ('stepfleet.smallstep.enrollment_token cannot run with async: async_status would return '
                    'the token past the masking of this module; run it without async (it sends one request)')
        if self._task.until:
            return ('stepfleet.smallstep.enrollment_token cannot run with until: every try would generate '
                    'a valid token and only the last would be returned; the module never retries its POST, '
                    'so a failure is for the play to handle (rescue, or a later run)')
        in_loop = self._task.loop is not None or self._task.loop_with
        if in_loop and not self._task.no_log:
            return ('stepfleet.smallstep.enrollment_token in a loop needs no_log: true on the task: Ansible '
                    'gathers the results of a loop past the masking of this module, and callbacks such as '
                    'junit and tree, and AWX job events, would record every token; the registered results '
                    'still hold them')
        return None
