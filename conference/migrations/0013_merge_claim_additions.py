from django.db import migrations


class Migration(migrations.Migration):
    """Merge: the claim additions and the agenda/roles merge both landed as 0012."""

    dependencies = [
        ("conference", "0012_claim_additions"),
        ("conference", "0012_merge_agenda_and_roles"),
    ]

    operations = []
