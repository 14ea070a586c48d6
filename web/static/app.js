// The operator page: sign-in, routing (#/ overview, #/devices/<key>), the live stream and the
// periodic refreshes. Served by ste-evaluator at / with a strict Content-Security-Policy.

import { $, show } from './dom.js';
import { ctx, KEY_STORAGE, makeApi } from './context.js';
import { ApiError } from './api.js';
import { LiveStream } from './stream.js';
import { notice, clearNotice, clearAllNotices } from './notices.js';
import { closeDialog } from './dialog.js';
import {
  loadAlerts, loadSummary, onAlertEvent, renderAlerts, renderTiles, resetAlerts, setAlertHooks,
} from './alerts.js';
import {
  loadDevices, onReadingEvent, renderDevices, resetDevices, setDeviceFilter, tickAges, wireDevices,
} from './devices.js';
import {
  closeDevicePage, loadDevicePage, onDeviceAlert, onDeviceReading, openDevicePage, wireDevicePage,
} from './device.js';

const REFRESH_MS = 60000; // summary, devices (status, sparklines): nothing on the stream says when a device goes quiet
const FALLBACK_MS = 20000; // alerts too while the stream is not live

let view = null; // 'overview' | 'device'
let refreshTimer = null;
let ageTimer = null;
let liveOnce = false;

function errText(e) {
  return e && typeof e.describe === 'function' ? e.describe() : String(e && e.message ? e.message : e);
}

