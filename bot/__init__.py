"""Specship: the three swappable parts (model, GitHub host, process runner) as Protocols."""

from __future__ import annotations
