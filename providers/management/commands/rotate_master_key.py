from audit.commands import AuditedCommand
from providers.crypto import active_master_key
from providers.services import master_key_rotate


class Command(AuditedCommand):
    help = (
        "Rewrap every organisation's data key under the first key in MASTER_KEYS. "
        "Safe to run again; afterwards older keys can be removed from the keyring."
    )

    def handle(self, *args, **options):
        changed = master_key_rotate()
        key_id, _ = active_master_key()
        self.stdout.write(f"rewrapped {changed} data keys under master key {key_id}")
