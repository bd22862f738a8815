# The problems carry their organization like every other table (admin scoping, factories).

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    problem = apps.get_model("imports", "ImportProblem")
    batch = apps.get_model("imports", "ImportBatch")
    problem.objects.update(
        organization_id=models.Subquery(
            batch.objects.filter(pk=models.OuterRef("batch_id")).values("organization_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("org", "0004_daily_report_due"),
    ]

    operations = [
        migrations.AddField(
            model_name="importproblem",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="org.organization",
                verbose_name="organization",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="importproblem",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="org.organization",
                verbose_name="organization",
            ),
        ),
    ]
