"""Converts disentangling-vae's trained checkpoints (PyTorch, MIT) into keras-disent models.

disentangling-vae (Dubois, Kastanos, Lines, Melman 2019) trained the Burgess'18 network with
five losses on CelebA, 3D chairs, dSprites and MNIST and published the `state_dict`s with
their `specs.json`. Each maps onto a keras-disent class with the same network:

| `specs.json` loss | class and config |
| --- | --- |
| `VAE` | `BetaVAE(beta=1)` |
| `betaH` | `BetaVAE(beta=betaH_B)` |
| `betaB` | `BetaVAE(capacity_max=betaB_finC, capacity_steps=reg_anneal, gamma=betaB_G)` |
| `btcvae` | `BetaTCVAE(alpha=btcvae_A, beta=btcvae_B, gamma=btcvae_G, estimator="mss")` |
| `factor` | `FactorVAE(gamma=factor_G, discriminator_depth=0)` (the discriminator is not in the file: a linear placeholder) |

Layout differences handled here (the PyTorch network is NCHW, ours NHWC):
  - convolution kernels (out, in, kh, kw) -> (kh, kw, in, out); transposed convolution
    kernels (in, out, kh, kw) -> (kh, kw, out, in); dense weights (out, in) -> (in, out);
  - the encoder flattens (C, H, W) and the decoder reshapes to (C, H, W): the rows of the
    first encoder dense layer and the outputs of the last decoder dense layer are permuted
    from C-major to H-major order;
  - the encoder's last layer interleaves (mean_0, logvar_0, mean_1, ...); ours puts every mean
    first, then every log-variance.
`torch_forward` runs the checkpoint itself with PyTorch (written from the published
architecture: 4x4 stride-2 convolutions with padding 1, ReLU, dense 256-256) for the parity
check: posterior mean, log-variance and decoder output of both on the same images.

PyTorch is needed only here, at conversion time, and checkpoints are read with
`torch.load(..., weights_only=True)`: a file that needs anything but tensors is refused.

Reference:
    Dubois, Kastanos, Lines, Melman 2019, Disentangling VAE,
    github.com/YannDubs/disentangling-vae (MIT licence), `disvae/models/encoders.py`,
    `decoders.py`; Burgess et al. 2018, Understanding disentangling in beta-VAE, arXiv:1804.03599.
"""

import json
import os

import numpy as np

PROJECT = "disentangling-vae"
REPOSITORY = "github.com/YannDubs/disentangling-vae"
COMMIT = "f0452191bab6d94eba0b4e6a065f74dcfd54ac52"  # where ../shared/peer's copies come from
LICENCE = "MIT"
DATASET_SIZES = {"dsprites": 737_280, "celeba": 202_599, "chairs": 86_366, "mnist": 60_000}
CLASS_PREFIX = {"VAE": "beta_vae", "betaH": "beta_vae", "betaB": "beta_vae_b",
                "btcvae": "beta_tcvae", "factor": "factor_vae"}


class ConversionError(ValueError):
    """A checkpoint cannot be converted; the message says why."""


def _torch():
    try:
        import torch
    except ImportError as error:
        raise ConversionError("Converting disentangling-vae checkpoints needs PyTorch (only "
                              "at conversion time): pip install torch.") from error
    return torch


def read_checkpoint(folder):
    """`(specs dict, {name: numpy array})` of a disentangling-vae result folder."""
    specs_path, weights_path = (os.path.join(folder, n) for n in ("specs.json", "model.pt"))
    for path in (specs_path, weights_path):
        if not os.path.exists(path):
            raise ConversionError(f"{folder!r} is not a disentangling-vae result folder: "
                                  f"{os.path.basename(path)} is missing.")
    with open(specs_path) as handle:
        specs = json.load(handle)
    torch = _torch()
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, ...
        raise ConversionError(f"{weights_path!r} is not a plain PyTorch state_dict of tensors "
                              f"(refused by weights_only=True: {error}).") from None
    if specs.get("model_type") != "Burgess":
        raise ConversionError(f"Only the Burgess network converts, {weights_path!r} is "
                              f"{specs.get('model_type')!r}.")
    return specs, {name: value.detach().cpu().numpy() for name, value in state.items()}


