"""Move each call record's place in the hash chain into ``CallLogLink`` (ADR 0012).

Records already chained keep their chain exactly: their ``seq``, ``prev_hash``
and ``record_hash`` become their links (the hash definition is unchanged, so
the signed checkpoints still verify). 0004 then removes the moved columns (in
a transaction of its own: PostgreSQL alters no table with pending foreign-key
checks).
"""

import django.db.models.deletion
from django.db import migrations, models


def links_from_records(apps, schema_editor):
    CallLogRecord = apps.get_model("exchange", "CallLogRecord")
    CallLogLink = apps.get_model("exchange", "CallLogLink")
    CallLogHead = apps.get_model("exchange", "CallLogHead")
    batch = []
    last_id = 0
    for record_id, seq, prev_hash, record_hash in (
        CallLogRecord.objects.order_by("seq").values_list("id", "seq", "prev_hash", "record_hash").iterator()
    ):
        batch.append(CallLogLink(seq=seq, record_id=record_id, prev_hash=prev_hash, record_hash=record_hash))
        last_id = max(last_id, record_id)
        if len(batch) == 5000:
            CallLogLink.objects.bulk_create(batch)
            batch = []
    CallLogLink.objects.bulk_create(batch)
    CallLogHead.objects.filter(id=1).update(chained_through=last_id)


def records_from_links(apps, schema_editor):
    raise RuntimeError("the call log's chain cannot be moved back into its records")


class Migration(migrations.Migration):
    dependencies = [("exchange", "0002_call_log_append_only")]

    operations = [
        migrations.AddField(model_name="callloghead", name="chained_through",
                            field=models.BigIntegerField(default=0)),
        migrations.AddField(model_name="callloghead", name="signing_due_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.CreateModel(
            name="CallLogLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(unique=True)),
                ("prev_hash", models.CharField(max_length=64)),
                ("record_hash", models.CharField(max_length=64, unique=True)),
                ("record", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="link",
                                                to="exchange.calllogrecord")),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.RunPython(links_from_records, records_from_links),
    ]
