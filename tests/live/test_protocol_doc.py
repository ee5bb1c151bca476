"""A client that knows only docs/protocol.md, against a real uvicorn process (the documented
command): it logs in through the login form, finds the event's slug and the hall's id through the
documented API, and checks each documented behaviour. Event names, error codes and close codes
are read from the document itself: anything the server sends that the document does not name
fails the test."""

import asyncio
import datetime as dt
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from conference.models import MembershipRole, Registration, RegistrationRole
from tests.factories import (
    PASSWORD,
    EventFactory,
    HallFactory,
    MembershipFactory,
    ProfileFactory,
    SessionFactory,
    UserFactory,
)
from tests.live.servers import uvicorn_process

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def doc_table(heading: str) -> list[list[str]]:
    """The body rows (cells without backticks) of the first table at or after `heading`."""
    rows = []
    for line in DOC[DOC.index(heading) :].splitlines():
        if line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
            if not set(cells[0]) <= {"-"}:
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


ERROR_CODES = {row[0] for row in doc_table("## Error codes (replies)")}
# close code -> the documented `code` of the error push before it (None: "—", no push)
CLOSE_CODES = {
    int(row[0]): None if row[1].startswith("—") else row[1] for row in doc_table("| close code |")
}
PUSH_CODES = {code for code in CLOSE_CODES.values() if code}
# every dotted name the document mentions: actions and push events
DOC_NAMES = set(re.findall(r"`([a-z]+\.[a-z_]+)`", DOC)) | {"hello", "error"}


def test_the_document_lists_what_this_test_relies_on():
    assert {"invalid", "forbidden", "frame_too_large", "bad_frame", "already_voted"} <= ERROR_CODES
    assert CLOSE_CODES[4010] == "removed" and CLOSE_CODES[4009] == "revoked"
    assert CLOSE_CODES[4008] == "abuse" and 1009 in CLOSE_CODES
    assert {"removed", "revoked", "abuse", "unavailable"} <= PUSH_CODES
    assert {"qa.question", "qa.updated", "feed.skip", "presence.snapshot"} <= DOC_NAMES
    assert "16 KiB" in DOC and "1009" in DOC


