"""The PyTorch side of the throughput benchmark (benches/throughput.rs runs it).

M1 and M2, the same as hyperssl's. M1: D=200 inputs, encoder 500-500 with softplus, q(z|x) mean and
log-variance heads for a 50-d latent, a mirrored decoder, and a Gaussian p(x|z) with one learned
log-variance per band. Weights N(0, 1)/sqrt(fan_in), zero biases, the q log-variance head and the
per-band log-variance start at zero. Loss: minus the mean ELBO with the analytic KL.

M2 (Kingma et al. 2014, 3.1.2) with 16 classes: q(y|x) an MLP 200-500-16, q(z|x,y) an MLP on
[x, y] 216-500-(50 mean, 50 log-variance), p(x|y,z) an MLP on [y, z] 66-500-200, per-band
log-variance; the class enters each MLP through its first layer, initialised as one layer over
the concatenation (fan-in d + 16); the q(z|x,y) log-variance columns start at zero. Every step has
`batch` unlabelled pixels, each taken through q(z|x,y) and p(x|y,z) once per class, and a tenth
as many labelled ones; the loss is minus [sum L(x,y) + sum U(x) + beta sum log q(y|x)] / n with
beta = 0.1 * N / N_labelled.

Both: Adam (lr 3e-4, betas 0.9/0.999, eps 1e-8). The step does what hyperssl's does: gather a
minibatch, draw the noise, forward, backward, Adam, and accumulate the logged terms.

Usage (one measurement per process, so thread count and peak memory belong to it):
  python reference.py --threads T gemm SIZE PLAN_JSON
  python reference.py --threads T train m1|m2 BATCH PLAN_JSON
PLAN_JSON is {"warmup": W, "repeats": R, "steps": N}. Prints one JSON line:
{"median": ..., "repeats": [...], "threads": T, "peak_mib": ...}; the unit is GFLOP/s for gemm,
examples per second for train. HYPERSSL_BENCH_DEVICE=cuda runs on the first GPU: each timed repeat
ends with torch.cuda.synchronize(), and "device_peak_mib" gives the peak GPU memory allocated.

To add a model: a module and a trainer function below, and its name in MODELS.
"""

import argparse
import os
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

INPUT_DIM = int(os.environ.get("HYPERSSL_BENCH_INPUT_DIM", "200"))
HIDDEN = [500, 500]
LATENT = 50
LN_2PI = math.log(2.0 * math.pi)
# Minibatches in one pass over the synthetic data (the epoch wraps around them).
EPOCH_BATCHES = 8
M2_CLASSES = int(os.environ.get("HYPERSSL_BENCH_M2_CLASSES", "16"))
M2_HIDDEN = 500
M2_ALPHA = 0.1
ADAM = dict(lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
DEVICE = torch.device(os.environ.get("HYPERSSL_BENCH_DEVICE", "cpu"))


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def gaussian_band_log_density(x, mean, logvar):
    """log N(x; mean, exp(logvar)) summed over the last axis; logvar is one value per band."""
    sq = (x - mean) ** 2 * torch.exp(-logvar)
    return -0.5 * (sq.sum(-1) + logvar.sum()) - 0.5 * x.shape[-1] * LN_2PI


def kl_standard_normal(mu, logvar):
    return 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1.0).sum(-1)


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
        log_px = gaussian_band_log_density(x, mean, self.p_logvar_band)
        return log_px, kl_standard_normal(mu, logvar)


class ClassLinear(nn.Module):
    """A linear layer on [u, onehot(y)]: W_u u + b plus row y of W_y. Initialised as one layer
    over the concatenation; output columns from `zero_from` on start at zero."""

    def __init__(self, d_in, classes, d_out, zero_from):
        super().__init__()
        w = torch.randn(d_in + classes, d_out) / math.sqrt(d_in + classes)
        w[:, zero_from:] = 0.0
        self.input = nn.Linear(d_in, d_out)
        with torch.no_grad():
            self.input.weight.copy_(w[:d_in].t())
            self.input.bias.zero_()
        self.cls = nn.Parameter(w[d_in:].clone())

    def forward(self, u, y):
        return self.input(u) + self.cls[y]

    def each_class(self, u, per_example):
        """Every class for every example: u has one row per example (per_example=1) or one per
        (example, class); returns [B * K, d_out], example-major."""
        h = self.input(u)
        k, d_out = self.cls.shape
        h = h.unsqueeze(1) if per_example == 1 else h.view(-1, k, d_out)
        return (h + self.cls.unsqueeze(0)).reshape(-1, d_out)


