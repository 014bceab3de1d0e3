"""Hidden acceptance tests of feature 005-task-summary (copied in only after a session)."""
