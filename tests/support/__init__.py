"""Helpers that tests of several contexts share (sign-up, login, ...), one module per subject."""
