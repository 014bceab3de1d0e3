"""Specship: turns Spec Kit specifications into tested, secure pull requests (see docs/)."""

# Deliberately empty: `python -m bot` runs this file before bot/__main__.py has made the import path
# safe (bot/pathguard.py), so an import here could load a module planted in the repository.
