#!/usr/bin/env bash
# bash scripts/lavapipe.sh — Mesa's software Vulkan driver (lavapipe) from bookworm-backports, unpacked
# into .cache/lavapipe without touching the system's Mesa, so that onnxruntime-node's WebGPU provider
# (Dawn) finds an adapter on a machine without a GPU. Dawn needs Mesa 23 or later; bookworm ships 22.3.
# Prints the environment to use it: eval "$(bash scripts/lavapipe.sh)". Needs apt-get (as root) and
# Debian's mirror; on any failure it says why on stderr, prints nothing and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/.cache/lavapipe"
icd="$dir/lvp.json"
if [ ! -f "$icd" ]; then
  rm -rf "$dir" && mkdir -p "$dir/lists/partial"
  echo "deb http://deb.debian.org/debian bookworm-backports main" >"$dir/backports.list"
  apt=(-o Dir::Etc::sourcelist="$dir/backports.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$dir/lists" -o APT::Sandbox::User=root)
  if ! apt-get "${apt[@]}" update >"$dir/apt.log" 2>&1 || ! (cd "$dir" && apt-get "${apt[@]}" download mesa-vulkan-drivers/bookworm-backports >>"$dir/apt.log" 2>&1); then
    echo "lavapipe: could not download mesa-vulkan-drivers from bookworm-backports (see $dir/apt.log)" >&2
    exit 1
  fi
  dpkg -x "$dir"/mesa-vulkan-drivers_*.deb "$dir/root"
  sed "s#libvulkan_lvp.so#$dir/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so#" "$dir/root/usr/share/vulkan/icd.d/lvp_icd.json" >"$icd.tmp"
  mv "$icd.tmp" "$icd"
fi
echo "export VK_ICD_FILENAMES=$icd XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-/tmp}"
