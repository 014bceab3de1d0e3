"""The only PyGithub user: the GitHub host, its retry policy, preflight and plain value types."""
