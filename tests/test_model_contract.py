"""Every model class through the per-model harness (tests/model_harness.py), and the shared
tools' capability checks. A new method gets the whole harness by adding one line to CASES."""

import numpy as np
import pytest

import model_harness as harness
from keras_disent import contract, methods, models

VAE_TINY = dict(image_shape=(32, 32, 1), conv_channels=(8, 8, 8, 8), dense_units=(16,), seed=3)
GAN_TINY = dict(noise_dim=3, categorical_codes=(3,), continuous_codes=2, image_shape=(16, 16, 1),
                discriminator_channels=(4, 8), generator_channels=(8, 4), dense_units=16,
                q_units=8, seed=3)
TRANSFER_TINY = dict(image_shape=(32, 32, 1), channels=(8, 8), common_channels=4,
                     specific_channels=2, discriminator_units=8, seed=3)
VAE_CAPS = frozenset({contract.ENCODER, contract.DECODER, contract.PRIOR, contract.TRAVERSABLE})


def _images(shape):
    def make(n, seed):
        return (np.random.default_rng(seed).random((n,) + shape) > 0.7).astype("float32")
    return make


def _with_groups(images):
    def make(n, seed):
        return images(n, seed), (np.arange(n) % 5).astype("int32")  # DC-IGN: 4 groups + free
    return make


def _pairs(images):
    def make(n, seed):
        return images(n, seed), images(n, seed + 100)
    return make


def _with_labels(images, num_classes):
    def make(n, seed):
        return images(n, seed), (np.arange(n) % num_classes).astype("int32")
    return make


def _with_domains(images, num_domains):
    def make(n, seed):
        return images(n, seed), (np.arange(n) % num_domains).astype("int32")
    return make


def _with_domains_and_labels(images, num_domains, num_classes):
    def make(n, seed):
        return images(n, seed), ((np.arange(n) % num_domains).astype("int32"),
                                 (np.arange(n) % num_classes).astype("int32"))
    return make


SMALL, GAN, COLOUR = _images((32, 32, 1)), _images((16, 16, 1)), _images((16, 16, 3))
UFDN_TINY = dict(num_domains=3, latent_dim=3, image_shape=(16, 16, 3), conv_channels=(8, 8),
                 dense_units=(16,), discriminator_units=(8,), seed=3)
DRIT_TINY = dict(num_domains=2, image_shape=(16, 16, 3), conv_channels=(8, 8), content_channels=2,
                 attribute_dim=3, discriminator_channels=(8, 8), seed=3)
DRIT_CAPS = frozenset({contract.ENCODER, contract.DECODER, contract.TRAVERSABLE})
D2AE_TINY = dict(num_classes=3, identity_dim=2, rest_dim=3, image_shape=(32, 32, 1),
                 conv_channels=(8, 8), dense_units=(16,), trunk_dim=16, branch_units=8,
                 adversary_units=(8,), seed=3)
VIB_TINY = dict(num_classes=4, bottleneck_dim=3, image_shape=(16, 16, 1), encoder_units=(16,),
                num_samples=3, seed=3)
