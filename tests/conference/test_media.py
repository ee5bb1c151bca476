"""Live media on a real Janus: tokens, access to the studio and the stage, rooms created by the
server only, and cutting a user's media off."""

import asyncio
import datetime as dt
import json
import time

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone

from conference.models import HallRemoval, Registration, RegistrationRole
from conference.services.media import stage as media
from conference.services.media.janus import STREAMING, VIDEOROOM, JanusAdmin
from conference.services.media.tokens import make_opaque_id, mint_token, read_opaque_id
from conference.services.registrations import cancel_registration
from tests.factories import (
    UserFactory,
)
from tests.support.media import JanusClient, janus_request
from tests.support.stage_world import people, session_on_now


@pytest.fixture
def studio_setup(db):
    event, hall, session = session_on_now()
    roles = {
        "speaker": RegistrationRole.SPEAKER,
        "moderator": RegistrationRole.MODERATOR,
        "attendee": RegistrationRole.ATTENDEE,
    }
    found = people(session, roles, speakers=["speaker"])
    return {"event": event, "hall": hall, "session": session, **found}


# --- tokens ------------------------------------------------------------------------------------
def test_token_is_the_signed_format_janus_documents():
    token = mint_token(secret="s3cret", ttl_seconds=60, plugins=(VIDEOROOM,), now=1_000_000)
    data, signature = token.split(":")
    assert data == f"1000060,janus,{VIDEOROOM}"
    assert len(signature) == 28  # base64 of a 20-byte HMAC-SHA1


def test_opaque_id_names_its_user_and_tells_forgeries():
    label = make_opaque_id(secret="k", user_id=42)
    assert read_opaque_id(label, secret="k").user_id == 42
    assert read_opaque_id(label, secret="k").genuine is True
    forged = label.rsplit(".", 1)[0] + ".0000000000000000"
    assert read_opaque_id(forged, secret="k").genuine is False
    assert read_opaque_id("janus-demo", secret="k") is None


@pytest.mark.janus
def test_janus_accepts_a_minted_token_and_refuses_forged_expired_and_foreign_ones(janus):
    good = mint_token(secret=janus.token_secret, ttl_seconds=60, plugins=(STREAMING,))
    expired = mint_token(
        secret=janus.token_secret, ttl_seconds=60, plugins=(STREAMING,), now=time.time() - 120
    )
    forged = good.split(":")[0] + ":" + "A" * 28
    other_secret = mint_token(secret="not-the-secret", ttl_seconds=60, plugins=(STREAMING,))
    answers = janus_request(
        janus.ws_url,
        {"janus": "create", "token": good},
        {"janus": "create", "token": expired},
        {"janus": "create", "token": forged},
        {"janus": "create", "token": other_secret},
        {"janus": "create"},
    )
    assert [a["janus"] for a in answers] == ["success", "error", "error", "error", "error"]
    assert {a["error"]["code"] for a in answers[1:]} == {403}


@pytest.mark.janus
def test_a_stage_token_cannot_attach_the_videoroom(janus):
    token = mint_token(secret=janus.token_secret, ttl_seconds=60, plugins=(STREAMING,))

    async def run():
        async with JanusClient(janus.ws_url) as client:
            session = (await client.request({"janus": "create", "token": token}))["data"]["id"]
            base = {"janus": "attach", "session_id": session, "token": token}
            return (
                await client.request({**base, "plugin": VIDEOROOM}),
                await client.request({**base, "plugin": STREAMING}),
            )

    videoroom, streaming = asyncio.run(run())
    assert videoroom["janus"] == "error"
    assert videoroom["error"]["code"] == 405  # JANUS_ERROR_PLUGIN_ATTACH: unauthorized plugin
    assert streaming["janus"] == "success"


# --- access --------------------------------------------------------------------------------------
@pytest.mark.janus
def test_studio_access_by_role(studio_setup, janus):
    session = studio_setup["session"]
    assert media.studio_access(studio_setup["speaker"], session).role == media.SPEAKER
    assert media.studio_access(studio_setup["moderator"], session).role == media.PRODUCER
    with pytest.raises(
        media.MediaRefused, match="speakers, captioners, moderators and organizer staff"
    ):
        media.studio_access(studio_setup["attendee"], session)
    with pytest.raises(media.MediaRefused, match="registered attendees"):
        media.studio_access(UserFactory(), session)


