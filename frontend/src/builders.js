// Turn one hall of the layout manifest into three.js objects. Coordinates are the manifest's:
// metres, origin at the hall's centre, x east, z south, y up; a placement's visible face points
// to its local +z, and yaw (degrees, counter-clockwise) turns it about y.
import {
  BoxGeometry,
  CanvasTexture,
  CylinderGeometry,
  DoubleSide,
  Group,
  InstancedMesh,
  Matrix4,
  Mesh,
  MeshBasicMaterial,
  MeshStandardMaterial,
  Object3D,
  PlaneGeometry,
  Quaternion,
  SphereGeometry,
  SpotLight,
  SRGBColorSpace,
  Vector3,
} from "three";
import { mergeGeometries } from "three/examples/jsm/utils/BufferGeometryUtils.js";
import { slideTexture } from "./screen.js";
import { carpet, signTexture, stoneFloor, woodSlats } from "./textures.js";

const DEG = Math.PI / 180;

const STYLES = {
  lobby: { floor: "stone", wall: "#efe9df", wallHeight: 9, ceiling: "#f4f1ea", accent: "#0d9488" },
  auditorium: { floor: ["#1c2a4a", "#3b5b8c"], wall: "#3a2a20", wallHeight: 11, ceiling: "#1b1d24", accent: "#2dd4bf" },
  poster_hall: { floor: ["#5b6472", "#8d97a6"], wall: "#eef1f5", wallHeight: 7, ceiling: "#f3f4f6", accent: "#0ea5e9" },
  exhibit_hall: {
    floor: ["#3f4d5f", "#6b7d93"],
    wall: "#edf0f3",
    wallHeight: 8,
    ceiling: "#f3f4f6",
    accent: "#f59e0b",
  },
  lounge: { floor: ["#5b3a29", "#8a5a3c"], wall: "#efe6d8", wallHeight: 6, ceiling: "#f5efe6", accent: "#14b8a6" },
};

export function styleOf(hall) {
  return STYLES[hall.kind] || STYLES.auditorium;
}

function place(object, p, y = 0) {
  object.position.set(p.x, y, p.z);
  object.rotation.y = (p.yaw || 0) * DEG;
  return object;
}

function standard(color, options = {}) {
  return new MeshStandardMaterial({ color, roughness: 0.7, metalness: 0, ...options });
}

function box(width, height, depth, material, x = 0, y = 0, z = 0) {
  const mesh = new Mesh(new BoxGeometry(width, height, depth), material);
  mesh.position.set(x, y, z);
  return mesh;
}

function signMesh(textureOptions, width, height) {
  const material = new MeshBasicMaterial({ map: signTexture(textureOptions), toneMapped: false });
  const mesh = new Mesh(new PlaneGeometry(width, height), material);
  mesh.name = "sign";
  return mesh;
}

/** A wall box from a to b, with its texture coordinates in metres / `tile`. */
function wallSegment(a, b, height, thickness, tile, y0 = 0) {
  const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const geometry = new BoxGeometry(length + thickness, height, thickness);
  const uv = geometry.attributes.uv;
  for (let i = 0; i < uv.count; i++) uv.setX(i, uv.getX(i) * (length / tile));
  const angle = Math.atan2(-(b[1] - a[1]), b[0] - a[0]);
  geometry.applyMatrix4(
    new Matrix4().compose(
      new Vector3((a[0] + b[0]) / 2, y0 + height / 2, (a[1] + b[1]) / 2),
      new Quaternion().setFromAxisAngle(new Vector3(0, 1, 0), angle),
      new Vector3(1, 1, 1),
    ),
  );
  return geometry;
}

function insetBoundary(boundary, inset) {
  const cx = boundary.reduce((s, p) => s + p[0], 0) / boundary.length;
  const cz = boundary.reduce((s, p) => s + p[1], 0) / boundary.length;
  return boundary.map(([x, z]) => {
    const dx = x - cx;
    const dz = z - cz;
    return [x - Math.sign(dx) * inset, z - Math.sign(dz) * inset];
  });
}

