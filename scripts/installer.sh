#!/usr/bin/env bash
# Prépare tout ce dont Atlas Petite Enfance a besoin, sur une machine neuve (Debian 12, Python 3.11) :
#   paquets système, environnement Python (.venv), référentiel national, territoire de démonstration.
# Idempotent : une seconde exécution ne refait que ce qui manque.
#   bash scripts/installer.sh            # pour lancer l'application
#   bash scripts/installer.sh --tests    # ajoute Chromium (tests navigateur), PostgreSQL et nginx (tests du mode service)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TESTS=0
[ "${1:-}" = "--tests" ] && WITH_TESTS=1

log() { printf '\033[1m[installation]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "paquets Debian : ${missing[*]}"
  if [ $APT_UPDATED -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. Paquets système : Python (venv), Node/npm (paquet @etalab), polices pour les exports
command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
apt_install fonts-dejavu-core
if [ $WITH_TESTS -eq 1 ]; then
  apt_install chromium poppler-utils postgresql libreoffice-impress nginx
fi

# 2. Environnement Python
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  log "environnement Python .venv ($($PY --version))"
  "$PY" -m venv .venv
fi
STAMP=.venv/.requirements.sha256
WANT=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  log "dépendances Python (requirements.txt)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  echo "$WANT" > "$STAMP"
fi

# 3. Données : référentiel national (paquets épinglés) puis territoire de démonstration
.venv/bin/python -m data build-reference
.venv/bin/python -m data demo
