// The 3D view of one hall: renderer, camera rig, input, render-on-demand loop and the crowd.
import {
  ACESFilmicToneMapping,
  CanvasTexture,
  Color,
  DirectionalLight,
  Fog,
  HemisphereLight,
  Mesh,
  MeshBasicMaterial,
  PerspectiveCamera,
  PlaneGeometry,
  PMREMGenerator,
  Raycaster,
  Scene,
  SRGBColorSpace,
  Vector2,
  VideoTexture,
  WebGLRenderer,
} from "three";
import { RoomEnvironment } from "three/examples/jsm/environments/RoomEnvironment.js";
import { buildHall } from "./builders.js";
import { Crowd } from "./crowd.js";
import { streamTexture } from "./screen.js";

const DEG = Math.PI / 180;
const WALK_SPEED = 3.2;
const KEY_SPEED = 2.6;
const SNAP_TURN = 30;
const ARRIVAL_KEY = "medvenue:arrived-from";

const KEYS = {
  ArrowUp: [0, 1],
  KeyW: [0, 1],
  ArrowDown: [0, -1],
  KeyS: [0, -1],
  ArrowLeft: [-1, 0],
  KeyA: [-1, 0],
  ArrowRight: [1, 0],
  KeyD: [1, 0],
};

function forwardOf(yaw) {
  return [-Math.sin(yaw * DEG), -Math.cos(yaw * DEG)];
}

export class VenueView {
  constructor({ canvas, labelLayer, youMarker, manifest, hallSlug, reducedMotion, navigate }) {
    this.canvas = canvas;
    this.labelLayer = labelLayer;
    this.youMarker = youMarker;
    this.manifest = manifest;
    this.hall = manifest.halls.find((h) => h.slug === hallSlug);
    this.reducedMotion = reducedMotion;
    this.navigate = navigate || ((url) => window.location.assign(url));
    this.pending = false;
    this.running = true;
    this.frameTimes = [];
    this.lastFrame = 0;
    this.lastStats = { drawCalls: 0, triangles: 0 };
    this.pressed = new Set();
    this.walkTarget = null;
    this.onArrive = null;
    this.self = { x: 0, z: 0, yaw: 0, seated: false };
    this.armedPortals = new Set();
    this.raycaster = new Raycaster();
    this.pointer = new Vector2();
    let resolveReady;
    this.ready = new Promise((resolve) => (resolveReady = resolve));
    this.resolveReady = resolveReady;
    this.frame = this.frame.bind(this);
  }