function buildShell(hall, style, group) {
  const width = hall.width;
  const depth = hall.depth;
  const floorMap =
    style.floor === "stone"
      ? stoneFloor(width / 2, depth / 2)
      : carpet(style.floor[0], style.floor[1], width / 3, depth / 3);
  const floor = new Mesh(
    new PlaneGeometry(width, depth),
    standard("#ffffff", { map: floorMap, roughness: style.floor === "stone" ? 0.28 : 0.95 }),
  );
  floor.rotation.x = -Math.PI / 2;
  floor.name = "floor";
  group.add(floor);

  const boundary =
    hall.boundary?.length >= 3
      ? hall.boundary
      : [
          [-width / 2, -depth / 2],
          [width / 2, -depth / 2],
          [width / 2, depth / 2],
          [-width / 2, depth / 2],
        ];
  const walls = [];
  const panels = [];
  const panelled = insetBoundary(boundary, 0.16);
  const h = style.wallHeight;
  for (let i = 0; i < boundary.length; i++) {
    const a = boundary[i];
    const b = boundary[(i + 1) % boundary.length];
    walls.push(wallSegment(a, b, h, 0.3, 4));
    panels.push(
      wallSegment(
        panelled[i],
        panelled[(i + 1) % boundary.length],
        hall.kind === "auditorium" ? h * 0.72 : 1.3,
        0.05,
        1.2,
      ),
    );
  }
  const wallMesh = new Mesh(mergeGeometries(walls), standard(style.wall, { roughness: 0.9 }));
  wallMesh.name = "walls";
  group.add(wallMesh);
  const wood = woodSlats(1);
  const panelMesh = new Mesh(mergeGeometries(panels), standard("#ffffff", { map: wood, roughness: 0.6 }));
  panelMesh.name = "wall-panels";
  group.add(panelMesh);

  const ceiling = new Mesh(
    new PlaneGeometry(width, depth),
    standard(style.ceiling, {
      roughness: 1,
      emissive: style.ceiling,
      emissiveIntensity: hall.kind === "auditorium" ? 0.1 : 0.55,
    }),
  );
  ceiling.rotation.x = Math.PI / 2;
  ceiling.position.y = h;
  group.add(ceiling);

  const lights = [];
  const stepX = Math.max(4, width / Math.ceil(width / 6));
  const stepZ = Math.max(4, depth / Math.ceil(depth / 6));
  for (let x = -width / 2 + stepX / 2; x < width / 2; x += stepX) {
    for (let z = -depth / 2 + stepZ / 2; z < depth / 2; z += stepZ) lights.push([x, z]);
  }
  const panel = new InstancedMesh(
    new BoxGeometry(hall.kind === "auditorium" ? 0.5 : 2.4, 0.06, hall.kind === "auditorium" ? 0.5 : 0.5),
    new MeshBasicMaterial({ color: hall.kind === "auditorium" ? "#ffd9a0" : "#fffaf0" }),
    lights.length,
  );
  const dummy = new Object3D();
  lights.forEach(([x, z], i) => {
    dummy.position.set(x, h - 0.04, z);
    dummy.updateMatrix();
    panel.setMatrixAt(i, dummy.matrix);
  });
  group.add(panel);
  return floor;
}

function buildStage(p, style, group) {
  const stage = new Group();
  const height = p.height || 1;
  const top = box(p.width, 0.08, p.depth, standard("#2b2f36", { roughness: 0.45 }), 0, height - 0.04, 0);
  const body = new Mesh(
    new BoxGeometry(p.width, height - 0.08, p.depth),
    standard("#ffffff", { map: woodSlats(p.width / 1.2), roughness: 0.55 }),
  );
  body.position.y = (height - 0.08) / 2;
  const strip = box(
    p.width,
    0.05,
    0.04,
    new MeshBasicMaterial({ color: style.accent }),
    0,
    height - 0.1,
    p.depth / 2 + 0.02,
  );
  const lectern = new Group();
  lectern.add(box(0.7, 1.1, 0.5, standard("#5a3a22", { roughness: 0.45 }), 0, 0.55, 0));
  lectern.add(box(0.8, 0.05, 0.6, standard("#1f2937", { roughness: 0.3 }), 0, 1.12, -0.02));
  lectern.add(box(0.5, 0.32, 0.01, new MeshBasicMaterial({ color: style.accent }), 0, 0.7, 0.256));
  lectern.position.set(p.width * 0.3, height, p.depth * 0.1);
  lectern.rotation.y = -12 * DEG;
  const table = new Group();
  table.add(box(3.2, 0.06, 0.8, standard("#f8fafc", { roughness: 0.35 }), 0, 0.76, 0));
  table.add(box(3.2, 0.7, 0.04, standard("#0f2a44", { roughness: 0.6 }), 0, 0.4, 0.38));
  table.position.set(-p.width * 0.22, height, p.depth * 0.05);
  stage.add(top, body, strip, lectern, table);
  group.add(place(stage, p));
  for (const side of [-1, 1]) {
    const spot = new SpotLight("#fff1dc", 260, 30, 28 * DEG, 0.5, 1.6);
    spot.position.set(p.x + side * p.width * 0.45, 9, p.z + p.depth + 6);
    spot.target.position.set(p.x + side * p.width * 0.1, height, p.z);
    group.add(spot, spot.target);
  }
}

