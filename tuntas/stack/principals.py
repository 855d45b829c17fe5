"""Who each process is on the local stack: a Kafka principal with the ACLs it needs, generated
from the topic catalog, and a PostgreSQL login role; their secrets in files under
``TUNTAS_HOME/secrets`` (never in the repository). docs/identity.md explains the tables.

Kafka principals: ``svc-<service>`` per stage, ``station-<kecamatan>`` per card station (the
same names as their Keycloak clients). Database roles: ``tuntas_<service>`` per stage (the
stations share ``tuntas_card_production``), and ``tuntas_owner``, which owns the schemas and
runs the migrations. None is a superuser; none may bypass row-level security.
"""

from __future__ import annotations

import os
import secrets as random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from schemas.base import Service
from schemas.topics import Topics, TopicSpec
from services.console.live import queues_by_topic
from tuntas.stack import kafka_admin
from tuntas.stack.kafka_admin import Acl, Op, Pattern, Resource

OWNER_ROLE = "tuntas_owner"
STAGES = tuple(Service)
# Consumer groups, as each stage names its own (after the run's topic prefix).
GROUPS = {
    Service.INTAKE: "tuntas.intake",
    Service.VALIDATION: "validation",
    Service.BIOMETRIC: "biometric",
    Service.NOTIFICATION: "notification",
    Service.SERVICE_QUALITY: "service_quality",
    Service.ABIS: "abis",
}
# The notification stage's faust app: its id prefixes its group and its own topics
# (table changelog, assignor), and it reads back the breaches it publishes.
TIMELINE_APP = "notification-timeline"
CONSOLE = "svc-console"  # the office console (services/console): live queues, read-only


def kafka_principal(service: Service, kecamatan: str | None = None) -> str:
    if service is Service.CARD_PRODUCTION:
        if kecamatan is None:
            raise ValueError("a card station's principal names its kecamatan")
        return f"station-{kecamatan}"
    return f"svc-{service.value.replace('_', '-')}"


def db_role(service: Service) -> str:
    return f"tuntas_{service.value}"


# ---------------------------------------------------------------- the ACL table

# What a service's start-up needs on every topic it uses: kafka.ensure_topics creates a missing
# one and aligns its configs with the catalog's. No data access comes with these.
MANAGE = (Op.DESCRIBE, Op.CREATE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS)


def acl_table(prefix: str, kecamatan: Sequence[str]) -> list[Acl]:
    """Every ACL of a deployment serving these kecamatan, from the catalog (``Topics.specs``):
    a topic's producers may write it, its consumers read it and write its dead-letter topic,
    both may create it and its DLQ; each consumer group only to its owner. Biometric writes the
    print work of every kecamatan of the district (one prefixed ACL); a station reads only its
    own kecamatan's print topic, in its own group."""
    topics = Topics(prefix)
    print_prefix = topics.print_ready("350805")[: -len("350805")]
    stations = [kafka_principal(Service.CARD_PRODUCTION, k) for k in kecamatan]
    acls: set[Acl] = set()

    def who(service: Service, spec: TopicSpec) -> list[str]:
        if service is not Service.CARD_PRODUCTION:
            return [kafka_principal(service)]
        if spec.name.startswith(print_prefix):  # tuntas.print-ready.<kec>[.dlq]
            return [kafka_principal(service, spec.name[len(print_prefix) :][:6])]
        return stations

    def grant(principals: Iterable[str], name: str, ops: Iterable[Op], pattern: Pattern) -> None:
        for principal in principals:
            for op in ops:
                acls.add(Acl(principal, Resource.TOPIC, name, pattern, op))

    for spec in topics.specs(tuple(kecamatan)):
        for service in spec.producers:
            if service is Service.BIOMETRIC and spec.name.startswith(print_prefix):
                grant(who(service, spec), print_prefix, (Op.WRITE, *MANAGE), Pattern.PREFIXED)
            else:
                grant(who(service, spec), spec.name, (Op.WRITE,), Pattern.LITERAL)
        for service in spec.consumers:
            grant(who(service, spec), spec.name, (Op.READ,), Pattern.LITERAL)
        if not spec.name.endswith(".dlq"):
            for service in {*spec.producers, *spec.consumers}:
                for name in (spec.name, topics.dlq(spec.name)):
                    grant(who(service, spec), name, MANAGE, Pattern.LITERAL)
    notification = kafka_principal(Service.NOTIFICATION)
    grant([notification], topics.notification_events, (Op.READ,), Pattern.LITERAL)
    timeline = prefix + TIMELINE_APP
    grant([notification], timeline, (Op.READ, Op.WRITE, *MANAGE), Pattern.PREFIXED)
    groups = [
        *((kafka_principal(s), prefix + g, Pattern.LITERAL) for s, g in GROUPS.items()),
        (notification, timeline, Pattern.PREFIXED),
        *(
            (station, f"{prefix}card_production.{code}", Pattern.LITERAL)
            for station, code in zip(stations, kecamatan, strict=True)
        ),
    ]
    for principal, group, pattern in groups:
        for op in (Op.READ, Op.DESCRIBE):
            acls.add(Acl(principal, Resource.GROUP, group, pattern, op))
    return sorted(acls)


