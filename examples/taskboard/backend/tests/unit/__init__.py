"""Tests of single functions and models, without HTTP."""
