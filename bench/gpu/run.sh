#!/usr/bin/env bash
# The device command of README "Measuring on a lent GPU machine": with .gpu/ (scripts/gpu-pack.sh) carried,
#   bash bench/gpu/run.sh
# unpacks the pack to /tmp, brings Vulkan's loader where the machine has none, and measures Netloom's
# training step on WebGPU against the CPU (and CUDA's absence), and PyTorch's on CUDA and the CPU, for
# the CA2-style CNN and GPT-mini (bench/gpu/models.ts). It writes $OUT/summary.md (Markdown: the card,
# the providers, a table of step times, the parameter checks, what failed) and $OUT/log.txt (every
# command and its output). Each part runs under its own timeout and all within GPU_BUDGET_S seconds
# (default 480, so that a device call of 600 s holds it); a part that fails is reported and the rest
# goes on. Without a GPU it still times the CPU paths and says why the others did not run.
# Settings: OUT (default /tmp/gpu-out), GPU_PACK (default the checkout's .gpu), GPU_WORK (default /tmp/netloom-gpu),
# GPU_BUDGET_S, PYTHON (default python3; it needs numpy, and torch for PyTorch's times).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PACK=${GPU_PACK:-$REPO/.gpu}
OUT=${OUT:-/tmp/gpu-out}
WORK=${GPU_WORK:-/tmp/netloom-gpu}
BUDGET=${GPU_BUDGET_S:-480}
PYTHON=${PYTHON:-python3}
START=$SECONDS
mkdir -p "$OUT"
LOG=$OUT/log.txt
SUMMARY=$OUT/summary.md
: >"$LOG"
FAILED=()
RUNS=$WORK/runs

# What is measured: batch 64 of 28×28 MNIST digits for the CNN; batch 32 of 64 characters for GPT-mini,
# on the shipped sonnets (53 distinct characters) repeated 20 times: 31 steps an epoch. Adam, lr 1e-3.
CNN_BATCH=64
GPT_BATCH=32
SEQ_LEN=64
VOCABULARY=53

say() { echo "$*" | tee -a "$LOG"; }
fail() { FAILED+=("$1: $2"); say "FAILED $1: $2"; }

# run_part NAME CAP COMMAND...: COMMAND under a timeout of CAP seconds or the time left, whichever is
# less; its stdout in $RUNS/NAME.out and stderr in $RUNS/NAME.err, both in the log; a failure recorded.
run_part() {
  local name=$1 cap=$2
  shift 2
  local left=$((BUDGET - (SECONDS - START)))
  local limit=$((cap < left ? cap : left))
  : >"$RUNS/$name.out"
  : >"$RUNS/$name.err"
  if [ "$limit" -lt 5 ]; then
    fail "$name" "not run: the ${BUDGET} s budget is spent"
    return 124
  fi
  say "== $name (at most ${limit} s): $*"
  local began=$SECONDS
  timeout -k 5 "$limit" "$@" >"$RUNS/$name.out" 2>"$RUNS/$name.err"
  local rc=$?
  cat "$RUNS/$name.out" "$RUNS/$name.err" >>"$LOG"
  say "-- $name: exit $rc after $((SECONDS - began)) s"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    fail "$name" "timed out after ${limit} s"
  elif [ $rc -ne 0 ]; then
    local why
    why=$(grep -v '^[[:space:]]*$' "$RUNS/$name.err" | tail -1)
    [ -n "$why" ] || why=$(grep -v '^[[:space:]]*$' "$RUNS/$name.out" | tail -1)
    fail "$name" "exit $rc: $(echo "$why" | cut -c1-500)"
  fi
  return $rc
}

rm -rf "$WORK"
mkdir -p "$WORK" "$RUNS"
say "bench/gpu/run.sh on $(uname -n), $(date -u +%FT%TZ), $(nproc) CPUs, budget ${BUDGET} s"

