"""campusnet: NetBox is the single source of truth; Nornir and Ansible render and push; pyATS verifies."""

__version__ = "0.1.0"
