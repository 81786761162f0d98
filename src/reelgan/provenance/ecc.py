"""Error correction for the watermark: CRC-16 and a rate-1/2 convolutional code with soft Viterbi decoding.

The code is the classic constraint-length-7 one (generators 133 and 171 octal, as in 802.11 and many
satellite links): each message bit leaves two coded bits that depend on it and on the six before it, and
six zero "tail" bits bring the coder back to its start state. The decoder takes soft values (positive
for a 1, larger for surer) and finds the message whose coded bits agree best with them, so weak and
strong coded bits are weighed as they deserve; with clean soft input it corrects about 5 errors in any
window of ~30 coded bits. CRC-16/CCITT then says whether the decoded message is a real one.
"""

from __future__ import annotations

import numpy as np

CONSTRAINT = 7                        # bits in the coder's register (the current bit + 6 before it)
GENERATORS = (0o133, 0o171)           # taps of the two coded bits
STATES = 1 << (CONSTRAINT - 1)        # 64 coder states (the six previous bits)
TAIL = CONSTRAINT - 1                 # zero bits appended so the coder ends in state 0


def _parity(values: np.ndarray) -> np.ndarray:
    """Parity (0/1) of each non-negative integer in `values` (at most 8 bits)."""
    values = values.astype(np.int64)
    result = np.zeros_like(values)
    for shift in range(8):
        result ^= (values >> shift) & 1
    return result


# For each next state: its two previous states and the coded bits of the step into it.
_NEXT = np.arange(STATES)
_INPUT = _NEXT >> (CONSTRAINT - 2)                                   # the bit that led into the state
_PREVIOUS = np.stack([((_NEXT << 1) | b) & (STATES - 1) for b in (0, 1)])      # (2, STATES)
_REGISTER = (_INPUT[None, :] << (CONSTRAINT - 1)) | _PREVIOUS                   # (2, STATES)
_OUTPUTS = np.stack([_parity(_REGISTER & g) for g in GENERATORS], axis=-1)      # (2, STATES, 2)
_SIGNS = (2.0 * _OUTPUTS - 1.0)                                                 # +-1 per coded bit


def coded_length(message_bits: int) -> int:
    """Coded bits for a message of `message_bits` bits (tail included)."""
    return 2 * (message_bits + TAIL)


def encode(bits: np.ndarray) -> np.ndarray:
    """(2 * (len(bits) + 6),) uint8 coded bits of a 0/1 message."""
    register = 0
    out = []
    for bit in [int(b) for b in bits] + [0] * TAIL:
        register = ((bit << (CONSTRAINT - 1)) | (register >> 1)) & ((1 << CONSTRAINT) - 1)
        out += [bin(register & g).count("1") & 1 for g in GENERATORS]
    return np.array(out, np.uint8)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """The message (0/1 uint8, tail removed) whose coding best agrees with `soft`.

    `soft` is (2 * steps,) floats, positive meaning a coded 1; its scale does not matter. The path
    must end in state 0 (the tail), which a terminated `encode` guarantees."""
    pairs = np.asarray(soft, np.float64).reshape(-1, 2)
    metric = np.full(STATES, -np.inf)
    metric[0] = 0.0
    choices = np.zeros((len(pairs), STATES), np.uint8)
    for step, pair in enumerate(pairs):
        candidates = metric[_PREVIOUS] + _SIGNS @ pair                     # (2, STATES)
        choices[step] = candidates[1] > candidates[0]
        metric = np.maximum(candidates[0], candidates[1])
    state, bits = 0, []
    for step in range(len(pairs) - 1, -1, -1):
        bits.append(int(_INPUT[state]))
        state = int(_PREVIOUS[choices[step, state], state])
    return np.array(bits[::-1][: len(pairs) - TAIL], np.uint8)


def crc16(bits: np.ndarray) -> int:
    """CRC-16/CCITT (polynomial 0x1021, start 0xFFFF) of a 0/1 bit sequence, most significant bit first."""
    crc = 0xFFFF
    for bit in bits:
        top = ((crc >> 15) & 1) ^ int(bit)
        crc = ((crc << 1) & 0xFFFF) ^ (0x1021 if top else 0)
    return crc


def int_bits(value: int, width: int) -> np.ndarray:
    """(width,) uint8 bits of `value`, most significant first."""
    return np.array([(value >> (width - 1 - i)) & 1 for i in range(width)], np.uint8)


def bits_int(bits: np.ndarray) -> int:
    """The integer whose bits (most significant first) are `bits`."""
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value
