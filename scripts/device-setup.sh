#!/usr/bin/env bash
# Shared opening of the device scripts (device-check.sh, device-gpu-check.sh), sourced after
# `source .device/on-device.sh`: `step` prints a timed heading; `device_configure LOG` prints the
# machine, points the engine's default Fashion-MNIST folder (the Debian package's) at the carried
# copy, and configures /tmp/build against the machine's CUDA LibTorch, the log in LOG (on
# failure its tail is printed and it returns 1).
step() { echo "== $* ($(date +%T))"; }
device_configure() {
  local log=$1
  step "machine"
  nvidia-smi -L; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  mkdir -p /usr/share/datasets && [ -e /usr/share/datasets/fashion-mnist ] || ln -s /tmp/fashion-mnist /usr/share/datasets/fashion-mnist
  step "configure"
  cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$NAS_CMAKE_PREFIX" \
    >"$log" 2>&1 || { tail -40 "$log"; return 1; }
  grep -i "cuda\|onnx\|torch" "$log" | head -12
}
