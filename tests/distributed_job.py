"""A `reelgan` command line for torchrun that can make one process fail, for tests/test_distributed.py.

    torchrun --standalone --nproc-per-node 2 tests/distributed_job.py RANK STEP reelgan-args...

Process RANK raises a RuntimeError (a crash, not a user error) when it is about to train step STEP; -1 never.
It fails in torchrun's first attempt only, so that a job restarted by --max-restarts can finish.
"""

import os
import sys

from reelgan.cli.main import main
from reelgan.training.loop import Trainer

fail_rank, fail_step, *argv = sys.argv[1:]
original_step = Trainer.step


def failing_step(self):
    first_attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
    if first_attempt and int(os.environ["RANK"]) == int(fail_rank) and self.step_count == int(fail_step):
        raise RuntimeError("a crash on purpose, from tests/distributed_job.py")
    return original_step(self)


Trainer.step = failing_step
sys.exit(main(argv))
