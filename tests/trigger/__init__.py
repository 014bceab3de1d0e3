"""Tests of bot.trigger."""
