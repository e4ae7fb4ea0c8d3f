"""tests/conftest.py's running_stack for the notification end-to-end test (both conftest
modules are named `conftest`; this loads the top-level one by path)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("gehoor_tests_root_conftest",
                                               Path(__file__).resolve().parent.parent / "conftest.py")
_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _module  # dataclasses look their module up there
_spec.loader.exec_module(_module)
running_stack = _module.running_stack
