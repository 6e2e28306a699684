"""Finding names in source text without a regular expression.

A pattern that starts with a look-behind (``(?<![\\w.])name\\b``) defeats the regex engine's
literal-prefix search and tries every position of the text: on a large file that costs
milliseconds per question. ``str.find`` jumps from one occurrence to the next.
"""

from __future__ import annotations


def is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def occurrences(text: str, word: str, *, after_dot: bool = False, whole: bool = True) -> int:
    """How often ``word`` occurs in ``text`` not preceded by a name character (nor by ``.``,
    unless ``after_dot``) and, when ``whole``, not followed by one."""
    return sum(1 for _ in _find(text, word, after_dot, whole))


def contains_word(text: str, word: str, *, after_dot: bool = True, whole: bool = True) -> bool:
    return next(_find(text, word, after_dot, whole), None) is not None


def _find(text: str, word: str, after_dot: bool, whole: bool):
    start = text.find(word)
    size = len(word)
    while start != -1:
        before = text[start - 1] if start else " "
        if not is_name_char(before) and (after_dot or before != "."):
            end = start + size
            if not whole or end == len(text) or not is_name_char(text[end]):
                yield start
        start = text.find(word, start + 1)
