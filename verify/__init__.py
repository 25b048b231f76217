"""The bridge between ``theory`` and ``numerics``: the ledger of the paper's
claims, their checks, and the ``sharpgen`` command line."""
