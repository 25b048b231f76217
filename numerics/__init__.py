"""Numerical side of sharpgen (torch; never imports sympy): models, data,
losses, exact sharpness, diagnostics, optimizers and training."""
