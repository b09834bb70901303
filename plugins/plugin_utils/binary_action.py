# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's Go binary built for the architecture of the host it runs on.

The modules of this collection are Go binaries, one per architecture, in
plugins/bin/<module>_<os>_<arch>. Ansible copies a module as it is, so an
amd64 binary on an arm64 host would fail with 'Exec format error'; each
module's action plugin picks the right binary instead.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

BIN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bin')

# uname -m names to Go's architecture names.
ARCHES = {
    'x86_64': 'amd64',
    'amd64': 'amd64',
    'aarch64': 'arm64',
    'arm64': 'arm64',
}


def supported_platforms(module):
    prefix = module + '_'
    found = []
    if os.path.isdir(BIN_DIR):
        for name in sorted(os.listdir(BIN_DIR)):
            if name.startswith(prefix):
                found.append(name[len(prefix):].replace('_', '/'))
    return found


class BinaryModuleAction(ActionBase):
    """Action plugin base: subclasses set MODULE to the module's name."""

    MODULE = None

    def _platform(self, task_vars):
        """Return (system, machine) of the host the module runs on."""
        facts = task_vars.get('ansible_facts', {}) if task_vars else {}
        # A delegated task runs elsewhere than the host whose facts we hold.
        if not self._task.delegate_to and facts.get('system') and facts.get('architecture'):
            return facts['system'], facts['architecture']
        res = self._low_level_execute_command('uname -s -m', sudoable=False)
        parts = res.get('stdout', '').split()
        if res.get('rc') != 0 or len(parts) != 2:
            return None, None
        return parts[0], parts[1]

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = True
        result = super(BinaryModuleAction, self).run(tmp, task_vars)
        del tmp
        if result.get('skipped'):
            return result

        system, machine = self._platform(task_vars)
        supported = supported_platforms(self.MODULE)
        if system is None:
            result.update(failed=True, msg='%s: cannot tell the operating system and architecture of the host ("uname -s -m" failed); supported: %s'
                          % (self.MODULE, ', '.join(supported) or 'none built, run make'))
            return result
        goos = system.lower()
        goarch = ARCHES.get(machine.lower(), machine.lower())
        binary = '%s_%s_%s' % (self.MODULE, goos, goarch)
        if not os.path.exists(os.path.join(BIN_DIR, binary)):
            result.update(failed=True, msg='stepfleet.smallstep.%s does not run on %s/%s (uname: %s %s); supported: %s'
                          % (self.MODULE, goos, goarch, system, machine,
                             ', '.join(supported) or 'none: build the binaries with make'))
            return result

        self._shared_loader_obj.module_loader.add_directory(BIN_DIR)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(
            module_name='ansible.legacy.' + binary,
            module_args=self._task.args,
            task_vars=task_vars,
            wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