function buildScreen(p, context, group, onTexture) {
  const elevation = p.props?.elevation ?? 2.5;
  const height = p.height || p.width * 0.5625;
  const screen = new Group();
  const frame = box(
    p.width + 0.5,
    height + 0.5,
    0.2,
    standard("#0b0f17", { roughness: 0.4, metalness: 0.3 }),
    0,
    height / 2,
    -0.08,
  );
  const slide = slideTexture(context);
  const face = new Mesh(new PlaneGeometry(p.width, height), new MeshBasicMaterial({ map: slide, toneMapped: false }));
  face.position.set(0, height / 2, 0.03);
  face.name = "screen";
  screen.add(frame, face);
  group.add(place(screen, p, elevation));
  onTexture(face);
  return face;
}

function seatGeometry() {
  const parts = [
    new BoxGeometry(0.5, 0.1, 0.46).translate(0, 0.45, 0),
    new BoxGeometry(0.5, 0.58, 0.08).translate(0, 0.76, 0.22).rotateX(0),
    new BoxGeometry(0.06, 0.25, 0.46).translate(-0.27, 0.58, 0),
    new BoxGeometry(0.06, 0.25, 0.46).translate(0.27, 0.58, 0),
    new BoxGeometry(0.08, 0.42, 0.08).translate(0, 0.2, 0),
  ];
  return mergeGeometries(parts.map((g) => g.toNonIndexed()));
}

const UPHOLSTERY = ["#8c1c2c", "#7a1a2a", "#0f3f63", "#114e4b"];

function buildSeats(p, index, group, seats) {
  const rows = Math.max(1, p.props?.rows || 1);
  const columns = Math.max(1, p.props?.columns || 1);
  const rowSpacing = p.props?.row_spacing || 0.9;
  const seatSpacing = p.props?.seat_spacing || 0.6;
  const mesh = new InstancedMesh(seatGeometry(), standard(UPHOLSTERY[index % 2], { roughness: 0.85 }), rows * columns);
  mesh.name = "seats";
  const yaw = (p.yaw || 0) * DEG;
  const cos = Math.cos(yaw);
  const sin = Math.sin(yaw);
  const dummy = new Object3D();
  let i = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const lx = (c - (columns - 1) / 2) * seatSpacing;
      const lz = (r - (rows - 1) / 2) * rowSpacing;
      const x = p.x + lx * cos + lz * sin;
      const z = p.z - lx * sin + lz * cos;
      dummy.position.set(x, 0, z);
      dummy.rotation.set(0, yaw, 0);
      dummy.updateMatrix();
      mesh.setMatrixAt(i, dummy.matrix);
      seats.set(`${p.id}:${i}`, { x, z, yaw: p.yaw || 0, label: `${p.label}, row ${r + 1}, seat ${c + 1}` });
      i++;
    }
  }
  mesh.userData = { seatBlock: p.id };
  group.add(mesh);
  return mesh;
}

function portalGlow(accent) {
  const element = document.createElement("canvas");
  element.width = 64;
  element.height = 256;
  const g = element.getContext("2d");
  const gradient = g.createLinearGradient(0, 256, 0, 0);
  gradient.addColorStop(0, accent);
  gradient.addColorStop(1, "rgba(255,255,255,0.05)");
  g.fillStyle = gradient;
  g.fillRect(0, 0, 64, 256);
  const texture = new CanvasTexture(element);
  texture.colorSpace = SRGBColorSpace;
  return texture;
}

