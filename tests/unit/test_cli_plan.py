from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import os
from bot.cli_plan import solver_output_to_stderr
with solver_output_to_stderr():
    os.write(1, b"native solver noise\\n")
    print("python noise")
print('{"plan": 1}')
"""


def test_solver_output_goes_to_stderr_so_stdout_holds_only_the_answer():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout == '{"plan": 1}\n'
    assert result.stderr == "native solver noise\npython noise\n"
