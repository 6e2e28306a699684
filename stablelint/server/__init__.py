"""The language server behind ``stablelint server``: diagnostics, quick fixes and hover for editors.

pygls and lsprotocol are needed only here (``pip install 'stablelint[server]'``); nothing else in
stablelint imports this package.
"""

SERVER_PACKAGES = ("pygls", "lsprotocol", "cattrs", "attrs")
MISSING = ("the language server needs pygls and lsprotocol, which are not installed; "
           "install them with: pip install 'stablelint[server]'")
