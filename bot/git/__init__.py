"""Git for Specship: hardened read-only queries and the work tree it writes, commits and pushes."""
