"""stablelint: find and fix numerical-stability bugs in machine-learning Python code."""

__version__ = "0.1.0"
