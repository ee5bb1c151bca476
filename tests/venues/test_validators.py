import pytest
from django.core.exceptions import ValidationError

from tests.factories import HallFactory
from tests.venues.conftest import glb_bytes, glb_upload
from venues.validators import MAX_SHELL_BYTES, clean_placement_props, validate_glb


def test_validate_glb_accepts_glb_version_2():
    validate_glb(glb_upload(glb_bytes()))


def _message(upload) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        validate_glb(upload)
    return caught.value.messages


def test_validate_glb_refuses_other_files_by_magic_bytes():
    fake = glb_upload(b"<html>not a model</html>" * 3)

    assert _message(fake) == [
        "This file is not a glTF binary (.glb): it does not start with the 'glTF' signature. "
        "Export the model as glTF binary."
    ]


def test_validate_glb_refuses_glb_version_1():
    assert _message(glb_upload(glb_bytes(version=1))) == [
        "This .glb is glTF version 1; only version 2 is supported."
    ]


def test_validate_glb_refuses_truncated_file():
    content = glb_bytes(declared=4000)

    assert _message(glb_upload(content)) == [
        f"This .glb declares 4000 bytes but the file has {len(content)}: it is truncated or "
        "damaged. Export it again."
    ]


def test_validate_glb_refuses_oversize_file():
    body = b"\0" * (MAX_SHELL_BYTES - 12 + 1)

    assert _message(glb_upload(glb_bytes(body=body))) == [
        "The 3D shell is 16,777,217 bytes, more than the limit of 16 MB. Simplify the model or "
        "compress its textures."
    ]


@pytest.mark.django_db
def test_hall_full_clean_refuses_non_glb_shell_upload():
    hall = HallFactory()
    hall.shell_model = glb_upload(b"PK\x03\x04 a zip file, really", name="shell.glb")

    with pytest.raises(ValidationError) as caught:
        hall.full_clean()

    assert list(caught.value.message_dict) == ["shell_model"]
    assert "not a glTF binary" in caught.value.message_dict["shell_model"][0]


@pytest.mark.django_db
def test_hall_full_clean_refuses_wrong_extension():
    hall = HallFactory()
    hall.shell_model = glb_upload(glb_bytes(), name="shell.gltf")

    with pytest.raises(ValidationError) as caught:
        hall.full_clean()

    assert caught.value.message_dict["shell_model"] == [
        "File extension “gltf” is not allowed. Allowed extensions are: glb."
    ]


@pytest.mark.parametrize(
    ("kind", "props", "message"),
    [
        ("booth", {}, "Exhibitor is required."),
        ("seat_block", {"rows": 0, "columns": 3}, "Rows is 0; it must be between 1 and 100."),
        (
            "seat_block",
            {"rows": True, "columns": 3},
            "Rows must be a whole number between 1 and 100.",
        ),
        ("kiosk", {"text": 5}, "Kiosk text must be text."),
        ("screen", {"elevation": -1}, "Elevation is -1 m; it must be between 0 and 30 m."),
        ("stage", [], "The properties of a stage must be a JSON object."),
    ],
)
def test_clean_placement_props_refuses_bad_values(kind, props, message):
    with pytest.raises(ValidationError) as caught:
        clean_placement_props(kind, props)

    assert caught.value.messages == [message]


def test_clean_placement_props_poster_board_strips_text():
    props = clean_placement_props("poster_board", {"title": "  Sepsis  ", "authors": " A. B "})

    assert props == {"title": "Sepsis", "authors": "A. B"}
