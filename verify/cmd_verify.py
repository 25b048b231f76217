"""``sharpgen verify``: run the ledger of the paper's claims and report.

Prints one line per claim as it is checked (PASS/FAIL, the numbers), then
the errata (paper's value beside the exact one). Exit status 1 if any claim
fails. ``--out DIR`` also writes ``DIR/verify.json`` (atomically).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from sharpgen.verify.ledger import LEDGER, PROFILES


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify", help="check the paper's claims by exact computation (the main job)",
        description="Check each claim of the ledger (constructions C1-C6, Lemma 4.1, the logistic-loss "
                    "statements) by exact sympy computation on seeded random training sets from the hypercube, "
                    "and list where the paper's literal statement differs from the exact value (errata).")
    p.add_argument("--profile", choices=sorted(PROFILES), default="quick",
                   help="quick: d in {3,4}, about 10 s on a 2-core CPU; paper: d in {3..6}, more training sets "
                        "and population errors on {-1,1}^12, about 30 s (default: quick)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random training sets (default: 0)")
    p.add_argument("--only", metavar="KEY", action="append",
                   help=f"check only this claim (repeatable); keys: {', '.join(c.key for c in LEDGER)}")
    p.add_argument("--out", metavar="DIR", help="also write DIR/verify.json")
    p.set_defaults(func=run)


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run(args) -> int:
    keys = {c.key for c in LEDGER}
    unknown = sorted(set(args.only or ()) - keys)
    if unknown:
        print(f"sharpgen verify: --only: unknown claim {unknown[0]!r}; choose from {', '.join(sorted(keys))}",
              file=sys.stderr)
        return 2
    profile = replace(PROFILES[args.profile], seed=args.seed)
    claims = [c for c in LEDGER if not args.only or c.key in args.only]
    print(f"sharpgen verify: {len(claims)} claims, profile {profile.name}, seed {profile.seed}")
    results = []
    for claim in claims:
        start = time.perf_counter()
        outcome = claim.check(profile)
        took = time.perf_counter() - start
        print(f"{'PASS' if outcome.passed else 'FAIL'}  {claim.key:<6} {claim.source:<22} {claim.statement}  "
              f"[{took:.1f}s]\n      {outcome.detail}", flush=True)
        results.append((claim, outcome))
    errata = [e for _, o in results for e in o.errata]
    if errata:
        print(f"\nErrata ({len(errata)}): the paper's literal statement vs exact computation")
        for e in errata:
            print(f"- {e.claim}\n    paper: {e.paper}\n    exact: {e.exact}")
    failed = [c.key for c, o in results if not o.passed]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    if args.out:
        _write_json(Path(args.out) / "verify.json", {
            "profile": asdict(profile),
            "claims": [{"key": c.key, "source": c.source, "statement": c.statement, "passed": bool(o.passed),
                        "detail": o.detail, "errata": [asdict(e) for e in o.errata]} for c, o in results]})
    return 1 if failed else 0
