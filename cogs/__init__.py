"""Slash-command cogs.  Thin: parse and check input, defer, call :mod:`core`, render."""
