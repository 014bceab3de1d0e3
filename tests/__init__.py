"""Specship test suite: mirrors bot/, with emulators in fakes/ and third-party data in fixtures/."""
