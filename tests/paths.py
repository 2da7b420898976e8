"""Where things are, for tests anywhere under tests/."""

import importlib.util
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)  # the project
FIXTURES = os.path.join(TESTS, "fixtures")


def benchmark_module(name: str):
    """``benchmarks/<name>.py`` imported as a module (benchmarks/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, "benchmarks", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
