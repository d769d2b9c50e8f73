"""Every person and legal entity belongs to one registry (and so to its owner department).

Rows that exist already are attached to the registry with the conventional code
("persons" / "legal-entities"); if that registry does not exist the migration
stops rather than invent an owner department.
"""

import django.db.models.deletion
from django.db import migrations, models


def attach_existing_records(apps, schema_editor):
    Registry = apps.get_model("registries", "Registry")
    for model_name, code in (("Person", "persons"), ("LegalEntity", "legal-entities")):
        model = apps.get_model("registries", model_name)
        unattached = model.objects.filter(registry__isnull=True)
        if not unattached.exists():
            continue
        registry = Registry.objects.filter(code=code).first()
        if registry is None:
            raise RuntimeError(
                f"{model_name} rows exist but there is no registry with code {code!r} to attach "
                "them to; create it (registries.services.ensure_registry) or reset the database."
            )
        unattached.update(registry=registry)


class Migration(migrations.Migration):

    dependencies = [
        ("kernel", "0001_initial"),
        ("registries", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="registry",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="persons",
                to="registries.registry",
            ),
        ),
        migrations.AddField(
            model_name="legalentity",
            name="registry",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="entities",
                to="registries.registry",
            ),
        ),
        migrations.RunPython(attach_existing_records, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="person",
            name="registry",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="persons", to="registries.registry"
            ),
        ),
        migrations.AlterField(
            model_name="legalentity",
            name="registry",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="entities", to="registries.registry"
            ),
        ),
        migrations.AddConstraint(
            model_name="recordchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("entity__isnull", True), ("person__isnull", False))
                | models.Q(("entity__isnull", False), ("person__isnull", True)),
                name="record_change_of_one_record",
            ),
        ),
    ]
