"""How ffprobe and ffmpeg may open a media file: the one file, by its exact path, in a container
format from a short allow-list (issue 12).

ffmpeg decides what a file is from its content, and several of its formats are lists that name
other inputs: an HLS playlist (`#EXTM3U`) or a concat list names files and URLs that ffmpeg then
opens, so a 162-byte "lecture.mp4" holding a playlist would make the worker read another
organizer's segments, or fetch URLs (SSRF). Three layers keep every upload to itself:

1. `indirection_reason` reads the first bytes: a text file (no video is one) is refused before
   ffprobe runs, naming what it is when it is a playlist, concat list, manifest or SDP;
2. every ffprobe/ffmpeg call opens `file:<absolute path>` with `-protocol_whitelist file`
   (no http, tcp, subfile, concat, data, crypto ... protocols) and `-format_whitelist` of the
   allowed demuxers, so a list format is refused by ffmpeg itself even if it got past (1);
3. the probed format must be one of `ALLOWED_DEMUXERS`, and ffmpeg is then run with that
   demuxer forced (`-f`), so it never guesses again.

MP4/MOV references to external files ("drefs") stay off: ffmpeg's `enable_drefs` is off by
default and, with the `file` protocol only on an exact path, there is nothing else to open.
"""

import re
from pathlib import Path

# ffprobe's demuxer name -> what organizers call it. The first name of ffprobe's
# `format_name` ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm") is the demuxer.
ALLOWED_DEMUXERS = {
    "mov": "MP4/MOV",
    "matroska": "MKV/WebM",
    "mpegts": "MPEG-TS",
    "avi": "AVI",
}
ALLOWED_DESCRIPTION = (
    ", ".join([*ALLOWED_DEMUXERS.values()][:-1]) + f" or {[*ALLOWED_DEMUXERS.values()][-1]}"
)
# Demuxers that read lists of other inputs, and what to tell the organizer about them.
LIST_FORMATS = {
    "hls": "an HLS playlist (a list naming other files or addresses)",
    "concat": "a concat list (a list naming other files)",
    "dash": "a DASH manifest (a list naming other files or addresses)",
    "sdp": "a session description (it names network addresses)",
    "rtsp": "a network stream description",
    "mpjpeg": "a multipart stream",
    "ffmetadata": "an ffmpeg metadata file",
    "tedcaptions": "a caption file",
}
IMAGE_DEMUXERS = re.compile(r"^(image2|gif|[a-z0-9]+_pipe)$")
SNIFF_BYTES = 4096
TEXT_MARKERS = (
    (re.compile(rb"^\s*#EXTM3U", re.IGNORECASE), LIST_FORMATS["hls"]),
    (re.compile(rb"^\s*ffconcat\s+version", re.IGNORECASE), LIST_FORMATS["concat"]),
    (re.compile(rb"^\s*file\s+\S", re.IGNORECASE | re.MULTILINE), LIST_FORMATS["concat"]),
    (re.compile(rb"<\s*MPD[\s>]", re.IGNORECASE), LIST_FORMATS["dash"]),
    (re.compile(rb"^\s*v=0\s*$", re.MULTILINE), LIST_FORMATS["sdp"]),
    (re.compile(rb"^\s*\[playlist\]", re.IGNORECASE), "a playlist (a list naming other files)"),
    (re.compile(rb"^\s*;FFMETADATA", re.IGNORECASE), LIST_FORMATS["ffmetadata"]),
)
UPLOAD_ADVICE = "Upload the video file itself ({formats})."
NOT_ON_WHITELIST = re.compile(r"^\[(?P<demuxer>[a-z0-9_]+) @ [^\]]*\] Format not on whitelist")


class RefusedInput(ValueError):
    """The file is, or points at, something other than one video; the message says why."""


def input_url(path: Path) -> str:
    """The exact file, never a URL or protocol: `file:` + the absolute path."""
    return f"file:{Path(path).resolve()}"


def input_options(demuxer: str | None = None) -> list[str]:
    """The options in front of `-i` for a media file; `demuxer` forces the probed format."""
    options = ["-protocol_whitelist", "file", "-format_whitelist", ",".join(ALLOWED_DEMUXERS)]
    if demuxer is not None:
        options += ["-f", checked_demuxer(demuxer)]
    return options


def input_arguments(path: Path, demuxer: str | None = None) -> list[str]:
    """`[...options, "-i", "file:/abs/path"]`: what every ffmpeg call on a media file uses."""
    return [*input_options(demuxer), "-i", input_url(path)]


def demuxer_of(format_name: str) -> str:
    """The demuxer of ffprobe's `format_name` ("mov,mp4,m4a,3gp,3g2,mj2" -> "mov")."""
    return format_name.split(",", 1)[0].strip()


def checked_demuxer(format_name: str) -> str:
    """The demuxer of `format_name` when it is allowed; RefusedInput with the reason if not."""
    demuxer = demuxer_of(format_name)
    if demuxer not in ALLOWED_DEMUXERS:
        raise RefusedInput(refusal_for_demuxer(demuxer))
    return demuxer


def refusal_for_demuxer(demuxer: str) -> str:
    advice = UPLOAD_ADVICE.format(formats=ALLOWED_DESCRIPTION)
    if demuxer in LIST_FORMATS:
        return f"This file is {LIST_FORMATS[demuxer]}, not a video. {advice}"
    if IMAGE_DEMUXERS.match(demuxer):
        return "This is a still image, not a video."
    return f"Videos in the {demuxer} format are not accepted. {advice}"


def indirection_reason(path: Path) -> str:
    """Why the file's first bytes show it is not a video (a list of other inputs, any text),
    or "" when they may be one."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head or not _is_text(head):
        return ""  # binary: ffprobe, held to the allowed formats, decides
    advice = UPLOAD_ADVICE.format(formats=ALLOWED_DESCRIPTION)
    for marker, kind in TEXT_MARKERS:
        if marker.search(head):
            return f"This file is {kind}, not a video. {advice}"
    return f"This is a text file, not a video. {advice}"


def whitelist_refusal(stderr: str) -> str:
    """The reason for ffprobe's "Format not on whitelist" error ("" for any other error)."""
    for line in stderr.splitlines():
        if match := NOT_ON_WHITELIST.match(line.strip()):
            return refusal_for_demuxer(match["demuxer"])
    return ""


def _is_text(head: bytes) -> bool:
    """No NUL byte and valid UTF-8 (a cut multi-byte character at the end is allowed)."""
    if b"\x00" in head:
        return False
    try:
        head.decode()
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3 and len(head) == SNIFF_BYTES
    return True
