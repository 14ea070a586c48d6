// A parser for the text/event-stream format (the WHATWG "server-sent events" rules): fields
// id, event, data (several data lines join with "\n"), retry; lines starting with ":" are
// comments; a blank line ends an event; lines end with CRLF, LF or CR, and a chunk may end
// anywhere, even between CR and LF or inside a line.

export class SseParser {
  constructor(lastEventId = '') {
    this.buffer = '';
    this.pendingCR = false;
    this.lastEventId = lastEventId;
    this.retry = null;
    this.comments = 0;
    this.resetEvent();
  }

  resetEvent() {
    this.type = '';
    this.data = [];
    this.idInEvent = null;
  }

  /** Feeds decoded text; returns the events completed by it: {type, data, id, lastEventId}. */
  feed(text) {
    const out = [];
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    const buf = this.buffer + text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      this.line(line, out);
    }
    this.buffer = buf.slice(start);
    return out;
  }

  line(line, out) {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastEventId = value;
          this.idInEvent = value;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number.parseInt(value, 10);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  dispatch(out) {
    if (this.data.length > 0) {
      out.push({
        type: this.type || 'message',
        data: this.data.join('\n'),
        id: this.idInEvent,
        lastEventId: this.lastEventId,
      });
    }
    this.resetEvent();
  }
}
