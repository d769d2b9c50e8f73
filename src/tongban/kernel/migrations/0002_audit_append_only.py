"""On PostgreSQL, refuse UPDATE and DELETE on the audit table with a trigger.

SQLite has no equivalent that an operator cannot simply drop, so there the hash
chain alone detects tampering.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION kernel_auditrecord_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER kernel_auditrecord_append_only
BEFORE UPDATE OR DELETE ON kernel_auditrecord
FOR EACH ROW EXECUTE FUNCTION kernel_auditrecord_append_only();

CREATE TRIGGER kernel_auditrecord_no_truncate
BEFORE TRUNCATE ON kernel_auditrecord
FOR EACH STATEMENT EXECUTE FUNCTION kernel_auditrecord_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS kernel_auditrecord_no_truncate ON kernel_auditrecord;
DROP TRIGGER IF EXISTS kernel_auditrecord_append_only ON kernel_auditrecord;
DROP FUNCTION IF EXISTS kernel_auditrecord_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal "%" that must not be read as a placeholder.
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("kernel", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
