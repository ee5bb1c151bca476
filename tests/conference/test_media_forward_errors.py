"""set_stage when Janus refuses a forward (issue 15's known defect): a clear refusal, the stage as
it was, no forward left running that the stage row does not know about. Real Janus; the
publishers are VideoRoom remote publishers (what the external encoder ingest uses), so no
browser is needed."""

import pytest
from django.conf import settings as django_settings

from conference.models import Recording, RegistrationRole, Stage
from conference.services.media import stage as media
from conference.services.media.janus import VIDEOROOM, JanusAdmin
from conference.views.refusals import http_status
from tests.support.stage_world import people, session_on_now

pytestmark = [pytest.mark.janus]


@pytest.fixture
def party(db):
    _, _, session = session_on_now(started=5, left=60)
    roles = {
        "ana": RegistrationRole.SPEAKER,
        "ben": RegistrationRole.SPEAKER,
        "mod": RegistrationRole.MODERATOR,
    }
    return {"session": session, **people(session, roles, speakers=["ana", "ben"])}


def remote_publisher(session, user, name):
    admin = JanusAdmin(media.host_for_hall(session.hall_id))
    media.ensure_backstage(session, admin)
    feed = media.feed_id(user.pk, media.CAMERA)
    answer = admin.plugin(
        VIDEOROOM,
        {
            "request": "add_remote_publisher",
            "room": media.room_id(session),
            "secret": django_settings.JANUS_ROOM_SECRET,
            "id": feed,
            "display": name,
            "iface": "127.0.0.1",
            "streams": [
                {"type": "audio", "mindex": 0, "mid": "0", "codec": "opus"},
                {"type": "video", "mindex": 1, "mid": "1", "codec": "vp8"},
            ],
        },
    )
    return feed, answer


def forwards_on_janus(session) -> dict[int, set[int]]:
    """What Janus really forwards now: {publisher id: {destination ports}}."""
    admin = JanusAdmin(media.host_for_hall(session.hall_id))
    answer = admin.plugin(
        VIDEOROOM,
        {
            "request": "listforwarders",
            "room": media.room_id(session),
            "secret": django_settings.JANUS_ROOM_SECRET,
        },
    )
    return {
        p["publisher_id"]: {f["port"] for f in p.get("forwarders") or []}
        for p in answer.get("publishers") or []
        if p.get("forwarders")
    }


def stage_ports(session) -> set[int]:
    info = media.ensure_stage(session)
    return {item["port"] for item in info["media"] if item["mid"] in ("a0", "v0")}


def test_going_live_when_janus_refuses_the_forward_is_a_clear_refusal(party, janus, settings):
    """The recorder's address cannot be resolved by Janus, so its forward is refused after the
    audience's forward started: the producer gets a 503 that says what happened; the stage stays
    off air, no recording is made, and Janus forwards nothing."""
    session = party["session"]
    feed, _ = remote_publisher(session, party["ana"], "Ana")
    producer = media.studio_access(party["mod"], session)
    settings.RECORDING_RTP_HOST = "recorder.invalid"
    with pytest.raises(media.MediaRefused) as refused:
        media.set_stage(producer, session, layout="solo", feeds=[feed], on_air=True)
    assert http_status(refused.value) == 503  # the answer the studio gets
    assert "refused to forward the live feeds" in refused.value.message
    assert "Nothing changed: the stage is as it was" in refused.value.message
    stage = media.get_stage(session)  # the row made in the refused attempt was rolled back
    assert (stage.on_air, stage.live_feeds, stage.forwarders) == (False, [], [])
    assert stage.recording_id is None and stage.recorder_port is None
    assert not Recording.objects.filter(session=session).exists()
    assert forwards_on_janus(session) == {}
    assert media.stage_data(session)["on_air"] is False


def test_a_refused_change_keeps_the_live_line_up(party, janus, settings):
    """Ana is live; switching to Ben is refused by Janus: Ana stays live for the audience (her
    forward to the stage is started again), Ben reaches nobody, the broadcast's recording
    continues, and the view answers 503 with the reason (no HTTP 500)."""
    session = party["session"]
    ana, _ = remote_publisher(session, party["ana"], "Ana")
    ben, _ = remote_publisher(session, party["ben"], "Ben")
    producer = media.studio_access(party["mod"], session)
    media.set_stage(producer, session, layout="solo", feeds=[ana], on_air=True)
    before = Stage.objects.get(session=session)
    recording = before.recording_id
    assert recording is not None
    assert stage_ports(session) <= forwards_on_janus(session)[ana]

    settings.RECORDING_RTP_HOST = "recorder.invalid"
    client = django_client(party["mod"])
    response = client.post(
        f"/events/{session.event.slug}/sessions/{session.pk}/studio/stage/",
        {"layout": "solo", "feeds": [ben], "on_air": True},
        content_type="application/json",
    )
    assert response.status_code == 503
    assert "refused to forward" in response.json()["error"]
    stage = Stage.objects.get(session=session)
    assert (stage.on_air, stage.live_feeds, stage.recording_id) == (True, [ana], recording)
    live = forwards_on_janus(session)
    assert ben not in live
    assert stage_ports(session) <= live[ana]
    # The row lists exactly what Janus runs, so the next change stops all of it.
    listed = {i for forward in stage.forwarders for i in forward["stream_ids"]}
    assert len(listed) == sum(len(ports) for ports in live.values())
    settings.RECORDING_RTP_HOST = "127.0.0.1"
    media.set_stage(producer, session, layout="solo", feeds=[], on_air=False)
    assert forwards_on_janus(session) == {}


def django_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
