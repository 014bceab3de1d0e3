"""Tests of bot.speckit."""
