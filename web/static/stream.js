// The live view: GET /api/stream read with fetch (EventSource cannot send X-API-Key), parsed
// with SseParser, reconnected with Last-Event-ID after a drop.
//
// States reported to onStatus(state, info):
//   connecting   - a request is under way, the server's `ready` event not seen yet
//   live         - `ready` received; events flow
//   reconnecting - the connection ended or failed; retrying in info.retryInMs
//   throttled    - 429: too many streams for this key; retrying in info.retryInMs
//   stopped      - stop() was called (signed out) or the key was refused (401)

import { errorFrom } from './api.js';
import { SseParser } from './sse.js';

export class LiveStream {
  constructor({
    getKey,
    onEvent,
    onStatus = () => {},
    onUnauthorized = () => {},
    url = '/api/stream',
    retryMs = 2000,
    maxRetryMs = 15000,
    throttledMs = 10000,
    idleMs = 45000,
  }) {
    Object.assign(this, { getKey, onEvent, onStatus, onUnauthorized, url });
    Object.assign(this, { retryMs, maxRetryMs, throttledMs, idleMs });
    this.lastEventId = '';
    this.running = false;
    this.state = 'stopped';
    this.failures = 0;
    this.controller = null;
    this.wakeTimer = null;
    this.wake = null;
  }

  setState(state, info = {}) {
    this.state = state;
    this.onStatus(state, info);
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
    this.setState('stopped');
  }

  /** Drops the current connection and reconnects at once (used after the tab was asleep). */
  kick() {
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.wakeTimer);
        this.wake = null;
        resolve();
      };
      this.wakeTimer = setTimeout(this.wake, ms);
    });
  }

  async loop() {
    while (this.running) {
      let state = 'reconnecting';
      let delay;
      try {
        await this.connectOnce();
        delay = this.retryMs; // the server ended a healthy stream: come back soon
      } catch (e) {
        if (!this.running) break;
        if (e && e.status === 401) {
          this.running = false;
          this.setState('stopped', { error: e });
          this.onUnauthorized(e);
          break;
        }
        this.failures++;
        if (e && e.status === 429) {
          state = 'throttled';
          delay = Math.max(this.throttledMs, (e.retryAfter || 0) * 1000);
        } else {
          delay = Math.min(this.retryMs * 2 ** Math.max(0, this.failures - 1), this.maxRetryMs);
        }
        this.lastError = e;
      }
      if (!this.running) break;
      this.setState(state, { retryInMs: delay, error: this.lastError });
      await this.sleep(delay);
    }
  }

  async connectOnce() {
    const controller = new AbortController();
    this.controller = controller;
    this.setState('connecting');
    const headers = { 'X-API-Key': this.getKey() || '', Accept: 'text/event-stream' };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const res = await fetch(this.url, {
      headers,
      signal: controller.signal,
      cache: 'no-store',
      credentials: 'same-origin',
    });
    if (!res.ok) throw await errorFrom(res);
    if (!res.body) throw new Error('the response has no body');

    const parser = new SseParser(this.lastEventId);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let idle = null;
    const armIdle = () => {
      clearTimeout(idle);
      // Keep-alive comments come every ~15 s: a silent connection is a dead one.
      idle = setTimeout(() => controller.abort(), this.idleMs);
    };
    armIdle();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        armIdle();
        for (const ev of parser.feed(value)) {
          this.lastEventId = ev.lastEventId;
          let data = null;
          try {
            data = JSON.parse(ev.data);
          } catch {
            console.warn(`stream: event '${ev.type}' without JSON data ignored`);
            continue;
          }
          if (ev.type === 'ready') {
            this.failures = 0;
            this.lastError = null;
            this.setState('live', { resumed: Boolean(data && data.resumed) });
          }
          try {
            this.onEvent(ev.type, data, ev);
          } catch (e) {
            console.error('stream: handler failed', e);
          }
        }
        this.lastEventId = parser.lastEventId;
      }
    } catch (e) {
      if (e && e.name === 'AbortError') {
        if (!this.running) return;
        throw new Error('the connection was idle for too long or was dropped');
      }
      throw e;
    } finally {
      clearTimeout(idle);
      this.lastEventId = parser.lastEventId;
      try {
        reader.cancel().catch(() => {});
      } catch {
        // already closed
      }
      if (this.controller === controller) this.controller = null;
    }
  }
}