function buildPortal(p, context, style, group) {
  const target = context.halls.find((h) => h.slug === p.props?.target_hall);
  const portal = new Group();
  const width = p.width || 3;
  const height = p.height || 3;
  const metal = standard("#d6dde6", { roughness: 0.25, metalness: 0.8 });
  const frame = mergeGeometries([
    new BoxGeometry(0.3, height, 0.5).translate(-width / 2 - 0.15, height / 2, 0),
    new BoxGeometry(0.3, height, 0.5).translate(width / 2 + 0.15, height / 2, 0),
    new BoxGeometry(width + 0.6, 0.35, 0.5).translate(0, height + 0.17, 0),
  ]);
  portal.add(new Mesh(frame, metal));
  const glow = new Mesh(
    new PlaneGeometry(width, height),
    new MeshBasicMaterial({
      map: portalGlow(style.accent),
      transparent: true,
      opacity: 0.9,
      side: DoubleSide,
      depthWrite: false,
    }),
  );
  glow.position.y = height / 2;
  glow.name = "portal";
  glow.userData = { portal: p };
  portal.add(glow);
  const lines = [];
  if (target?.now) lines.push(`Now: ${target.now.title}`);
  else if (target?.next) lines.push(`Next: ${target.next.title}`);
  const signWidth = width + 2;
  const signHeight = (signWidth * 340) / 1024;
  const sign = signMesh(
    {
      width: 1024,
      height: 340,
      kicker: lines.length ? "Enter" : "",
      title: target?.name || p.label,
      lines,
      background: "#0f2a44",
      accent: style.accent,
      titleSize: 72,
    },
    signWidth,
    signHeight,
  );
  sign.position.set(0, height + 0.45 + signHeight / 2, 0.26);
  portal.add(sign);
  group.add(place(portal, p));
  return glow;
}

function kioskLines(p, context) {
  const lines = [];
  if (p.props?.text) lines.push(p.props.text);
  for (const hall of context.halls) {
    if (hall.now) lines.push(`Now in ${hall.name}: ${hall.now.title}`);
    else if (hall.next) lines.push(`Next in ${hall.name}: ${hall.next.title}`);
  }
  return lines;
}

function buildKiosk(p, context, style, group) {
  const kiosk = new Group();
  const width = p.width || 1;
  const lines = kioskLines(p, context);
  if (width >= 2) {
    const depth = p.depth || 1;
    kiosk.add(
      box(width, 1.05, depth, standard("#ffffff", { map: woodSlats(width / 1.2), roughness: 0.5 }), 0, 0.525, 0),
    );
    kiosk.add(box(width + 0.1, 0.06, depth + 0.1, standard("#f1f5f9", { roughness: 0.2 }), 0, 1.08, 0));
    kiosk.add(box(width * 0.9, 0.04, 0.03, new MeshBasicMaterial({ color: style.accent }), 0, 0.9, depth / 2 + 0.01));
    const sign = signMesh(
      {
        width: 1024,
        height: 300,
        title: p.label,
        lines: lines.slice(0, 1),
        background: "#0f2a44",
        accent: style.accent,
      },
      width * 0.85,
      (width * 0.85 * 300) / 1024,
    );
    sign.position.set(0, 2.3, -depth / 2 + 0.1);
    kiosk.add(
      box(
        0.06,
        1.3,
        0.06,
        standard("#94a3b8", { metalness: 0.6, roughness: 0.3 }),
        -width * 0.35,
        1.6,
        -depth / 2 + 0.06,
      ),
    );
    kiosk.add(
      box(
        0.06,
        1.3,
        0.06,
        standard("#94a3b8", { metalness: 0.6, roughness: 0.3 }),
        width * 0.35,
        1.6,
        -depth / 2 + 0.06,
      ),
    );
    kiosk.add(sign);
  } else {
    kiosk.add(
      box(Math.max(width, 0.9), 2.3, 0.3, standard("#e5e7eb", { roughness: 0.35, metalness: 0.2 }), 0, 1.15, -0.05),
    );
    const face = signMesh(
      {
        width: 560,
        height: 900,
        title: p.label || "Now & next",
        lines: lines.slice(0, 5),
        kicker: context.venue.name,
        align: "left",
        titleSize: 56,
        background: "#0f2a44",
        accent: style.accent,
      },
      Math.max(width, 0.9) * 0.88,
      Math.max(width, 0.9) * 0.88 * (900 / 560),
    );
    face.position.set(0, 1.25, 0.11);
    kiosk.add(face);
  }
  group.add(place(kiosk, p));
}

