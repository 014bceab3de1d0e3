"""Specship: turns Spec Kit specifications into tested, secure pull requests (see docs/)."""
