# -*- coding: utf-8 -*-
# Copyright: (c) 2026, stepfleet team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the enrollment_token binary built for the host's architecture."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.stepfleet.smallstep.plugins.plugin_utils.binary_action import BinaryModuleAction


class ActionModule(BinaryModuleAction):
    MODULE = 'enrollment_token'
