// Canvas-drawn textures: floors, wall panels and every readable sign of the venue.
import { CanvasTexture, RepeatWrapping, SRGBColorSpace } from "three";

export const FONT = "'Liberation Sans', 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif";

function canvas(width, height) {
  const element = document.createElement("canvas");
  element.width = width;
  element.height = height;
  return [element, element.getContext("2d")];
}

function texture(element, { repeat = null, anisotropy = 4 } = {}) {
  const result = new CanvasTexture(element);
  result.colorSpace = SRGBColorSpace;
  result.anisotropy = anisotropy;
  if (repeat) {
    result.wrapS = result.wrapT = RepeatWrapping;
    result.repeat.set(repeat[0], repeat[1]);
  }
  return result;
}

/** A pseudo-random generator with a seed, so that textures look the same on every load. */
export function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Polished stone tiles (lobby): large pale slabs with soft veining and thin joints. */
export function stoneFloor(tilesX, tilesZ) {
  const [element, g] = canvas(512, 512);
  const random = seeded(7);
  const tones = ["#d9d1c3", "#cfc6b6", "#ddd6c9", "#c9bfae"];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      g.fillStyle = tones[(i * 2 + j) % tones.length];
      g.fillRect(i * 256, j * 256, 256, 256);
      g.strokeStyle = "rgba(150,140,125,0.18)";
      g.lineWidth = 1.5;
      for (let v = 0; v < 5; v++) {
        g.beginPath();
        let x = i * 256 + random() * 256;
        let y = j * 256;
        g.moveTo(x, y);
        while (y < (j + 1) * 256) {
          x += (random() - 0.5) * 40;
          y += 20 + random() * 30;
          g.lineTo(x, y);
        }
        g.stroke();
      }
    }
  }
  g.fillStyle = "rgba(120,110,95,0.55)";
  g.fillRect(0, 0, 512, 2);
  g.fillRect(0, 255, 512, 2);
  g.fillRect(0, 0, 2, 512);
  g.fillRect(255, 0, 2, 512);
  return texture(element, { repeat: [tilesX / 2, tilesZ / 2], anisotropy: 8 });
}

/** Woven carpet (halls): a deep tone with a fine, quiet pattern. */
export function carpet(base, accent, repeatX, repeatZ) {
  const [element, g] = canvas(256, 256);
  const random = seeded(11);
  g.fillStyle = base;
  g.fillRect(0, 0, 256, 256);
  for (let i = 0; i < 2600; i++) {
    g.fillStyle = `rgba(255,255,255,${random() * 0.05})`;
    g.fillRect(random() * 256, random() * 256, 2, 2);
  }
  g.strokeStyle = accent;
  g.globalAlpha = 0.35;
  g.lineWidth = 2;
  for (let k = 0; k < 256; k += 64) {
    g.beginPath();
    g.moveTo(k + 32, 16);
    g.lineTo(k + 48, 32);
    g.lineTo(k + 32, 48);
    g.lineTo(k + 16, 32);
    g.closePath();
    g.stroke();
    g.beginPath();
    g.moveTo(k + 32, 144);
    g.lineTo(k + 48, 160);
    g.lineTo(k + 32, 176);
    g.lineTo(k + 16, 160);
    g.closePath();
    g.stroke();
  }
  g.globalAlpha = 1;
  return texture(element, { repeat: [repeatX, repeatZ], anisotropy: 8 });
}

/** Vertical wood slats for wall cladding and the stage front. */
export function woodSlats(repeatX) {
  const [element, g] = canvas(256, 256);
  const random = seeded(5);
  for (let x = 0; x < 256; x += 32) {
    const tone = 120 + random() * 30;
    g.fillStyle = `rgb(${tone + 55},${tone + 20},${tone - 30})`;
    g.fillRect(x, 0, 28, 256);
    for (let k = 0; k < 14; k++) {
      g.fillStyle = `rgba(80,45,20,${0.06 + random() * 0.08})`;
      g.fillRect(x + random() * 26, 0, 1 + random() * 2, 256);
    }
    g.fillStyle = "#3b2616";
    g.fillRect(x + 28, 0, 4, 256);
  }
  return texture(element, { repeat: [repeatX, 1] });
}

function wrapLines(g, text, maxWidth, maxLines) {
  const words = String(text || "")
    .split(/\s+/)
    .filter(Boolean);
  const lines = [];
  let line = "";
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (g.measureText(candidate).width <= maxWidth || !line) {
      line = candidate;
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = `${lines[maxLines - 1].replace(/\s+\S*$/, "")}…`;
  }
  return lines;
}

/**
 * A sign: a dark or light panel with a heading and optional lines, drawn at `width`×`height`
 * pixels. Returns the texture; the caller picks a plane of the same aspect ratio.
 */
export function signTexture({
  width = 1024,
  height = 256,
  title,
  lines = [],
  kicker = "",
  background = "#0f2a44",
  foreground = "#ffffff",
  accent = "#2dd4bf",
  titleSize = 0,
  align = "center",
}) {
  const [element, g] = canvas(width, height);
  const gradient = g.createLinearGradient(0, 0, 0, height);
  gradient.addColorStop(0, background);
  gradient.addColorStop(1, shade(background, -0.25));
  g.fillStyle = gradient;
  g.fillRect(0, 0, width, height);
  g.fillStyle = accent;
  g.fillRect(0, height - Math.max(6, height * 0.03), width, Math.max(6, height * 0.03));
  const pad = width * 0.05;
  const x = align === "center" ? width / 2 : pad;
  g.textAlign = align === "center" ? "center" : "left";
  g.textBaseline = "alphabetic";
  let y = pad * 0.6;
  if (kicker) {
    const size = Math.round(height * 0.09);
    g.font = `700 ${size}px ${FONT}`;
    g.fillStyle = accent;
    y += size;
    g.fillText(kicker.toUpperCase(), x, y);
    y += size * 0.5;
  }
  const size = titleSize || Math.round(Math.min(height * (lines.length ? 0.2 : 0.42), width * 0.08));
  g.font = `700 ${size}px ${FONT}`;
  g.fillStyle = foreground;
  const titleLines = wrapLines(g, title, width - pad * 2, lines.length ? 2 : 2);
  if (!lines.length && !kicker) y = (height - titleLines.length * size * 1.15) / 2 - size * 0.15;
  for (const line of titleLines) {
    y += size * 1.12;
    g.fillText(line, x, y);
  }
  const small = Math.round(size * 0.52);
  g.font = `400 ${small}px ${FONT}`;
  g.fillStyle = shade(foreground, -0.12);
  y += small * 0.5;
  for (const text of lines) {
    for (const line of wrapLines(g, text, width - pad * 2, 2)) {
      y += small * 1.3;
      if (y > height - small * 0.6) break;
      g.fillText(line, x, y);
    }
  }
  return texture(element, { anisotropy: 8 });
}

/** Lighten (amount > 0) or darken (amount < 0) a #rrggbb colour. */
export function shade(hex, amount) {
  const value = parseInt(hex.slice(1), 16);
  const channel = (shift) => {
    const c = (value >> shift) & 255;
    const target = amount < 0 ? 0 : 255;
    return Math.round(c + (target - c) * Math.abs(amount));
  };
  return `rgb(${channel(16)},${channel(8)},${channel(0)})`;
}
