"""What `collectstatic` publishes: bundles, CSS, images and the favicon, never the JS sources
(frontend/src/) or the build script (docs/venue-frontend.md, "Source and build")."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import FileSystemFinder

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = {".css", ".svg", ".png", ".jpg", ".webp", ".ico", ".js"}


def test_the_static_tree_holds_only_bundles_css_and_images():
    assert settings.STATICFILES_DIRS == [ROOT / "static"]
    published = [path for path, _storage in FileSystemFinder().list(ignore_patterns=[])]
    assert published, "the project's static tree is empty"
    for path in published:
        assert Path(path).suffix in PUBLISHED, f"{path} would be published by collectstatic"
        if path.endswith(".js"):
            assert path.startswith("dist/"), f"{path}: only bundles (static/dist/) are published"


def test_the_bundles_come_from_the_sources_outside_the_static_tree():
    sources = ROOT / "frontend" / "src"
    assert (sources / "main.js").is_file()
    assert not any((ROOT / "static").rglob("*.mjs"))
    # Every entry of the build has its source here; the output directory is not versioned.
    assert "static/dist/" in (ROOT / ".gitignore").read_text().splitlines()
