"""Runtime confirmation (``stablelint confirm``): run a flagged function on adversarial inputs.

Opt-in because it executes the user's code: each finding is probed in a child process
(``sandbox``) that imports the module under a non-``__main__`` name, synthesises arguments
(``inputs``), sweeps the rule family's adversarial regimes (``regimes``) forward and backward
(``probe``), and reports a verdict (``verdict``, ``report``). ``session`` ties it together.
"""
