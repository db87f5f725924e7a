#!/usr/bin/env bash
# Installe ce qui manque puis démarre l'application sur http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh
exec .venv/bin/python scripts/serve.py --server.port "${PORT:-8501}" "$@"
