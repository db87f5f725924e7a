#!/usr/bin/env bash
# Installe ce qui manque (dont Chromium et PostgreSQL) puis lance toute la suite de tests :
# tests unitaires, tests de pages (AppTest), tests navigateur (marqueur e2e), stockage PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh --tests
export ATLAS_TEST_POSTGRES_URL="${ATLAS_TEST_POSTGRES_URL:-$(bash scripts/postgres.sh | tail -n 1)}"
trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "Aucun test exécuté : c'est une erreur." >&2
  exit 1
fi
exit $rc
