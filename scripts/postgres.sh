#!/usr/bin/env bash
# Serveur PostgreSQL jetable pour les tests du stockage des scénarios (Debian 12).
#   bash scripts/postgres.sh          # installe si besoin, démarre, affiche l'URL en dernière ligne
#   bash scripts/postgres.sh stop     # arrête le serveur
# Idempotent : si le serveur tourne déjà, il est réutilisé. Le cluster vit dans ATLAS_PG_DIR
# (défaut /tmp/atlas-pg), n'écoute que sur 127.0.0.1 (port ATLAS_PG_PORT, défaut 54329, ou le
# suivant libre) avec une authentification « trust » : ne jamais l'utiliser pour de vraies données.
# Toutes les traces vont sur la sortie d'erreur ; la sortie standard ne contient que l'URL.
set -euo pipefail

PGDIR=${ATLAS_PG_DIR:-/tmp/atlas-pg}
DATA="$PGDIR/data"
PORT=${ATLAS_PG_PORT:-54329}
DB=atlas_test

log() { printf '\033[1m[postgres]\033[0m %s\n' "$*" >&2; }
die() { printf '[postgres] ERREUR : %s\n' "$*" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

# Commands run as the `postgres` user when we are root (initdb refuses root), else as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

BIN=$(find_bindir || true)

if [ "${1:-}" = "stop" ]; then
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    log "serveur arrêté ($DATA)"
  else
    log "aucun serveur à arrêter ($DATA)"
  fi
  exit 0
fi
[ -z "${1:-}" ] || die "argument inconnu « $1 » (attendu : rien ou « stop »)"

# 1. Install the Debian server if missing (apt-get update once).
if [ -z "$BIN" ]; then
  log "installation du paquet Debian postgresql"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  BIN=$(find_bindir) || die "PostgreSQL installé mais initdb/pg_ctl introuvables dans /usr/lib/postgresql/*/bin"
fi

port_used() { (echo >"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }

# 2. Create the cluster once (trust authentication, own socket folder).
if [ ! -f "$DATA/PG_VERSION" ]; then
  log "création du cluster dans $DATA"
  mkdir -p "$PGDIR"
  rm -rf "$DATA"
  mkdir -p "$DATA"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PGDIR"
  chmod 700 "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$PGDIR/initdb.log" 2>&1 \
    || { tail -n 20 "$PGDIR/initdb.log" >&2; die "initdb a échoué (voir $PGDIR/initdb.log)"; }
fi

# 3. Start it unless it already runs.
if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PORT=$(sed -n 4p "$DATA/postmaster.pid")  # line 4 of postmaster.pid: port
  log "serveur déjà démarré (port $PORT)"
else
  while port_used "$PORT"; do PORT=$((PORT + 1)); done
  log "démarrage sur 127.0.0.1:$PORT"
  # -l: the server's output goes to a file, so `$(bash scripts/postgres.sh)` does not hang.
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c fsync=off" \
    start >&2 || { tail -n 20 "$PGDIR/server.log" >&2 || true; die "le serveur n'a pas démarré (voir $PGDIR/server.log)"; }
fi

# 4. Wait until ready, then create the test database if missing.
for _ in $(seq 1 60); do
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres && break
  sleep 0.5
done
"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres || die "le serveur ne répond pas sur 127.0.0.1:$PORT"
if [ "$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  log "base $DB créée"
fi

echo "postgresql://postgres@127.0.0.1:$PORT/$DB"
