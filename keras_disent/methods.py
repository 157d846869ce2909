"""The method registry: one name -> class table for the CLI, training, the zoo and the docs.

Each `Method` records its class, its paper, the data it trains on and its own hyperparameter
names (the constructor arguments the CLI exposes as flags). A new method is one entry here
plus its class in `keras_disent.models`.
"""

import dataclasses
import difflib
import importlib
import inspect


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    """A constructor argument exposed as a CLI flag (`--name-with-dashes`)."""

    name: str
    type: type
    help: str
    nargs: str = None  # "+" for a list (e.g. InfoGAN's categorical code sizes)


@dataclasses.dataclass(frozen=True)
class Method:
    """A registered method.

    Attributes:
        name: the CLI/zoo name, e.g. "beta_vae".
        class_name: the class in `keras_disent.models`.
        paper: the reference, "Authors Year, Title, Venue".
        hyperparameters: its own strength/architecture arguments, as CLI flags.
        data: what a train step takes: "images", "factor_batches" (one factor varies per
            batch, with the group index), "domain_pairs" (unpaired (a, b) batches),
            "labelled_images" ((images, class labels) batches; `data.labelled_batches`) or
            "multi_domain" ((images, domain ids) batches; `DigitDomains.batches`).
        recipe: the recipe that reproduces its paper figure.
    """

    name: str
    class_name: str
    paper: str
    hyperparameters: tuple
    data: str = "images"
    recipe: str = ""

    @property
    def cls(self):
        return getattr(importlib.import_module("keras_disent.models"), self.class_name)

    def _parameters(self):
        """`{constructor argument: default}` over the class and its bases (a subclass's
        default wins)."""
        parameters = {}
        for klass in inspect.getmro(self.cls):
            if "__init__" in vars(klass):
                for name, parameter in inspect.signature(klass.__init__).parameters.items():
                    if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD,
                                          parameter.KEYWORD_ONLY) and name != "self":
                        parameters.setdefault(name, parameter.default)
        return parameters

    def constructor_parameters(self):
        """Names the class's constructor takes (its own and its bases')."""
        return set(self._parameters())

    def defaults(self):
        """`{hyperparameter: the class default}`."""
        parameters = self._parameters()
        return {h.name: parameters.get(h.name) for h in self.hyperparameters}

    def build(self, **config):
        return self.cls(**config)


_LATENT_DIM = Hyperparameter("latent_dim", int, "latent dimensions")
_VAE_NETWORK = (_LATENT_DIM,)

