"""Innocent-looking module: the payload is in setup.py."""

VERSION = "1.0.0"
