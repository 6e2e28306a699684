"""``python -m stablelint``."""

from .cli import main

main()
