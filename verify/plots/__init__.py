"""Figures comparing theory and training: one module per figure family (``sweep``: the sweep studies)."""
