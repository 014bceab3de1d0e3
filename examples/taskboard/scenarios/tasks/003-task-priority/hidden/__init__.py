"""Hidden acceptance tests of 003-task-priority: the truth the eval judges Specship against."""
