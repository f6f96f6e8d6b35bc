#!/usr/bin/env bash
# Installs what `npm run test:integration` needs, from Debian's own packages:
# a PostgreSQL server (with contrib, for pg_stat_statements), Django and
# psycopg2. Idempotent: installs only what is missing. Fails loudly (non-zero)
# when anything cannot be installed; the integration test itself also fails
# when PostgreSQL or Django is missing, so a broken setup is never a skip.
set -euo pipefail

PACKAGES=(postgresql postgresql-contrib python3 python3-django python3-psycopg2 util-linux)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "== integration setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "integration setup: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Debian's postgresql package creates and starts a 'main' cluster on 5432;
  # the tests never use it (they run their own throwaway cluster).
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "== integration setup: ${PACKAGES[*]} already installed"
fi

# Verify, loudly. Debian's interpreter, not a pyenv/venv python3 earlier on PATH.
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "integration setup: no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }
PGLIB="${PGBIN%/bin}/lib"
[ -e "$PGLIB/pg_stat_statements.so" ] || { echo "integration setup: pg_stat_statements.so missing in $PGLIB" >&2; exit 1; }
/usr/bin/python3 -c 'import django, psycopg2; print("== integration setup: Django %s, psycopg2 %s, PostgreSQL bin %s" % (django.get_version(), psycopg2.__version__.split()[0], "'"$PGBIN"'"))'
