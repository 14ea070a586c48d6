// Messages at the top of the page: errors stay until closed, the rest go away by themselves.

import { el, $ } from './dom.js';

const timers = new Map();

/**
 * notice(text, {kind: 'error'|'warn'|'info'|'ok', key, timeoutMs}): shows a message; a notice
 * with the same key replaces the previous one.
 */
export function notice(text, { kind = 'error', key = null, timeoutMs = null } = {}) {
  const box = $('notices');
  if (key) clearNotice(key);
  const close = el('button', { type: 'button', class: 'notice-close', 'aria-label': 'close', text: '×' });
  const node = el('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('span', { class: 'notice-text', text }), close);
  if (key) node.dataset.key = key;
  close.addEventListener('click', () => node.remove());
  box.append(node);
  // Keep the list short.
  while (box.children.length > 5) box.firstElementChild.remove();
  const ms = timeoutMs ?? (kind === 'error' || kind === 'warn' ? null : 6000);
  if (ms) {
    const t = setTimeout(() => node.remove(), ms);
    if (key) timers.set(key, t);
  }
  return node;
}

export function clearNotice(key) {
  for (const n of $('notices').querySelectorAll('.notice')) {
    if (n.dataset.key === key) n.remove();
  }
  clearTimeout(timers.get(key));
  timers.delete(key);
}

export function clearAllNotices() {
  $('notices').replaceChildren();
}
