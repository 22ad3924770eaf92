r"""A character-level language model on real text, offline, and sampling from it.

The corpus is Python source (in the spirit of Karpathy's char-rnn trained on the Linux
kernel's source), and it is fixed: ``corpus="shipped"`` (the default) reads eight modules of
CPython 3.11.7's standard library shipped with rnnzoo in ``charlm_corpus/`` (under the PSF
license, ``charlm_corpus/LICENSE-PSF.txt``), each checked against its SHA-256 in
``SHIPPED_SHA256`` below, so every machine and every Python version reads the same
characters and notebook 08's numbers do not depend on the installed Python; a file that is
missing or altered is a clear error, never a silently different corpus. ``corpus_seed``
chooses ``files`` of the shipped modules (all eight, the default, in sorted order).
``corpus="stdlib"`` reads the installed Python's own standard library instead (the top-level
``*.py`` files of ``sysconfig.get_paths()["stdlib"]``, ``files`` of them chosen by
``corpus_seed``, sorted): more text to choose from, but another Python version has other
files, hence another corpus. Either way ``task.files`` lists the files read.

Task ``charlm``: characters outside printable ASCII become ``?``; the vocabulary (V
symbols) is the sorted set of characters in the corpus. The first 90% of the text is for
training, the last 10% for evaluation. A sequence of T characters is the input (one-hot,
x (T, B, V)) and the same sequence shifted by one is the target ((T, B) int): predict
the next character at every step (readout "all"), loss cross-entropy in nats.
:meth:`CharLM.bits` turns it into bits per character (divide by ln 2).

Solved: no criterion (``success`` is None). A language model is never done: it is
compared with others by its cross-entropy, and with the unigram baseline below.

Baseline: the unigram model, which predicts every character with its training frequency
(add-one smoothed), knows nothing of context; its cross-entropy on the evaluation text is
``baseline``. A model below it has learned something about what comes next. A model
without memory still reads the current character: the bigram model (add-one smoothed,
fitted on the training text) scores 2.53 nats (3.65 bits) on the shipped corpus's
evaluation text, against the unigram's 3.14 (4.53 bits); only below that has a model used
more than the last character. So plots call the baseline "unigram baseline"
(``baseline_name``), not memoryless.

:func:`sample` generates text from a trained model, one character at a time, carrying
the state.
"""
from __future__ import annotations

import hashlib
import math
import pathlib
import string
import sysconfig

import numpy as np

from ...core.backend import to_numpy
from ...core.validation import (ArgumentTypeError, check_choice, check_float, check_int,
                                check_seed, describe)
from .task import Task, _check_positive_int, _check_rng, _one_hot

KEEP = set(string.printable) - set("\x0b\x0c\r")


SHIPPED = pathlib.Path(__file__).with_name("charlm_corpus")
# The shipped modules (CPython 3.11.7, Lib/<name>, stored as <name>.txt) and their SHA-256.
SHIPPED_SHA256 = {
    "_aix_support.py": "78790b6fd80cd62f8a6e49d79ec2b5921c6176d0dd41d1309c9cdbd0049c4071",
    "_compression.py": "3ad5d60627477a60939ee44fc1bb3a05dbe8fb52f0f75039b8f5d8f1a278b981",
    "_sitebuiltins.py": "b9388bc1d6d12ed6be12da420ab1feca40f99c0e33ec315d92b1e01cb69b25bc",
    "crypt.py": "208df2ff33c19056345dcf5474abef1a58da799e2f3bab09d1d28b77ad3c623d",
    "dis.py": "2e8d70c8cd2f4ce1fab5574f4a5ee81f5572d929da00067d14e6f6582356d240",
    "netrc.py": "6394e8e650d04c26ed20b6058d5e93119f544ef1bd00aefb942297d2e2f6c7e1",
    "profile.py": "4d87bdc8b85bf0a9bdee3e9d975a8a1a0c7360cb264fb68c4c48a102e718e3a3",
    "struct.py": "9c231f9497caf513a22dee8f790b07f969b0e45854a0bdd6dd84b492e08c2856",
}
CORPORA = ("shipped", "stdlib")


def _choose(pool, corpus_seed, files, where):
    """``files`` of the sorted ``pool`` chosen by ``corpus_seed``, in sorted order."""
    if len(pool) < files:
        raise ValueError(f"charlm: {where} has only {len(pool)} files; asked for files={files}")
    pick = np.random.default_rng(corpus_seed).choice(len(pool), files, replace=False)
    return [pool[i] for i in sorted(pick)]


def stdlib_files(corpus_seed=0, files=8):
    """The ``files`` top-level modules of the installed Python's standard library chosen by
    ``corpus_seed`` (sorted paths): ``corpus="stdlib"``, which changes with the Python."""
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    pool = sorted(p for p in root.glob("*.py") if p.is_file())
    return _choose(pool, corpus_seed, files, f"the standard library at {root} (top-level .py)")


