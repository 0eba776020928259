from django.db import migrations

# Days an account of each tier may go without contact before "my day" lists it.
DEFAULTS = {"key": 14, "standard": 45}


def add_defaults(apps, schema_editor):
    cadence = apps.get_model("activities", "ContactCadence")
    for tier, days in DEFAULTS.items():
        cadence.objects.get_or_create(tier=tier, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
