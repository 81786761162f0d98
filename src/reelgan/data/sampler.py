"""Data order that can be resumed exactly.

The order is a pure function of (seed, position): position p of the endless stream is item
`perm(epoch)[p % n]` with `epoch = p // n` and `perm(epoch)` a permutation seeded by (seed, epoch). A resumed
run only needs the number of batches already consumed, so no sampler state has to be pickled. Under several
processes each takes its share of every batch (`shard`), so that together they see the one-process order.
"""

from __future__ import annotations

from typing import Iterator

import torch


class ResumableBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Endless batches of shuffled indices, starting at batch `start_batch` of the stream.

    `shard` (rank, processes) yields only that rank's equal share of each batch of `batch_size` items.
    """

    def __init__(self, num_items: int, batch_size: int, seed: int, start_batch: int = 0,
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.num_items, self.batch_size, self.seed, self.start_batch = num_items, batch_size, seed, start_batch
        rank, processes = shard
        local = batch_size // processes
        self.share = slice(rank * local, (rank + 1) * local)
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.num_items, generator=generator)
        return self._perm

    def batch(self, index: int) -> list[int]:
        """Item indices of batch `index` of the stream."""
        positions = range(index * self.batch_size, (index + 1) * self.batch_size)
        return [int(self._permutation(p // self.num_items)[p % self.num_items]) for p in positions]

    def __iter__(self) -> Iterator[list[int]]:
        index = self.start_batch
        while True:
            yield self.batch(index)[self.share]
            index += 1
