#!/bin/sh
# Generate the secrets docker-compose.yml mounts, one file each, into the
# folder given (default ./secrets). A file that exists is kept: replacing
# master_keys would make every stored provider key unreadable.
set -eu
folder="${1:-secrets}"
umask 077
mkdir -p "$folder"
chmod 700 "$folder"

random() {
  head -c "$1" /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'
}

make_secret() {
  if [ ! -s "$folder/$1" ]; then
    printf '%s\n' "$2" > "$folder/$1"
    # Readable by the containers' own users (the folder keeps others out).
    chmod 644 "$folder/$1"
    echo "made $folder/$1"
  fi
}

make_secret auth_secret "$(random 48)"
make_secret master_keys "k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
make_secret postgres_password "$(random 32)"
make_secret db_owner_password "$(random 32)"
make_secret db_app_password "$(random 32)"
make_secret db_gateway_password "$(random 32)"
make_secret redis_password "$(random 32)"
