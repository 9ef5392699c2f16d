#!/usr/bin/env bash
# fovea's ONNX Runtime peer for `go run ./bench infer|latency|onnx`: torchvision resnet50, vgg16,
# alexnet and googlenet (random weights), exported to ONNX by PyTorch, run by ONNX Runtime 1.30 from
# Go (github.com/yalue/onnxruntime_go, cgo; its own module in ort/, outside fovea's build), fp32,
# 3x224x224, at batch 8 or at --batch N (1..8; then single calls are timed, median and p90 in ms).
# Prints one JSON line per model: {"case": "infer_<model>_b<N>_224", "layout": "onnxruntime", "value": img/s, ...}
# Usage: ort_peer.sh [--threads 2] [--reps 5] [--batch 8] [--names resnet50,vgg16,alexnet,googlenet]
# Needs: npm (fetches onnxruntime-node@1.30.0, which carries libonnxruntime.so), go, gcc,
#        /usr/bin/python3 with python3-torch and python3-torchvision (for the export).
# Cache: ${FOVEA_PEER_CACHE:-$HOME/.cache/fovea-peer}
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
C="${FOVEA_PEER_CACHE:-$HOME/.cache/fovea-peer}"
LIB="$C/ortpkg/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
BATCH=8
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --batch|-batch) BATCH="${args[$((i + 1))]:-8}" ;;
    --batch=*|-batch=*) BATCH="${args[$i]#*=}" ;;
  esac
done
mkdir -p "$C"
if [ ! -f "$LIB" ]; then
  mkdir -p "$C/ortpkg" && (cd "$C/ortpkg" && npm pack onnxruntime-node@1.30.0 >/dev/null 2>&1 && tar xzf onnxruntime-node-1.30.0.tgz)
fi
last=googlenet.onnx
[ "$BATCH" = 8 ] || last="googlenet.b$BATCH.onnx"
if [ ! -f "$C/models/$last" ] || [ ! -f "$C/models/googlenet.ref.f32" ]; then
  /usr/bin/python3 "$HERE/ort/export_onnx.py" "$C/models" 13 "$BATCH" >&2
fi
mkdir -p "$C/build" && cp -f "$HERE"/ort/{main.go,go.mod,go.sum} "$C/build/" && chmod u+w "$C/build"/*
(cd "$C/build" && go build -o ortpeer . ) >&2
exec "$C/build/ortpeer" -lib "$LIB" -models "$C/models" "$@"