METHODS = {method.name: method for method in (
    Method("beta_vae", "BetaVAE",
           "Higgins et al. 2017, beta-VAE, ICLR; Burgess et al. 2018, Understanding "
           "disentangling in beta-VAE, arXiv:1804.03599",
           _VAE_NETWORK + (
               Hyperparameter("beta", float, "KL weight (Higgins'17 Eq. 4)"),
               Hyperparameter("capacity_max", float,
                              "Burgess'18 capacity annealing: C_max in nats (off by default)"),
               Hyperparameter("capacity_steps", int, "steps over which C rises to C_max"),
               Hyperparameter("gamma", float, "weight of |KL - C| when annealing")),
           recipe="recipes/higgins2017_dsprites.py"),
    Method("beta_tcvae", "BetaTCVAE",
           "Chen et al. 2018, Isolating Sources of Disentanglement in VAEs, NeurIPS",
           _VAE_NETWORK + (
               Hyperparameter("beta", float, "total correlation weight"),
               Hyperparameter("alpha", float, "index-code mutual information weight"),
               Hyperparameter("gamma", float, "dimension-wise KL weight"),
               Hyperparameter("estimator", str, "mws or mss")),
           recipe="recipes/higgins2017_fig_beta_sweep.py"),
    Method("dip_vae", "DIPVAE", "Kumar et al. 2018, Variational Inference of Disentangled "
           "Latent Concepts from Unlabeled Observations, ICLR",
           _VAE_NETWORK + (
               Hyperparameter("lambda_od", float, "weight of the off-diagonal covariance "
                              "penalty"),
               Hyperparameter("lambda_d_factor", float, "lambda_d / lambda_od (default: 10 "
                              "for type i, 1 for type ii)"),
               Hyperparameter("dip_type", str, "i or ii")),
           recipe="recipes/higgins2017_fig_beta_sweep.py"),
    Method("factor_vae", "FactorVAE", "Kim & Mnih 2018, Disentangling by Factorising, ICML",
           _VAE_NETWORK + (
               Hyperparameter("gamma", float, "total correlation weight (Eq. 2)"),),
           recipe="recipes/higgins2017_fig_beta_sweep.py"),
    Method("info_gan", "InfoGAN",
           "Chen et al. 2016, InfoGAN: Interpretable Representation Learning by Information "
           "Maximizing Generative Adversarial Nets, NeurIPS",
           (Hyperparameter("noise_dim", int, "incompressible noise dims"),
            Hyperparameter("categorical_codes", int, "sizes of the categorical codes",
                           nargs="*"),
            Hyperparameter("continuous_codes", int, "number of U(-1, 1) codes"),
            Hyperparameter("lambda_categorical", float, "L_I weight of categorical codes"),
            Hyperparameter("lambda_continuous", float, "L_I weight of continuous codes")),
           recipe="recipes/chen2016_fig2_mnist.py"),
    Method("dc_ign", "DCIGN", "Kulkarni et al. 2015, Deep Convolutional Inverse Graphics "
           "Network, NeurIPS",
           (Hyperparameter("intrinsic_dim", int, "dims of the intrinsic block"),
            Hyperparameter("intrinsic_factor", str, "the dataset factor of the intrinsic block"),
            Hyperparameter("beta", float, "KL weight")),
           data="factor_batches", recipe="recipes/kulkarni2015_fig_pose_light.py"),
    Method("content_transfer", "ContentTransfer",
           "Press et al. 2019, Emerging Disentanglement in Auto-Encoder Based Unsupervised "
           "Image Content Transfer, ICLR",
           (Hyperparameter("common_channels", int, "channels of E1's common code map"),
            Hyperparameter("specific_channels", int, "channels of E2's specific code map"),
            Hyperparameter("confusion_weight", float, "weight of E1's domain confusion"),
            Hyperparameter("specific_code", str, "map or global")),
           data="domain_pairs", recipe="recipes/press2019_glasses.py"),
    Method("d2ae", "D2AE", "Liu et al. 2018, Exploring Disentangled Feature Representation "
           "Beyond Face Identification, CVPR",
           (Hyperparameter("identity_dim", int, "dims of the distilled (identity) feature f_T"),
            Hyperparameter("rest_dim", int, "dims of the dispelled feature f_P"),
            Hyperparameter("identity_weight", float, "lambda_T: identity cross-entropy weight"),
            Hyperparameter("dispel_weight", float, "lambda_P: weight of fooling C_P"),
            Hyperparameter("reconstruction_weight", float,
                           "lambda_X: weight of the summed squared error ([0, 1] pixels)")),
           data="labelled_images", recipe="recipes/liu2018_d2ae_swap.py"),
    Method("deep_vib", "DeepVIB", "Alemi et al. 2017, Deep Variational Information "
           "Bottleneck, ICLR",
           (Hyperparameter("bottleneck_dim", int, "K, dims of the stochastic code z"),
            Hyperparameter("beta", float, "weight of KL(q(z|x) || N(0, I)) in the VIB objective"),
            Hyperparameter("num_samples", int, "z draws averaged at test time")),
           data="labelled_images", recipe="recipes/alemi2017_vib_beta.py"),
    Method("ufdn", "UFDN", "Liu, Yeh, Wang 2018, A Unified Feature Disentangler for "
           "Multi-Domain Image Translation and Manipulation, NeurIPS",
           (_LATENT_DIM,
            Hyperparameter("beta", float, "KL weight"),
            Hyperparameter("domain_weight", float, "weight of fooling the domain "
                           "discriminator on z")),
           data="multi_domain", recipe="recipes/liu2018_ufdn_digits.py"),
    Method("drit", "DRIT", "Lee et al. 2018, Diverse Image-to-Image Translation via "
           "Disentangled Representations, ECCV",
           (Hyperparameter("attribute_dim", int, "dims of the per-domain attribute code"),
            Hyperparameter("content_channels", int, "channels of the content map"),
            Hyperparameter("cross_cycle", float, "weight of the cross-cycle L1"),
            Hyperparameter("kl", float, "weight of the attribute KL")),
           data="multi_domain", recipe="recipes/lee2018_drit_digits.py"),
)}


def get(name):
    """The `Method` called `name`; an unknown name lists close matches and every name."""
    if name not in METHODS:
        close = difflib.get_close_matches(str(name), METHODS, n=2, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown method {name!r}.{hint} Available: "
                         f"{', '.join(sorted(METHODS))}.")
    return METHODS[name]


def by_class(class_name):
    """The `Method` whose class is called `class_name` (e.g. "BetaVAE")."""
    for method in METHODS.values():
        if method.class_name == class_name:
            return method
    raise ValueError(f"{class_name!r} is not a registered keras-disent model class. Known: "
                     f"{', '.join(sorted(m.class_name for m in METHODS.values()))}.")


def build(name, **config):
    """A model of method `name` with `config` as constructor arguments."""
    return get(name).build(**config)


def markdown_table():
    """README's methods table, generated from the registry."""
    lines = ["| method | class | trains on | hyperparameters (CLI flags) | paper |",
             "| --- | --- | --- | --- | --- |"]
    for method in METHODS.values():
        flags = ", ".join(f"`--{h.name.replace('_', '-')}`" for h in method.hyperparameters)
        lines.append(f"| `{method.name}` | {method.class_name} | {method.data} | {flags} | "
                     f"{method.paper} |")
    return "\n".join(lines)
