"""Spec Kit reader: feature folders, specs, plans, tasks, contracts, readiness, delta (public face: api)."""
