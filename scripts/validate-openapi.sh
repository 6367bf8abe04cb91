#!/usr/bin/env bash
# Validates docs/openapi.json with a standard OpenAPI validator (openapi-spec-validator, installed
# into a throwaway virtualenv; python3-venv comes from apt when missing). The test suite already
# checks that the file is what the code generates; this checks that what it generates is OpenAPI.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    echo "python3-venv missing: installing it with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv >/dev/null
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator
"$venv/bin/openapi-spec-validator" docs/openapi.json
