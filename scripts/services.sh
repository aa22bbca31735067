#!/usr/bin/env bash
# Make sure the services the test suite talks to are installed and running:
# PostgreSQL on 127.0.0.1:5432 (trust auth for local TCP), Redis on
# 127.0.0.1:6379, and Debian's Chromium for the browser tests. Installs what is
# missing with apt-get (as root) and starts what is stopped. Safe to run twice.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "services: $* missing and not root; install it with apt-get" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -q >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "services: $what did not come up" >&2
  exit 1
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi
if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null
fi

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi

# Node.js and npm for the test peers that come from npm.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

# Chromium for the browser tests (Playwright drives it; it never downloads one).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# SimpleSAMLphp, the real SAML IdP of the SSO tests and of `make run`'s demo
# (it runs as one `php -S` process; php-xml and php-mbstring are not pulled in
# by the package).
if [ ! -d /usr/share/simplesamlphp/www ] || ! command -v php >/dev/null 2>&1 \
    || ! php -m 2>/dev/null | grep -qi '^dom$' \
    || ! php -m 2>/dev/null | grep -qi '^mbstring$'; then
  apt_install simplesamlphp php-xml php-mbstring php-cli
fi
