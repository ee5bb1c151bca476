// Small DOM helpers the page scripts share. All text goes in with textContent: nothing a user
// sends is ever parsed as HTML.

/** An element with attributes ("class", "text", "on<event>" handlers, others as attributes;
 * undefined, null and false are left out, true is an empty attribute) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** An on/off badge: its text and its is-on / is-off class. */
export function badge(node, on, onText, offText) {
  node.textContent = on ? onText : offText;
  node.classList.toggle("is-on", on);
  node.classList.toggle("is-off", !on);
}