@pytest.mark.janus
def test_removed_or_cancelled_users_get_no_token(studio_setup, janus):
    session = studio_setup["session"]
    attendee, speaker = studio_setup["attendee"], studio_setup["speaker"]
    assert media.stage_grant(attendee, session)["token"]
    HallRemoval.objects.create(
        hall=studio_setup["hall"], user=attendee, until=timezone.now() + dt.timedelta(hours=1)
    )
    with pytest.raises(media.MediaRefused, match="removed you"):
        media.stage_grant(attendee, session)
    with pytest.raises(media.MediaRefused, match="removed you"):
        media.renew_token(attendee, session, purpose="stage")
    cancel_registration(Registration.objects.get(user=speaker))
    with pytest.raises(media.MediaRefused):
        media.studio_grant(speaker, session)


@pytest.mark.janus
def test_the_server_creates_the_rooms_and_a_browser_cannot(studio_setup, janus):
    session = studio_setup["session"]
    grant = media.studio_grant(studio_setup["speaker"], session)
    admin = JanusAdmin(media.host_for_hall(session.hall_id))
    room = admin.plugin(VIDEOROOM, {"request": "exists", "room": grant["room"]})
    assert room["exists"] is True
    assert media.ensure_backstage(session) == grant["room"]  # idempotent

    async def run():
        async with JanusClient(janus.ws_url) as client:
            token = grant["token"]
            created = await client.request({"janus": "create", "token": token})
            session_id = created["data"]["id"]
            handle = await client.request(
                {"janus": "attach", "session_id": session_id, "plugin": VIDEOROOM, "token": token}
            )
            return await client.request(
                {
                    "janus": "message",
                    "session_id": session_id,
                    "handle_id": handle["data"]["id"],
                    "token": token,
                    "body": {"request": "create", "room": 999},
                }
            )

    answer = asyncio.run(run())
    data = answer["plugindata"]["data"]
    # Without the plugin's admin key (the room secret, known to the server only) Janus refuses.
    assert (data["error_code"], data["error"]) == (429, "Missing mandatory element (admin_key)")
    assert admin.plugin(VIDEOROOM, {"request": "exists", "room": 999})["exists"] is False


@pytest.mark.janus
def test_only_a_producer_sets_the_stage(studio_setup, janus):
    session = studio_setup["session"]
    speaker = media.studio_access(studio_setup["speaker"], session)
    with pytest.raises(media.MediaRefused, match="Only a producer"):
        media.set_stage(speaker, session, layout="solo", feeds=[], on_air=True)
    producer = media.studio_access(studio_setup["moderator"], session)
    media.studio_grant(studio_setup["moderator"], session)
    not_publishing = media.feed_id(studio_setup["speaker"].pk, media.CAMERA)
    with pytest.raises(media.MediaRefused, match="Only someone publishing"):
        media.set_stage(producer, session, layout="solo", feeds=[not_publishing], on_air=True)
    stage = media.set_stage(producer, session, layout="solo", feeds=[], on_air=True)
    assert media.stage_data(session, stage)["on_air"] is True
    assert media.stage_data(session, stage)["slots"] == []


@pytest.mark.janus
def test_cut_user_media_ends_only_that_users_janus_sessions(studio_setup, janus):
    session = studio_setup["session"]
    attendee, speaker = studio_setup["attendee"], studio_setup["speaker"]
    grants = {"attendee": media.stage_grant(attendee, session)}
    grants["speaker"] = media.stage_grant(speaker, session)

    async def run():
        async with JanusClient(janus.ws_url) as one, JanusClient(janus.ws_url) as two:
            for client, grant in ((one, grants["attendee"]), (two, grants["speaker"])):
                created = await client.request({"janus": "create", "token": grant["token"]})
                await client.request(
                    {
                        "janus": "attach",
                        "session_id": created["data"]["id"],
                        "plugin": STREAMING,
                        "opaque_id": grant["opaque_id"],
                        "token": grant["token"],
                    }
                )
            admin = JanusAdmin(media.host_for_hall(session.hall_id))
            before = admin.sessions()
            ended = await asyncio.to_thread(media.cut_user_media, attendee.pk)
            return before, ended, admin.sessions()

    before, ended, after = asyncio.run(run())
    assert len(before) == 2
    assert ended == 1
    assert len(after) == 1


