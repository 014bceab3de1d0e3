"""Taskboard backend: a JWT-protected, per-user task API (feature 001-user-tasks)."""