class ClassMlp(nn.Module):
    """One hidden layer conditioned on the class, then a linear output layer whose columns from
    `zero_from` on start at zero."""

    def __init__(self, d_in, classes, hidden, d_out, zero_from):
        super().__init__()
        self.first = ClassLinear(d_in, classes, hidden, hidden)
        self.out = linear(hidden, d_out)
        with torch.no_grad():
            self.out.weight[zero_from:, :] = 0.0

    def forward(self, u, y):
        return self.out(F.softplus(self.first(u, y)))

    def each_class(self, u, per_example):
        return self.out(F.softplus(self.first.each_class(u, per_example)))


class M2(nn.Module):
    def __init__(self, dim=INPUT_DIM, classes=M2_CLASSES, hidden=M2_HIDDEN, latent=LATENT):
        super().__init__()
        self.classifier = mlp(dim, [hidden])
        self.q_y = linear(hidden, classes)
        self.encoder = ClassMlp(dim, classes, hidden, 2 * latent, latent)
        self.decoder = ClassMlp(latent, classes, hidden, dim, dim)
        self.p_logvar_band = nn.Parameter(torch.zeros(dim))
        self.classes, self.latent = classes, latent

    def classify(self, x):
        return F.log_softmax(self.q_y(run_mlp(self.classifier, x)), dim=1)

    def objective(self, x_l, y_l, eps_l, x_u, eps_u, beta):
        """Loss and the logged means (bound, reconstruction, KL); eps_u is [B_u * K, latent]."""
        k, lat = self.classes, self.latent
        n = x_l.shape[0] + x_u.shape[0]
        log_prior = -math.log(k)
        log_q_l = self.classify(x_l).gather(1, y_l.unsqueeze(1))
        # L(x, y) for the labelled pixels.
        q = self.encoder(x_l, y_l)
        mu, logvar = q[:, :lat], q[:, lat:]
        z = mu + torch.exp(0.5 * logvar) * eps_l
        rec_l = gaussian_band_log_density(x_l, self.decoder(z, y_l), self.p_logvar_band)
        kl_l = kl_standard_normal(mu, logvar)
        bound_l = rec_l - kl_l + log_prior
        # U(x) for the unlabelled pixels: every class in one batched pass.
        log_q = self.classify(x_u)
        q = self.encoder.each_class(x_u, 1)
        mu, logvar = q[:, :lat], q[:, lat:]
        z = mu + torch.exp(0.5 * logvar) * eps_u
        mean = self.decoder.each_class(z, k).view(x_u.shape[0], k, -1)
        rec_u = gaussian_band_log_density(x_u.unsqueeze(1), mean, self.p_logvar_band)
        kl_u = kl_standard_normal(mu, logvar).view(x_u.shape[0], k)
        q_u = log_q.exp()
        bound_u = (q_u * (rec_u - kl_u + log_prior)).sum(1) - (q_u * log_q).sum(1)
        bound = bound_l.sum() + bound_u.sum()
        loss = -(bound + beta * log_q_l.sum()) / n
        rec = (rec_l.sum() + (q_u * rec_u).sum()) / n
        kl = (kl_l.sum() + (q_u * kl_u).sum()) / n
        return loss, torch.stack([bound / n, rec, kl]).detach()


def synthetic_spectra(n, dim, gen):
    """Smooth curves with noise, about unit scale (like hyperssl's bench data)."""
    phase = torch.rand(n, 1, generator=gen) * 6.0
    level = torch.rand(n, 1, generator=gen) - 0.5
    bands = torch.arange(dim, dtype=torch.float32).unsqueeze(0) / 25.0
    x = level + torch.sin(bands + phase) + 0.1 * (torch.rand(n, dim, generator=gen) - 0.5)
    return x.to(DEVICE)


