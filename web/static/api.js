// The HTTP API client: same origin, the key in X-API-Key, errors as ApiError with the server's
// {"error": {"code", "message"}}.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** What the user reads: the server's message, its code and the HTTP status. */
  describe() {
    if (this.status === 0) return this.message;
    return `${this.message} (${this.code}, HTTP ${this.status})`;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function retryAfterSeconds(res) {
  const v = Number.parseInt(res.headers.get('Retry-After') || '', 10);
  return Number.isFinite(v) && v > 0 ? v : null;
}

/** Turns a non-2xx response into an ApiError (the body may be JSON or anything else). */
export async function errorFrom(res) {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      if (typeof body.error.code === 'string') code = body.error.code;
      if (typeof body.error.message === 'string') message = body.error.message;
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message, retryAfterSeconds(res));
}

export function buildPath(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export class Api {
  /**
   * getKey: () => the API key; onUnauthorized(err): called when a request with a key that was
   * accepted before answers 401 (revoked), unless the request says quiet401.
   */
  constructor(getKey, { onUnauthorized } = {}) {
    this.getKey = getKey;
    this.onUnauthorized = onUnauthorized || (() => {});
  }

  async request(method, path, { query, body, headers = {}, signal, quiet401 = false } = {}) {
    const url = buildPath(path, query);
    const h = { Accept: 'application/json', 'X-API-Key': this.getKey() || '', ...headers };
    const init = { method, headers: h, signal, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch(url, init);
      } catch (e) {
        if (e && e.name === 'AbortError') throw e;
        throw new ApiError(0, 'network', `Could not reach the server (${e && e.message ? e.message : e})`);
      }
      if (res.ok) {
        if (res.status === 204) return null;
        const text = await res.text();
        return text ? JSON.parse(text) : null;
      }
      const err = await errorFrom(res);
      // Over the per-key rate limit: reads wait as told and try once more.
      if (res.status === 429 && method === 'GET' && attempt === 0) {
        await sleep(Math.min(err.retryAfter || 1, 5) * 1000);
        continue;
      }
      if (res.status === 401 && !quiet401) this.onUnauthorized(err);
      throw err;
    }
  }

  get(path, query, opts = {}) {
    return this.request('GET', path, { ...opts, query });
  }

  post(path, body, opts = {}) {
    return this.request('POST', path, { ...opts, body });
  }

  del(path, opts = {}) {
    return this.request('DELETE', path, opts);
  }
}

/** Runs async tasks with at most `limit` in flight (keeps the page under the API rate limit). */
export class Queue {
  constructor(limit) {
    this.limit = limit;
    this.running = 0;
    this.waiting = [];
  }

  run(task) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, resolve, reject });
      this.next();
    });
  }

  next() {
    while (this.running < this.limit && this.waiting.length > 0) {
      const { task, resolve, reject } = this.waiting.shift();
      this.running++;
      Promise.resolve()
        .then(task)
        .then(resolve, reject)
        .finally(() => {
          this.running--;
          this.next();
        });
    }
  }
}
