#!/usr/bin/env python3
"""Writes crates/aws-json/src/model.json: the member constraints of every
cognito-idp operation's input, extracted from botocore's service model (the
botocore that e2e/requirements.txt pins, or the service-2.json given), so the
AWS JSON adapter validates exactly what AWS validates. A Rust test checks that
every operation of operation.rs is in it.

    python3 scripts/gen-model.py [path/to/service-2.json]
"""
import glob
import gzip
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def load(path: str | None) -> dict:
    if path is None:
        found = glob.glob(str(root / ".venv-e2e/lib/python3*/site-packages/botocore/data/cognito-idp/2016-04-18/service-2.json*"))
        if not found:
            sys.exit("no botocore service model: run scripts/e2e-setup.sh, or give the path of service-2.json")
        path = found[0]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def main() -> None:
    model = load(sys.argv[1] if len(sys.argv) > 1 else None)
    shapes = model["shapes"]
    out_shapes: dict = {}

    def visit(name: str) -> None:
        if name in out_shapes:
            return
        s = shapes[name]
        kind = s["type"]
        o: dict = {"type": kind}
        for k in ("min", "max", "pattern", "enum"):
            if k in s:
                o[k] = s[k]
        if s.get("sensitive"):
            o["sensitive"] = True
        out_shapes[name] = o
        if kind == "structure":
            o["members"] = [[m, spec["shape"]] for m, spec in s.get("members", {}).items()]
            o["required"] = s.get("required", [])
            for _, spec in s.get("members", {}).items():
                visit(spec["shape"])
        elif kind == "list":
            o["member"] = s["member"]["shape"]
            visit(s["member"]["shape"])
        elif kind == "map":
            o["key"] = s["key"]["shape"]
            o["value"] = s["value"]["shape"]
            visit(s["key"]["shape"])
            visit(s["value"]["shape"])

    operations = {}
    for name, op in sorted(model["operations"].items()):
        entry = {"input": op["input"]["shape"] if "input" in op else None}
        # Called without AWS credentials (SDKs send these unsigned); every
        # other operation must carry a SigV4 signature (sigv4.rs).
        if op.get("authtype") == "none" or "smithy.api#noAuth" in op.get("auth", []):
            entry["auth"] = "none"
        operations[name] = entry
        if entry["input"]:
            visit(entry["input"])
    doc = {
        "api_version": model["metadata"].get("apiVersion"),
        "operations": operations,
        "shapes": dict(sorted(out_shapes.items())),
    }
    target = root / "crates/aws-json/src/model.json"
    target.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"{target.relative_to(root)}: {len(operations)} operations, {len(out_shapes)} shapes")


if __name__ == "__main__":
    main()
