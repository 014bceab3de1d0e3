"""Hidden acceptance tests of 004-task-search: the truth the eval judges Specship against."""
