"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE on the call log and its checkpoints.

As for the audit table (kernel 0002): SQLite has no equivalent an operator
could not simply drop, so there the chain and the signed checkpoints alone
detect tampering.
"""

from django.db import migrations

TABLES = ("exchange_calllogrecord", "exchange_checkpoint")

FUNCTION = """
CREATE OR REPLACE FUNCTION exchange_call_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the exchange call log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER {table}_append_only
BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION exchange_call_log_append_only();

CREATE TRIGGER {table}_no_truncate
BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION exchange_call_log_append_only();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal "%" that must not be read as a placeholder.
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(TRIGGERS.format(table=table), params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP_TRIGGERS.format(table=table), params=None)
        schema_editor.execute("DROP FUNCTION IF EXISTS exchange_call_log_append_only();", params=None)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
