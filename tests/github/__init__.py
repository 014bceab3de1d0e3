"""Tests of bot.github."""
