"""IpHashKey moved to the bottom layer (mechanisms); its table stays where it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_idna_emails")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IpHashKey")], database_operations=[]
        )
    ]
