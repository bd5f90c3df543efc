"""Nornir task: deploy one device (backup → diff → push → post-checks → rollback), via the library.

The task is :func:`campusnet.deploy.nornir_task.deploy_config` (``campusnet deploy`` runs it over the
``campusnet.NetBoxSnapshotInventory`` hosts); it is re-exported here so that Nornir scripts find every
campusnet task in one place. The dependency goes one way: ``nornir_tasks`` → ``campusnet``.
"""

from __future__ import annotations

from campusnet.deploy.nornir_task import deploy_config, deploy_nornir, host_of_target

__all__ = ["deploy_config", "deploy_nornir", "host_of_target"]
