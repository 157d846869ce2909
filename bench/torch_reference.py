"""A plain PyTorch beta-VAE training loop: the yardstick for bench/train_speed.py.

The Burgess et al. 2018 64x64 network (4 conv 32x4x4 stride 2, FC 256, FC 256, 10 latents, and
its mirror with transposed convolutions), Bernoulli decoder, beta = 4, Adam 5e-4: the network
and loss of the PyTorch beta-VAE implementations most people use, written here in ~40 lines.
"""

import torch
from torch import nn
from torch.nn import functional as F


class BurgessVAE(nn.Module):
    def __init__(self, latent_dim=10, channels=1):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 2 * latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 32 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (32, 4, 4)),
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 32, 4, 2, 1),
            nn.ReLU(), nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, 2, 1))

    def loss(self, x, beta=4.0):
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = self.decoder(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1).sum(1).mean()
        return recon + beta * kl


def make_step(model, learning_rate=5e-4):
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def step(x):
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        optimizer.step()
        return loss

    return step


def serve(connection, num_threads, device="cpu"):
    """Child-process loop for bench/train_speed.py: receives batches once, then times runs.

    Messages: ("batch", one NCHW float32 array), repeated; ("ready", None) -> "ok" after 3
    warm-up steps; ("run", n) -> seconds for n steps; ("stop", None) ends. Batches come one per
    message, as a data loader hands them over: glibc raises its mmap threshold to the size of
    the largest block freed so far (up to 32 MB), so one 20-40 MB message of all the batches
    would have kept the 8 MB activations of a default-malloc reference off mmap and made it
    faster than a loop run as usual (11-13 vs 15 steps/s). With device="cuda" the batches are
    copied to the GPU once (as a hand-written loop over a preloaded tensor dataset would) and
    each run ends with a synchronisation, so the time covers all the queued GPU work. Running
    the reference in its own process keeps TensorFlow's or JAX's thread pools (which may spin
    after a Keras step) from slowing it down, and the other way round; the two still alternate,
    never overlap.
    """
    torch.set_num_threads(num_threads)
    torch.manual_seed(0)
    model = BurgessVAE().to(device)
    step = make_step(model)
    batches = []
    while True:
        command, payload = connection.recv()
        if command == "batch":
            batches.append(torch.from_numpy(payload).to(device))
        elif command == "ready":
            for x in batches[:3]:  # warm-up
                step(x)
            _synchronize(device)
            connection.send("ok")
        elif command == "run":
            import time

            start = time.perf_counter()
            for i in range(payload):
                step(batches[i % len(batches)])
            _synchronize(device)
            connection.send(time.perf_counter() - start)
        else:
            return


def _synchronize(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
