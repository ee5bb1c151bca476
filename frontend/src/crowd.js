// Attendees drawn cheaply: one InstancedMesh for all bodies and one for all heads (2 draw calls
// for the whole crowd, the visitor's own avatar included), names only for the nearest few.
import {
  CapsuleGeometry,
  Color,
  DynamicDrawUsage,
  InstancedMesh,
  Matrix4,
  MeshStandardMaterial,
  Quaternion,
  SphereGeometry,
  Vector3,
} from "three";

const PALETTE = ["#1d4ed8", "#0f766e", "#7c3aed", "#b91c1c", "#0369a1", "#a16207", "#334155", "#be185d"];
const SKIN = ["#f1c9a5", "#e0ac69", "#c68642", "#8d5524", "#ffdbac", "#a8755a"];
const LABELS = 8;
const LABEL_RANGE = 16;
const SELF = "\u0000self";

function hashOf(text) {
  let h = 2166136261;
  for (const char of String(text)) h = Math.imul(h ^ char.charCodeAt(0), 16777619);
  return h >>> 0;
}

export class Crowd {
  constructor(scene, labelLayer, capacity = 512) {
    this.scene = scene;
    this.labelLayer = labelLayer;
    this.entries = new Map();
    this.order = [];
    this.bodyGeometry = new CapsuleGeometry(0.23, 0.95, 4, 10);
    this.bodyGeometry.translate(0, 0.7, 0);
    this.headGeometry = new SphereGeometry(0.14, 14, 10);
    this.headGeometry.translate(0, 1.5, 0);
    this.bodyMaterial = new MeshStandardMaterial({ roughness: 0.65, metalness: 0.05 });
    this.headMaterial = new MeshStandardMaterial({ roughness: 0.55 });
    this.matrix = new Matrix4();
    this.quaternion = new Quaternion();
    this.scale = new Vector3(1, 1, 1);
    this.position = new Vector3();
    this.up = new Vector3(0, 1, 0);
    this.color = new Color();
    this.labels = [];
    this.allocate(capacity);
  }

  allocate(capacity) {
    for (const mesh of [this.bodies, this.heads]) {
      if (mesh) {
        this.scene.remove(mesh);
        mesh.dispose();
      }
    }
    this.capacity = capacity;
    this.bodies = new InstancedMesh(this.bodyGeometry, this.bodyMaterial, capacity);
    this.heads = new InstancedMesh(this.headGeometry, this.headMaterial, capacity);
    for (const mesh of [this.bodies, this.heads]) {
      mesh.instanceMatrix.setUsage(DynamicDrawUsage);
      mesh.frustumCulled = false;
      mesh.count = 0;
      mesh.name = "crowd";
      this.scene.add(mesh);
    }
    this.order.forEach((id, index) => {
      this.write(index, this.entries.get(id), true);
    });
  }

  /** Add (or replace) an attendee. */
  add(id, { name = "", x = 0, z = 0, yaw = 0, color = null, seated = false } = {}) {
    const key = String(id);
    if (this.entries.has(key)) {
      Object.assign(this.entries.get(key), { name, x, z, yaw, seated });
      this.write(this.entries.get(key).index, this.entries.get(key), true, color);
      return;
    }
    if (this.order.length >= this.capacity) this.allocate(this.capacity * 2);
    const entry = { id: key, name, x, z, yaw, seated, index: this.order.length };
    this.entries.set(key, entry);
    this.order.push(key);
    this.write(entry.index, entry, true, color);
    this.bodies.count = this.heads.count = this.order.length;
  }

  move(id, { x, z, yaw, seated }) {
    const entry = this.entries.get(String(id));
    if (!entry) return false;
    if (Number.isFinite(x)) entry.x = x;
    if (Number.isFinite(z)) entry.z = z;
    if (Number.isFinite(yaw)) entry.yaw = yaw;
    if (seated !== undefined) entry.seated = seated;
    this.write(entry.index, entry, false);
    return true;
  }

  remove(id) {
    const key = String(id);
    const entry = this.entries.get(key);
    if (!entry) return false;
    const lastKey = this.order.pop();
    if (lastKey !== key) {
      const last = this.entries.get(lastKey);
      last.index = entry.index;
      this.order[entry.index] = lastKey;
      this.write(last.index, last, true);
    }
    this.entries.delete(key);
    this.bodies.count = this.heads.count = this.order.length;
    return true;
  }

  /** The key of the visitor's own avatar among `entries`. */
  get selfId() {
    return SELF;
  }

  /** Attendees other than the visitor. */
  count() {
    return this.entries.size - (this.entries.has(SELF) ? 1 : 0);
  }

  setSelf(state, color = "#0d9488") {
    if (this.entries.has(SELF)) this.move(SELF, state);
    else this.add(SELF, { ...state, color });
  }

  write(index, entry, recolor, color = null) {
    const drop = entry.seated ? 0.42 : 0;
    this.quaternion.setFromAxisAngle(this.up, (entry.yaw * Math.PI) / 180);
    this.position.set(entry.x, -drop, entry.z);
    this.matrix.compose(this.position, this.quaternion, this.scale);
    this.bodies.setMatrixAt(index, this.matrix);
    this.heads.setMatrixAt(index, this.matrix);
    this.bodies.instanceMatrix.needsUpdate = true;
    this.heads.instanceMatrix.needsUpdate = true;
    if (recolor) {
      const seed = hashOf(entry.id);
      entry.color = color || entry.color || PALETTE[seed % PALETTE.length];
      this.bodies.setColorAt(index, this.color.set(entry.color));
      this.heads.setColorAt(index, this.color.set(SKIN[(seed >> 3) % SKIN.length]));
      this.bodies.instanceColor.needsUpdate = true;
      this.heads.instanceColor.needsUpdate = true;
    }
  }

  /** Place HTML name labels over the nearest attendees (at most 8). */
  updateLabels(camera, width, height, origin) {
    const nearest = [];
    for (const entry of this.entries.values()) {
      if (entry.id === SELF || !entry.name) continue;
      const d = (entry.x - origin.x) ** 2 + (entry.z - origin.z) ** 2;
      if (d <= LABEL_RANGE ** 2) nearest.push([d, entry]);
    }
    nearest.sort((a, b) => a[0] - b[0]);
    while (this.labels.length < LABELS) {
      const label = document.createElement("span");
      label.className = "venue-label";
      this.labelLayer.append(label);
      this.labels.push(label);
    }
    this.labels.forEach((label, i) => {
      const entry = nearest[i]?.[1];
      if (!entry) {
        label.hidden = true;
        return;
      }
      this.position.set(entry.x, entry.seated ? 1.35 : 1.78, entry.z).project(camera);
      const visible = this.position.z < 1 && Math.abs(this.position.x) < 1.1 && Math.abs(this.position.y) < 1.1;
      label.hidden = !visible;
      if (!visible) return;
      label.textContent = entry.name;
      label.style.transform = `translate(${((this.position.x + 1) / 2) * width}px, ${((1 - this.position.y) / 2) * height}px) translate(-50%, -100%)`;
    });
  }

  visibleLabels() {
    return this.labels.filter((label) => !label.hidden).map((label) => label.textContent);
  }
}
