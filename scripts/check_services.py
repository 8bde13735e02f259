"""Exit 0 if the PostgreSQL and Redis given as URLs answer, 1 otherwise."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis


def main(database_url: str, redis_url: str) -> int:
    # The server's maintenance database: the test database does not exist yet.
    maintenance = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    try:
        psycopg.connect(maintenance, connect_timeout=3).close()
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except (psycopg.Error, redis.RedisError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