def shipped_files(corpus_seed=0, files=8):
    """The ``files`` shipped modules chosen by ``corpus_seed`` (sorted paths; all eight by
    default): ``corpus="shipped"``, the same on every machine."""
    pool = [SHIPPED / (name + ".txt") for name in sorted(SHIPPED_SHA256)]
    return _choose(pool, corpus_seed, files, f"the shipped corpus ({SHIPPED})")


def read_shipped(path):
    """The text of one shipped module, after checking it against its SHA-256."""
    name = path.name[:-len(".txt")]
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FileNotFoundError(f"charlm: the shipped corpus file {path} cannot be read "
                                f"({err.strerror or err}); rnnzoo's installation is "
                                "incomplete: reinstall it, or use corpus='stdlib'") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHIPPED_SHA256[name]:
        raise ValueError(f"charlm: the shipped corpus file {path} has SHA-256 {digest}, "
                         f"expected {SHIPPED_SHA256[name]}: it was altered (a line-ending "
                         "conversion does this), so the corpus, and every number measured on "
                         "it, would silently differ; restore the file (reinstall rnnzoo), or "
                         "use corpus='stdlib'")
    return data.decode("utf-8", errors="replace")


class CharLM(Task):
    """Next-character prediction on Python source, fixed and shipped (see module doc)."""

    name = "charlm"
    readout, loss_kind = "all", "xent"
    baseline_formula = "unigram: cross-entropy of the training character frequencies"
    baseline_name = "unigram baseline"      # not memoryless: the bigram reads x_t (2.53)

    def __init__(self, T=64, *, corpus="shipped", corpus_seed=0, files=8, max_chars=200_000,
                 seed=0, eval_size=256):
        super().__init__(seed=seed, eval_size=eval_size)
        w = "charlm task"
        self.T = check_int(T, "charlm T (characters per sequence)", minimum=2, where=w)
        self.corpus_seed = check_seed(corpus_seed, "corpus_seed", where=w)
        self.n_files = check_int(files, "files", minimum=1, where=w)
        self.max_chars = check_int(max_chars, "max_chars", minimum=1000, where=w)
        self.corpus = check_choice(corpus, "corpus", CORPORA, where=w)
        if self.corpus == "shipped":
            self.files = shipped_files(self.corpus_seed, self.n_files)
            text = "".join(read_shipped(p) for p in self.files)
        else:
            self.files = stdlib_files(self.corpus_seed, self.n_files)
            text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in self.files)
        text = "".join(c if c in KEEP else "?" for c in text[:self.max_chars])
        self.vocab = "".join(sorted(set(text)))
        self.input_size = self.output_size = len(self.vocab)
        self._index = {c: i for i, c in enumerate(self.vocab)}
        codes = self.encode(text)
        split = int(0.9 * len(codes))
        self.train_codes, self.eval_codes = codes[:split], codes[split:]
        if len(self.eval_codes) < self.T + 1:
            raise ValueError(f"charlm: the evaluation text ({len(self.eval_codes)} chars) is "
                             f"shorter than T + 1 = {self.T + 1}; raise max_chars or files")
        counts = np.bincount(self.train_codes, minlength=len(self.vocab)) + 1.0
        self.unigram = counts / counts.sum()
        self.baseline = float(-np.log(self.unigram[self.eval_codes[1:]]).mean())

    @property
    def spec(self):
        return {**super().spec, "T": self.T, "corpus": self.corpus, "corpus_seed": self.corpus_seed,
                "files": self.n_files, "max_chars": self.max_chars}

    @property
    def metric(self):
        return "cross-entropy (nats per character)"

    @staticmethod
    def bits(nats):
        """Nats per character (a number or an array of them) -> bits per character."""
        arr = np.asarray(nats)
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.floating) and \
                not np.issubdtype(arr.dtype, np.integer):
            raise ArgumentTypeError(f"charlm bits: nats must be a real number or an array of "
                                    f"them; got {describe(nats)}")
        return arr / math.log(2)

    def encode(self, text):
        """A string -> int64 codes; refuses characters outside the vocabulary."""
        if not isinstance(text, str):
            raise ArgumentTypeError(f"charlm encode: text must be a str; got {describe(text)}")
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the charlm vocabulary "
                             f"({len(self.vocab)} symbols: {self.vocab!r})")
        return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, codes):
        """A sequence of int codes -> the string. Refuses anything but a 1-D sequence of
        integers in [0, vocabulary size): a float or a bool is not a code (it would be cut
        to one silently), and a negative code would index from the end."""
        arr = np.asarray(codes) if isinstance(codes, (list, tuple, np.ndarray, range)) else None
        if arr is None or arr.ndim != 1 or (arr.size and (arr.dtype == bool or not
                                                           np.issubdtype(arr.dtype, np.integer))):
            raise ArgumentTypeError("charlm decode: codes must be a 1-D sequence of integers "
                                    f"(a list or an int array); got {describe(codes)}"
                                    + (f" with dtype {arr.dtype}, shape {arr.shape}"
                                       if arr is not None else ""))
        codes = arr.astype(np.int64).tolist()
        outside = sorted({c for c in codes if not 0 <= c < len(self.vocab)})
        if outside:
            raise ValueError(f"charlm decode: codes must be in [0, {len(self.vocab)}) (the "
                             f"vocabulary size); got {outside[:10]}"
                             + (f" and {len(outside) - 10} more" if len(outside) > 10 else ""))
        return "".join(self.vocab[c] for c in codes)

    def _cut(self, codes, starts):
        idx = starts[None, :] + np.arange(self.T + 1)[:, None]     # (T+1, B)
        seq = codes[idx]
        return _one_hot(seq[:-1], self.input_size), seq[1:]

    def batch(self, batch_size, rng):
        _check_rng(rng)
        B = _check_positive_int(batch_size, "batch_size")
        return self._cut(self.train_codes, rng.integers(0, len(self.train_codes) - self.T, B))

    def eval_data(self):
        """``eval_size`` sequences evenly spaced over the evaluation text (overlapping
        when the text is short)."""
        if self._eval is None:
            starts = np.linspace(0, len(self.eval_codes) - self.T - 1, self.eval_size)
            self._eval = self._cut(self.eval_codes, starts.astype(np.int64))
        return self._eval


