"""Test suite for the taskboard backend."""
