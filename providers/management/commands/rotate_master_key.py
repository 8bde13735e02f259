from audit.commands import AuditedCommand
from providers.crypto import active_key_id
from providers.services import master_key_rotate


class Command(AuditedCommand):
    help = (
        "Rewrap every organisation's data key under the first key in MASTER_KEYS, "
        "or under the latest version of the Transit key with "
        "MASTER_KEY_BACKEND=vault-transit. Safe to run again; afterwards older "
        "keys can be removed from the keyring."
    )

    def handle(self, *args, **options):
        changed = master_key_rotate()
        key_id = active_key_id()
        self.stdout.write(f"rewrapped {changed} data keys under master key {key_id}")
