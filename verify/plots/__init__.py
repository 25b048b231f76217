"""Figures comparing theory and training (docs/paper.md §5, §6): one module per figure family."""
