"""Content-transfer errors on the procedural glasses benchmark (Press et al. 2019 setting).

The benchmark renders both domains from factors (`data.GlassesBenchmark`), so the true result
of adding B's glasses to an A scene, and of removing them from a B scene, is known. The score
is the mean absolute pixel error against that truth, over the whole image and over the
"changed pixels" (where the truth differs from the input: the only pixels a transfer must
alter), next to two trivial baselines that give the numbers a scale:
  - "copy input": return the input unchanged (add and remove);
  - "paste B": return the B image (add).
A model that has learned the transfer beats both on the changed pixels.
"""

import numpy as np


def transfer_errors(model, bench, num=500, seed=12345):
    """`({"add": {...}, "remove": {...}, "num_pairs": n}, shown)`.

    Args:
        model: has `add_content(a, b)` and `remove_content(b)` (e.g. `models.ContentTransfer`).
        bench: a `data.GlassesBenchmark`.
        num: held-out unpaired pairs (independent scenes for A and B).
        seed: seed of the held-out pairs (keep it off the training seeds).

    Returns:
        results: `results[task][method] = {"mae", "mae_changed_pixels"}` for task "add"
            (methods "model", "copy input", "paste B") and "remove" ("model", "copy input").
        shown: the first six pairs' images and factors, for figures.
    """
    from keras_disent import contract

    if hasattr(model, "capabilities") or not hasattr(model, "add_content"):
        contract.require_capability(model, contract.PAIRED_DOMAINS, "score content transfer")
    if num <= 0:
        raise ValueError(f"num must be > 0, got {num}.")
    rng = np.random.default_rng(seed)
    scene_a, scene_b = bench.sample_scenes(num, rng), bench.sample_scenes(num, rng)
    glasses_b = bench.sample_glasses(num, rng)
    a, b = bench.render(scene_a), bench.render(scene_b, glasses_b)
    add_truth, remove_truth = bench.render(scene_a, glasses_b), bench.render(scene_b)
    outputs = {
        "add": {"model": model.add_content(a, b), "copy input": a, "paste B": b},
        "remove": {"model": model.remove_content(b), "copy input": b},
    }
    results = {}
    for task, truth, source in (("add", add_truth, a), ("remove", remove_truth, b)):
        changed = np.abs(truth - source) > 1e-6
        results[task] = {}
        for name, output in outputs[task].items():
            error = np.abs(np.asarray(output) - truth)
            results[task][name] = {"mae": float(error.mean()),
                                   "mae_changed_pixels": float(error[changed].mean())}
    results["num_pairs"] = num
    shown = {"a": a[:6], "b": b[:6], "scene_a": scene_a[:6], "scene_b": scene_b[:6],
             "glasses_b": glasses_b[:6]}
    return results, shown


def summary(results):
    """One line per task: each method's MAE and changed-pixel MAE."""
    return [f"{task}: " + "; ".join(
        f"{name} MAE {v['mae']:.4f} (changed pixels {v['mae_changed_pixels']:.3f})"
        for name, v in results[task].items()) for task in ("add", "remove")]