def model_config(specs):
    """`(class name, constructor config)` of the keras-disent model matching `specs`."""
    channels, height, width = specs["img_size"]
    if height != width or height not in (32, 64):
        raise ConversionError(f"Image size {specs['img_size']} is not the Burgess network's "
                              "(32 or 64 pixels square).")
    if specs["rec_dist"] not in ("bernoulli", "gaussian"):
        raise ConversionError(f"Reconstruction distribution {specs['rec_dist']!r} has no "
                              "keras-disent equivalent (bernoulli, gaussian).")
    config = dict(latent_dim=specs["latent_dim"], image_shape=[height, width, channels],
                  reconstruction=specs["rec_dist"], conv_channels=[32] * (4 if height == 64
                                                                          else 3),
                  dense_units=[256, 256], seed=specs.get("seed"))
    loss = specs["loss"]
    if loss == "VAE":
        return "BetaVAE", dict(config, beta=1.0)
    if loss == "betaH":
        return "BetaVAE", dict(config, beta=float(specs["betaH_B"]))
    if loss == "betaB":
        return "BetaVAE", dict(config, capacity_max=float(specs["betaB_finC"]),
                               capacity_steps=int(specs["reg_anneal"]),
                               gamma=float(specs["betaB_G"]))
    if loss == "btcvae":
        return "BetaTCVAE", dict(config, alpha=float(specs["btcvae_A"]),
                                 beta=float(specs["btcvae_B"]), gamma=float(specs["btcvae_G"]),
                                 dataset_size=DATASET_SIZES[specs["dataset"]], estimator="mss")
    if loss == "factor":
        # The discriminator is not in the published file. A zoo entry stores no invented
        # weights beyond a placeholder: a linear discriminator (22 parameters) instead of the
        # paper's 6 x 1000 MLP (5M random parameters). Fine-tune with the paper's
        # discriminator by building FactorVAE(gamma=...) and loading the encoder and decoder.
        return "FactorVAE", dict(config, gamma=float(specs["factor_G"]),
                                 discriminator_depth=0)
    raise ConversionError(f"Unknown disentangling-vae loss {loss!r}.")


def _chw_to_hwc(channels, height, width):
    """Index map: position i of an (H, W, C)-flattened vector reads position [i] of the
    (C, H, W)-flattened one."""
    return np.arange(channels * height * width).reshape(channels, height, width).transpose(
        1, 2, 0).ravel()


def keras_weights(state, latent_dim, image_size):
    """`{(network, layer name): [kernel, bias]}` in our layout from a PyTorch state."""
    order = _chw_to_hwc(32, 4, 4)
    interleaved = np.concatenate([np.arange(0, 2 * latent_dim, 2),
                                  np.arange(1, 2 * latent_dim, 2)])
    convs = ["conv1", "conv2", "conv3"] + (["conv_64"] if image_size == 64 else [])
    deconvs = (["convT_64"] if image_size == 64 else []) + ["convT1", "convT2", "convT3"]

    def get(name):
        return state[name + ".weight"], state[name + ".bias"]

    weights = {}
    for i, name in enumerate(convs):
        kernel, bias = get("encoder." + name)
        weights[("encoder", f"conv{i}")] = [kernel.transpose(2, 3, 1, 0), bias]
    kernel, bias = get("encoder.lin1")
    weights[("encoder", "dense0")] = [kernel.T[order], bias]
    kernel, bias = get("encoder.lin2")
    weights[("encoder", "dense1")] = [kernel.T, bias]
    kernel, bias = get("encoder.mu_logvar_gen")
    weights[("encoder", "output")] = [kernel.T[:, interleaved], bias[interleaved]]
    for i, name in enumerate(("lin1", "lin2")):
        kernel, bias = get("decoder." + name)
        weights[("decoder", f"dense{i}")] = [kernel.T, bias]
    kernel, bias = get("decoder.lin3")
    weights[("decoder", "to_grid")] = [kernel.T[:, order], bias[order]]
    for i, name in enumerate(deconvs):
        kernel, bias = get("decoder." + name)
        weights[("decoder", f"deconv{i}")] = [kernel.transpose(2, 3, 1, 0), bias]
    expected = {key for key in state}
    used = {f"encoder.{n}.{p}" for n in convs + ["lin1", "lin2", "mu_logvar_gen"]
            for p in ("weight", "bias")}
    used |= {f"decoder.{n}.{p}" for n in deconvs + ["lin1", "lin2", "lin3"]
             for p in ("weight", "bias")}
    if expected != used:
        raise ConversionError(f"Unexpected tensors in the state_dict: "
                              f"{sorted(expected ^ used)}.")
    return weights


def convert(folder):
    """`(keras-disent model with the checkpoint's weights, specs)`."""
    specs, state = read_checkpoint(folder)
    return model_from_state(specs, state), specs


def model_from_state(specs, state):
    """The keras-disent model of `specs` with the weights of `state` (as read_checkpoint)."""
    from keras_disent import methods

    class_name, config = model_config(specs)
    model = methods.by_class(class_name).cls(**config)
    for (network, layer), values in keras_weights(state, specs["latent_dim"],
                                                 specs["img_size"][1]).items():
        target = getattr(model, network).get_layer(layer)
        shapes = [tuple(w.shape) for w in target.get_weights()]
        if shapes != [v.shape for v in values]:
            raise ConversionError(f"{network}.{layer}: our shapes {shapes}, converted "
                                  f"{[v.shape for v in values]}.")
        target.set_weights([np.asarray(v, np.float32) for v in values])
    return model


