"""The services stack: one module per service, found by discovery, each owned by its team."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import stacks.services as services_package
from constructs_lib import ConfigError
from service.codeowners import CodeOwners

REPO = Path(__file__).resolve().parent.parent
SERVICE_MODULES = sorted(p for p in (REPO / "stacks" / "services").glob("*.py") if not p.name.startswith("_"))


def test_every_module_is_built_in_every_environment_and_its_constructs_are_traced_to_it(
        built_environments: dict) -> None:
    for stacks in built_environments.values():
        stack = stacks.services
        assert [s.name for s in stack.services] == ["checkout", "edge-gateway", "report-worker"]  # module order
        assert stack.declared_in == {"sessions": "stacks/services/checkout.py",
                                     "checkout": "stacks/services/checkout.py",
                                     "edge-gateway": "stacks/services/edge_gateway.py",
                                     "report-worker": "stacks/services/report_worker.py"}


@pytest.fixture
def package_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the services package at a folder of the test's modules; forget them afterwards."""
    monkeypatch.setattr(services_package, "__path__", [str(tmp_path)])
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("stacks.services.") and not n.endswith(
            ("checkout", "edge_gateway", "report_worker"))]:
        del sys.modules[name]


def test_a_module_without_a_service_function_is_one_error_naming_its_file(package_at: Path) -> None:
    (package_at / "aaa.py").write_text("def service(ctx):\n    pass\n")
    (package_at / "orphan.py").write_text("def build(ctx):\n    pass\n")
    with pytest.raises(ConfigError) as error:
        services_package.discover()
    assert str(error.value) == (f"{package_at / 'orphan.py'}: service = None: define the service in one function, "
                                "`def service(ctx: ServiceContext) -> None`; a helper module's name starts with '_'")


def test_modules_are_found_in_name_order_and_helpers_are_left_alone(package_at: Path) -> None:
    for name in ("zeta", "alpha", "mid_dle"):
        (package_at / f"{name}.py").write_text("def service(ctx):\n    pass\n")
    (package_at / "_shared.py").write_text("raise RuntimeError('a helper is imported by the modules that use it')\n")
    assert [m.name for m in services_package.discover()] == ["alpha", "mid_dle", "zeta"]


def test_every_service_module_has_its_own_codeowners_line() -> None:
    """A team owns its file: `service new` adds the line; a module written by hand needs one too."""
    owners = CodeOwners.read(REPO)
    lines = {rule.pattern for rule in owners.rules}
    assert SERVICE_MODULES, "no service module found"
    for module in SERVICE_MODULES:
        path = module.relative_to(REPO).as_posix()
        assert f"/{path}" in lines, f"{path} has no line in .github/CODEOWNERS"
        assert owners.owners(path) != owners.default_owners, path
    assert owners.owners("stacks/services/__init__.py") == ("@acme-shop/platform-team",)
    assert owners.owners("stacks/services/checkout.py") == ("@acme-shop/checkout-team",)


def test_codeowners_reads_as_github_does_the_last_matching_line_wins() -> None:
    owners = CodeOwners("*  @org/platform\n/stacks/ @org/stacks\n/stacks/services/a.py @org/a  # a's team\n"
                        "docs/*.md @org/docs\n")
    assert owners.owners("main.py") == ("@org/platform",)
    assert owners.owners("stacks/base.py") == ("@org/stacks",)
    assert owners.owners("stacks/services/a.py") == ("@org/a",)
    assert owners.owners("deep/docs/x.md") == ("@org/docs",)
    assert owners.owners("stacks/services/ab.py") == ("@org/stacks",)


def test_a_new_services_line_goes_among_the_services_in_name_order() -> None:
    text = (REPO / ".github" / "CODEOWNERS").read_text()
    updated = CodeOwners(text).with_service("stacks/services/inventory.py", ["@acme-shop/inventory-team"])
    added = [line for line in updated.splitlines() if line not in text.splitlines()]
    assert added == ["/stacks/services/inventory.py       @acme-shop/inventory-team"]
    services = [line.split()[0] for line in updated.splitlines() if line.startswith("/stacks/services/")]
    assert services == sorted(services) and len(services) == len(SERVICE_MODULES) + 1
    last = CodeOwners(text).with_service("stacks/services/zebra.py", ["@z"])
    assert last.splitlines()[-1] == "/stacks/services/zebra.py           @z"
