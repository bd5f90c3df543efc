#!/usr/bin/python
"""Ansible module ``campusnet_render`` — documentation only: the work is done by the action plugin of the
same name (``plugins/action/campusnet_render.py``), in the controller's process, which calls
``campusnet.render.render_all`` → ``render_device`` (what the Nornir task and the CLI call) into ``dest``.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: campusnet_render
short_description: Render one device's configuration files with campusnet
description:
  - Loads the host's intent written by C(campusnet_intents) and renders it with C(campusnet.render.render_all)
    (C(render_device) + the writer of C(campusnet render)), so files land where the CLI and the Nornir task
    put them; unchanged files are not rewritten.
  - Runs on the controller as an action plugin (C(plugins/action/campusnet_render.py), found through
    C(action_plugins) in C(ansible.cfg)), in the Python that runs Ansible (the project's virtualenv).
options:
  host:
    description: The inventory host (device name, or virtual chassis name / member).
    type: str
    required: true
  intents:
    description: The directory C(campusnet_intents) returned.
    type: path
    required: true
  dest:
    description: Output directory.
    type: path
    required: true
  lab:
    description: Also render the lab emulation files (C(campusnet render --lab/--no-lab)).
    type: bool
    default: true
  fake_secrets:
    description: Render secrets as C(FAKE-<name>) (review only, never deploy; C(campusnet render --fake-secrets)).
    type: bool
    default: false
author: campusnet
"""

RETURN = r"""
files:
  description: The files written (paths).
  type: list
  returned: always
"""


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True, bypass_checks=True)
    module.fail_json(msg="campusnet_render runs as an action plugin: use the repository's ansible.cfg "
                         "(action_plugins = plugins/action)")


if __name__ == "__main__":
    main()
