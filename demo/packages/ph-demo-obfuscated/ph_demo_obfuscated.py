"""Innocent-looking module: the payload is hidden in setup.py."""

VERSION = "1.0.0"