# The card.
CARD="none: nvidia-smi is not here"
if command -v nvidia-smi >/dev/null; then
  run_part nvidia-smi 30 nvidia-smi -L && CARD=$(head -1 "$RUNS/nvidia-smi.out")
  run_part nvidia-smi-query 30 nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader && CARD="$CARD, driver and memory $(head -1 "$RUNS/nvidia-smi-query.out")"
fi

# The pack: Node, the bundled CLI, onnxruntime-node, the models; the checkout's assets (datasets, texts, templates) beside them.
NETLOOM=""
if [ -f "$PACK/netloom-gpu.tar.xz" ]; then
  # tar needs the xz program for .tar.xz; Python's tarfile (lzma) stands in where it is missing.
  if command -v xz >/dev/null; then
    UNPACK=(tar -xJf "$PACK/netloom-gpu.tar.xz" -C "$WORK")
  else
    UNPACK=("$PYTHON" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$PACK/netloom-gpu.tar.xz" "$WORK")
  fi
  if run_part unpack 120 "${UNPACK[@]}"; then
    ln -sfn "$REPO/assets" "$WORK/assets"
    NETLOOM="$WORK/bin/node $WORK/cli/netloom.mjs"
    say "pack: $(cat "$WORK/VERSION")"
  fi
else
  fail pack "$PACK/netloom-gpu.tar.xz is missing: run bash scripts/gpu-pack.sh in this checkout and carry .gpu"
fi

# Vulkan: Dawn (ONNX Runtime's WebGPU) loads libvulkan.so.1, and NVIDIA's Vulkan driver needs libGLdispatch.so.0:
# the device README's loaders where either is missing. (Not grep -q: under pipefail, ldconfig's SIGPIPE reads as missing.)
MISSING=$(for lib in libvulkan.so.1 libGLdispatch.so.0; do ldconfig -p | grep -F "$lib " >/dev/null || echo -n "$lib "; done)
if [ -n "$MISSING" ]; then
  if ls "$PACK"/vulkan/*.deb >/dev/null 2>&1; then
    say "missing $MISSING: installing $(ls "$PACK"/vulkan | tr '\n' ' ')"
    for f in "$PACK"/vulkan/*.deb; do dpkg -x "$f" / || fail vulkan "dpkg -x $f failed"; done
    ldconfig
  else
    fail vulkan "missing ${MISSING}and no loaders in $PACK/vulkan"
  fi
fi
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$NVIDIA_ICD" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES=$NVIDIA_ICD VK_ICD_FILENAMES=$NVIDIA_ICD
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
say "Vulkan: $(ldconfig -p | grep -m1 'libvulkan\.so\.1' | sed 's/.*=> //'), driver files ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-(the default search path)}}"

VULKAN_DEVICES=""
run_part vulkan-devices 30 "$PYTHON" "$REPO/bench/gpu/vulkan_devices.py"
VULKAN_DEVICES=$(cat "$RUNS/vulkan-devices.out")

# step_ms NAME BATCH: the mean step of the fastest epoch after the first, from `netloom train --json`'s samples/s.
step_ms() {
  "$WORK/bin/node" -e '
    const rates = require("fs").readFileSync(0, "utf8").split("\n").flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } }).filter((e) => e.event === "epoch").map((e) => e.samplesPerSec);
    const later = rates.length > 1 ? rates.slice(1) : rates;
    if (later.length) console.log((1000 * Number(process.argv[1]) / Math.max(...later)).toFixed(2));' "$2" <"$RUNS/$1.out"
}

# time_part KEY BATCH MODEL ARGS...: three epochs of Adam; MS[KEY] from the epochs done, also when time ran out.
time_part() {
  local key=$1 batch=$2
  shift 2
  run_part "time-$key" 80 $NETLOOM train "$@" --loss cross-entropy --epochs 3 --batch-size "$batch" --optimizer adam --lr 0.001 --json -o "$WORK/time-$key.onnx"
  local rc=$? ms
  ms=$(step_ms "time-$key" "$batch")
  [ -n "$ms" ] && MS[$key]="$ms ms$([ $rc -ne 0 ] && echo " (the epochs before it stopped)")"
}

declare -A MS SAME
PROVIDERS=""
ADAPTER=""
TORCH=""
if [ -n "$NETLOOM" ]; then
  # What Netloom's engine reports, and the adapter ONNX Runtime's verbose log names.
  run_part providers 60 "$WORK/bin/node" "$WORK/cli/gpu-probe.mjs"
  PROVIDERS=$(cat "$RUNS/providers.out")
  ADAPTER=$(grep -i -E '^warning|adapter|vendor|architecture|device lost|context is created|webgpu session' "$RUNS/providers.err" | grep -v -E 'ParseEpConfig|ParseWebGpuContextConfig' | sed 's/^webgpu session: .* was false\. /webgpu session: /' | cut -c1-400 | head -20)
  # Without an adapter, the WebGPU runs are skipped: the reason is said once.
  EPS=(cpu webgpu)
  if grep -q '^webgpu: unavailable' "$RUNS/providers.out"; then
    EPS=(cpu)
    fail webgpu "not measured: $(grep '^webgpu: unavailable' "$RUNS/providers.out" | sed 's/^webgpu: unavailable: //')"
  fi

  # The same architectures and initial weights for PyTorch.
  mkdir -p "$WORK/torch"
  for model in cnn gpt-mini; do run_part "export-$model" 60 $NETLOOM export "$WORK/models/$model.json" --format pytorch -o "$WORK/torch/$model.py"; done

  # Three SGD steps on each provider from the same weights, on the same batches (Adam's steps would divide
  # rounding noise in near-zero gradients by its own size: see README): 192 digits of every class (the
  # file is sorted by class: every 50th).
  run_part mnist-192 60 "$PYTHON" -c "import numpy as np, sys; d = np.load(sys.argv[1]); np.savez(sys.argv[2], x=d['x'][::50][:192], y=d['y'][::50][:192])" "$REPO/assets/datasets/mnist.npz" "$WORK/three-batches.npz"
  CNN_THREE=(--data "$WORK/three-batches.npz" --batch-size $CNN_BATCH)
  GPT_THREE=(--text "$REPO/assets/text/sonnets.txt" --seq-len $SEQ_LEN --batch-size 16)
  for model in cnn gpt-mini; do
    [ $model = cnn ] && data=("${CNN_THREE[@]}") || data=("${GPT_THREE[@]}")
    for ep in "${EPS[@]}"; do
      run_part "three-$model-$ep" 45 $NETLOOM train "$WORK/models/$model.json" "${data[@]}" --loss cross-entropy --epochs 1 --optimizer sgd --lr 0.01 --no-shuffle --ep $ep --json -o "$WORK/three-$model-$ep.json"
    done
    if [ -f "$WORK/three-$model-cpu.safetensors" ] && [ -f "$WORK/three-$model-webgpu.safetensors" ]; then
      run_part "same-$model" 60 "$WORK/bin/node" "$WORK/cli/same-weights.mjs" "$WORK/three-$model-cpu.safetensors" "$WORK/three-$model-webgpu.safetensors" "$WORK/torch/$model.safetensors"
      SAME[$model]=$(head -1 "$RUNS/same-$model.out")
    fi
  done

  # Step times: the CNN on MNIST (125 steps an epoch), GPT-mini on the sonnets repeated.
  for i in $(seq 20); do cat "$REPO/assets/text/sonnets.txt"; done >"$WORK/sonnets-20.txt"
  for ep in "${EPS[@]}"; do
    time_part "cnn-$ep" $CNN_BATCH "$WORK/models/cnn.json" --dataset mnist --ep $ep
    time_part "gpt-mini-$ep" $GPT_BATCH "$WORK/models/gpt-mini.json" --text "$WORK/sonnets-20.txt" --seq-len $SEQ_LEN --ep $ep
  done

  # PyTorch on CUDA and the CPU, the models as Netloom exported them.
  if [ -f "$WORK/torch/cnn.py" ] && [ -f "$WORK/torch/gpt-mini.py" ]; then
    run_part torch 150 env PYTHONUNBUFFERED=1 "$PYTHON" "$REPO/bench/gpu/torch_steps.py" "$WORK/torch" "cnn=${CNN_BATCH}x1x28x28" "gpt-mini=${GPT_BATCH}x${SEQ_LEN}" --classes "gpt-mini=$VOCABULARY"
    TORCH=$(grep '^{' "$RUNS/torch.out" | tail -1)
    # Its line per model and device, "cnn (batch …) on cuda: 1.23 ms per Adam step", also those printed before a timeout.
    while read -r model _ _ _ device ms _; do
      MS[torch-$model-${device%:}]="$ms ms"
    done < <(grep -E '^[a-z-]+ \(batch [0-9x]+\) on [a-z]+: [0-9.]+ ms' "$RUNS/torch.out")
  else
    fail torch "not run: the models' PyTorch export is missing"
  fi
fi

cell() { echo "${MS[$1]:-–}"; }
{
  echo "# Netloom's training step on a GPU machine (bench/gpu/run.sh)"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) CPUs, pack: $(cat "$WORK/VERSION" 2>/dev/null || echo none). Card: $CARD."
  echo
  echo "## Training step (ms per step; Adam, lr 1e-3)"
  echo
  echo "| model | Netloom CPU | Netloom WebGPU | PyTorch CPU | PyTorch CUDA |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  echo "| CA2-style CNN, batch $CNN_BATCH, MNIST | $(cell cnn-cpu) | $(cell cnn-webgpu) | $(cell torch-cnn-cpu) | $(cell torch-cnn-cuda) |"
  echo "| GPT-mini (char-gpt, no dropout), batch $GPT_BATCH×$SEQ_LEN | $(cell gpt-mini-cpu) | $(cell gpt-mini-webgpu) | $(cell torch-gpt-mini-cpu) | $(cell torch-gpt-mini-cuda) |"
  echo
  echo "Netloom: \`netloom train --json\`, the fastest epoch after the first (epochs of 125 and 31 steps), as batch ÷ samples/s."
  echo "PyTorch: bench/gpu/torch_steps.py on the models \`netloom export --format pytorch\` wrote, best of five rounds' mean step."
  echo "${TORCH:+PyTorch: $TORCH}"
  echo
  echo "## WebGPU against the CPU: parameters after three SGD steps (lr 0.01), to 1e-4 relative"
  echo
  echo "- CA2-style CNN: ${SAME[cnn]:-not compared}"
  echo "- GPT-mini: ${SAME[gpt-mini]:-not compared}"
  echo
  echo "## Providers, as Netloom's engine reports them"
  echo
  echo "Netloom on CUDA is not measured: onnxruntime-node's CUDA provider is an add-on that npm run setup:cuda fetches from NuGet, built for CUDA 12; these machines have no internet, and CUDA 13."
  echo
  echo '```'
  echo "${PROVIDERS:-(not run)}"
  echo '```'
  echo
  echo "The Vulkan devices the loader finds (bench/gpu/vulkan_devices.py), which Dawn chooses from:"
  echo
  echo '```'
  echo "${VULKAN_DEVICES:-(not run)}"
  echo '```'
  echo
  echo "ONNX Runtime's verbose log on the WebGPU adapter:"
  echo
  echo '```'
  echo "${ADAPTER:-(nothing)}"
  echo '```'
  echo
  echo "## What failed"
  echo
  if [ ${#FAILED[@]} -eq 0 ]; then echo "Nothing."; else printf -- '- %s\n' "${FAILED[@]}"; fi
  echo
  echo "Whole run: $((SECONDS - START)) s of a ${BUDGET} s budget. Every command and its output: log.txt."
} >"$SUMMARY"
cat "$SUMMARY"