function report(what, key) {
  return (e) => {
    if (e && e.name === 'AbortError') return;
    if (e && e.status === 401) return; // handled by onUnauthorized
    notice(`Could not load ${what}: ${errText(e)}`, { key });
  };
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function setLive(state, info = {}) {
  ctx.streamState = state;
  const node = $('live');
  node.dataset.state = state;
  const secs = info.retryInMs ? Math.round(info.retryInMs / 1000) : null;
  const text = {
    off: 'offline',
    stopped: 'offline',
    connecting: 'connecting…',
    live: 'live',
    reconnecting: secs ? `reconnecting in ${secs} s…` : 'reconnecting…',
    throttled: 'paused',
  }[state] || state;
  node.textContent = text;
  node.title = state === 'live' ? 'live updates from /api/stream' : info.error ? errText(info.error) : text;
}

function showSignIn(message) {
  view = null;
  show($('overview-view'), false);
  show($('device-view'), false);
  show($('whoami'), false);
  show($('signout'), false);
  show($('signin-view'), true);
  const err = $('signin-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('signin-key').value = '';
  $('signin-key').focus();
  document.title = 'Sign in — Sensor Telemetry Engine';
}

async function signIn(key, { restoring = false } = {}) {
  const err = $('signin-error');
  err.hidden = true;
  ctx.key = key;
  $('signin-submit').disabled = true;
  try {
    const me = await ctx.api.get('/api/keys/current', null, { quiet401: true });
    ctx.me = me;
    sessionStorage.setItem(KEY_STORAGE, key);
    startSession();
  } catch (e) {
    ctx.key = null;
    ctx.me = null;
    // A refused key is forgotten; one that could not be checked (server away) stays for a reload.
    if (!restoring || (e instanceof ApiError && e.status === 401)) sessionStorage.removeItem(KEY_STORAGE);
    let msg;
    if (e instanceof ApiError && e.status === 401) {
      msg = restoring
        ? 'Your API key is no longer accepted (it may have been revoked). Sign in again.'
        : 'This API key was not accepted (HTTP 401). Check that you pasted the whole key.';
    } else if (e instanceof ApiError && e.status === 429) {
      msg = `Too many attempts: ${e.describe()}. Wait a moment and try again.`;
    } else if (restoring) {
      msg = `Could not check your API key: ${errText(e)}. Reload the page to try again.`;
    } else {
      msg = `Could not sign in: ${errText(e)}`;
    }
    showSignIn(msg);
  } finally {
    $('signin-submit').disabled = false;
  }
}

function signOut(message) {
  if (ctx.stream) ctx.stream.stop();
  ctx.stream = null;
  clearInterval(refreshTimer);
  clearInterval(ageTimer);
  closeDialog();
  closeDevicePage();
  sessionStorage.removeItem(KEY_STORAGE);
  ctx.key = null;
  ctx.me = null;
  ctx.rules = null;
  ctx.alertsLoaded = false;
  liveOnce = false;
  resetAlerts();
  resetDevices();
  renderTiles();
  clearAllNotices();
  setLive('off');
  document.documentElement.removeAttribute('data-role');
  showSignIn(message);
  if (location.hash) history.replaceState(null, '', location.pathname);
}

function onUnauthorized() {
  if (!ctx.me) return;
  signOut('Your API key is no longer accepted (HTTP 401): it may have been revoked. Sign in again.');
}

// ---------------------------------------------------------------------------------------------
// Session

function startSession() {
  const me = ctx.me;
  $('who-tenant').textContent = me.tenant;
  $('who-key').textContent = me.name;
  $('who-role').textContent = me.role === 'operator' ? 'operator' : 'viewer (read-only)';
  document.documentElement.dataset.role = me.role;
  show($('whoami'), true);
  show($('signout'), true);
  show($('signin-view'), false);
  document.title = `${me.tenant} — Sensor Telemetry Engine`;

  ctx.stream = new LiveStream({
    getKey: () => ctx.key,
    onEvent,
    onStatus: onStreamStatus,
    onUnauthorized,
  });
  ctx.stream.start();
  route();
  refreshTimer = setInterval(periodicRefresh, FALLBACK_MS);
  ageTimer = setInterval(tickAges, 10000);
}

let lastFullRefresh = 0;

function periodicRefresh() {
  if (!ctx.me) return;
  const now = Date.now();
  const full = now - lastFullRefresh >= REFRESH_MS - 1000;
  const live = ctx.streamState === 'live';
  if (!full && live) return;
  if (full) lastFullRefresh = now;
  if (view === 'overview') {
    if (full) {
      loadSummary().catch(report('the summary', 'summary'));
      loadDevices().catch(report('the devices', 'load-devices'));
    }
    if (!live) loadAlerts().catch(report('the alerts', 'load-alerts'));
  } else if (view === 'device' && (!live || full)) {
    loadDevicePage().catch(report('the device', 'load-device'));
  }
}

function onStreamStatus(state, info) {
  setLive(state, info);
  if (state === 'live') {
    clearNotice('stream');
    // A first connection, or one the server could not resume: what happened meanwhile is
    // read again (a `resumed` connection replays it).
    if (!liveOnce || !info.resumed) reloadAll(liveOnce ? 'resync' : 'first');
    liveOnce = true;
  } else if (state === 'throttled') {
    notice(`Too many live streams are open with this API key (HTTP 429). Retrying in ${Math.round(info.retryInMs / 1000)} s; close other tabs that use this key.`, { kind: 'warn', key: 'stream' });
  } else if (state === 'reconnecting' && info.error && ctx.stream && ctx.stream.failures >= 3) {
    notice(`Live updates interrupted (${errText(info.error)}); retrying.`, { kind: 'warn', key: 'stream' });
  }
}

function onEvent(type, data) {
  switch (type) {
    case 'ready':
      break;
    case 'alert':
      onAlertEvent(data);
      break;
    case 'readings': // {"devices": [{"device", "metrics": {name: {value, ts}}}]}: one per tick
      if (data && Array.isArray(data.devices)) data.devices.forEach(onReading);
      break;
    case 'reading': // one device: {"device", "metrics"}
      onReading(data);
      break;
    case 'reset':
      reloadAll('reset');
      break;
    default:
      break; // unknown events are ignored (newer servers may add some)
  }
}

function onReading(d) {
  if (d && typeof d.device === 'string' && d.metrics && typeof d.metrics === 'object') {
    onReadingEvent(d);
    onDeviceReading(d);
  }
}

let lastReload = 0;

/** Reads what the current view shows again (after a reset or an unresumed reconnect). */
function reloadAll(reason) {
  if (!ctx.me) return;
  // An unresumable reconnect says so twice (`ready` with resumed false, then `reset`).
  if (reason !== 'first' && Date.now() - lastReload < 1000) return;
  lastReload = Date.now();
  loadAlerts().catch(report('the alerts', 'load-alerts'));
  loadSummary().catch(report('the summary', 'summary'));
  if (reason !== 'first') {
    if (view === 'overview') loadDevices().catch(report('the devices', 'load-devices'));
    if (view === 'device') loadDevicePage().catch(report('the device', 'load-device'));
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

function route() {
  if (!ctx.me) return;
  let key = null;
  const m = /^#\/devices\/(.+)$/.exec(location.hash);
  if (m) {
    try {
      key = decodeURIComponent(m[1]);
    } catch {
      key = null;
    }
  }
  closeDialog();
  if (key) {
    const first = view !== 'device';
    view = 'device';
    show($('overview-view'), false);
    show($('device-view'), true);
    openDevicePage(key);
    if (first) window.scrollTo(0, 0);
    if (!ctx.alertsLoaded) {
      // the tiles' and the table's data still follow the stream for when we go back
      ctx.alertsLoaded = true;
      loadAlerts().catch(report('the alerts', 'load-alerts'));
      loadSummary().catch(report('the summary', 'summary'));
    }
  } else {
    view = 'overview';
    closeDevicePage();
    show($('device-view'), false);
    show($('overview-view'), true);
    renderTiles();
    renderAlerts();
    renderDevices();
    ctx.alertsLoaded = true;
    lastFullRefresh = Date.now();
    loadSummary().catch(report('the summary', 'summary'));
    loadAlerts().catch(report('the alerts', 'load-alerts'));
    loadDevices().catch(report('the devices', 'load-devices'));
  }
}

// ---------------------------------------------------------------------------------------------
// Start

function init() {
  makeApi(onUnauthorized);
  setAlertHooks({ deviceAlert: onDeviceAlert, deviceFilter: setDeviceFilter });
  wireDevices();
  wireDevicePage();
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('signin-key').value.trim();
    if (!key) {
      showSignIn('Enter an API key.');
      return;
    }
    signIn(key);
  });
  $('signout').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', route);
  // A tab that slept may hold a dead connection: check it when the page is shown again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && ctx.stream && ctx.streamState !== 'live') ctx.stream.kick();
  });
  setLive('off');
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved, { restoring: true });
  else showSignIn();
}

init();
