"""Converting disentangling-vae checkpoints: parity with the PyTorch network on every backend.

The PyTorch network is built here, randomly initialised (the suite does not need ../shared):
its state_dict and specs.json are written as the peer publishes them, converted, and the Keras
model's posterior mean, log-variance and decoder output compared on the same images.
"""

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from keras_disent import zoo  # noqa: E402
from keras_disent.peers import disentangling_vae as peer  # noqa: E402

SPECS = {"batch_size": 64, "betaB_G": 1000, "betaB_finC": 25, "betaB_initC": 0, "betaH_B": 4,
         "btcvae_A": 1, "btcvae_B": 6, "btcvae_G": 1, "dataset": "dsprites", "epochs": 30,
         "factor_G": 6, "latent_dim": 10, "lr": 5e-4, "lr_disc": 5e-5, "model_type": "Burgess",
         "rec_dist": "bernoulli", "reg_anneal": 10000, "seed": 1234}


def burgess_state(channels, size, seed=0):
    """A randomly initialised state_dict of the Burgess encoder/decoder, PyTorch layout."""
    torch.manual_seed(seed)
    nn = torch.nn
    layers = {"encoder.conv1": nn.Conv2d(channels, 32, 4, 2, 1),
              "encoder.conv2": nn.Conv2d(32, 32, 4, 2, 1),
              "encoder.conv3": nn.Conv2d(32, 32, 4, 2, 1),
              "encoder.lin1": nn.Linear(512, 256), "encoder.lin2": nn.Linear(256, 256),
              "encoder.mu_logvar_gen": nn.Linear(256, 20),
              "decoder.lin1": nn.Linear(10, 256), "decoder.lin2": nn.Linear(256, 256),
              "decoder.lin3": nn.Linear(256, 512),
              "decoder.convT1": nn.ConvTranspose2d(32, 32, 4, 2, 1),
              "decoder.convT2": nn.ConvTranspose2d(32, 32, 4, 2, 1),
              "decoder.convT3": nn.ConvTranspose2d(32, channels, 4, 2, 1)}
    if size == 64:
        layers["encoder.conv_64"] = nn.Conv2d(32, 32, 4, 2, 1)
        layers["decoder.convT_64"] = nn.ConvTranspose2d(32, 32, 4, 2, 1)
    state = {}
    for prefix, layer in layers.items():
        state[prefix + ".weight"] = layer.weight.detach().clone()
        state[prefix + ".bias"] = layer.bias.detach().clone()
    return state


def write_checkpoint(folder, loss, channels, size, dataset="dsprites"):
    os.makedirs(folder, exist_ok=True)
    torch.save(burgess_state(channels, size), os.path.join(folder, "model.pt"))
    specs = dict(SPECS, loss=loss, img_size=[channels, size, size], dataset=dataset)
    with open(os.path.join(folder, "specs.json"), "w") as handle:
        json.dump(specs, handle)
    return folder


def _images(channels, size, n=6):
    return np.random.default_rng(1).random((n, size, size, channels)).astype("float32")


@pytest.mark.parametrize("loss, channels, size, cls", [
    ("betaH", 3, 64, "BetaVAE"), ("btcvae", 1, 32, "BetaTCVAE"), ("factor", 1, 64, "FactorVAE"),
    ("betaB", 1, 32, "BetaVAE")])
def test_converted_network_equals_pytorch(tmp_path, loss, channels, size, cls):
    folder = write_checkpoint(str(tmp_path / f"{loss}_dsprites"), loss, channels, size)
    model, specs = peer.convert(folder)
    assert type(model).__name__ == cls and model.image_shape == (size, size, channels)
    _, state = peer.read_checkpoint(folder)
    images = _images(channels, size)
    parity = peer.parity(model, state, images)
    for output in ("mean", "log_var", "decoder"):
        assert parity[output] < 1e-5, (output, parity)
    # The layouts really differ: without the permutations the outputs would not match.
    mean, _, _ = peer.torch_forward(state, images, 10)
    assert np.abs(mean).max() > 1e-3


