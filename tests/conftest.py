"""Test-session settings.

``TRITON_INTERPRET=1``: the GPU kernel (numerics.engine.triton_kernel) runs in Triton's
interpreter on CPU tensors, which is how the tests check its logic without a GPU. Triton reads
the variable when it is imported and when it decorates a kernel, and test collection imports
every module (tests/test_docstrings.py), so it is set here, before anything is collected.
"""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")
