"""Imports every module that registers job handlers or periodic tasks (loaded by workers)."""

import servicelens.sla.tasks  # noqa: F401
