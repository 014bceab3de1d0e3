"""Tests of bot.gates."""
