"""Meeting rooms in headless Chromium with fake camera and microphone, on a real Janus and a real
ASGI server: two attendees in a workshop room receive each other's audio and video, a third is
refused beyond the capacity, a token of one room is refused by Janus in another, a removed
user's media stops, and the expert admits the first in the queue while the second waits."""

import datetime as dt

import pytest
from django.utils import timezone

from conference.models import MeetingRoom, Registration, RegistrationRole, RoomOccupant
from tests.e2e.conftest import ARGS, CHROMIUM, VIEWPORT, PageErrors
from tests.factories import EventFactory, ProfileFactory, UserFactory
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes
from tests.support.media import janus_server
from venues.demo import build_demo_venue
from venues.models import Placement, PlacementKind
from venues.services import publish_layout

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.janus]

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
EVENT = "rooms-congress"

# What this page receives from the others, per remote feed: frames decoded and audio energy.
RECEIVED = """async () => {
  const room = window.medvenueRoom?.state;
  if (!room) return null;
  const out = {};
  for (const [feed, entry] of room.remote) {
    const pc = entry.handle?.webrtcStuff?.pc;
    if (!pc) continue;
    const got = { frames: 0, energy: 0, audioBytes: 0 };
    (await pc.getStats()).forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video") got.frames += s.framesDecoded || 0;
      if (s.kind === "audio") { got.energy += s.totalAudioEnergy || 0; got.audioBytes += s.bytesReceived || 0; }
    });
    out[feed] = got;
  }
  return out;
}"""


@pytest.fixture(scope="module")
def chromium_media(playwright_driver, bundle):
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*ARGS, *FAKE_MEDIA, "--autoplay-policy=no-user-gesture-required"],
    )
    yield browser
    browser.close()


@pytest.fixture
def rooms_party(transactional_db):
    venue = build_demo_venue()
    seminar = venue.halls.get(slug="seminar")
    pair = Placement.objects.create(
        hall=seminar,
        kind=PlacementKind.MEETING_ROOM,
        label="Table for two",
        x=9.5,
        z=-6.5,
        width=3,
        depth=3,
        props={"room": "workshop", "capacity": 2},
    )
    publish_layout(venue)
    today = timezone.now().date()
    event = EventFactory(
        slug=EVENT,
        timezone="Europe/Berlin",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        venue=venue,
    )
    people = {}
    for key, name, role in (
        ("ana", "Dr. Ana Ruiz", RegistrationRole.ATTENDEE),
        ("ben", "Dr. Ben Okoro", RegistrationRole.ATTENDEE),
        ("cleo", "Dr. Cleo Park", RegistrationRole.ATTENDEE),
        ("mod", "Mo Host", RegistrationRole.MODERATOR),
        ("expert", "Prof. Eva Expert", RegistrationRole.ATTENDEE),
    ):
        user = UserFactory(display_name=name)
        ProfileFactory(user=user, legal_name=name)
        Registration.objects.create(user=user, event=event, role=role)
        people[key] = user
    expert_room = Placement.objects.get(hall=seminar, label="Ask the expert")
    MeetingRoom.objects.get_or_create(placement=expert_room)[0].hosts.add(people["expert"])
    return {"event": event, "pair": pair, "expert_room": expert_room, **people}


def room_path(placement) -> str:
    return f"/events/{EVENT}/venue/seminar/rooms/{placement.pk}/"


def open_page(browser, base: str, user, path: str, errors: PageErrors):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base}])
    page = errors.attach(context.new_page())
    page.goto(base + path)
    return context, page


def press(page, selector: str) -> None:
    """Click a button through the page's own script: Playwright's pointer click waits on the
    renderer's input pipeline, which several pages decoding video on a loaded 2-core machine
    can hold up for longer than the test's patience."""
    page.wait_for_selector(selector, state="visible", timeout=60000)
    page.evaluate("(s) => document.querySelector(s).click()", selector)


def join(page) -> None:
    press(page, "#room-join")
    try:
        page.wait_for_function("document.body.dataset.inRoom === '1'", timeout=60000)
    except Exception as error:
        said = page.inner_text("#room-status")
        raise AssertionError(f"could not join; the page says {said!r}") from error
    assert page.inner_text("#room-cam-state") == "Camera ON"


def receives_from(page, count: int) -> dict:
    """Wait until frames and audio energy grow from `count` remote people; returns a reading."""
    page.wait_for_function(
        f"""async () => {{ const r = await ({RECEIVED})(); if (!r) return false;
            const v = Object.values(r);
            return v.length === {count} && v.every((g) => g.frames > 0 && g.energy > 0); }}""",
        timeout=90000,
    )
    first = page.evaluate(RECEIVED)
    page.wait_for_function(
        f"""async () => {{ const r = await ({RECEIVED})(); const before = {first!r};
            return Object.keys(before).every((f) => r[f] && r[f].frames > before[f].frames
              && r[f].energy > before[f].energy); }}""",
        timeout=30000,
    )
    return page.evaluate(RECEIVED)


# Join another room's Janus VideoRoom with this page's own room token; resolves with Janus's error.
FOREIGN_JOIN = """([room]) => new Promise((resolve) => {
  const s = window.medvenueRoom.state;
  s.janus.attach({
    plugin: "janus.plugin.videoroom",
    opaqueId: s.grant.opaque_id,
    success: (handle) => handle.send({ message: { request: "join", ptype: "publisher", room,
      id: s.grant.feed + 1000000, display: "intruder", token: s.grant.room_token } }),
    error: (e) => resolve("attach failed: " + e),
    onmessage: (message) => resolve(message.error || message.videoroom),
  });
})"""


