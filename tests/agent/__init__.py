"""Tests of bot.agent."""
