#!/usr/bin/env bash
# Installe ce qui manque puis démarre l'application en mode local sur http://127.0.0.1:8501 (cette machine seulement)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh
exec .venv/bin/python scripts/serve.py --server.port "${PORT:-8501}" "$@"
