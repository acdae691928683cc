#!/bin/sh
# The lint step for deploy/k8s/: every manifest validated, offline, against the Kubernetes API schemas bundled with
# kubernetes-validate (strict: a misspelt or misplaced field fails), and every kustomization listing every file
# beside it. With kustomize (or kubectl) installed, each kustomization is also rendered and its output validated.
# The RabbitmqCluster has no bundled schema (it is the operator's CRD): tests/deploy/test_manifests.py checks it.
#
# Usage: sh deploy/check-k8s.sh [folder]   (from the repository root; uses .venv, as `make lint` does)
set -eu

K8S_DIR=${1:-deploy/k8s}  # another folder: to try the check on a changed copy
# The oldest Kubernetes the manifests are meant for, and the newest the validator knows.
VERSIONS="1.30.0 1.37.0"
PYTHON=.venv/bin/python
VALIDATE=.venv/bin/kubernetes-validate

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Each kustomization.yaml lists exactly the YAML files beside it, so none is silently left out (or missing).
"$PYTHON" - "$K8S_DIR" <<'EOF'
import sys
from pathlib import Path

import yaml

failed = False
for kustomization in sorted(Path(sys.argv[1]).rglob("kustomization.yaml")):
    folder = kustomization.parent
    listed = set(yaml.safe_load(kustomization.read_text())["resources"])
    present = {path.name for path in folder.glob("*.yaml") if path.name != "kustomization.yaml"}
    for name in sorted(present - listed):
        print(f"{folder / name}: not listed in {kustomization}")
    for name in sorted(listed - present):
        print(f"{kustomization}: lists {name}, which is not in {folder}")
    failed = failed or present != listed
sys.exit(1 if failed else 0)
EOF

# 2. Every manifest (kustomizations themselves are not Kubernetes objects), and each kustomization rendered.
files=$(find "$K8S_DIR" -name '*.yaml' ! -name kustomization.yaml | sort)
checked="$(echo "$files" | wc -w) files"
if command -v kustomize >/dev/null 2>&1; then
    render="kustomize build"
elif command -v kubectl >/dev/null 2>&1; then
    render="kubectl kustomize"
else
    render=""
    echo "kustomize and kubectl not found: validating the files only (plain YAML, as kustomize reads them)"
fi
if [ -n "$render" ]; then
    for kustomization in $(find "$K8S_DIR" -name kustomization.yaml | sort); do
        folder=$(dirname "$kustomization")
        out="$work/$(echo "$folder" | tr / _).rendered.yaml"
        $render "$folder" >"$out"
        files="$files $out"
    done
    checked="$checked and $(find "$K8S_DIR" -name kustomization.yaml | wc -l) kustomizations rendered by $render"
fi

status=0
for version in $VERSIONS; do
    # shellcheck disable=SC2086 # the file names have no spaces
    if ! "$VALIDATE" --strict --quiet -k "$version" $files >"$work/out" 2>&1; then
        status=1
    fi
    # A kind the validator has no schema for only warns: allowed for the RabbitmqCluster alone.
    if grep -v "kind RabbitmqCluster with api version rabbitmq.com/v1beta1" "$work/out" | grep -q .; then
        grep -v "kind RabbitmqCluster with api version rabbitmq.com/v1beta1" "$work/out"
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    echo "$K8S_DIR: validation failed"
    exit 1
fi
echo "$K8S_DIR: $checked, valid against Kubernetes $VERSIONS (RabbitmqCluster: see tests/deploy/test_manifests.py)"