function buildBooth(p, style, group) {
  const booth = new Group();
  const width = p.width || 4;
  const depth = p.depth || 3;
  const colour = p.props?.color || style.accent;
  booth.add(box(width, 0.06, depth, standard("#e2e8f0", { roughness: 0.5 }), 0, 0.03, 0));
  booth.add(box(width, 2.6, 0.12, standard("#f8fafc", { roughness: 0.6 }), 0, 1.3, -depth / 2 + 0.06));
  booth.add(box(1.8, 1.0, 0.6, standard(colour, { roughness: 0.5 }), 0, 0.5, depth / 2 - 0.6));
  const sign = signMesh(
    { width: 1024, height: 256, title: p.props?.exhibitor || p.label, background: "#0f2a44", accent: colour },
    width,
    width / 4,
  );
  sign.position.set(0, 2.6 + width / 8 + 0.05, -depth / 2 + 0.13);
  booth.add(sign);
  group.add(place(booth, p));
}

function buildPoster(p, style, group) {
  const board = new Group();
  const width = p.width || 2;
  const height = p.height && p.height > 0.5 ? p.height : 1.4;
  board.add(box(width + 0.1, height + 0.1, 0.06, standard("#374151", { roughness: 0.5 }), 0, 0.6 + height / 2, 0));
  board.add(box(0.06, 0.6, 0.06, standard("#6b7280"), -width / 2 + 0.1, 0.3, 0));
  board.add(box(0.06, 0.6, 0.06, standard("#6b7280"), width / 2 - 0.1, 0.3, 0));
  const face = signMesh(
    {
      width: 768,
      height: Math.round((768 * height) / width),
      kicker: p.label,
      title: p.props?.title || p.label,
      lines: p.props?.authors ? [p.props.authors] : [],
      background: "#f8fafc",
      foreground: "#0f172a",
      accent: style.accent,
      align: "left",
      titleSize: 48,
    },
    width,
    height,
  );
  face.position.set(0, 0.6 + height / 2, 0.035);
  board.add(face);
  group.add(place(board, p));
}

function buildLobbyDecor(hall, context, style, group) {
  const h = style.wallHeight;
  const banner = signMesh(
    {
      width: 2048,
      height: 512,
      kicker: context.venue.name,
      title: `Welcome to ${context.event.title}`,
      lines: ["Walk through a portal to enter a hall"],
      background: "#0f2a44",
      accent: style.accent,
      titleSize: 110,
    },
    14,
    3.5,
  );
  banner.position.set(0, h - 3.2, -hall.depth / 2 + 0.24);
  group.add(banner);
  const feature = new Mesh(
    new PlaneGeometry(hall.width * 0.42, h - 1.3),
    standard("#ffffff", { map: woodSlats((hall.width * 0.42) / 1.2), roughness: 0.55 }),
  );
  feature.position.set(0, (h - 1.3) / 2 + 1.3, -hall.depth / 2 + 0.2);
  group.add(feature);
  const inlay = new Mesh(new PlaneGeometry(hall.width - 3, hall.depth - 3), standard("#b8ab94", { roughness: 0.3 }));
  inlay.rotation.x = -Math.PI / 2;
  inlay.position.y = 0.004;
  const field = new Mesh(
    new PlaneGeometry(hall.width - 3.6, hall.depth - 3.6),
    standard("#ffffff", { map: stoneFloor((hall.width - 3.6) / 2, (hall.depth - 3.6) / 2), roughness: 0.28 }),
  );
  field.rotation.x = -Math.PI / 2;
  field.position.y = 0.006;
  group.add(inlay, field);
  const windows = new InstancedMesh(new PlaneGeometry(2.6, h - 2.5), new MeshBasicMaterial({ color: "#cfe8f7" }), 16);
  const dummy = new Object3D();
  let count = 0;
  for (const side of [-1, 1]) {
    for (let z = -hall.depth / 2 + 4; z < hall.depth / 2 - 3 && count < 16; z += 4.5) {
      dummy.position.set(side * (hall.width / 2 - 0.17), (h - 2.5) / 2 + 1.6, z);
      dummy.rotation.set(0, (-side * Math.PI) / 2, 0);
      dummy.updateMatrix();
      windows.setMatrixAt(count++, dummy.matrix);
    }
  }
  windows.count = count;
  group.add(windows);
  const medallion = new Mesh(
    new CylinderGeometry(4, 4, 0.02, 64),
    standard("#0f3b57", { roughness: 0.25, metalness: 0.1 }),
  );
  medallion.position.set(0, 0.011, 0);
  group.add(medallion);
  const ring = new Mesh(
    new CylinderGeometry(4.4, 4.4, 0.015, 64),
    standard("#c8a46a", { roughness: 0.3, metalness: 0.7 }),
  );
  ring.position.set(0, 0.008, 0);
  group.add(ring);
  const pots = new InstancedMesh(new CylinderGeometry(0.45, 0.35, 0.8, 20), standard("#f1f5f9", { roughness: 0.4 }), 8);
  const leaves = new InstancedMesh(new SphereGeometry(0.9, 14, 10), standard("#2f6b3a", { roughness: 0.9 }), 8);
  const spots = [];
  for (const sx of [-1, 1])
    for (const sz of [-1, 1]) spots.push([sx * (hall.width / 2 - 1.5), sz * (hall.depth / 2 - 1.5)]);
  spots.push([-6, -hall.depth / 2 + 1.5], [6, -hall.depth / 2 + 1.5]);
  spots.forEach(([x, z], i) => {
    dummy.rotation.set(0, 0, 0);
    dummy.position.set(x, 0.4, z);
    dummy.updateMatrix();
    pots.setMatrixAt(i, dummy.matrix);
    dummy.position.set(x, 1.55, z);
    dummy.scale.set(1, 1.25, 1);
    dummy.updateMatrix();
    leaves.setMatrixAt(i, dummy.matrix);
    dummy.scale.set(1, 1, 1);
  });
  pots.count = leaves.count = spots.length;
  group.add(pots, leaves);
}

