"""Sequential (and permuted) digits: scikit-learn's bundled 8x8 digits read one pixel a
step (a small, offline stand-in for pixel-by-pixel MNIST), optionally resized to 14x14
for the 196-step length of downsampled MNIST."""
from __future__ import annotations

import functools

import numpy as np

from ...core.validation import check_bool, check_float, check_int
from .task import Success, Task, _check_positive_int, _check_rng


class SequentialDigits(Task):
    r"""Sequential (and permuted) digits: the offline stand-in for (permuted) sequential
    MNIST (Le et al., 2015).

    scikit-learn's bundled 8x8 handwritten digits (1,797 images, shipped inside the
    scikit-learn package, so nothing is downloaded), pixels scaled from 0-16 to [0, 1]
    and read one per step in row-major order, or, with ``permuted=True``, in one fixed
    random order drawn from ``seed`` (which destroys the local structure and spreads
    dependencies over the whole sequence).

    ``size=14`` resizes every image to 14x14 by bilinear interpolation before reading it
    (T = 196 steps, the length of 14x14-downsampled MNIST): the same digits, the same
    split, a sequence 3x longer to remember across. The interpolation adds length, not
    information: the sequence is longer, the task's content is still 8x8 digits.

    Input x (T, B, 1) with T = size² (64 by default); target (B,) int in 0-9; readout at
    the last step; loss cross-entropy; accuracy the fraction classified correctly. The
    train/test split is fixed by ``seed`` (``test_fraction`` of the images, 359 by
    default, is held out); :meth:`batch` samples training images, :meth:`eval_data` is
    the test split.

    Baseline: predicting the training class frequencies for every image; its
    cross-entropy on the test split is about ln 10 ≈ 2.30 (the classes are balanced).

    Solved (:attr:`success`): test accuracy at least 0.9. This project's bar, not a
    paper's: a logistic regression reading all 64 pixels at once gets 0.955-0.967 on the
    splits of seeds 0-2 (``tests/test_tasks.py`` checks it stays above 0.9), so a
    recurrent model that reads them one pixel at a time has solved the task when it gets
    within reach of that. The level to leave (``success.level``, "most frequent class (no
    input)") is the accuracy of always answering the most frequent training class (about
    0.08).

    Both the baseline and that level use no input at all, so plots do not call them
    memoryless: the baseline is the "no-input baseline (class frequencies)"
    (``baseline_name``). A model without memory still
    reads the last pixel, and the class given that one pixel (fitted on the training
    split) does better on the test split: 0.11 accuracy and 2.26 nats in row-major order
    (seed 0; the bottom-right corner, mostly blank), 0.21-0.26 accuracy and 1.89-2.00
    nats permuted (seeds 0-2, 8x8), where the last pixel read is a random one, often
    central. A permuted-digits accuracy near 0.25 is what no memory gets.
    """

    name = "digits"
    input_size, output_size, readout, loss_kind = 1, 10, "last", "xent"
    baseline_formula = "cross-entropy of the training class frequencies (≈ ln 10)"
    baseline_name = "no-input baseline (class frequencies)"

    def __init__(self, T=None, *, permuted=False, size=8, seed=0, test_fraction=0.2):
        size = check_int(size, "size (the image side: 8, or larger to resize)", minimum=8,
                         where="digits task")
        if T is not None and check_int(T, "T") != size * size:
            raise ValueError(f"the digits task's length is fixed by its size: T = size² = "
                             f"{size * size} ({size}x{size} pixels); got T={T}")
        permuted = check_bool(permuted, "permuted", where="digits task")
        test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0,
                                    min_open=True, max_open=True, where="digits task")
        super().__init__(seed=seed, eval_size=1)
        images, labels = _load_digits(size)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(labels))
        n_test = int(round(test_fraction * len(labels)))
        if not 0 < n_test < len(labels):
            raise ValueError(f"test_fraction must leave both splits non-empty; got {test_fraction}")
        self.permuted = bool(permuted)
        self.test_fraction = float(test_fraction)
        self.size, self.T = size, size * size
        self.name = "permuted_digits" if self.permuted else "digits"
        self.pixel_order = rng.permutation(self.T) if self.permuted else np.arange(self.T)
        seqs = images[:, self.pixel_order]             # (N, T) in reading order
        self.train_x, self.train_y = seqs[order[n_test:]], labels[order[n_test:]]
        self.test_x, self.test_y = seqs[order[:n_test]], labels[order[:n_test]]
        self.eval_size = n_test
        counts = np.bincount(self.train_y, minlength=10)
        if not counts.all():
            # a digit the training split never shows has prior 0: the no-input baseline
            # would be infinite, and any model "infinitely" better than it
            raise ValueError(f"test_fraction={test_fraction} leaves no training example of "
                             f"digit(s) {np.flatnonzero(counts == 0).tolist()} (seed "
                             f"{self.seed}); use a smaller test_fraction")
        prior = counts / len(self.train_y)
        self.baseline = float(-np.log(prior[self.test_y]).mean())
        self.success = Success(
            "accuracy", 0.9, "above", same_as="accuracy",
            memoryless=float(np.mean(self.test_y == prior.argmax())),
            source="this project's bar: a logistic regression on all 64 pixels at once gets "
                   "about 0.96 on this split; the level to leave answers the most frequent "
                   "training class, reading no input",
            level="most frequent class (no input)")

    @property
    def spec(self):
        spec = {"name": self.name, "seed": self.seed, "test_fraction": self.test_fraction}
        return {**spec, "size": self.size} if self.size != 8 else spec

    @staticmethod
    def _as_sequences(rows):
        """(B, T) pixels -> (T, B, 1) time-major."""
        return np.ascontiguousarray(rows.T)[:, :, None]

    def batch(self, batch_size, rng):
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        if B > len(self.train_y):
            raise ValueError(f"batch_size {B} exceeds the {len(self.train_y)} training images")
        idx = rng.choice(len(self.train_y), B, replace=False)
        return self._as_sequences(self.train_x[idx]), self.train_y[idx]

    def eval_data(self):
        if self._eval is None:
            self._eval = (self._as_sequences(self.test_x), self.test_y)
        return self._eval


@functools.lru_cache(maxsize=2)
def _load_digits(size=8):
    """(images (1797, size²) in [0, 1], labels (1797,) int64), read once per process;
    a size above 8 resizes each 8x8 image bilinearly (pixel centres aligned, so the
    corners keep their values)."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download
    data = load_digits()
    images, labels = data.data / 16.0, data.target.astype(np.int64)
    if size != 8:
        from scipy.ndimage import zoom
        squares = images.reshape(-1, 8, 8)
        images = zoom(squares, (1, size / 8, size / 8), order=1, grid_mode=False)
        images = np.clip(images, 0.0, 1.0).reshape(len(labels), size * size)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels
