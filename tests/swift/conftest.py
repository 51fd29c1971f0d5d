"""Load scripts/swift_check.py and scripts/api_mirror.py as modules for the tests."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def swift_check():
    pytest.importorskip("tree_sitter_swift")
    return _load("swift_check")


@pytest.fixture(scope="session")
def api_mirror():
    return _load("api_mirror")
