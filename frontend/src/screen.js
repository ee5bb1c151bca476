// The hall's main screen: the current session as a slide (CanvasTexture), or its HLS stream.
import { CanvasTexture, SRGBColorSpace, VideoTexture } from "three";
import { FONT } from "./textures.js";

function formatter(timeZone, options) {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone, ...options });
  } catch {
    return new Intl.DateTimeFormat("en-GB", options);
  }
}

/** "Tue 24 Nov, 09:00–10:30 CET" in the event's time zone, with the zone's abbreviation as
 * the server writes it on every page (the manifest's `zone`; ICU would say "GMT+1"). */
export function sessionTime(session, timeZone) {
  if (!session?.starts_at) return "";
  const day = formatter(timeZone, { weekday: "short", day: "numeric", month: "short" });
  const clock = formatter(timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const start = new Date(session.starts_at);
  const end = new Date(session.ends_at);
  const zone = session.zone ? ` ${session.zone}` : "";
  return `${day.format(start)}, ${clock.format(start)}–${clock.format(end)}${zone}`;
}

function wrap(g, text, maxWidth) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (g.measureText(candidate).width > maxWidth && line) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

/** Draw the slide for `now` (or a welcome slide) on a 16:9 canvas. */
export function slideTexture({ hall, event, now, next }) {
  const element = document.createElement("canvas");
  element.width = 1600;
  element.height = 900;
  const g = element.getContext("2d");
  const gradient = g.createLinearGradient(0, 0, 1600, 900);
  gradient.addColorStop(0, "#0b2545");
  gradient.addColorStop(0.6, "#13315c");
  gradient.addColorStop(1, "#0d4d5c");
  g.fillStyle = gradient;
  g.fillRect(0, 0, 1600, 900);
  g.fillStyle = "rgba(45,212,191,0.9)";
  g.fillRect(110, 150, 120, 10);
  g.fillStyle = "rgba(255,255,255,0.06)";
  g.beginPath();
  g.arc(1450, 120, 360, 0, Math.PI * 2);
  g.fill();
  g.textBaseline = "alphabetic";
  g.fillStyle = "#99f6e4";
  g.font = `700 40px ${FONT}`;
  g.fillText(`${event.title}`.toUpperCase().slice(0, 60), 110, 120);
  const session = now || next;
  const label = now ? "NOW IN " : next ? "NEXT IN " : "";
  g.fillStyle = "#ffffff";
  let y = 350;
  if (session) {
    g.font = `700 34px ${FONT}`;
    g.fillStyle = "#5eead4";
    g.fillText(`${label}${hall.name}`.toUpperCase(), 110, 230);
    g.fillStyle = "#ffffff";
    g.font = `700 84px ${FONT}`;
    const lines = wrap(g, session.title, 1380).slice(0, 3);
    for (const line of lines) {
      g.fillText(line, 110, y);
      y += 100;
    }
    g.font = `400 46px ${FONT}`;
    g.fillStyle = "#e2e8f0";
    const speakers = (session.speakers || []).join(" · ");
    for (const line of wrap(g, speakers, 1380).slice(0, 2)) {
      y += 14;
      g.fillText(line, 110, y);
      y += 50;
    }
    g.font = `700 44px ${FONT}`;
    g.fillStyle = "#fbbf24";
    g.fillText(sessionTime(session, event.timezone), 110, 820);
  } else {
    g.font = `700 96px ${FONT}`;
    g.fillText(`Welcome to ${hall.name}`, 110, 330);
    g.font = `400 48px ${FONT}`;
    g.fillStyle = "#e2e8f0";
    g.fillText("No session is scheduled here right now.", 110, 420);
  }
  const result = new CanvasTexture(element);
  result.colorSpace = SRGBColorSpace;
  result.anisotropy = 8;
  return result;
}

/**
 * Play `url` into a hidden <video>; resolves with a VideoTexture, or null when the stream
 * cannot play. hls.js is imported only here, so pages without a stream never download it.
 */
export async function streamTexture(url, onFrame) {
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.crossOrigin = "anonymous";
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
  } else {
    const { default: Hls } = await import("hls.js");
    if (!Hls.isSupported()) return null;
    const hls = new Hls({ enableWorker: true, lowLatencyMode: true });
    hls.loadSource(url);
    hls.attachMedia(video);
  }
  try {
    await video.play();
  } catch {
    return null;
  }
  const result = new VideoTexture(video);
  result.colorSpace = SRGBColorSpace;
  const tick = () => {
    onFrame();
    video.requestVideoFrameCallback(tick);
  };
  if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(tick);
  return result;
}