def torch_forward(state, images, latent_dim):
    """The PyTorch network of `state` on NHWC images in [0, 1]:
    `(mean, log_var, decoder output from the mean)` as NHWC numpy."""
    torch = _torch()
    functional = torch.nn.functional
    tensors = {name: torch.as_tensor(value) for name, value in state.items()}

    def layer(name, x, kind):
        weight, bias = tensors[name + ".weight"], tensors[name + ".bias"]
        if kind == "conv":
            return functional.conv2d(x, weight, bias, stride=2, padding=1)
        if kind == "deconv":
            return functional.conv_transpose2d(x, weight, bias, stride=2, padding=1)
        return functional.linear(x, weight, bias)

    with torch.no_grad():
        x = torch.as_tensor(np.asarray(images, np.float32)).permute(0, 3, 1, 2)
        for name in ("conv1", "conv2", "conv3", "conv_64"):
            if f"encoder.{name}.weight" in tensors:
                x = torch.relu(layer(f"encoder.{name}", x, "conv"))
        x = x.reshape(x.shape[0], -1)
        x = torch.relu(layer("encoder.lin1", x, "dense"))
        x = torch.relu(layer("encoder.lin2", x, "dense"))
        stats = layer("encoder.mu_logvar_gen", x, "dense").view(-1, latent_dim, 2)
        mean, log_var = stats[..., 0], stats[..., 1]
        z = torch.relu(layer("decoder.lin1", mean, "dense"))
        z = torch.relu(layer("decoder.lin2", z, "dense"))
        z = torch.relu(layer("decoder.lin3", z, "dense")).view(-1, 32, 4, 4)
        names = [n for n in ("convT_64", "convT1", "convT2", "convT3")
                 if f"decoder.{n}.weight" in tensors]
        for i, name in enumerate(names):
            z = layer(f"decoder.{name}", z, "deconv")
            z = torch.relu(z) if i < len(names) - 1 else torch.sigmoid(z)
        return mean.numpy(), log_var.numpy(), z.permute(0, 2, 3, 1).numpy()


def parity(model, state, images):
    """Max |diff| of posterior mean, log-variance and decoder output (from the mean) between
    the converted model under the current backend and the PyTorch checkpoint, and the
    largest magnitude of each PyTorch output (`scale`)."""
    mean, log_var = model.encode_distribution(images)
    torch_mean, torch_log_var, torch_images = torch_forward(state, images, model.latent_dim)
    decoded = model.decode(torch_mean)
    outputs = {"mean": (mean, torch_mean), "log_var": (log_var, torch_log_var),
               "decoder": (decoded, torch_images)}
    result = {name: float(np.max(np.abs(ours - theirs)))
              for name, (ours, theirs) in outputs.items()}
    result["scale"] = {name: float(np.max(np.abs(theirs)))
                       for name, (_, theirs) in outputs.items()}
    return result


def within_tolerance(parity, tolerance=1e-5):
    """Every output within `tolerance` x max(1, its largest magnitude): float32 sums in
    another order differ by a few units in the last place of the largest values."""
    return all(parity[name] <= tolerance * max(1.0, parity["scale"][name])
               for name in ("mean", "log_var", "decoder"))


def sample_images(path, image_size, channels):
    """The 100 real images of a disentangling-vae `data_samples.png` grid (10 x 10, 2-pixel
    padding) as float32 `(100, S, S, channels)` in [0, 1]."""
    from PIL import Image

    grid = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
    step = image_size + 2
    if grid.shape[:2] != (10 * step + 2, 10 * step + 2):
        raise ConversionError(f"{path!r} is {grid.shape[:2]}, not a 10 x 10 grid of "
                              f"{image_size}-pixel images with 2-pixel padding.")
    tiles = [grid[2 + r * step:2 + r * step + image_size, 2 + c * step:2 + c * step + image_size]
             for r in range(10) for c in range(10)]
    images = np.stack(tiles)
    return images[..., :1] if channels == 1 else images


def zoo_name(specs):
    """The zoo name of a checkpoint: `beta_vae_celeba` for betaH_celeba, `beta_vae_celeba_beta1`
    for VAE_celeba, `beta_vae_b_*`, `beta_tcvae_*`, `factor_vae_*`."""
    name = f"{CLASS_PREFIX[specs['loss']]}_{specs['dataset']}"
    return name + "_beta1" if specs["loss"] == "VAE" else name


def training_settings(specs):
    """The authors' training settings, as a zoo entry records them."""
    loss_parameters = {
        "VAE": {}, "betaH": {"beta": specs["betaH_B"]},
        "betaB": {"C_init": specs["betaB_initC"], "C_fin": specs["betaB_finC"],
                  "gamma": specs["betaB_G"], "anneal_steps": specs["reg_anneal"]},
        "btcvae": {"alpha": specs["btcvae_A"], "beta": specs["btcvae_B"],
                   "gamma": specs["btcvae_G"]},
        "factor": {"gamma": specs["factor_G"], "lr_discriminator": specs["lr_disc"]},
    }[specs["loss"]]
    size = DATASET_SIZES[specs["dataset"]]
    return {"epochs": specs["epochs"], "batch_size": specs["batch_size"],
            "steps": int(specs["epochs"] * np.ceil(size / specs["batch_size"])),
            "learning_rate": specs["lr"], "loss": specs["loss"],
            "loss_parameters": loss_parameters, "reconstruction": specs["rec_dist"],
            "dataset_size": size, "seed": specs.get("seed")}