def m1_trainer(batch):
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    n = batch * EPOCH_BATCHES
    data = synthetic_spectra(n, INPUT_DIM, gen)
    model = M1().to(DEVICE)
    optim = torch.optim.Adam(model.parameters(), **ADAM)
    state = {"step": 0, "order": None, "sum": None}
    per_epoch = n // batch

    def step():
        s = state["step"] % per_epoch
        if s == 0:
            state["order"] = torch.randperm(n, device=DEVICE)
        idx = state["order"][s * batch:(s + 1) * batch]
        x = data[idx]
        eps = torch.randn(x.shape[0], LATENT, device=DEVICE)
        log_px, kl = model.bound(x, eps)
        elbo = (log_px - kl).mean()
        terms = torch.stack([elbo, log_px.mean(), kl.mean()]).detach()
        state["sum"] = terms if state["sum"] is None else state["sum"] + terms
        optim.zero_grad(set_to_none=True)
        (-elbo).backward()
        optim.step()
        state["step"] += 1

    return step, batch


def m2_labelled_total(batch):
    """A tenth as many labelled pixels as unlabelled ones, at least one per class."""
    return max(batch * EPOCH_BATCHES // 10, M2_CLASSES)


def m2_labelled_per_step(batch):
    return max(1, -(-m2_labelled_total(batch) // EPOCH_BATCHES))


def m2_trainer(batch):
    """One M2 step on `batch` unlabelled and m2_labelled_per_step(batch) labelled pixels."""
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    n_u, n_l, m = batch * EPOCH_BATCHES, m2_labelled_total(batch), m2_labelled_per_step(batch)
    unlabelled = synthetic_spectra(n_u, INPUT_DIM, gen)
    labelled = synthetic_spectra(n_l, INPUT_DIM, gen)
    labels = torch.arange(n_l, device=DEVICE) % M2_CLASSES
    beta = M2_ALPHA * (n_l + n_u) / n_l
    model = M2().to(DEVICE)
    optim = torch.optim.Adam(model.parameters(), **ADAM)
    state = {"step": 0, "order": None, "drawn": None, "sum": None}

    def step():
        s = state["step"] % EPOCH_BATCHES
        if s == 0:
            state["order"] = torch.randperm(n_u, device=DEVICE)
            # Labelled pixels for the epoch, each used before any repeats.
            need = EPOCH_BATCHES * m
            state["drawn"] = torch.cat([torch.randperm(n_l, device=DEVICE) for _ in range(-(-need // n_l))])[:need]
        idx_u = state["order"][s * batch:(s + 1) * batch]
        idx_l = state["drawn"][s * m:(s + 1) * m]
        x_u, x_l, y_l = unlabelled[idx_u], labelled[idx_l], labels[idx_l]
        eps_l = torch.randn(m, LATENT, device=DEVICE)
        eps_u = torch.randn(batch * M2_CLASSES, LATENT, device=DEVICE)
        loss, terms = model.objective(x_l, y_l, eps_l, x_u, eps_u, beta)
        state["sum"] = terms if state["sum"] is None else state["sum"] + terms
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        state["step"] += 1

    return step, batch + m


MODELS = {"m1": m1_trainer, "m2": m2_trainer}


def timed(plan, work, run_once):
    """`work` units per step; one rate per repeat of plan["steps"] steps, after warm-up."""
    for _ in range(plan["warmup"]):
        run_once()
    sync()
    rates = []
    for _ in range(plan["repeats"]):
        t = time.perf_counter()
        for _ in range(plan["steps"]):
            run_once()
        sync()
        rates.append(work * plan["steps"] / (time.perf_counter() - t))
    return rates


def gemm(size, plan):
    a = torch.randn(size, size, device=DEVICE)
    b = torch.randn(size, size, device=DEVICE)
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
        step, examples = MODELS[what[1]](batch)
        rates = timed(plan, examples, step)
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
        "device_peak_mib": torch.cuda.max_memory_allocated(DEVICE) / 2**20 if DEVICE.type == "cuda" else None,
    }))


if __name__ == "__main__":
    main()