  async start() {
    const renderer = new WebGLRenderer({ canvas: this.canvas, antialias: true, powerPreference: "high-performance" });
    renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 1.5));
    renderer.shadowMap.enabled = false;
    renderer.outputColorSpace = SRGBColorSpace;
    renderer.toneMapping = ACESFilmicToneMapping;
    renderer.toneMappingExposure = 0.95;
    this.renderer = renderer;
    const scene = new Scene();
    this.scene = scene;
    const pmrem = new PMREMGenerator(renderer);
    scene.environment = pmrem.fromScene(new RoomEnvironment(), 0.04).texture;
    scene.environmentIntensity = this.hall.kind === "auditorium" ? 0.3 : 0.45;
    pmrem.dispose();
    const built = buildHall(this.hall, this.manifest, { onScreen: (face) => this.attachStream(face) });
    this.built = built;
    scene.add(built.group);
    scene.background = new Color(built.style.ceiling);
    scene.fog = new Fog(built.style.ceiling, 45, 140);
    const dim = this.hall.kind === "auditorium";
    scene.add(new HemisphereLight("#fff4e0", "#5a4a3a", dim ? 0.8 : 1.05));
    const sun = new DirectionalLight("#fff8ee", dim ? 0.5 : 0.95);
    sun.position.set(6, 20, 10);
    scene.add(sun);
    if (this.hall.shell_url) await this.loadShell();
    this.crowd = new Crowd(scene, this.labelLayer);
    this.camera = new PerspectiveCamera(60, 1, 0.1, 200);
    this.placeAtArrival();
    this.bindInput();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(this.canvas.parentElement);
    this.requestRender();
    return this.ready;
  }

  async loadShell() {
    const { GLTFLoader } = await import("three/examples/jsm/loaders/GLTFLoader.js");
    const gltf = await new GLTFLoader().loadAsync(this.hall.shell_url);
    this.scene.add(gltf.scene);
    const floor = new Mesh(new PlaneGeometry(this.hall.width, this.hall.depth), new MeshBasicMaterial());
    floor.rotation.x = -Math.PI / 2;
    floor.visible = false;
    this.scene.add(floor);
    this.built.floor = floor;
  }

  async attachStream(face) {
    this.screenFace = face;
    this.live = { map: face.material.map, source: "slide" };
    this.slide = this.live;
    this.screenSource = "slide";
    this.attachRecording(face);
    if (this.stageCanvas) this.showStage(this.stageCanvas);
    const url = this.hall.now?.stream_url;
    if (!url) return;
    try {
      const video = await streamTexture(url, () => this.requestRender());
      if (video) {
        this.live = { map: video, source: "stream" };
        // A recording the visitor chose ("Play here") keeps the screen until "Back to live".
        if (this.screenSource !== "recording") this.showLive();
      }
    } catch (error) {
      console.warn("The stream could not start; showing the session slide.", error);
    }
  }

  /**
   * The screen mirrors the side panel's recording <video> (one download, and the panel's
   * controls drive both), from its first decoded frame on: after the hall's session, or while
   * one is live when the visitor chose an earlier recording ("Play here", `data-chosen`).
   */
  attachRecording(face) {
    const video = document.getElementById("hall-recording");
    const wanted = () => video && (!this.hall.now || video.dataset.chosen === "1");
    if (!wanted()) return;
    const show = () => {
      if (!wanted()) return;
      if (!this.recordingTexture) {
        this.recordingTexture = new VideoTexture(video);
        this.recordingTexture.colorSpace = SRGBColorSpace;
        const tick = () => {
          this.requestRender();
          video.requestVideoFrameCallback(tick);
        };
        if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(tick);
      }
      face.material.map = this.recordingTexture;
      face.material.needsUpdate = true;
      this.screenSource = "recording";
      this.requestRender();
    };
    if (video.readyState >= 2) show();
    else video.addEventListener("loadeddata", show, { once: true });
  }

  /** "Play here": show the panel's recording on the screen (see attachRecording). */
  showRecording() {
    if (this.screenFace) this.attachRecording(this.screenFace);
  }

  /** The hall's live stage (stage.js composes its WebRTC slots into `canvas`). */
  showStage(canvas) {
    this.stageCanvas = canvas;
    if (!this.screenFace) return;
    if (this.stageTexture?.image !== canvas) {
      this.stageTexture = new CanvasTexture(canvas);
      this.stageTexture.colorSpace = SRGBColorSpace;
    }
    this.live = { map: this.stageTexture, source: "stage" };
    if (this.screenSource !== "recording") this.showLive();
  }

  /** The stage drew a new frame into its canvas. */
  stageFrame() {
    if (!this.stageTexture || this.screenSource !== "stage") return;
    this.stageTexture.needsUpdate = true;
    this.requestRender();
  }

  /** The stage stopped: back to the session's slide. */
  hideStage() {
    this.stageCanvas = null;
    if (!this.slide || this.live?.source !== "stage") return;
    this.live = this.slide;
    if (this.screenSource !== "recording") this.showLive();
  }

  /** "Back to live": the live session's slide or stream again. */
  showLive() {
    if (!this.screenFace || !this.live) return;
    this.screenFace.material.map = this.live.map;
    this.screenFace.material.needsUpdate = true;
    this.screenSource = this.live.source;
    this.requestRender();
  }

  // --- where the visitor stands -------------------------------------------------------------

  placeAtArrival() {
    const from = sessionStorage.getItem(ARRIVAL_KEY);
    sessionStorage.removeItem(ARRIVAL_KEY);
    const portal = this.portals().find((p) => p.props?.target_hall === from);
    if (portal) {
      const yaw = (portal.yaw || 0) * DEG;
      this.self = {
        x: portal.x + Math.sin(yaw) * 2.5,
        z: portal.z + Math.cos(yaw) * 2.5,
        yaw: (portal.yaw || 0) + 180,
        seated: false,
      };
    } else if (this.built.spawn) {
      const s = this.built.spawn;
      this.self = { x: s.x, z: s.z, yaw: s.yaw || 0, seated: false };
    } else {
      this.self = { x: 0, z: this.hall.depth / 2 - 2.5, yaw: 0, seated: false };
    }
    this.self.yaw = ((this.self.yaw % 360) + 360) % 360;
    [this.self.x, this.self.z] = this.offStage(this.self.x, this.self.z);
    for (const p of this.portals()) if (!this.insidePortal(p)) this.armedPortals.add(p.id);
  }

  portals() {
    return (this.hall.placements || []).filter((p) => p.kind === "portal");
  }

  insidePortal(p) {
    const dx = this.self.x - p.x;
    const dz = this.self.z - p.z;
    const yaw = (p.yaw || 0) * DEG;
    const lx = dx * Math.cos(yaw) - dz * Math.sin(yaw);
    const lz = dx * Math.sin(yaw) + dz * Math.cos(yaw);
    return Math.abs(lx) <= (p.width || 3) / 2 && Math.abs(lz) <= Math.max((p.depth || 0.5) / 2, 0.7);
  }

  checkPortals() {
    for (const p of this.portals()) {
      if (!this.insidePortal(p)) {
        this.armedPortals.add(p.id);
        continue;
      }
      if (!this.armedPortals.has(p.id)) continue;
      const target = this.manifest.halls.find((h) => h.slug === p.props?.target_hall);
      if (!target) continue;
      this.armedPortals.delete(p.id);
      this.walkTarget = null;
      this.pressed.clear();
      sessionStorage.setItem(ARRIVAL_KEY, this.hall.slug);
      this.navigate(target.page_url);
      return true;
    }
    return false;
  }

  clamp(x, z) {
    const margin = 0.45;
    const xs = (this.hall.boundary || []).map((p) => p[0]);
    const zs = (this.hall.boundary || []).map((p) => p[1]);
    const minX = xs.length ? Math.min(...xs) : -this.hall.width / 2;
    const maxX = xs.length ? Math.max(...xs) : this.hall.width / 2;
    const minZ = zs.length ? Math.min(...zs) : -this.hall.depth / 2;
    const maxZ = zs.length ? Math.max(...zs) : this.hall.depth / 2;
    return [Math.min(maxX - margin, Math.max(minX + margin, x)), Math.min(maxZ - margin, Math.max(minZ + margin, z))];
  }

  /**
   * (x, z) moved just off any stage block (its footprint plus 0.45 m), to the nearest edge;
   * the third value says whether it moved. Visitors stand in front of the stage, not in it.
   */
  offStage(x, z) {
    const margin = 0.45;
    let moved = false;
    for (const p of (this.hall.placements || []).filter((q) => q.kind === "stage")) {
      const yaw = (p.yaw || 0) * DEG;
      const [c, s] = [Math.cos(yaw), Math.sin(yaw)];
      const dx = x - p.x;
      const dz = z - p.z;
      let lx = dx * c - dz * s;
      let lz = dx * s + dz * c;
      const hw = (p.width || 0) / 2 + margin;
      const hd = (p.depth || 0) / 2 + margin;
      if (Math.abs(lx) >= hw || Math.abs(lz) >= hd) continue;
      if (hw - Math.abs(lx) < hd - Math.abs(lz)) lx = (lx < 0 ? -1 : 1) * hw;
      else lz = (lz < 0 ? -1 : 1) * hd;
      x = p.x + c * lx + s * lz;
      z = p.z - s * lx + c * lz;
      moved = true;
    }
    return [x, z, moved];
  }

  /** Walk to (x, z), or appear there when the visitor prefers reduced motion. */
  walkTo(x, z, { onArrive = null } = {}) {
    const [cx, cz] = this.offStage(...this.clamp(x, z));
    this.self.seated = false;
    this.onArrive = onArrive;
    if (this.reducedMotion) {
      const dx = cx - this.self.x;
      const dz = cz - this.self.z;
      if (Math.hypot(dx, dz) > 0.01) this.self.yaw = Math.atan2(-dx, -dz) / DEG;
      this.self.x = cx;
      this.self.z = cz;
      this.walkTarget = null;
      this.arrive();
    } else {
      this.walkTarget = [cx, cz];
    }
    this.requestRender();
  }

  arrive() {
    const onArrive = this.onArrive;
    this.onArrive = null;
    if (!this.checkPortals() && onArrive) onArrive();
  }

  sitOn(seat) {
    this.walkTo(seat.x, seat.z, {
      onArrive: () => {
        Object.assign(this.self, { x: seat.x, z: seat.z, yaw: seat.yaw, seated: true });
        this.canvas.setAttribute("aria-label", `3D view of ${this.hall.name}. You are seated: ${seat.label}.`);
        this.announce(`You are seated: ${seat.label}.`);
        this.requestRender();
      },
    });
  }

  /** A sentence for the visitor in the view's status line (read by screen readers). */
  announce(text) {
    const status = document.getElementById("venue-status");
    if (status) status.textContent = text;
  }

  /** Seats someone else sits on (an attendee seated within 0.35 m of it). */
  takenSeats() {
    const taken = new Set();
    const others = [...this.crowd.entries.values()].filter((e) => e.seated && e.id !== this.crowd.selfId);
    for (const [key, seat] of this.built.seats) {
      if (others.some((e) => Math.hypot(e.x - seat.x, e.z - seat.z) < 0.35)) taken.add(key);
    }
    return taken;
  }

  /** The nearest seat nobody sits on, within `maxDistance` metres (any distance by default). */
  nearestSeat(maxDistance = Infinity) {
    const taken = this.takenSeats();
    let best = null;
    let bestDistance = maxDistance;
    for (const [key, seat] of this.built.seats) {
      if (taken.has(key)) continue;
      const d = Math.hypot(seat.x - this.self.x, seat.z - this.self.z);
      if (d < bestDistance) [best, bestDistance] = [seat, d];
    }
    return best;
  }

  /**
   * Sit down on the nearest free seat (walking there), or say why not. Returns the seat or null;
   * `say(text)` receives the sentence for the visitor.
   */
  sitNearest(say = () => {}) {
    if (!this.built.seats.size) {
      say(`${this.hall.name} has no seats; walk around or go through a portal.`);
      return null;
    }
    const seat = this.nearestSeat();
    if (!seat) {
      say(`Every seat in ${this.hall.name} is taken.`);
      return null;
    }
    say(`Walking to ${seat.label}.`);
    this.sitOn(seat);
    return seat;
  }

  turn(degrees) {
    this.self.yaw = (((this.self.yaw + degrees) % 360) + 360) % 360;
    this.requestRender();
  }

  // --- input ---------------------------------------------------------------------------------

  bindInput() {
    const canvas = this.canvas;
    let down = null;
    canvas.addEventListener("pointerdown", (event) => {
      down = { x: event.clientX, y: event.clientY, yaw: this.self.yaw, dragged: false };
      canvas.setPointerCapture?.(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!down) return;
      const dx = event.clientX - down.x;
      if (Math.abs(dx) > 6) down.dragged = true;
      if (down.dragged) {
        this.self.yaw = down.yaw + dx * 0.25;
        this.requestRender();
      }
    });
    canvas.addEventListener("pointerup", (event) => {
      const wasDrag = down?.dragged;
      down = null;
      if (!wasDrag) this.pick(event);
    });
    canvas.addEventListener("keydown", (event) => this.keyDown(event));
    canvas.addEventListener("keyup", (event) => {
      this.pressed.delete(event.code);
    });
    canvas.addEventListener("blur", () => this.pressed.clear());
  }

  keyDown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (KEYS[event.code]) {
      event.preventDefault();
      this.pressed.add(event.code);
      this.walkTarget = null;
      this.self.seated = false;
      this.requestRender();
    } else if (event.code === "KeyQ" || event.code === "KeyE") {
      event.preventDefault();
      if (!event.repeat) this.turn(event.code === "KeyQ" ? SNAP_TURN : -SNAP_TURN);
    } else if (event.code === "Enter" || event.code === "Space") {
      event.preventDefault();
      if (this.self.seated) {
        this.self.seated = false;
        this.requestRender();
      } else {
        this.sitNearest((text) => this.announce(text));
      }
    }
  }

  pick(event) {
    const rect = this.canvas.getBoundingClientRect();
    this.pointer.set(
      ((event.clientX - rect.left) / rect.width) * 2 - 1,
      -((event.clientY - rect.top) / rect.height) * 2 + 1,
    );
    this.raycaster.setFromCamera(this.pointer, this.camera);
    const targets = [...this.built.portals, ...this.built.seatMeshes, this.built.floor].filter(Boolean);
    const hit = this.raycaster.intersectObjects(targets, false)[0];
    if (!hit) return;
    if (hit.object.userData.portal) {
      const p = hit.object.userData.portal;
      this.walkTo(p.x, p.z);
    } else if (hit.object.userData.seatBlock !== undefined) {
      const seat = this.built.seats.get(`${hit.object.userData.seatBlock}:${hit.instanceId}`);
      if (seat) this.sitOn(seat);
    } else {
      this.walkTo(hit.point.x, hit.point.z);
    }
  }

  // --- the loop -------------------------------------------------------------------------------

  requestRender() {
    if (this.pending || !this.running) return;
    this.pending = true;
    requestAnimationFrame(this.frame);
  }

  setRunning(running) {
    this.running = running;
    if (running) this.resize();
  }

  resize() {
    const parent = this.canvas.parentElement;
    const width = Math.max(1, parent.clientWidth);
    const height = Math.max(1, parent.clientHeight);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.size = [width, height];
    this.requestRender();
  }

  /** Advance movement by dt seconds; returns true while something still moves. */
  update(dt) {
    let moving = false;
    if (this.pressed.size) {
      let fx = 0;
      let fz = 0;
      for (const code of this.pressed) {
        fx += KEYS[code]?.[0] || 0;
        fz += KEYS[code]?.[1] || 0;
      }
      const [ax, az] = forwardOf(this.self.yaw);
      const step = KEY_SPEED * dt;
      const [kx, kz] = this.clamp(this.self.x + (ax * fz - az * fx) * step, this.self.z + (az * fz + ax * fx) * step);
      [this.self.x, this.self.z] = this.offStage(kx, kz);
      this.checkPortals();
      moving = true;
    } else if (this.walkTarget) {
      const [tx, tz] = this.walkTarget;
      const dx = tx - this.self.x;
      const dz = tz - this.self.z;
      const distance = Math.hypot(dx, dz);
      const step = WALK_SPEED * dt;
      if (distance > 0.05) this.self.yaw = Math.atan2(-dx, -dz) / DEG;
      if (distance <= step) {
        this.self.x = tx;
        this.self.z = tz;
        this.walkTarget = null;
        this.arrive();
      } else {
        const [nx, nz, blocked] = this.offStage(
          this.self.x + (dx / distance) * step,
          this.self.z + (dz / distance) * step,
        );
        this.self.x = nx;
        this.self.z = nz;
        if (blocked) {
          this.walkTarget = null; // the stage is in the way: stop at its edge
          this.arrive();
        } else if (!this.checkPortals()) moving = true;
      }
    }
    return moving;
  }

  placeCamera() {
    const { x, z, yaw, seated } = this.self;
    const [fx, fz] = forwardOf(yaw);
    if (seated) {
      this.camera.position.set(x, 1.2, z);
      this.camera.lookAt(x + fx * 10, 2.6, z + fz * 10);
    } else {
      const back = 5.2;
      const [bx, bz] = this.clamp(x - fx * back, z - fz * back);
      this.camera.position.set(bx, 3.3, bz);
      this.camera.lookAt(x + fx * 9, 1.6, z + fz * 9);
    }
    this.crowd.setSelf({ x, z, yaw, seated });
  }

  frame(time) {
    this.pending = false;
    if (!this.running) return;
    // After an idle pause the first step is one nominal frame; while animating, the real
    // elapsed time (capped) keeps walking speed right on slow machines too.
    const dt = this.animating ? Math.min((time - this.lastFrame) / 1000, 0.5) : 1 / 60;
    this.lastFrame = time;
    const moving = this.update(dt);
    this.animating = moving;
    this.placeCamera();
    this.renderer.render(this.scene, this.camera);
    const info = this.renderer.info.render;
    this.lastStats = { drawCalls: info.calls, triangles: info.triangles };
    this.frameTimes.push(performance.now());
    if (this.frameTimes.length > 60) this.frameTimes.shift();
    this.crowd.updateLabels(this.camera, this.size[0], this.size[1], this.self);
    this.updateMiniMap();
    if (moving) this.requestRender();
    if (!document.body.dataset.venueReady) {
      document.body.dataset.venueReady = "1";
      this.resolveReady(this);
    }
  }

  updateMiniMap() {
    if (!this.youMarker) return;
    const left = ((this.self.x + this.hall.width / 2) / this.hall.width) * 100;
    const top = ((this.self.z + this.hall.depth / 2) / this.hall.depth) * 100;
    this.youMarker.style.left = `${left}%`;
    this.youMarker.style.top = `${top}%`;
    this.youMarker.style.transform = `translate(-50%, -50%) rotate(${-this.self.yaw}deg)`;
  }

  fps() {
    const times = this.frameTimes;
    if (times.length < 2 || performance.now() - times[times.length - 1] > 1000) return 0;
    return Math.round(((times.length - 1) * 1000) / (times[times.length - 1] - times[0]));
  }

  stats() {
    return { ...this.lastStats, avatars: this.crowd.count(), fps: this.fps() };
  }
}
