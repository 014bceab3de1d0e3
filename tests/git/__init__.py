"""Tests of bot.git."""