def _tempered_probabilities(logits, temperature):
    """softmax(logits / temperature), computed stably: the max logit is
    subtracted *before* dividing, so it becomes 0 and the others go to -inf (probability 0)
    as the temperature goes to 0; dividing first overflows to inf - inf = NaN (1e-310)."""
    with np.errstate(over="ignore"):                 # -x / 1e-310 -> -inf is the intent
        p = np.exp((logits - logits.max()) / temperature)
    return p / p.sum()


def sample(model, prime, length, temperature=1.0, seed=0, *, vocab):
    """Generate ``length`` characters after ``prime`` from a trained character model.

    Parameters
    ----------
    model : a SequenceModel with readout "all" and input = output size = len(vocab)
    prime : a non-empty string of vocabulary characters; the model reads it first
    length : how many characters to generate (>= 0)
    temperature : > 0; the logits are divided by it (below 1: safer, above 1: wilder)
    seed : seeds the sampling (same seed, same text)
    vocab : the vocabulary string, or the task (anything with ``.vocab``)

    Returns the generated text (without the prime).
    """
    from ..model import SequenceModel
    w = "sample"
    vocab = getattr(vocab, "vocab", vocab)
    if not isinstance(vocab, str) or len(vocab) < 2 or len(set(vocab)) != len(vocab):
        raise ArgumentTypeError(f"{w}: vocab must be the task (or its vocabulary string of "
                                f"distinct characters); got {describe(vocab)}")
    if not isinstance(model, SequenceModel):
        raise ArgumentTypeError(f"{w}: model must be a rnnzoo SequenceModel; got {describe(model)}")
    V = len(vocab)
    if model.readout.readout != "all" or model.input_size != V or model.readout.out_features != V:
        raise ValueError(f"{w}: the model must read and predict the {V} characters at every "
                         f"step (input {V}, output {V}, readout 'all'); got input "
                         f"{model.input_size}, output {model.readout.out_features}, readout "
                         f"{model.readout.readout!r}")
    if not isinstance(prime, str) or not prime:
        raise ArgumentTypeError(f"{w}: prime must be a non-empty string; got {describe(prime)}")
    unknown = sorted(set(prime) - set(vocab))
    if unknown:
        raise ValueError(f"{w}: prime has characters {unknown!r} outside the vocabulary")
    length = check_int(length, "length", minimum=0, where=w)
    temperature = check_float(temperature, "temperature", minimum=0.0, min_open=True, where=w)
    rng = np.random.default_rng(check_seed(seed, where=w))
    index = {c: i for i, c in enumerate(vocab)}
    eye = model.backend.asarray(np.eye(V), dtype=model.dtype)
    y, cache = model.forward(eye[[index[c] for c in prime]][:, None, :])
    out = []
    for _ in range(length):
        p = _tempered_probabilities(to_numpy(y[-1, 0]).astype(np.float64), temperature)
        try:
            code = int(rng.choice(V, p=p))
        except ValueError:       # NaN probabilities: checked here, not on every step
            raise ValueError(f"{w}: the model's output is not finite at generated character "
                             f"{len(out)} (logits {describe(to_numpy(y[-1, 0]))}); its "
                             f"parameters or state have diverged") from None
        out.append(vocab[code])
        y, cache = model.forward(eye[[code]][:, None, :], state0=cache.state_T)
    return "".join(out)