def test_config_from_specs():
    cls, config = peer.model_config(dict(SPECS, loss="betaB", img_size=[1, 64, 64]))
    assert cls == "BetaVAE" and config["capacity_max"] == 25.0 and config["gamma"] == 1000.0
    assert config["capacity_steps"] == 10000 and config["conv_channels"] == [32] * 4
    cls, config = peer.model_config(dict(SPECS, loss="btcvae", img_size=[1, 32, 32]))
    assert cls == "BetaTCVAE" and config["estimator"] == "mss" and config["beta"] == 6.0
    assert config["dataset_size"] == 737_280 and config["conv_channels"] == [32] * 3
    assert peer.zoo_name(dict(SPECS, loss="betaH", dataset="celeba")) == "beta_vae_celeba"
    assert peer.zoo_name(dict(SPECS, loss="VAE", dataset="mnist")) == "beta_vae_mnist_beta1"
    with pytest.raises(peer.ConversionError, match="Image size"):
        peer.model_config(dict(SPECS, loss="betaH", img_size=[1, 28, 28]))
    with pytest.raises(peer.ConversionError, match="laplace"):
        peer.model_config(dict(SPECS, loss="betaH", img_size=[1, 64, 64], rec_dist="laplace"))


def test_zoo_convert_writes_an_entry_with_its_source(tmp_path):
    folder = write_checkpoint(str(tmp_path / "peer" / "betaH_dsprites"), "betaH", 1, 64)
    (tmp_path / "peer" / "LICENSE").write_text("MIT License\n\nCopyright (c) 2019 Someone\n")
    index = str(tmp_path / "zoo" / "index.json")
    images = _images(1, 64, 8)
    entry = zoo.convert(folder, index=index, samples=images)
    assert entry.name == "beta_vae_dsprites" and entry.source["type"] == "converted"
    assert entry.source["sha256"] == zoo.sha256_of(os.path.join(folder, "model.pt"))
    assert entry.source["notice"] == "Copyright (c) 2019 Someone"
    assert entry.source["training"]["steps"] == 30 * 11_520 and entry.training_steps
    assert max(entry.source["parity"]["max_abs_diff"][k]
               for k in ("mean", "log_var", "decoder")) < 1e-5
    loaded = zoo.load("beta_vae_dsprites", index=index)
    _, state = peer.read_checkpoint(folder)
    mean, _, decoded = peer.torch_forward(state, images, 10)
    np.testing.assert_allclose(loaded.encode(images), mean, atol=1e-5)
    np.testing.assert_allclose(loaded.decode(mean), decoded, atol=1e-5)


def test_only_plain_tensors_are_loaded(tmp_path):
    folder = write_checkpoint(str(tmp_path / "betaH_dsprites"), "betaH", 1, 64)
    torch.save({"encoder.conv1.weight": np.zeros(3), "payload": {"a": object}},
               os.path.join(folder, "model.pt"))
    with pytest.raises(peer.ConversionError, match="weights_only=True"):
        peer.read_checkpoint(folder)
    with pytest.raises(peer.ConversionError, match="specs.json is missing"):
        peer.read_checkpoint(str(tmp_path))


def test_sample_grid_is_cut_into_its_images(tmp_path):
    from PIL import Image

    tiles = (np.arange(100)[:, None, None] * np.ones((1, 32, 32))).astype(np.uint8)
    grid = np.zeros((342, 342), np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, 10)
        grid[2 + r * 34:2 + r * 34 + 32, 2 + c * 34:2 + c * 34 + 32] = tile
    path = str(tmp_path / "mnist_samples.png")
    Image.fromarray(grid).convert("RGB").save(path)
    images = peer.sample_images(path, 32, 1)
    assert images.shape == (100, 32, 32, 1)
    np.testing.assert_allclose(images[:, 5, 5, 0] * 255, np.arange(100), atol=1e-4)
