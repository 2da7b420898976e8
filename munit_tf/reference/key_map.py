"""The reference's state-dict keys -> our variables, in the reference's module order.

Layouts: conv weights (out, in, kh, kw) -> (kh, kw, in, out); linear (out, in) -> (in, out). The
decoder's AdaIN layers carry dummy running statistics, which are ignored.
"""

from __future__ import annotations

import re

import numpy as np

from munit_tf.errors import InvalidInput
from munit_tf.reference.checkpoint import load_checkpoint


def _conv(prefix, layer):
    return [(f"{prefix}.weight", layer.kernel, "conv"), (f"{prefix}.bias", layer.bias, "vector")]


def generator_entries(gen) -> list[tuple]:
    """[(reference key, our variable, kind)] for an AdaINGen, in the reference's module order."""
    entries = []
    style = gen.enc_style
    for i, block in enumerate(style.blocks):
        entries += _conv(f"enc_style.model.{i}.conv", block.conv)
    # after the pooling layer
    entries += _conv(f"enc_style.model.{len(style.blocks) + 1}", style.project)
    content = gen.enc_content
    downs = content.n_downsample + 1
    for i, block in enumerate(content.blocks[:downs]):
        entries += _conv(f"enc_content.model.{i}.conv", block.conv)
    for r, block in enumerate(content.blocks[downs:]):
        for j, conv in enumerate((block.conv1, block.conv2)):
            entries += _conv(f"enc_content.model.{downs}.model.{r}.model.{j}.conv", conv.conv)
    dec = gen.dec
    for r, block in enumerate(dec.res_blocks):
        for j, conv in enumerate((block.conv1, block.conv2)):
            entries += _conv(f"dec.model.0.model.{r}.model.{j}.conv", conv.conv)
    for u, block in enumerate(dec.up_blocks):  # model.{1+2u} is an Upsample layer
        entries += _conv(f"dec.model.{2 + 2 * u}.conv", block.conv)
        entries += [
            (f"dec.model.{2 + 2 * u}.norm.gamma", block.norm.gamma, "vector"),
            (f"dec.model.{2 + 2 * u}.norm.beta", block.norm.beta, "vector"),
        ]
    entries += _conv(f"dec.model.{1 + 2 * len(dec.up_blocks)}.conv", dec.to_image.conv)
    for i, dense in enumerate(gen.mlp.dense):
        entries += [
            (f"mlp.model.{i}.fc.weight", dense.kernel, "linear"),
            (f"mlp.model.{i}.fc.bias", dense.bias, "vector"),
        ]
    return entries


def discriminator_entries(dis) -> list[tuple]:
    entries = []
    for s, scale in enumerate(dis.cnns):
        for layer, block in enumerate(scale.blocks):
            entries += _conv(f"cnns.{s}.{layer}.conv", block.conv)
        entries += _conv(f"cnns.{s}.{len(scale.blocks)}", scale.out)
    return entries


_IGNORED = re.compile(
    r"^dec\..*\.norm\.running_(mean|var)$|^enc_content\..*\.norm\.running_(mean|var)$"
    r"|.*num_batches_tracked$"
)


def _to_ours(value: np.ndarray, kind: str) -> np.ndarray:
    if kind == "conv":
        return np.transpose(value, (2, 3, 1, 0))
    if kind == "linear":
        return value.T
    return value


def assign(entries: list[tuple], state_dict: dict, what: str) -> None:
    """Copy a reference state dict into our variables; every mismatch is reported at once."""
    expected = {key: (variable, kind) for key, variable, kind in entries}
    given = {k: np.asarray(v) for k, v in state_dict.items() if not _IGNORED.match(k)}
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    wrong = []
    for key in sorted(set(expected) & set(given)):
        variable, kind = expected[key]
        if _to_ours(given[key], kind).shape != tuple(variable.shape):
            wrong.append(
                f"{key}: {given[key].shape} does not fit ours {tuple(variable.shape)} (as {kind})"
            )
    if missing or extra or wrong:
        lines = [f"the {what} state dict does not match this config:"]
        lines += [f"  missing: {k}" for k in missing] + [f"  unexpected: {k}" for k in extra]
        lines += [f"  wrong shape: {w}" for w in wrong]
        raise InvalidInput("\n".join(lines))
    for key, (variable, kind) in expected.items():
        variable.assign(_to_ours(given[key], kind).astype(np.float32))


def load_reference(model, gen_path: str, dis_path: str | None = None) -> None:
    """Load ``gen_*.pt`` (and optionally ``dis_*.pt``) into a MUNIT model built with the same
    config."""
    generators = load_checkpoint(gen_path)
    for domain, gen in (("a", model.gen_a), ("b", model.gen_b)):
        assign(generator_entries(gen), generators[domain], f"generator {domain}")
    if dis_path:
        discriminators = load_checkpoint(dis_path)
        for domain, dis in (("a", model.dis_a), ("b", model.dis_b)):
            assign(discriminator_entries(dis), discriminators[domain], f"discriminator {domain}")
