"""Write the configuration of `make run`'s own Janus (loopback only) under the data folder.

Prints the command line that starts Janus with it, or nothing when Janus is not installed (and
then removes the file the web process would read, so media pages say that media is off).
"""

import shlex
import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from conference.services.media.config import INSTALL_HINT, janus_library_folder, write_local_janus


def _range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise CommandError(f"a port range is LOW-HIGH, got {text!r}") from None
    if not 1024 <= low < high <= 65535:
        raise CommandError(f"a port range is LOW-HIGH within 1024-65535, got {text!r}")
    return low, high


class Command(BaseCommand):
    help = "Write var/janus/ for a loopback Janus and print the command that starts it."

    def add_arguments(self, parser):
        parser.add_argument("--ws-port", type=int, default=8188)
        parser.add_argument("--admin-port", type=int, default=7088)
        parser.add_argument("--rtp-ports", default="20000-20499")
        parser.add_argument("--stage-ports", default="20500-20999")

    def handle(self, *args, **options):
        folder = settings.DATA_DIR / "janus"
        janus = shutil.which("janus")
        library = janus_library_folder()
        if janus is None or library is None:
            (folder / "medvenue.json").unlink(missing_ok=True)
            self.stderr.write(INSTALL_HINT)
            return
        write_local_janus(
            folder,
            ws_port=options["ws_port"],
            admin_port=options["admin_port"],
            rtp_ports=_range(options["rtp_ports"]),
            streaming_ports=_range(options["stage_ports"]),
            library=library,
        )
        command = [janus, "--configs-folder", str(folder), "--config", str(folder / "janus.jcfg")]
        self.stdout.write(shlex.join(command))
