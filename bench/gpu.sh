#!/usr/bin/env bash
# GPU runs on a lent device machine (jax and torch only there; keras comes as wheels in .whl/).
#   bash bench/gpu.sh speed     # bench/train_speed.py: jax and torch, batch 64 and 256
#   bash bench/gpu.sh torch_speed # the torch backend: kd_layers' torch kernels vs Keras' call
#   bash bench/gpu.sh torch_compiled # the torch backend under torch.compile
#   bash bench/gpu.sh content   # bench/content_transfer_steps.py: configurations side by side
# Writes logs under $OUT (or runs/gpu) and prints a summary last.
set -u
OUT=${OUT:-runs/gpu}; mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
KERAS_BACKEND=jax python3 -c "import jax, torch, keras; print('jax', jax.__version__, jax.devices(), '| torch', torch.__version__, torch.cuda.is_available(), '| keras', keras.__version__)"

speed() {
  for batch in 64 256; do
    for conv in auto native; do
      KERAS_BACKEND=jax python3 bench/train_speed.py --rounds 3 --steps 200 \
        --batch-size $batch --conv $conv 2>&1 | tee -a "$OUT/speed_jax.log" | tail -9
    done
    KERAS_BACKEND=torch python3 bench/train_speed.py --rounds 3 --steps 200 \
      --batch-size $batch --conv native 2>&1 | tee -a "$OUT/speed_torch.log" | tail -9
  done
}

torch_speed() {  # the torch backend: PyTorch kernels on channels-last views vs Keras' call
  for batch in 64 256; do
    for conv in auto native; do
      KERAS_BACKEND=torch python3 bench/train_speed.py --rounds 3 --steps 200 \
        --batch-size $batch --conv $conv 2>&1 | tee -a "$OUT/speed_torch.log" | tail -9
    done
  done
  KERAS_BACKEND=torch python3 bench/profile_train_step.py --steps 100 --top 25 \
    2>&1 | tee "$OUT/profile_torch.log" | grep -v "^$" | head -40
}

torch_compiled() {  # the torch backend with model.compile(jit_compile=True): torch.compile
  for batch in 64 256; do
    KERAS_BACKEND=torch python3 bench/train_speed.py --rounds 3 --steps 200 \
      --batch-size $batch --jit-compile --conv "${CONV:-auto}" 2>&1 | tee -a "$OUT/speed_torch_compiled.log" | tail -10
  done
}

content() {
  local log="$OUT/content_steps.jsonl" pids=()
  while read -r args; do
    KERAS_BACKEND=jax python3 bench/content_transfer_steps.py --steps "${STEPS:-12000}" \
      --every "${EVERY:-2000}" --log "$log" $args > "$OUT/content_$(echo $args | tr -c 'a-z0-9.' _).log" 2>&1 &
    pids+=($!)
  done <<< "${CONFIGS:---learning-rate 2e-4
--learning-rate 1e-3
--learning-rate 1e-3 --specific-code global
--learning-rate 1e-3 --specific-channels 16
--learning-rate 2e-4 --batch-size 64 --specific-channels 16
--learning-rate 5e-4 --batch-size 64}"
  wait "${pids[@]}"
  tail -n 3 "$OUT"/content_*.log | grep -v '^{' | head -40
  python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$log')]
for r in sorted(rows, key=lambda r: (r['unaligned'], r['learning_rate'], r['batch_size'], r['specific_code'], r['specific_channels'], r['step'])):
    print('unaligned' if r['unaligned'] else 'aligned', r['learning_rate'], r['batch_size'], r['specific_code'], r['specific_channels'], r['step'], r['seconds'], 'add', r['add_image'], r['add'], '(copy', r['add_copy_image'], r['add_copy'], ') remove', r['remove'], 'recon_b', r['recon_b'])"
}

"$@"
