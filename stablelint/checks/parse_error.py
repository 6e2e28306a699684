"""SL000: the file could not be decoded or parsed.

The engine reports these itself (there is nothing to analyse); this
checker exists so the rule has an entry in the catalog like any other.
"""

from __future__ import annotations

from . import Checker


class Check(Checker):
    ops = ()
