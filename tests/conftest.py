"""Suite-wide set-up.

torch runs single-threaded in every test process: the tensors here are small, and on the 2-core CI
machine intra-op threads made the tests several times slower. It is set once per process and never
toggled back: with torch 2.13's CPU build, ``set_num_threads(1)`` followed by ``set_num_threads(2)``
leaves batched ``torch.linalg.solve`` failing ("Pivots given to lu_solve must all be greater or equal
to 1"), so a per-test toggle poisons the tests that run after it in the same process.
"""

import torch

torch.set_num_threads(1)
