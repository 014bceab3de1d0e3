"""One feature from prompt to pull request: agent and gates in repair rounds, the GitHub flow, commands."""
