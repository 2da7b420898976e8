"""An independent NumPy transcription of the reference AdaINGen forward pass, from its description
(../shared/reference/munit.md section 1), working on a PyTorch state dict as is: NCHW tensors,
(out, in, kh, kw) convolutions, (out, in) linear layers, float64 throughout. It shares no code with
munit_tf, so agreement between the two is evidence that munit_tf computes what MUNIT computes."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1e-5


def conv(x, sd, prefix, stride=1, pad=0):
    w, b = sd[f"{prefix}.weight"].astype(np.float64), sd[f"{prefix}.bias"].astype(np.float64)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")  # ReflectionPad2d
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', out)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None]


def relu(x):
    return np.maximum(x, 0)


def instance_norm(x):
    return (x - x.mean((2, 3), keepdims=True)) / np.sqrt(x.var((2, 3), keepdims=True) + EPS)


def adain(x, weight, bias):
    """F.batch_norm on a (1, B*C, H, W) view with batch statistics: instance norm, then affine."""
    return instance_norm(x) * weight[:, :, None, None] + bias[:, :, None, None]


def layer_norm(x, gamma, beta):
    flat = x.reshape(len(x), -1)
    mean = flat.mean(1)[:, None, None, None]
    std = flat.std(1, ddof=1)[:, None, None, None]  # torch.std: unbiased
    return (x - mean) / (std + EPS) * gamma[None, :, None, None] + beta[None, :, None, None]


def style_encode(sd, x):
    x = relu(conv(x, sd, "enc_style.model.0.conv", 1, 3))
    i = 1
    while f"enc_style.model.{i}.conv.weight" in sd:
        x = relu(conv(x, sd, f"enc_style.model.{i}.conv", 2, 1))
        i += 1
    x = x.mean((2, 3), keepdims=True)  # AdaptiveAvgPool2d(1) at model.{i}
    return conv(x, sd, f"enc_style.model.{i + 1}")  # (N, style_dim, 1, 1)


def content_encode(sd, x):
    x = relu(instance_norm(conv(x, sd, "enc_content.model.0.conv", 1, 3)))
    i = 1
    while f"enc_content.model.{i}.conv.weight" in sd:
        x = relu(instance_norm(conv(x, sd, f"enc_content.model.{i}.conv", 2, 1)))
        i += 1
    r = 0
    while f"enc_content.model.{i}.model.{r}.model.0.conv.weight" in sd:
        p = f"enc_content.model.{i}.model.{r}.model"
        y = relu(instance_norm(conv(x, sd, f"{p}.0.conv", 1, 1)))
        x = x + instance_norm(conv(y, sd, f"{p}.1.conv", 1, 1))  # no activation after the addition
        r += 1
    return x


def mlp(sd, style):
    x = style.reshape(len(style), -1).astype(np.float64)
    i = 0
    while f"mlp.model.{i + 1}.fc.weight" in sd:
        x = relu(x @ sd[f"mlp.model.{i}.fc.weight"].T + sd[f"mlp.model.{i}.fc.bias"])
        i += 1
    return x @ sd[f"mlp.model.{i}.fc.weight"].T + sd[f"mlp.model.{i}.fc.bias"]


def decode(sd, content, style):
    params = mlp(sd, style)
    offset, x, r = 0, content, 0
    while f"dec.model.0.model.{r}.model.0.conv.weight" in sd:
        p = f"dec.model.0.model.{r}.model"
        ys = x
        for j in range(2):
            c = sd[f"{p}.{j}.conv.weight"].shape[0]
            bias = params[:, offset : offset + c]  # [beta, gamma]
            weight = params[:, offset + c : offset + 2 * c]
            offset += 2 * c
            ys = adain(conv(ys, sd, f"{p}.{j}.conv", 1, 1), weight, bias)
            if j == 0:
                ys = relu(ys)
        x = x + ys
        r += 1
    m = 2
    while f"dec.model.{m}.norm.gamma" in sd:
        x = x.repeat(2, axis=2).repeat(2, axis=3)  # nn.Upsample(scale_factor=2), nearest
        x = relu(
            layer_norm(
                conv(x, sd, f"dec.model.{m}.conv", 1, 2),
                sd[f"dec.model.{m}.norm.gamma"],
                sd[f"dec.model.{m}.norm.beta"],
            )
        )
        m += 2
    return np.tanh(conv(x, sd, f"dec.model.{m - 1}.conv", 1, 3))


def encode(sd, x):
    """(content, style) as AdaINGen.encode, for NCHW images in [-1, 1]."""
    x = np.asarray(x, np.float64)
    return content_encode(sd, x), style_encode(sd, x)


def avg_pool_exclude_pad(x):
    """nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ones = np.pad(np.ones(x.shape[2:]), 1)
    sums = sliding_window_view(padded, (3, 3), axis=(2, 3))[:, :, ::2, ::2].sum((4, 5))
    counts = sliding_window_view(ones, (3, 3))[::2, ::2].sum((2, 3))
    return sums / counts


def discriminate(sd, x):
    """MsImageDis.forward: one raw output map per scale, the input average-pooled between scales."""
    x = np.asarray(x, np.float64)
    outputs, s = [], 0
    while f"cnns.{s}.0.conv.weight" in sd:
        y, layer = x, 0
        while f"cnns.{s}.{layer}.conv.weight" in sd:
            y = conv(y, sd, f"cnns.{s}.{layer}.conv", 2, 1)
            y = np.where(y > 0, y, 0.2 * y)  # LeakyReLU(0.2)
            layer += 1
        outputs.append(conv(y, sd, f"cnns.{s}.{layer}"))
        x = avg_pool_exclude_pad(x)
        s += 1
    return outputs
