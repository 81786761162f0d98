"""Training on several processes (GPUs, or CPU cores; one machine or several) started by torchrun.

`torchrun --nproc-per-node N -m reelgan train ...` starts N copies of reelgan, each with RANK, WORLD_SIZE and
LOCAL_RANK in its environment; `World.from_environment` joins them into one process group (NCCL on CUDA, gloo
on the CPU). What the ranks share, as StyleGAN2-ADA's training loop does it:

- `--batch` is the global batch. Rank r takes items [r*b, (r+1)*b) of every batch of the resumable sampler's
  stream (b = batch / N), so the ranks' batches together are the single-process order.
- Every rank draws the latents of the whole global batch and keeps its slice, and draws the same amount from
  its RNG for everything else, so all ranks' RNG states stay equal and rank 0's checkpoint resumes them all.
- After each backward the gradients are averaged across ranks by hand (one all-reduce of the flattened
  gradients). That is what DDP's hooks do, but it also works for the double backward of the gradient
  penalties, and with it every rank's weights and optimiser stay identical.
- Rank 0 alone writes the run folder: stats, samples, metrics, checkpoints and the export. For metrics during
  training every rank samples its part of the seeds; rank 0 scores the gathered features.
- Decisions that end a run (the time limit, Ctrl-C or SIGTERM, a NaN loss) are agreed at every logging step,
  so all ranks stop at the same step.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any, Iterable

import torch
import torch.distributed as dist

from ..errors import ReelganError

COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)  # the longest a rank waits for the others (rank 0's metrics)
PEER_LOST = ("another process of this run stopped (see its own error above); the last checkpoint in the run "
             "folder is intact: continue with `reelgan train --resume RUN` under the same number of processes")


@dataclass(frozen=True)
class World:
    """This process's place among the processes training one run: rank 0 of 1 when not distributed."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this World joined the process group, so `close` leaves it

    @classmethod
    def from_environment(cls, device_type: str) -> "World":
        """The world torchrun describes in the environment (joined on first use), or a single process."""
        size = int(os.environ.get("WORLD_SIZE", "1"))
        if size <= 1:
            return cls()
        rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
        if dist.is_initialized():  # a caller's own group: theirs to close
            return cls(rank, size, local_rank)
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        # torchrun's agent keeps one store across the restarts of --max-restarts, so each attempt gets
        # keys of its own: a restarted process must not read the address a dead one left there.
        store, rank, size = next(dist.rendezvous("env://", timeout=COLLECTIVE_TIMEOUT))
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo", store=dist.PrefixStore(
            f"reelgan/attempt{attempt}", store), rank=rank, world_size=size, timeout=COLLECTIVE_TIMEOUT)
        return cls(rank, size, local_rank, owns_group=True)

    def wait_for_all(self) -> None:
        """Return when every rank has reached this point. A run's last step is followed by rank 0's checkpoint,
        samples and copy check; the other ranks wait for them here, so that no process leaves the group while
        another still works in it (a rank that left early aborted with SIGABRT under a loaded CI machine)."""
        if self.distributed:
            self._collective(dist.barrier)

    def close(self) -> None:
        """Leave the process group this World joined. Without it, gloo's worker threads outlive the interpreter
        at exit and the process aborts (SIGABRT) after a run that went well."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def share(self, global_batch: int) -> slice:
        """This rank's slice of a global batch (the batch must divide evenly)."""
        if global_batch % self.size:
            raise ReelganError(f"--batch {global_batch} does not split evenly over {self.size} processes; give a "
                               f"multiple of {self.size}")
        local = global_batch // self.size
        return slice(self.rank * local, (self.rank + 1) * local)

    def part(self, n: int) -> slice:
        """This rank's part of n items split as evenly as they go (for work such as sampling for metrics)."""
        return slice(self.rank * n // self.size, (self.rank + 1) * n // self.size)

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value` (any picklable object), in rank order, on every rank."""
        if not self.distributed:
            return [value]
        values: list[Any] = [None] * self.size
        self._collective(dist.all_gather_object, values, value)
        return values

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace every gradient with its mean over the ranks (one all-reduce of all of them flattened)."""
        if not self.distributed:
            return
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        self._collective(dist.all_reduce, flat)
        flat /= self.size
        for grad, mean in zip(grads, flat.split([g.numel() for g in grads])):
            grad.copy_(mean.view_as(grad))

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of `values` over the ranks (a copy; `values` itself is unchanged)."""
        total = values.clone()
        if self.distributed:
            self._collective(dist.all_reduce, total)
        return total

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (any picklable object)."""
        if not self.distributed:
            return value
        box = [value]
        self._collective(dist.broadcast_object_list, box, src=0)
        return box[0]

    def _collective(self, operation, *args: Any, **kwargs: Any) -> None:
        """Run a collective; a peer that died (connection closed, timeout) becomes one clear ReelganError."""
        try:
            operation(*args, **kwargs)
        except (RuntimeError, dist.DistError) as exc:
            raise ReelganError(f"{PEER_LOST} ({str(exc).splitlines()[0][:120]})") from None