@pytest.mark.janus
@pytest.mark.django_db(transaction=True)
def test_logging_out_ends_that_users_janus_sessions(studio_setup, janus, client):
    """Logging out (the real logout view) cuts the user's media through the admin API at once;
    another user's Janus session stays."""
    session = studio_setup["session"]
    attendee, speaker = studio_setup["attendee"], studio_setup["speaker"]
    grants = {"attendee": media.stage_grant(attendee, session)}
    grants["speaker"] = media.stage_grant(speaker, session)
    client.force_login(attendee)
    admin = JanusAdmin(media.host_for_hall(session.hall_id))

    def log_out():
        try:
            return client.post(reverse("accounts:logout"))
        finally:
            db_connection.close()  # this thread's own connection

    async def run():
        async with JanusClient(janus.ws_url) as one, JanusClient(janus.ws_url) as two:
            for connection, grant in ((one, grants["attendee"]), (two, grants["speaker"])):
                created = await connection.request({"janus": "create", "token": grant["token"]})
                await connection.request(
                    {
                        "janus": "attach",
                        "session_id": created["data"]["id"],
                        "plugin": STREAMING,
                        "opaque_id": grant["opaque_id"],
                        "token": grant["token"],
                    }
                )
            before = admin.sessions()
            response = await asyncio.to_thread(log_out)
            return before, response.status_code, admin.sessions()

    before, status, after = asyncio.run(run())
    assert status == 302
    assert (len(before), len(after)) == (2, 1)


# --- media off ------------------------------------------------------------------------------------
def test_media_pages_say_that_media_is_off_and_how_to_turn_it_on(client, studio_setup, settings):
    settings.JANUS_WS_URLS = []
    settings.JANUS_ADMIN_URLS = []
    client.force_login(studio_setup["speaker"])
    session = studio_setup["session"]
    url = reverse(
        "media:studio", kwargs={"event_slug": session.event.slug, "session_id": session.pk}
    )
    page = client.get(url)
    assert page.status_code == 200
    assert "apt-get install janus" in page.content.decode()
    grant = client.post(url + "grant/")
    assert grant.status_code == 503
    assert "apt-get install janus" in grant.json()["error"]
    stage = media.hall_stage_data(session)
    assert stage["media"] is False
    assert "apt-get install janus" in stage["notice"]


def test_studio_page_refuses_attendees(client, studio_setup, settings):
    settings.JANUS_WS_URLS = []
    settings.JANUS_ADMIN_URLS = []
    client.force_login(studio_setup["attendee"])
    session = studio_setup["session"]
    url = reverse(
        "media:studio", kwargs={"event_slug": session.event.slug, "session_id": session.pk}
    )
    assert client.get(url).status_code == 403
    assert client.post(url + "grant/").status_code == 503  # media off is said first
    page = client.get(
        reverse(
            "conference:session-detail",
            kwargs={"event_slug": session.event.slug, "session_id": session.pk},
        )
    )
    assert "Open the studio" not in page.content.decode()
    client.force_login(studio_setup["speaker"])
    page = client.get(
        reverse(
            "conference:session-detail",
            kwargs={"event_slug": session.event.slug, "session_id": session.pk},
        )
    )
    assert "Open the studio" in page.content.decode()


def test_janus_config_is_loopback_only(tmp_path, settings, monkeypatch):
    from tests.support.media import janus_available

    if not janus_available():
        pytest.skip("needs the Janus WebRTC server (apt-get install janus)")
    settings.DATA_DIR = tmp_path
    call_command("janus_config", "--ws-port", "8651", "--admin-port", "8652")
    folder = tmp_path / "janus"
    assert 'ws_ip = "127.0.0.1"' in (folder / "janus.transport.websockets.jcfg").read_text()
    http = (folder / "janus.transport.http.jcfg").read_text()
    assert 'admin_ip = "127.0.0.1"' in http
    assert "http = false" in http
    core = (folder / "janus.jcfg").read_text()
    assert "token_auth = true" in core
    client = json.loads((folder / "medvenue.json").read_text())
    assert client["ws_url"] == "ws://127.0.0.1:8651/"
    assert (folder / "medvenue.json").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("PATH", "/nonexistent")
    call_command("janus_config")
    assert not (folder / "medvenue.json").exists()
