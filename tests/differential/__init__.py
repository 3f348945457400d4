"""Differential testing of the whole compiler (issue 8, part 3).

``generator`` draws random valid ONNX models (a hypothesis strategy built from
one small builder per feature), ``support`` says which engine handles which
feature today, ``harness`` runs one model through every engine and compares,
and ``regressions`` holds every failure the random models found, as named
explicit models.
"""

import os
import random

#: The fresh seed of this session (EFFC_DIFF_SEED replays one); pytest prints it in
#: its header (tests/conftest.py) and failures of the fresh run carry it.
FRESH_SEED = int(os.environ.get("EFFC_DIFF_SEED") or random.SystemRandom().randrange(2**32))
