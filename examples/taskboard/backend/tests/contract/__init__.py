"""Tests comparing the running app with specs/001-user-tasks/contracts/openapi.yaml."""
