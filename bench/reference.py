"""The PyTorch side of the throughput benchmark (benches/throughput.rs runs it).

The same M1 as hyperssl's: D=200 inputs, encoder 500-500 with softplus, q(z|x) mean and
log-variance heads for a 50-d latent, a mirrored decoder, and a Gaussian p(x|z) with one learned
log-variance per band. Weights N(0, 1)/sqrt(fan_in), zero biases, the q log-variance head and the
per-band log-variance start at zero. Loss: minus the mean ELBO with the analytic KL, Adam
(lr 3e-4, betas 0.9/0.999, eps 1e-8). The step does what hyperssl's does: gather a minibatch,
draw the noise, forward, backward, Adam, and accumulate the logged terms.

Usage (one measurement per process, so thread count and peak memory belong to it):
  python reference.py --threads T gemm SIZE PLAN_JSON
  python reference.py --threads T train m1 BATCH PLAN_JSON
PLAN_JSON is {"warmup": W, "repeats": R, "steps": N}. Prints one JSON line:
{"median": ..., "repeats": [...], "threads": T, "peak_mib": ...}; the unit is GFLOP/s for gemm,
examples per second for train.

To add a model (M2, M1+M2): a module and a step function below, and its name in MODELS.
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

INPUT_DIM = 200
HIDDEN = [500, 500]
LATENT = 50
LN_2PI = math.log(2.0 * math.pi)


def linear(d_in, d_out, scale=1.0):
    """N(0, 1) / sqrt(fan_in) weights times `scale`, zero bias."""
    layer = nn.Linear(d_in, d_out)
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0).mul_(scale / math.sqrt(d_in))
        layer.bias.zero_()
    return layer


def mlp(d_in, hidden):
    layers, d = [], d_in
    for h in hidden:
        layers.append(linear(d, h))
        d = h
    return nn.ModuleList(layers)


def run_mlp(layers, x):
    for layer in layers:
        x = F.softplus(layer(x))
    return x


class M1(nn.Module):
    def __init__(self, dim=INPUT_DIM, hidden=HIDDEN, latent=LATENT):
        super().__init__()
        self.encoder = mlp(dim, hidden)
        self.q_mu = linear(hidden[-1], latent)
        self.q_logvar = linear(hidden[-1], latent, scale=0.0)
        self.decoder = mlp(latent, list(reversed(hidden)))
        self.p_out = linear(hidden[0], dim)
        self.p_logvar_band = nn.Parameter(torch.zeros(dim))

    def bound(self, x, eps):
        """Per-example log p(x|z) and KL(q(z|x) || N(0, I)), each [batch]."""
        h = run_mlp(self.encoder, x)
        mu, logvar = self.q_mu(h), self.q_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        mean = self.p_out(run_mlp(self.decoder, z))
        lv = self.p_logvar_band.unsqueeze(0)
        sq = (x - mean) ** 2 * torch.exp(-lv)
        log_px = -0.5 * (sq.sum(1) + lv.sum()) - 0.5 * x.shape[1] * LN_2PI
        kl = 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1.0).sum(1)
        return log_px, kl


def synthetic_spectra(n, dim, gen):
    """Smooth curves with noise, about unit scale (like hyperssl's bench data)."""
    phase = torch.rand(n, 1, generator=gen) * 6.0
    level = torch.rand(n, 1, generator=gen) - 0.5
    bands = torch.arange(dim, dtype=torch.float32).unsqueeze(0) / 25.0
    return level + torch.sin(bands + phase) + 0.1 * (torch.rand(n, dim, generator=gen) - 0.5)


def m1_trainer(batch):
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    n = batch * 8
    data = synthetic_spectra(n, INPUT_DIM, gen)
    model = M1()
    optim = torch.optim.Adam(model.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
    state = {"step": 0, "order": None, "sum": None}
    per_epoch = n // batch

    def step():
        s = state["step"] % per_epoch
        if s == 0:
            state["order"] = torch.randperm(n)
        idx = state["order"][s * batch:(s + 1) * batch]
        x = data[idx]
        eps = torch.randn(x.shape[0], LATENT)
        log_px, kl = model.bound(x, eps)
        elbo = (log_px - kl).mean()
        terms = torch.stack([elbo, log_px.mean(), kl.mean()]).detach()
        state["sum"] = terms if state["sum"] is None else state["sum"] + terms
        optim.zero_grad(set_to_none=True)
        (-elbo).backward()
        optim.step()
        state["step"] += 1

    return step


MODELS = {"m1": m1_trainer}


def timed(plan, work, run_once):
    """`work` units per step; one rate per repeat of plan["steps"] steps, after warm-up."""
    for _ in range(plan["warmup"]):
        run_once()
    rates = []
    for _ in range(plan["repeats"]):
        t = time.perf_counter()
        for _ in range(plan["steps"]):
            run_once()
        rates.append(work * plan["steps"] / (time.perf_counter() - t))
    return rates


def gemm(size, plan):
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    sink = []

    def once():
        sink.append(float((a @ b)[0, 0]))

    return [r / 1e9 for r in timed(plan, 2.0 * size**3, once)]


def resident_mib(field):
    """VmRSS (resident now) or VmHWM (peak) of this process in MiB, None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def main():
    base = resident_mib("VmRSS:")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("what", nargs="+")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    what = a.what
    if what[0] == "gemm" and len(what) == 3:
        rates = gemm(int(what[1]), json.loads(what[2]))
    elif what[0] == "train" and len(what) == 4 and what[1] in MODELS:
        batch, plan = int(what[2]), json.loads(what[3])
        rates = timed(plan, batch, MODELS[what[1]](batch))
    else:
        sys.exit(f"reference.py: cannot run {' '.join(what)}")
    peak = resident_mib("VmHWM:")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(json.dumps({
        "median": statistics.median(rates),
        "repeats": rates,
        "threads": torch.get_num_threads(),
        "peak_mib": peak,
        "base_mib": base,
    }))


if __name__ == "__main__":
    main()