def console_acls(prefix: str) -> list[Acl]:
    """The office console's (the local stack's, and the chart's through its catalog): it reads
    the topics that change its live queues, in a group of its own, and writes nothing."""
    read = [
        Acl(CONSOLE, Resource.TOPIC, name, Pattern.LITERAL, Op.READ)
        for name in queues_by_topic(Topics(prefix))
    ]
    group = [
        Acl(CONSOLE, Resource.GROUP, f"{prefix}console", Pattern.LITERAL, op)
        for op in (Op.READ, Op.DESCRIBE)
    ]
    return read + group


# ---------------------------------------------------------------- secrets


def secret(folder: Path, name: str) -> Path:
    """The file holding ``name``'s password, created once with a random one (mode 0600)."""
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(random.token_urlsafe(24))
    return path


def _password(folder: Path, name: str) -> str:
    return secret(folder, name).read_text().strip()


def _pgpass(secrets: Path, dsn: str, role: str) -> Path:
    """A libpq password file (``PGPASSFILE``) with the role's and the owner's passwords."""
    parts = urlsplit(dsn)
    folder = secrets / "postgres"
    path = folder / f"{role}.pgpass"
    lines = [
        f"{parts.hostname}:{parts.port or 5432}:*:{name}:{_password(folder, name)}\n"
        for name in (role, OWNER_ROLE)
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(lines))
    return path


def _as_role(dsn: str, role: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{role}@{host}:{parts.port}" if parts.port else f"{role}@{host}"
    return parts._replace(netloc=netloc).geturl()


def process_env(endpoints: Any, service: Service, kecamatan: str | None = None) -> dict[str, str]:
    """A stage process's own identity (``endpoints``: a ``tuntas.stack.local.Endpoints``);
    empty when the stack is not the local one (external components: their env is used as is)."""
    if endpoints.secrets is None:
        return {}
    role = db_role(service)
    env = {
        "DATABASE_URL": _as_role(endpoints.database_url, role),
        "DATABASE_OWNER_URL": _as_role(endpoints.database_url, OWNER_ROLE),
        "PGPASSFILE": str(_pgpass(endpoints.secrets, endpoints.database_url, role)),
    }
    if endpoints.kafka_sasl_bootstrap:
        principal = kafka_principal(service, kecamatan)
        station_link = getattr(endpoints, "kafka_station_bootstrap", None)
        bootstrap = (station_link if service is Service.CARD_PRODUCTION else None) or (
            endpoints.kafka_sasl_bootstrap
        )
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_SASL_USERNAME": principal,
            "KAFKA_SASL_PASSWORD_FILE": str(secret(endpoints.secrets / "kafka", principal)),
        }
    return env


def console_env(endpoints: Any) -> dict[str, str]:
    """The office console's Kafka identity (it has no database); empty off the local stack."""
    if endpoints.secrets is None or not endpoints.kafka_sasl_bootstrap:
        return {}
    return {
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_sasl_bootstrap,
        "KAFKA_SASL_USERNAME": CONSOLE,
        "KAFKA_SASL_PASSWORD_FILE": str(secret(endpoints.secrets / "kafka", CONSOLE)),
    }


# ---------------------------------------------------------------- applying them


async def prepare(endpoints: Any, prefix: str, kecamatan: Sequence[str]) -> None:
    """Create (idempotently) the database roles, the SCRAM users and the ACLs a deployment of
    these kecamatan under this topic prefix needs. Nothing when the stack is not local."""
    if endpoints.secrets is None:
        return
    await ensure_roles(endpoints.database_url, endpoints.secrets / "postgres")
    if endpoints.kafka_sasl_bootstrap:
        principals = [kafka_principal(s) for s in STAGES if s is not Service.CARD_PRODUCTION]
        principals += [kafka_principal(Service.CARD_PRODUCTION, k) for k in kecamatan]
        principals.append(CONSOLE)
        folder = endpoints.secrets / "kafka"
        await kafka_admin.upsert_scram_users(
            endpoints.kafka_bootstrap, {p: _password(folder, p) for p in principals}
        )
        acls = [*acl_table(prefix, kecamatan), *console_acls(prefix)]
        await kafka_admin.create_acls(endpoints.kafka_bootstrap, acls)


async def ensure_roles(admin_dsn: str, folder: Path, roles: Sequence[str] | None = None) -> None:
    """The owner and the stages' login roles with their passwords; the owner may create schemas
    in this database and takes over the stage schemas an earlier superuser run created."""
    import asyncpg

    names = [OWNER_ROLE, *(roles or [db_role(s) for s in STAGES])]
    conn = await asyncpg.connect(admin_dsn)
    try:
        for name in names:
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
            verb = "ALTER" if exists else "CREATE"
            # A token_urlsafe password: letters, digits, '-' and '_' only, safe in a literal.
            await conn.execute(
                f'{verb} ROLE "{name}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE '
                f"PASSWORD '{_password(folder, name)}'"
            )
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO {OWNER_ROLE}')
        await conn.execute(_ADOPT_SCHEMAS)
    finally:
        await conn.close()


# Schemas migrated before the roles existed belong to the superuser: hand them to the owner.
_ADOPT_SCHEMAS = f"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT DISTINCT table_schema AS name FROM information_schema.tables
           WHERE table_name = 'schema_migrations'
             AND table_schema NOT IN ('pg_catalog', 'information_schema') LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO {OWNER_ROLE}', r.name);
  END LOOP;
  FOR r IN SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> '{OWNER_ROLE}'
             AND pg_get_userbyid(n.nspowner) = '{OWNER_ROLE}' LOOP
    EXECUTE format('ALTER TABLE %I.%I OWNER TO {OWNER_ROLE}', r.schema, r.name);
  END LOOP;
END $$;
"""
