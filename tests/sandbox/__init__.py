"""Tests of bot.sandbox."""
