"""Where things are, for tests anywhere under tests/."""

import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)  # the project
FIXTURES = os.path.join(TESTS, "fixtures")
