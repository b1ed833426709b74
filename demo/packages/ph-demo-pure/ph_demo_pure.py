"""A benign module: the baseline every other demo package is compared with."""


def greet(name: str) -> str:
    return f"hello, {name}"
