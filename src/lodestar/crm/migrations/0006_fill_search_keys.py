"""Give the accounts, contacts and deals stored before search keys existed their key."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from lodestar.crm.search_keys import contact_search_key, search_key

BATCH = 500


def fill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for model_name in ("Account", "Contact", "Opportunity"):
        model = apps.get_model("crm", model_name)
        rows = []
        fields = ("pk", "name", "phone") if model_name == "Contact" else ("pk", "name")
        for row in model.objects.only(*fields).iterator(chunk_size=BATCH):
            row.search_key = (
                contact_search_key(row.name, row.phone)
                if model_name == "Contact"
                else search_key(row.name)
            )
            rows.append(row)
            if len(rows) >= BATCH:
                model.objects.bulk_update(rows, ["search_key"])
                rows = []
        if rows:
            model.objects.bulk_update(rows, ["search_key"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_search_keys")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