class Browser:
    """An HTTP client with its own cookies, logging in as docs/protocol.md says."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def call(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        # the test server's own http:// address
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Referer", self.base + "/")
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, email: str, password: str) -> None:
        assert self.call("GET", "/accounts/login/")[0] == 200
        status, _ = self.call(
            "POST",
            "/accounts/login/",
            {
                "username": email,
                "password": password,
                "csrfmiddlewaretoken": self.cookie("csrftoken"),
            },
        )
        assert status == 302 and self.cookie("sessionid")

    def logout(self) -> int:
        return self.call(
            "POST", "/accounts/logout/", {"csrfmiddlewaretoken": self.cookie("csrftoken")}
        )[0]

    def json(self, path: str) -> dict:
        status, body = self.call("GET", path)
        assert status == 200, (path, status)
        return json.loads(body)


class DocClient:
    """One socket; checks every frame against the names the document gives."""

    def __init__(self, ws):
        self.ws = ws
        self.n = 0
        self.frames: list[dict] = []
        self.seen_events: set[str] = set()
        self.seen_codes: set[str] = set()

    @classmethod
    async def open(cls, browser: Browser, hall_id: int) -> "DocClient":
        ws = await websockets.connect(
            f"ws://127.0.0.1:{browser.base.rsplit(':', 1)[1]}/ws/halls/{hall_id}/",
            origin="http://127.0.0.1",
            additional_headers={"Cookie": f"sessionid={browser.cookie('sessionid')}"},
            max_size=None,
        )
        return cls(ws)

    async def next(self) -> dict:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
        if "event" in frame:
            assert frame["event"] in DOC_NAMES, f"undocumented push {frame['event']}"
            self.seen_events.add(frame["event"])
            if frame["event"] == "error":
                assert frame["data"]["code"] in PUSH_CODES, frame
        elif frame.get("ok") is False:
            assert frame["error"]["code"] in ERROR_CODES, frame
            self.seen_codes.add(frame["error"]["code"])
        return frame

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def request(self, action: str, data: dict | None = None) -> dict:
        self.n += 1
        rid = f"d{self.n}"
        await self.send(json.dumps({"id": rid, "action": action, "data": data or {}}))
        return await self.reply(rid)

    async def reply(self, rid) -> dict:
        while True:
            frame = await self.next()
            if "ok" in frame and frame.get("id") == rid:
                return frame
            self.frames.append(frame)

    async def push(self, predicate) -> dict:
        for frame in self.frames:
            if predicate(frame):
                self.frames.remove(frame)
                return frame
        while True:
            frame = await self.next()
            if predicate(frame):
                return frame
            self.frames.append(frame)

    async def closed(self) -> tuple[dict | None, int]:
        """The `error` push before the close (if any) and the close code."""
        error = next((f for f in self.frames if f.get("event") == "error"), None)
        try:
            while True:
                frame = await self.next()
                if frame.get("event") == "error":
                    error = frame
        except websockets.ConnectionClosed:
            pass
        code = self.ws.close_code
        assert code in CLOSE_CODES, f"undocumented close code {code}"
        expected = CLOSE_CODES[code]
        if expected is not None:
            assert error is not None and error["data"]["code"] == expected
        return error, code


def event_is(name, **fields):
    return lambda f: (
        f.get("event") == name and all(f["data"].get(k) == v for k, v in fields.items())
    )


@pytest.fixture
def congress(db):
    """A published event whose session (on now) requires Q&A moderation; two attendees, a
    moderator as the demo has one (organizer member with the moderator role, also registered as
    moderator), and an owner of the organizer."""
    event = EventFactory(start_date=timezone.now().date() - dt.timedelta(days=1))
    hall = HallFactory()
    event.venue = hall.venue
    event.save()
    now = timezone.now()
    SessionFactory(
        event=event,
        hall=hall,
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(minutes=50),
        qa_moderation_required=True,
    )
    people = {}
    for name in ("alice", "bob"):
        user = UserFactory()
        ProfileFactory(user=user)
        Registration.objects.create(user=user, event=event)
        people[name] = user
    moderator = MembershipFactory(organizer=event.organizer, role=MembershipRole.MODERATOR).user
    Registration.objects.create(user=moderator, event=event, role=RegistrationRole.MODERATOR)
    people["moderator"] = moderator
    people["owner"] = MembershipFactory(organizer=event.organizer, role=MembershipRole.OWNER).user
    # the server runs the production settings, whose hashers do not read the tests' fast MD5
    for user in people.values():
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "docsalt", iterations=1000)
        user.save(update_fields=["password"])
    return {"event": event, "hall": hall, **people}


async def test_a_client_written_from_the_document(congress):
    seen_events: set[str] = set()
    seen_codes: set[str] = set()
    with uvicorn_process() as (port, _process):
        browsers = {}
        for name in ("alice", "bob", "moderator"):
            browsers[name] = Browser(port)
            await asyncio.to_thread(browsers[name].login, congress[name].email, PASSWORD)

        # finding the event and the hall, as documented
        slug = congress["event"].slug
        published = await asyncio.to_thread(browsers["alice"].json, "/api/events/")
        assert slug in [e["slug"] for e in published["results"]]
        mine = await asyncio.to_thread(browsers["alice"].json, "/api/me/registrations/")
        assert [r["event"]["slug"] for r in mine["results"]] == [slug]
        venue = await asyncio.to_thread(browsers["alice"].json, f"/api/events/{slug}/venue/")
        hall_id = congress["hall"].pk
        assert hall_id in [h["id"] for h in venue["halls"]]

        clients = {name: await DocClient.open(b, hall_id) for name, b in browsers.items()}
        alice, bob, moderator = clients["alice"], clients["bob"], clients["moderator"]
        for client in clients.values():
            hello = await client.next()
            assert hello["event"] == "hello"  # always the first frame
            assert (await client.next())["event"] == "presence.snapshot"
            client.hello = hello["data"]
        assert (alice.hello["role"], alice.hello["moderator"]) == ("attendee", False)
        # the demo's kind of moderator: organizer moderator and registered moderator
        assert (moderator.hello["role"], moderator.hello["moderator"]) == ("staff", True)
        start = alice.hello["seq"]

        # attendance: the first heartbeat after connecting is recorded, the next one is not
        first = await alice.request("attendance.heartbeat")
        assert first["data"]["recorded"] is True
        assert (await alice.request("attendance.heartbeat"))["data"]["recorded"] is False

        # a question awaiting moderation: its seq reaches attendees as feed.skip
        asked = await alice.request("qa.ask", {"text": "What is the NNT?", "key": "doc-1"})
        question, seq = asked["data"]["question"], asked["data"]["seq"]
        assert question["status"] == "pending"
        assert (await bob.push(lambda f: f.get("seq") == seq))["event"] == "feed.skip"
        pending = await moderator.push(lambda f: f.get("seq") == seq)
        assert (pending["event"], pending["data"]["id"]) == ("qa.question", question["id"])
        # approved: attendees get it as qa.updated with the full question
        approved = await moderator.request(
            "qa.moderate", {"question": question["id"], "op": "approve"}
        )
        assert approved["ok"] is True
        update = await bob.push(lambda f: f.get("seq") == approved["data"]["seq"])
        assert update["event"] == "qa.updated"
        assert update["data"]["status"] == "approved"
        assert update["data"]["text"] == "What is the NNT?"

        own = await alice.request("qa.vote", {"question": question["id"]})
        assert own["error"]["code"] == "invalid"  # voting on one's own question
        voted = await bob.request("qa.vote", {"question": question["id"]})
        assert voted["ok"] is True
        again = await bob.request("qa.vote", {"question": question["id"]})
        assert again["error"]["code"] == "already_voted"

        # error replies carry the frame's readable id
        big = json.dumps({"id": "big", "action": "chat.send", "data": {"text": "x" * 9000}})
        await bob.send(big)
        assert (await bob.reply("big"))["error"]["code"] == "frame_too_large"
        await bob.send(json.dumps({"id": 7, "action": "qa.list"}))
        assert (await bob.reply(7))["error"]["code"] == "bad_frame"
        await bob.send(json.dumps({"id": "i" * 65, "action": "qa.list"}))
        assert (await bob.reply("i" * 65))["error"]["code"] == "bad_frame"
        await bob.send("[]")
        assert (await bob.reply(None))["error"]["code"] == "bad_frame"

        # the resume returns every position after `since`: items or their placeholders
        resumed = await alice.request("feed.resume", {"since": start})
        seqs = [item["seq"] for item in resumed["data"]["items"]]
        assert seqs == list(range(start + 1, voted["data"]["seq"] + 1))
        assert resumed["data"]["items"][0]["event"] == "feed.skip"  # her pending question
        assert resumed["data"]["more"] is False

        # moderation of people
        refused = await moderator.request("hall.remove", {"user": congress["owner"].pk})
        assert refused["error"]["code"] == "forbidden"  # organizer staff
        refused = await moderator.request("hall.remove", {"user": congress["moderator"].pk})
        assert refused["error"]["code"] == "invalid"  # themselves
        removed = await moderator.request("hall.remove", {"user": congress["bob"].pk})
        assert removed["ok"] is True
        error, code = await bob.closed()
        assert (error["data"]["code"], code) == ("removed", 4010)
        bob = await DocClient.open(browsers["bob"], hall_id)
        error, code = await bob.closed()
        assert (error["data"]["code"], code) == ("removed", 4010)  # re-entry refused

        # logging out closes that browser's sockets only
        phone = Browser(port)
        await asyncio.to_thread(phone.login, congress["alice"].email, PASSWORD)
        on_phone = await DocClient.open(phone, hall_id)
        assert (await on_phone.next())["event"] == "hello"
        assert await asyncio.to_thread(browsers["alice"].logout) == 302
        error, code = await alice.closed()
        assert (error["data"]["code"], code) == ("revoked", 4009)
        assert (await on_phone.request("qa.list"))["ok"] is True

        # a frame over the 16 KiB protocol limit closes the socket with 1009, no reply
        await on_phone.send(json.dumps({"id": "huge", "action": "qa.list", "x": "y" * 17000}))
        error, code = await on_phone.closed()
        assert code == 1009 and error is None
        assert not [f for f in on_phone.frames if f.get("id") == "huge"]

        for client in (alice, bob, moderator, on_phone, *clients.values()):
            seen_events |= client.seen_events
            seen_codes |= client.seen_codes
            await client.ws.close()
    assert {"hello", "feed.skip", "qa.question", "qa.updated", "error"} <= seen_events
    assert {"invalid", "forbidden", "already_voted", "frame_too_large", "bad_frame"} <= seen_codes
