"""Exact, symbolic side of sharpgen (sympy only; never imports torch).

Modules: ``params`` (shared layout), ``data``, ``architectures``, ``sharpness``,
``constructions``, ``generalization``, ``losses``.
"""
