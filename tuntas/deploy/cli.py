"""`tuntas deploy catalog|tools|validate|check`: the chart's checks, as `make chart` runs them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tuntas.deploy import catalog, crds, replicas, tools, validate

# The documented sizes: values.yaml is a small district; each file here is laid over it.
VALUES_FILES: dict[str, tuple[Path, ...]] = {
    "small district": (),
    "province": (catalog.CHART / "values-province.yaml",),
}


def helm_template(values: tuple[Path, ...] = (), *sets: str) -> str:
    """``helm template`` of the chart with these values files and ``--set-string`` pairs."""
    command = [str(tools.helm()), "template", "tuntas", str(catalog.CHART)]
    for path in values:
        command += ["-f", str(path)]
    for pair in sets:
        command += ["--set-string", pair]
    return tools.run(command, "helm template")


def helm_lint(values: tuple[Path, ...] = ()) -> str:
    command = [str(tools.helm()), "lint", "--strict", str(catalog.CHART)]
    for path in values:
        command += ["-f", str(path)]
    return tools.run(command, "helm lint")


def _catalog(args: argparse.Namespace) -> int:
    if args.check:
        if catalog.CATALOG_FILE.read_text() != catalog.render():
            print(f"{catalog.CATALOG_FILE} is out of date: run `tuntas deploy catalog`")
            return 1
        print(f"{catalog.CATALOG_FILE} matches the topic catalog and the ACL table")
        return 0
    print(f"{catalog.CATALOG_FILE}: {'written' if catalog.write() else 'unchanged'}")
    return 0


def _tools(args: argparse.Namespace) -> int:
    print(f"helm: {tools.helm()}")
    kinds = sorted(f"{api} {kind}" for api, kind in crds.schemas())
    print(f"CRD schemas ({crds.versions()}): {', '.join(kinds)}")
    return 0


def _report(name: str, docs: list[dict[str, Any]]) -> int:
    found = validate.problems(docs)
    for line in found:
        print(f"INVALID {line}")
    print(f"{name}: {len(docs)} resources, {len(docs) - len(found)} valid, {len(found)} invalid")
    return 1 if found else 0


def _validate(args: argparse.Namespace) -> int:
    texts = [Path(p).read_text() for p in args.files] if args.files else [sys.stdin.read()]
    return _report("input", [d for text in texts for d in validate.documents(text)])


def _check(args: argparse.Namespace) -> int:
    status = _catalog(argparse.Namespace(check=True))
    for name, values in VALUES_FILES.items():
        print(helm_lint(values).strip().splitlines()[-1] + f" ({name})")
        for problem in replicas.problems(values):
            print(f"INVALID {problem} ({name})")
            status = 1
        status |= _report(name, validate.documents(helm_template(values)))
    return status


def add_command(sub: Any) -> None:
    deploy = sub.add_parser("deploy", help="the Kubernetes chart's catalog file and checks")
    actions = deploy.add_subparsers(dest="action", required=True)
    generate = actions.add_parser("catalog", help="write deploy/helm/tuntas/files/catalog.json")
    generate.add_argument("--check", action="store_true", help="only say whether it is current")
    generate.set_defaults(handler=_catalog)
    actions.add_parser(
        "tools", help="build the pinned Helm and fetch the operators' CRD schemas"
    ).set_defaults(handler=_tools)
    check = actions.add_parser("validate", help="check rendered manifests (stdin or files)")
    check.add_argument("files", nargs="*")
    check.set_defaults(handler=_validate)
    actions.add_parser(
        "check",
        help="catalog current, helm lint, replicas <= partitions, every documented size rendered"
        " and valid",
    ).set_defaults(handler=_check)