function buildAuditoriumDecor(hall, context, style, group) {
  const h = style.wallHeight;
  const banner = signMesh(
    {
      width: 1024,
      height: 256,
      title: context.event.title,
      kicker: hall.name,
      background: "#0f2a44",
      accent: style.accent,
      titleSize: 64,
    },
    8,
    2,
  );
  banner.position.set(0, h - 1.3, hall.depth / 2 - 0.2);
  banner.rotation.y = Math.PI;
  group.add(banner);
  const sconces = new InstancedMesh(new BoxGeometry(0.12, 1.4, 0.12), new MeshBasicMaterial({ color: "#ffcf8a" }), 24);
  const dummy = new Object3D();
  let count = 0;
  for (const side of [-1, 1]) {
    for (let z = -hall.depth / 2 + 3; z < hall.depth / 2 - 1 && count < 24; z += 4) {
      dummy.position.set(side * (hall.width / 2 - 0.2), h * 0.72 + 0.9, z);
      dummy.updateMatrix();
      sconces.setMatrixAt(count++, dummy.matrix);
    }
  }
  sconces.count = count;
  group.add(sconces);
}

/**
 * Build `hall` into a Group. Returns the group and what input needs: the floor, seats (a map
 * of instance key -> position), seat meshes, portal meshes and the screen's face.
 */
export function buildHall(hall, context, { onScreen = () => {} } = {}) {
  const group = new Group();
  group.name = `hall:${hall.slug}`;
  const style = styleOf(hall);
  const built = { group, floor: null, seats: new Map(), seatMeshes: [], portals: [], screen: null, spawn: null, style };
  if (!hall.shell_url) built.floor = buildShell(hall, style, group);
  let seatIndex = 0;
  for (const p of hall.placements || []) {
    switch (p.kind) {
      case "stage":
        buildStage(p, style, group);
        break;
      case "screen":
        built.screen = buildScreen(p, { hall, event: context.event, now: hall.now, next: hall.next }, group, onScreen);
        break;
      case "seat_block":
        built.seatMeshes.push(buildSeats(p, seatIndex++, group, built.seats));
        break;
      case "portal":
        built.portals.push(buildPortal(p, context, style, group));
        break;
      case "kiosk":
        buildKiosk(p, context, style, group);
        break;
      case "booth":
        buildBooth(p, style, group);
        break;
      case "poster_board":
        buildPoster(p, style, group);
        break;
      case "spawn":
        built.spawn = built.spawn || p;
        break;
      default:
        break;
    }
  }
  if (hall.kind === "lobby" && !hall.shell_url) buildLobbyDecor(hall, context, style, group);
  if (hall.kind === "auditorium" && !hall.shell_url) buildAuditoriumDecor(hall, context, style, group);
  return built;
}
