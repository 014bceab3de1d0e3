"""Tests of bot.pipeline (end to end through python -m bot run)."""