CASES = [
    harness.ModelCase("beta_vae", lambda: models.BetaVAE(latent_dim=3, beta=4.0, **VAE_TINY),
                      SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("beta_vae_capacity", lambda: models.BetaVAE(
        latent_dim=3, capacity_max=5.0, capacity_steps=10, batch_norm=True, **VAE_TINY),
        SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("beta_tcvae", lambda: models.BetaTCVAE(latent_dim=3, dataset_size=100,
                                                             **VAE_TINY),
                      SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("dip_vae", lambda: models.DIPVAE(latent_dim=3, lambda_od=10.0, **VAE_TINY),
                      SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("dip_vae_ii", lambda: models.DIPVAE(latent_dim=3, dip_type="ii",
                                                          **VAE_TINY), SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("factor_vae", lambda: models.FactorVAE(
        latent_dim=3, discriminator_units=8, discriminator_depth=2, **VAE_TINY),
        SMALL, SMALL, VAE_CAPS),
    harness.ModelCase("dc_ign", lambda: models.DCIGN(
        factor_latents=[("azimuth", 1), ("elevation", 1), ("light_azimuth", 1)],
        intrinsic_dim=2, **VAE_TINY), _with_groups(SMALL), SMALL, VAE_CAPS),
    harness.ModelCase("info_gan", lambda: models.InfoGAN(**GAN_TINY), GAN, GAN, VAE_CAPS),
    harness.ModelCase("content_transfer", lambda: models.ContentTransfer(**TRANSFER_TINY),
                      _pairs(SMALL), SMALL,
                      frozenset({contract.ENCODER, contract.DECODER, contract.PAIRED_DOMAINS})),
    harness.ModelCase("ufdn", lambda: models.UFDN(**UFDN_TINY), _with_domains(COLOUR, 3), COLOUR,
                      VAE_CAPS),
    harness.ModelCase("ufdn_source_classifier", lambda: models.UFDN(num_classes=4,
                                                                    domain_ramp_steps=5,
                                                                    batch_norm=True,
                                                                    **UFDN_TINY),
                      _with_domains_and_labels(COLOUR, 3, 4), COLOUR,
                      VAE_CAPS | {contract.CLASSIFIER}, plain_labels=False),
    harness.ModelCase("drit", lambda: models.DRIT(**DRIT_TINY), _with_domains(COLOUR, 2), COLOUR,
                      DRIT_CAPS),
    harness.ModelCase("d2ae", lambda: models.D2AE(**D2AE_TINY), _with_labels(SMALL, 3), SMALL,
                      frozenset({contract.ENCODER, contract.DECODER, contract.CLASSIFIER})),
    harness.ModelCase("deep_vib", lambda: models.DeepVIB(**VIB_TINY), _with_labels(GAN, 4), GAN,
                      frozenset({contract.ENCODER, contract.CLASSIFIER})),
    harness.ModelCase("deep_vib_deterministic", lambda: models.DeepVIB(deterministic=True,
                                                                       **VIB_TINY),
                      _with_labels(GAN, 4), GAN,
                      frozenset({contract.ENCODER, contract.CLASSIFIER})),
]
IDS = [case.name for case in CASES]


def test_every_registered_method_is_covered():
    # Case names start with the registered method name they cover.
    assert set(methods.METHODS) <= {case.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config(case):
    harness.run_config_test(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_keras_file_round_trip(case, tmp_path):
    harness.run_saving_test(case, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_one_fit_step(case):
    harness.run_fit_step_test(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_evaluate_changes_nothing(case):
    harness.run_evaluate_test(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numpy_api(case):
    harness.run_numpy_api_test(case)


def test_info_gan_decode_of_encode_and_code_layout():
    model = models.InfoGAN(**GAN_TINY)
    images = GAN(6, 0)
    codes = model.encode(images)
    assert [p.name for p in model.code_layout()] == ["noise", "categorical_0", "continuous"]
    assert np.all(codes[:, :3] == 0.0)  # Q does not infer the noise
    np.testing.assert_allclose(codes[:, 3:6].sum(axis=1), 1.0, atol=1e-5)  # probabilities
    np.testing.assert_allclose(codes[:, 6:], model.infer_codes(images)["continuous"], atol=1e-6)
    assert model.decode(codes).shape == images.shape
    assert model.traversable_dims() == [6, 7]


def test_methods_registry_names_real_constructor_arguments():
    for method in methods.METHODS.values():
        names = [h.name for h in method.hyperparameters]
        assert set(names) <= method.constructor_parameters(), method.name
        assert method.defaults().keys() == set(names)
    assert methods.get("factor_vae").defaults()["gamma"] == 35.0
    assert methods.get("beta_vae").defaults()["capacity_max"] is None
    with pytest.raises(ValueError, match="Did you mean 'beta_vae'"):
        methods.get("beta_vea")
    with pytest.raises(ValueError, match="not a registered keras-disent model class"):
        methods.by_class("Sequential")


class _NoCapabilities(models.DisentModel):
    """A model that declares nothing: every tool must refuse it by name."""

    def code_layout(self):
        return (contract.CodePart("z", 2, "gaussian"),)


def test_tools_name_the_missing_capability(tmp_path, sprites):
    from keras_disent import metrics, train, visualize
    from keras_disent.export import export_decoder

    model = _NoCapabilities()
    images = np.zeros((2, 64, 64, 1), "float32")
    with pytest.raises(contract.MissingCapabilityError,
                       match="_NoCapabilities has no 'encoder' capability"):
        metrics.evaluate(model, sprites, metrics=["mig"], num_train=10)
    with pytest.raises(contract.MissingCapabilityError, match="'traversable'"):
        visualize.traversal_figure(model, images[0], str(tmp_path / "t.png"))
    with pytest.raises(contract.MissingCapabilityError, match="'encoder'"):
        visualize.reconstruction_figure(model, images, str(tmp_path / "r.png"))
    pytest.importorskip("tensorflow")
    with pytest.raises(contract.MissingCapabilityError, match="export a decoder"):
        export_decoder(model, str(tmp_path / "export"))
    assert train.write_figures(model, sprites, str(tmp_path)) == {}
    with pytest.raises(contract.MissingCapabilityError, match="not a keras-disent model"):
        contract.require_capability(object(), contract.DECODER, "decode")


def test_cli_gives_one_line_capability_errors(tmp_path, monkeypatch):
    from keras_disent import cli, zoo

    monkeypatch.setattr(zoo, "list", lambda *a: ["no_caps"])
    monkeypatch.setattr(zoo, "load", lambda name: _NoCapabilities())
    with pytest.raises(SystemExit) as error:
        cli.run(["evaluate", "no_caps", "--metrics", "mig", "--num-train", "10",
                 "--out", str(tmp_path / "m.json")])
    assert str(error.value) == ("error: Cannot compute metrics on codes: _NoCapabilities has "
                                "no 'encoder' capability (it has: none).")
    pytest.importorskip("tensorflow")
    with pytest.raises(SystemExit, match="^error: Cannot export a decoder: _NoCapabilities "
                                         "has no 'decoder' capability"):
        cli.run(["export", "no_caps", "--out", str(tmp_path / "e")])


def test_cli_evaluates_and_exports_other_models(tmp_path):
    """The tools are not VAE-only: metrics and export of an InfoGAN, figures of both."""
    from keras_disent import metrics, train
    from keras_disent.data import ImageArrayDataset
    from keras_disent.export import export_decoder

    gan = models.InfoGAN(**GAN_TINY)
    dataset = ImageArrayDataset((GAN(32, 0) * 255).astype("uint8"), name="squares")
    figures = train.write_figures(gan, dataset, str(tmp_path))
    assert set(figures) == {"traversal", "reconstruction"}
    transfer = models.ContentTransfer(**TRANSFER_TINY)
    small = ImageArrayDataset((SMALL(16, 0) * 255).astype("uint8"), name="small")
    assert set(train.write_figures(transfer, small, str(tmp_path / "ct"))) == {"reconstruction"}
    from keras_disent.data import objects3d

    objects = objects3d()
    for model in (models.BetaVAE(latent_dim=2, **dict(VAE_TINY, image_shape=objects.image_shape)),
                  models.ContentTransfer(**dict(TRANSFER_TINY, image_shape=objects.image_shape))):
        scores = metrics.evaluate(model, objects, metrics=["mig"], num_train=50, verbose=False)
        assert 0.0 <= scores["mig"]["mig"] <= 1.0, type(model).__name__
    pytest.importorskip("tensorflow")
    pytest.importorskip("ai_edge_litert")
    result = export_decoder(gan, str(tmp_path / "gan_export"), formats=["tflite"],
                            num_latency_runs=1)
    assert result["code_dim"] == gan.code_dim
    assert result["decoder"]["files"]["decoder.tflite"]["max_abs_diff_vs_keras"] < 1e-4


def test_fit_run_records_each_optimizer_used(tmp_path):
    from keras_disent import runs, train
    from keras_disent.data import ImageArrayDataset

    dataset = ImageArrayDataset((GAN(16, 0) * 255).astype("uint8"), name="squares")
    model = models.InfoGAN(**GAN_TINY)
    train.fit_run(model, dataset, str(tmp_path), steps=1, batch_size=8, verbose=0)
    optimizers = runs.read_json(str(tmp_path / "config.json"))["optimizers"]
    assert {k: v["learning_rate"] for k, v in optimizers.items()} == {
        "discriminator": 2e-4, "generator": 1e-3}
    assert runs.read_json(str(tmp_path / "config.json"))["run"]["learning_rate"] is None


def test_speed_paths_switch_off_to_plain_keras_with_the_same_losses():
    """The model trains to the same losses with the speed paths (phase/matmul convolutions,
    the torch layer-by-layer call) and with plain Keras layers."""
    import keras

    from keras_disent import speed
    from keras_disent.speed import conv_layers

    data = SMALL(16, 0)

    def train_two_steps():
        keras.utils.set_random_seed(0)
        model = models.BetaVAE(latent_dim=3, **VAE_TINY)
        model.compile(keras.optimizers.Adam(1e-3))
        history = model.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
        return history.history["loss"][0], model

    fast_loss, fast = train_two_steps()
    with speed.disabled():
        assert not speed.enabled()
        assert conv_layers._implementation(fast.encoder.get_layer("conv0")) == "native"
        plain_loss, plain = train_two_steps()
    assert speed.enabled()
    assert fast_loss == pytest.approx(plain_loss, rel=1e-4)
    np.testing.assert_allclose(plain.encode(data), fast.encode(data), atol=1e-4)
