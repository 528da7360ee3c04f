#!/usr/bin/env bash
# Skaffold custom builder (skaffold.yaml): one model service as a container image.
#   bento-image.sh classic|llm
# Runs `bentoml build` (the bentofile's service and the model it declares; set
# CANARIA_CLASSIC_MODEL_TAG or CANARIA_LLM_MODEL to pick a version) and then
# `bentoml containerize` of that bento, tagged $IMAGE (set by skaffold); pushes it when
# skaffold asks ($PUSH_IMAGE=true). classic: CPU image (bentofile.yaml); llm: CUDA image
# (services/llm/bentofile.yaml, built with CANARIA_LLM_GPU=1 so the bento asks for a GPU).
set -euo pipefail

target="${1:?usage: bento-image.sh classic|llm}"
: "${IMAGE:?IMAGE is set by skaffold: the image name and tag to build}"
cd "${BUILD_CONTEXT:-.}"

case "$target" in
  classic) bentofile=bentofile.yaml ;;
  llm) bentofile=services/llm/bentofile.yaml; export CANARIA_LLM_GPU="${CANARIA_LLM_GPU:-1}" ;;
  *) echo "bento-image.sh: unknown target '$target' (classic or llm)" >&2; exit 2 ;;
esac

bento_tag="$(bentoml build --bentofile "$bentofile" --output tag . | sed -n 's/^__tag__://p' | tail -n 1)"
if [ -z "$bento_tag" ]; then
  echo "bento-image.sh: bentoml build printed no bento tag" >&2
  exit 1
fi
bentoml containerize "$bento_tag" --image-tag "$IMAGE"
if [ "${PUSH_IMAGE:-false}" = "true" ]; then
  docker push "$IMAGE"
fi
