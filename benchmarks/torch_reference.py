"""The reference's training iteration in PyTorch, timed on this machine: the yardstick that
issue 17's "faster than the reference measured in the same run" needs.

    build/torch-venv/bin/python benchmarks/torch_reference.py --size 256 --steps 3

NVlabs/MUNIT's code may not be copied (CC BY-NC-SA), and it cannot be fetched here. This is our
own transcription of its architecture, losses and iteration from the facts in
``shared/reference/munit.md`` (sections 1-3): the same layers in the same order (explicit pads,
instance norm, AdaIN through the MLP, MUNIT's LayerNorm, nearest upsampling + 5x5 convs, the
3-scale LSGAN discriminator with its average-pooled pyramid), the same D-then-G iteration with
fresh style codes in each update and the generator forward run again for D, and Adam with
coupled weight decay. It checks its parameter counts against the reference's (15,026,187 per
generator, 8,271,171 per discriminator) before it times anything, so a wrong layer cannot pass
for the reference. It prints one JSON object: seconds per iteration and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

GEN_PARAMS, DIS_PARAMS = 15_026_187, 8_271_171


def conv(c_in, c_out, k, stride, pad, norm="none", act="relu", pad_mode="reflect"):
    """pad -> conv (bias) -> norm -> activation: the reference's Conv2dBlock order."""
    layers = [nn.ReflectionPad2d(pad) if pad_mode == "reflect" else nn.ZeroPad2d(pad)]
    layers.append(nn.Conv2d(c_in, c_out, k, stride))
    if norm == "in":
        layers.append(nn.InstanceNorm2d(c_out))
    elif norm == "ln":
        layers.append(LayerNorm(c_out))
    elif norm == "adain":
        layers.append(AdaIN(c_out))
    if act == "relu":
        layers.append(nn.ReLU(inplace=True))
    elif act == "lrelu":
        layers.append(nn.LeakyReLU(0.2, inplace=True))
    elif act == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class LayerNorm(nn.Module):
    """Per sample over C x H x W, unbiased std, eps added to the std, per-channel affine."""

    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.rand(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        flat = x.flatten(1)
        mean = flat.mean(1).view(-1, 1, 1, 1)
        std = flat.std(1).view(-1, 1, 1, 1)
        x = (x - mean) / (std + self.eps)
        return x * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


class AdaIN(nn.Module):
    """Instance norm (biased variance, eps 1e-5) scaled and shifted by the MLP's output."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.gamma = self.beta = None

    def forward(self, x):
        return F.instance_norm(x, eps=1e-5) * self.gamma + self.beta


class ResBlock(nn.Module):
    def __init__(self, dim, norm):
        super().__init__()
        self.body = nn.Sequential(
            conv(dim, dim, 3, 1, 1, norm), conv(dim, dim, 3, 1, 1, norm, "none")
        )

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    """AdaINGen at the default config: dim 64, style 8, MLP 256, 2 downsamplings, 4 res blocks."""

    def __init__(self, dim=64, style_dim=8, mlp_dim=256):
        super().__init__()
        style = [
            conv(3, dim, 7, 1, 3),
            conv(dim, 2 * dim, 4, 2, 1),
            conv(2 * dim, 4 * dim, 4, 2, 1),
        ]
        style += [conv(4 * dim, 4 * dim, 4, 2, 1), conv(4 * dim, 4 * dim, 4, 2, 1)]
        self.enc_style = nn.Sequential(
            *style, nn.AdaptiveAvgPool2d(1), nn.Conv2d(4 * dim, style_dim, 1)
        )
        content = [conv(3, dim, 7, 1, 3, "in"), conv(dim, 2 * dim, 4, 2, 1, "in")]
        content += [conv(2 * dim, 4 * dim, 4, 2, 1, "in")]
        self.enc_content = nn.Sequential(*content, *[ResBlock(4 * dim, "in") for _ in range(4)])
        self.dec = nn.Sequential(
            *[ResBlock(4 * dim, "adain") for _ in range(4)],
            nn.Upsample(scale_factor=2),
            conv(4 * dim, 2 * dim, 5, 1, 2, "ln"),
            nn.Upsample(scale_factor=2),
            conv(2 * dim, dim, 5, 1, 2, "ln"),
            conv(dim, 3, 7, 1, 3, act="tanh"),
        )
        self.adains = [m for m in self.dec.modules() if isinstance(m, AdaIN)]
        n_adain = sum(2 * m.channels for m in self.adains)
        self.mlp = nn.Sequential(
            nn.Linear(style_dim, mlp_dim),
            nn.ReLU(inplace=True),
            nn.Linear(mlp_dim, mlp_dim),
            nn.ReLU(inplace=True),
            nn.Linear(mlp_dim, n_adain),
        )

    def encode(self, x):
        return self.enc_content(x), self.enc_style(x)

    def decode(self, content, style):
        params = self.mlp(style.flatten(1))
        for m in self.adains:  # first C values the shift, the next C the scale
            m.beta = params[:, : m.channels, None, None]
            m.gamma = params[:, m.channels : 2 * m.channels, None, None]
            params = params[:, 2 * m.channels :]
        return self.dec(content)


class Discriminator(nn.Module):
    """Three scales, each 4 stride-2 convs (LeakyReLU 0.2, no norm) and a 1x1 conv to one map."""

    def __init__(self, dim=64, scales=3):
        super().__init__()
        self.nets = nn.ModuleList(
            nn.Sequential(
                conv(3, dim, 4, 2, 1, act="lrelu"),
                conv(dim, 2 * dim, 4, 2, 1, act="lrelu"),
                conv(2 * dim, 4 * dim, 4, 2, 1, act="lrelu"),
                conv(4 * dim, 8 * dim, 4, 2, 1, act="lrelu"),
                nn.Conv2d(8 * dim, 1, 1),
            )
            for _ in range(scales)
        )

    def forward(self, x):
        outs = []
        for net in self.nets:
            outs.append(net(x))
            x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
        return outs

    def dis_loss(self, fake, real):
        return sum(
            torch.mean(f**2) + torch.mean((r - 1) ** 2) for f, r in zip(self(fake), self(real))
        )

    def gen_loss(self, fake):
        return sum(torch.mean((f - 1) ** 2) for f in self(fake))


def init(module, std=None):
    """Kaiming normal (fan in, untruncated) for G's convs and linears, N(0, 0.02) for D's."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if std is None:
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="0: every core")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen_a, gen_b, dis_a, dis_b = Generator(), Generator(), Discriminator(), Discriminator()
    counts = [count(m) for m in (gen_a, dis_a)]
    if counts != [GEN_PARAMS, DIS_PARAMS]:
        raise SystemExit(f"parameter counts {counts} are not the reference's")
    for g in (gen_a, gen_b):
        init(g)
    for d in (dis_a, dis_b):
        init(d, 0.02)
    adam = dict(lr=1e-4, betas=(0.5, 0.999), weight_decay=1e-4)  # coupled L2, as the reference
    gen_opt = torch.optim.Adam(list(gen_a.parameters()) + list(gen_b.parameters()), **adam)
    dis_opt = torch.optim.Adam(list(dis_a.parameters()) + list(dis_b.parameters()), **adam)
    x_a = torch.rand(1, 3, args.size, args.size) * 2 - 1
    x_b = torch.rand(1, 3, args.size, args.size) * 2 - 1

    def iteration():
        dis_opt.zero_grad()  # D: fresh styles, the translations detached (as the reference:
        s_a, s_b = torch.randn(1, 8, 1, 1), torch.randn(1, 8, 1, 1)  # not under no_grad)
        c_a, _ = gen_a.encode(x_a)
        c_b, _ = gen_b.encode(x_b)
        x_ba, x_ab = gen_a.decode(c_b, s_a), gen_b.decode(c_a, s_b)
        (dis_a.dis_loss(x_ba.detach(), x_a) + dis_b.dis_loss(x_ab.detach(), x_b)).backward()
        dis_opt.step()
        gen_opt.zero_grad()  # G: new styles, the whole forward again
        s_a, s_b = torch.randn(1, 8, 1, 1), torch.randn(1, 8, 1, 1)
        c_a, s_a_prime = gen_a.encode(x_a)
        c_b, s_b_prime = gen_b.encode(x_b)
        x_a_recon, x_b_recon = gen_a.decode(c_a, s_a_prime), gen_b.decode(c_b, s_b_prime)
        x_ba, x_ab = gen_a.decode(c_b, s_a), gen_b.decode(c_a, s_b)
        c_b_recon, s_a_recon = gen_a.encode(x_ba)
        c_a_recon, s_b_recon = gen_b.encode(x_ab)
        l1 = F.l1_loss
        loss = (
            10 * (l1(x_a_recon, x_a) + l1(x_b_recon, x_b))
            + l1(s_a_recon, s_a)
            + l1(s_b_recon, s_b)
            + l1(c_a_recon, c_a)
            + l1(c_b_recon, c_b)
            + dis_a.gen_loss(x_ba)
            + dis_b.gen_loss(x_ab)
        )
        loss.backward()
        gen_opt.step()
        return loss.item()

    for _ in range(args.warmup):
        iteration()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "size": args.size,
                "batch": 1,
                "seconds_per_iteration": round(statistics.median(times), 3),
                "seconds_min_max": [round(min(times), 3), round(max(times), 3)],
                "peak_memory_gb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2
                ),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "mkldnn": torch.backends.mkldnn.is_available(),
            }
        )
    )


if __name__ == "__main__":
    main()
