"""`specship eval`: tasks with hidden acceptance tests, Specship's verdict scored against them."""
