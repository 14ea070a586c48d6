// The page's stream client without a browser: web/static/sse.js parses text/event-stream split at
// any byte, web/static/stream.js reconnects after a dropped connection with the last id as
// Last-Event-ID, and answers a 429 by waiting and reporting "throttled". Runs against a small
// local HTTP server; needs no stack.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { SseParser } from '../../web/static/sse.js';
import { LiveStream } from '../../web/static/stream.js';
import { waitFor } from './helpers.mjs';

test('the SSE parser handles every line ending, split chunks, comments and multi-line data', () => {
  const text = ': keep-alive\r\nid: e1-1\r\nevent: alert\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'
    + 'event: readings\ndata: {"devices":[]}\n\n'
    + 'id: e1-2\revent: ready\rdata:{"tenant":"acme"}\r\r'
    + 'data: no type\n\n'
    + 'id: e1-3\n\n'; // an id without data moves the position, dispatches nothing
  const whole = new SseParser().feed(text);
  // Fed one character at a time (so CR and LF arrive apart) it gives the same events.
  const p = new SseParser();
  const split = [];
  for (const ch of text) split.push(...p.feed(ch));
  for (const events of [whole, split]) {
    assert.deepEqual(events.map((e) => [e.type, e.data, e.id]), [
      ['alert', '{"a":\n1}', 'e1-1'],
      ['readings', '{"devices":[]}', null],
      ['ready', '{"tenant":"acme"}', 'e1-2'],
      ['message', 'no type', null],
    ]);
  }
  assert.equal(p.lastEventId, 'e1-3');
  assert.equal(p.comments, 1);
});

let server;
let base;
const seen = []; // requests: {lastEventId, key}
let mode = 'normal';

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ lastEventId: req.headers['last-event-id'] || '', key: req.headers['x-api-key'] });
    if (mode === 'throttle') {
      mode = 'normal';
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ error: { code: 'too_many_streams', message: 'too many streams for this key' } }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    const n = seen.length;
    res.write(`id: p-${n}\nevent: ready\ndata: {"tenant":"acme","resumed":${n > 1}}\n\n`);
    res.write(': keep-alive\n\n');
    res.write(`id: e-${n}\nevent: alert\ndata: {"id":"a${n}","tenant":"acme"}\n\n`);
    // The first connection is dropped by the server after its events.
    if (n === 1) setTimeout(() => res.destroy(), 50);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('a dropped stream reconnects with Last-Event-ID; a 429 waits as throttled', async () => {
  const states = [];
  const events = [];
  const stream = new LiveStream({
    getKey: () => 'k1',
    url: `${base}/api/stream`,
    onEvent: (type, data) => events.push([type, data.id || data.tenant]),
    onStatus: (s, info) => states.push([s, info.retryInMs ?? null]),
    retryMs: 150,
    throttledMs: 300,
  });
  const t0 = Date.now();
  stream.start();
  await waitFor(() => seen.length >= 2 && stream.state === 'live', { timeout: 5000, message: 'the reconnect' });
  assert.deepEqual(seen[0], { lastEventId: '', key: 'k1' });
  assert.deepEqual(seen[1], { lastEventId: 'e-1', key: 'k1' }); // the last id seen before the drop
  assert.ok(Date.now() - t0 >= 150, 'reconnects after the delay, not at once');
  assert.deepEqual(events.slice(0, 4), [['ready', 'acme'], ['alert', 'a1'], ['ready', 'acme'], ['alert', 'a2']]);
  assert.deepEqual(states.slice(0, 4).map((s) => s[0]), ['connecting', 'live', 'reconnecting', 'connecting']);
  assert.equal(states[2][1], 150);

  // Too many streams: the client reports "throttled" and waits at least Retry-After (1 s).
  mode = 'throttle';
  stream.kick();
  await waitFor(() => states.some((s) => s[0] === 'throttled'), { timeout: 5000, message: 'throttled' });
  const throttled = states.find((s) => s[0] === 'throttled');
  assert.equal(throttled[1], 1000);
  await waitFor(() => seen.length >= 4 && stream.state === 'live', { timeout: 5000, message: 'live again' });
  assert.equal(seen[3].lastEventId, 'e-2');
  stream.stop();
  assert.equal(stream.state, 'stopped');
});

test('the defaults are the contract: reconnect after 2 s, 10 s after a 429', () => {
  const s = new LiveStream({ getKey: () => '', onEvent: () => {} });
  assert.equal(s.retryMs, 2000);
  assert.equal(s.throttledMs, 10000);
});
