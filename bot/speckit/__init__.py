"""Spec Kit reader internals; import the public API from `bot.specs`."""