def test_two_attendees_meet_a_third_is_refused_and_a_removed_one_stops(
    chromium_media, rooms_party, settings
):
    errors = PageErrors(websocket_expected=False)
    pair = rooms_party["pair"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        contexts = []
        pages = {}
        for key in ("ana", "ben", "cleo", "mod"):
            context, page = open_page(
                chromium_media, base, rooms_party[key], room_path(pair), errors
            )
            contexts.append(context)
            pages[key] = page
        ana, ben, cleo, host = pages["ana"], pages["ben"], pages["cleo"], pages["mod"]
        join(ana)
        join(ben)
        # Each receives the other's video (decoded frames) and sound (audio energy).
        receives_from(ana, 1)
        receives_from(ben, 1)
        ana.wait_for_function(
            "document.getElementById('room-count').textContent === '(2 of 2)'", timeout=10000
        )

        # A third beyond the capacity is refused with a clear message; no media starts.
        press(cleo, "#room-join")
        cleo.wait_for_function(
            "document.getElementById('room-status').textContent.includes('is full')",
            timeout=30000,
        )
        assert cleo.inner_text("#room-status") == (
            "Table for two is full: 2 of 2 places are taken. Try again when someone leaves, "
            "or choose another room."
        )
        assert cleo.inner_text("#room-cam-state") == "Camera off"

        # A token for this room is refused by Janus in another room.
        expert_id = 20_000_000 + rooms_party["expert_room"].pk
        from conference.services.media import rooms as service
        from venues.models import Hall

        for name, value in janus.settings().items():
            setattr(settings, name, value)
        other = service.get_room(Hall.objects.get(pk=pair.hall_id), rooms_party["expert_room"].pk)
        service.ensure_janus_room(other)
        answer = ana.evaluate(FOREIGN_JOIN, [expert_id])
        assert answer == "Unauthorized (not in the allowed list)"

        # The host removes Ben: his page leaves, his media stops reaching Ana.
        host.wait_for_selector(
            f"#room-people li[data-user='{rooms_party['ben'].pk}'] button[data-action=remove]",
            timeout=30000,
        )
        press(
            host, f"#room-people li[data-user='{rooms_party['ben'].pk}'] button[data-action=remove]"
        )
        ben.wait_for_function("document.body.dataset.inRoom === '0'", timeout=30000)
        ana.wait_for_function("window.medvenueRoom.state.remote.size === 0", timeout=30000)
        assert not RoomOccupant.objects.get(room__placement=pair, user=rooms_party["ben"]).active
        assert ben.evaluate("window.medvenueRoom.state.janus") is None
        # Janus itself no longer has him in the room.
        in_janus = service.janus_participants(service.get_room(pair.hall, pair.pk))
        assert in_janus == [service.feed_of(rooms_party["ana"].pk)]
        # And he cannot come back in.
        press(ben, "#room-join")
        ben.wait_for_function(
            "document.getElementById('room-status').textContent.includes('removed you')",
            timeout=30000,
        )
        for context in contexts:
            context.close()
    # Janus closing the removed user's session is expected; nothing else may go wrong.
    assert [e for e in errors if "WebSocket" not in e and "403" not in e and "409" not in e] == []


def test_the_expert_admits_the_first_in_the_queue_and_the_second_waits(chromium_media, rooms_party):
    errors = PageErrors(websocket_expected=False)
    room = rooms_party["expert_room"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        contexts = []
        pages = {}
        for key in ("expert", "ana", "ben"):
            context, page = open_page(
                chromium_media, base, rooms_party[key], room_path(room), errors
            )
            contexts.append(context)
            pages[key] = page
        expert, ana, ben = pages["expert"], pages["ana"], pages["ben"]
        # Joining without a slot is refused.
        press(ana, "#room-join")
        ana.wait_for_function(
            "document.getElementById('room-status').textContent.includes('request a slot')",
            timeout=30000,
        )
        press(ana, "#room-request")
        ana.wait_for_function("document.body.dataset.queue === 'waiting'", timeout=30000)
        # Ana keeps a private note while she waits.
        ana.fill("#room-note-text", "Start ACE inhibitor, recheck in 6 weeks.")
        press(ana, "#room-note-form button[type=submit]")
        ana.wait_for_function(
            "document.getElementById('room-note-status').textContent === 'Note saved.'"
        )
        press(ben, "#room-request")
        ben.wait_for_function("document.body.dataset.queue === 'waiting'", timeout=30000)
        assert ana.inner_text("#room-queue-mine").startswith("You are number 1 in the queue.")
        assert ben.inner_text("#room-queue-mine") == (
            "You are number 2 in the queue. Expected wait: about 10 minutes."
        )
        join(expert)
        expert.wait_for_function(
            "document.getElementById('room-queue-host').textContent === '2 waiting.'",
            timeout=30000,
        )
        press(expert, "#room-admit")
        ana.wait_for_function("document.body.dataset.queue === 'admitted'", timeout=30000)
        join(ana)
        receives_from(expert, 1)
        receives_from(ana, 1)
        # The second still waits, now first in line, and may not join.
        ben.wait_for_function(
            "document.getElementById('room-queue-mine').textContent.startsWith('You are number 1')",
            timeout=30000,
        )
        assert ben.evaluate("document.body.dataset.queue") == "waiting"
        press(ben, "#room-join")
        ben.wait_for_function(
            "document.getElementById('room-status').textContent.includes('request a slot')",
            timeout=30000,
        )
        assert ben.inner_text("#room-cam-state") == "Camera off"
        for context in contexts:
            context.close()
    assert [e for e in errors if "409" not in e] == []
