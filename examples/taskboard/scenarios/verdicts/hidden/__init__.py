"""Hidden acceptance tests of 002-task-due-dates: the truth the corpus judges Specship against."""
