"""Remove the chain columns moved to ``CallLogLink`` (0003); on PostgreSQL, make the links append-only.

Like the records and the checkpoints (0002), links refuse UPDATE, DELETE and
TRUNCATE on PostgreSQL.
"""

from django.db import migrations

TRIGGERS = """
CREATE TRIGGER exchange_callloglink_append_only
BEFORE UPDATE OR DELETE ON exchange_callloglink
FOR EACH ROW EXECUTE FUNCTION exchange_call_log_append_only();

CREATE TRIGGER exchange_callloglink_no_truncate
BEFORE TRUNCATE ON exchange_callloglink
FOR EACH STATEMENT EXECUTE FUNCTION exchange_call_log_append_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS exchange_callloglink_no_truncate ON exchange_callloglink; "
            "DROP TRIGGER IF EXISTS exchange_callloglink_append_only ON exchange_callloglink;", params=None,
        )




class Migration(migrations.Migration):
    dependencies = [("exchange", "0003_call_log_links")]

    operations = [
        migrations.RemoveField(model_name="calllogrecord", name="prev_hash"),
        migrations.RemoveField(model_name="calllogrecord", name="record_hash"),
        migrations.RemoveField(model_name="calllogrecord", name="seq"),
        migrations.AlterModelOptions(name="calllogrecord", options={"ordering": ["id"]}),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
