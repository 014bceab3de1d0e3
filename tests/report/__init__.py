"""Tests of bot.report."""
