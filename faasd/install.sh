#!/usr/bin/env bash
# Installs faas-shop on a VM where faasd is installed (see cloud-config.yaml):
# adds PostgreSQL and a JetStream NATS to faasd's compose file, creates one
# database and role per service, creates the OpenFaaS secrets, and deploys
# every function of stack.yml. Safe to run again: nothing is recreated.
#
#   sudo ./faasd/install.sh            (from a checkout of this repository)
#
# Requires: faasd, faas-cli, openssl, psql/pg_isready, and the images of
# stack.yml pushed to a registry the VM can pull from (REGISTRY, TAG).
set -euo pipefail

FAASD_DIR=/var/lib/faasd
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
services=(users products orders notifications)

secret_file() { echo "$FAASD_DIR/secrets/$1"; }
random() { openssl rand -hex 24; }

# 1. Compose: PostgreSQL and NATS JetStream beside the gateway.
if ! grep -q '^  postgres:' "$FAASD_DIR/docker-compose.yaml"; then
	mkdir -p "$FAASD_DIR/postgres/data" "$FAASD_DIR/nats-js"
	chown -R 70:70 "$FAASD_DIR/postgres"
	[ -f "$(secret_file postgres-password)" ] || random > "$(secret_file postgres-password)"
	chown 70:70 "$(secret_file postgres-password)"
	awk -v add="$here/docker-compose.shop.yaml" '
		{ print }
		/^services:/ { while ((getline line < add) > 0) if (line !~ /^#/) print line }
	' "$FAASD_DIR/docker-compose.yaml" > "$FAASD_DIR/docker-compose.yaml.new"
	mv "$FAASD_DIR/docker-compose.yaml.new" "$FAASD_DIR/docker-compose.yaml"
	systemctl restart faasd
fi
until pg_isready -q -h 10.62.0.1 -p 5432; do sleep 2; done

export OPENFAAS_URL=${OPENFAAS_URL:-http://127.0.0.1:8080}
faas-cli login --username admin --password-stdin < "$FAASD_DIR/secrets/basic-auth-password"

create_secret() { # name value: create once, never overwrite
	if ! faas-cli secret list | awk 'NR>2 {print $1}' | grep -qx "$1"; then
		printf '%s' "$2" | faas-cli secret create "$1"
	fi
}

# 2. One database and role per service; its URL as the <service>-database-url secret.
pgpass=$(cat "$(secret_file postgres-password)")
for svc in "${services[@]}"; do
	pw_file="$FAASD_DIR/secrets/$svc-database-password"
	[ -f "$pw_file" ] || random > "$pw_file"
	pw=$(cat "$pw_file")
	PGPASSWORD=$pgpass psql -h 10.62.0.1 -U postgres -v ON_ERROR_STOP=1 -q \
		-v svc="$svc" -v pw="$pw" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'svc', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'svc', :'svc')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'svc') \gexec
SQL
	create_secret "$svc-database-url" "postgres://$svc:$pw@10.62.0.1:5432/$svc?sslmode=disable"
done

# 3. The platform's secrets.
key_file=$(mktemp)
openssl genpkey -algorithm ed25519 -out "$key_file"
create_secret jwt-signing-key "$(cat "$key_file")"
rm -f "$key_file"
create_secret internal-hmac-key "$(openssl rand -hex 32)"
create_secret admin-email "${ADMIN_EMAIL:-admin@faas-shop.local}"
create_secret admin-password "${ADMIN_PASSWORD:-$(random)}"

# 4. Deploy every function (images published beforehand: faas-cli publish, or
#    faas-cli up from a machine with Docker and OPENFAAS_URL set to this VM).
cd "$repo"
faas-cli deploy -f stack.yml
echo "faas-shop is up: $OPENFAAS_URL/function/users-auth/.well-known/jwks.json"
