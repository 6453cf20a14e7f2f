/*
 * VideoPro Cloud Meeting — staff tools.
 *
 * Plain ES2017, no dependencies, no build step. Everything that comes from the server
 * (visitor text above all) is put into the page with textContent, never as HTML.
 *
 *   - Handoff queue (/staff/handoffs, has #tickets-body): polls /staff/handoffs.json every 3 s
 *     and re-renders the table body.
 *   - One ticket (/staff/handoffs/{id}, <main data-ticket-id>): polls /staff/handoffs/{id}.json
 *     every 2 s, appends new messages, sends replies without reloading the page.
 *   - One request (#status-form): a note is required when rejecting.
 *
 * Every text it writes comes from the catalogue, in the member's language, handed to the page
 * as JSON in #staff-texts (keys web.staff.*, templates filled here as str.format fills them).
 */
(function () {
  'use strict';

  const QUEUE_INTERVAL_MS = 3000;
  const TICKET_INTERVAL_MS = 2000;
  const TIMEOUT_MS = 10000;

  /* ------------------------------------------------------------------ */
  /* Helpers                                                             */
  /* ------------------------------------------------------------------ */

  const TEXTS = (function () {
    const node = document.getElementById('staff-texts');
    try {
      return (node && JSON.parse(node.textContent)) || {};
    } catch (e) {
      return {};
    }
  })();

  /** The text under web.staff.<key>, `{name}` filled from values ({{ and }} are braces). */
  function T(key, values) {
    const template = TEXTS['web.staff.' + key];
    if (typeof template !== 'string') return key;
    return template.replace(/\{\{|\}\}|\{(\w+)\}/g, function (match, name) {
      if (match === '{{') return '{';
      if (match === '}}') return '}';
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  /* The registered languages are those the texts name (web.staff.language_name.<code>); any
     other value is the default language (<html data-default-language>), as the server reads it. */
  const DEFAULT_LANGUAGE = document.documentElement.getAttribute('data-default-language') || 'en';

  function languageOf(value) {
    return typeof TEXTS['web.staff.language_name.' + value] === 'string' ? value : DEFAULT_LANGUAGE;
  }

  /** A stored value's name (a status, a reason), or the value itself when it has none. */
  function named(group, value) {
    const key = 'web.staff.' + group + '.' + value;
    return typeof TEXTS[key] === 'string' ? TEXTS[key] : words(value);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /* "2026-11-30T14:05:09.123+00:00" -> "2026-11-30 14:05", as the server renders it (UTC). */
  function stamp(iso) {
    const s = iso === undefined || iso === null ? '' : String(iso);
    if (s.length >= 16 && s.charAt(10) === 'T') return s.slice(0, 16).replace('T', ' ');
    return s;
  }

  function timeElement(iso) {
    const t = el('time', null, stamp(iso));
    if (iso) t.setAttribute('datetime', String(iso));
    return t;
  }

  function clockNow() {
    const d = new Date();
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  /* How long ago an ISO moment was: "just now", "12 min", "3 h 5 min", "2 d 4 h". */
  function age(iso) {
    const then = Date.parse(iso);
    if (isNaN(then)) return '';
    const minutes = Math.max(0, Math.floor((Date.now() - then) / 60000));
    if (minutes < 1) return T('age.just_now');
    if (minutes < 60) return T('age.minutes', { minutes: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return T('age.hours', { hours: hours, minutes: minutes % 60 });
    return T('age.days', { days: Math.floor(hours / 24), hours: hours % 24 });
  }

  function words(s) {
    return String(s === undefined || s === null ? '' : s).replace(/_/g, ' ');
  }

  function safeClass(s) {
    return /^[a-z][a-z0-9_-]{0,31}$/.test(String(s)) ? String(s) : 'unknown';
  }

  /* fetch with a timeout; resolves to {status, data} (data is null when the body is not JSON). */
  function request(url, options) {
    const opts = Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options || {});
    opts.headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    let timer = null;
    if (typeof AbortController === 'function') {
      const controller = new AbortController();
      opts.signal = controller.signal;
      timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    }
    function done() {
      if (timer) clearTimeout(timer);
    }
    return fetch(url, opts).then(function (response) {
      return response.text().then(function (body) {
        let data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        done();
        return { status: response.status, ok: response.ok, data: data };
      });
    }).catch(function (problem) {
      done();
      throw problem;
    });
  }

  /* ------------------------------------------------------------------ */
  /* Live indicator                                                      */
  /* ------------------------------------------------------------------ */

  function liveIndicator() {
    const node = document.getElementById('live-indicator');
    const text = node ? node.querySelector('.live-text') : null;
    return function set(state, message) {
      if (!node) return;
      node.setAttribute('data-state', state);
      if (text) text.textContent = message;
      node.title = message;
    };
  }

  /*
   * Calls `tick` (returning a promise of a response from `request`), then again `interval` ms
   * after it finishes. Stops for good on 401/403: the session is gone or the role changed.
   */
  function poll(tick, interval, setLive) {
    let stopped = false;
    function schedule() {
      if (!stopped) setTimeout(run, interval);
    }
    function run() {
      tick().then(function (result) {
        if (result.status === 401) {
          stopped = true;
          setLive('stopped', T('live.session_expired'));
        } else if (result.status === 403) {
          stopped = true;
          setLive('stopped', T('live.not_allowed'));
        } else if (!result.ok || !result.data) {
          setLive('error', T('live.problem'));
        } else {
          setLive('ok', T('live.updated', { time: clockNow() }));
        }
      }).catch(function () {
        setLive('error', T('live.problem'));
      }).then(schedule);
    }
    run();
  }

  /* ------------------------------------------------------------------ */
  /* Handoff queue                                                       */
  /* ------------------------------------------------------------------ */

  function initQueue(tbody) {
    const setLive = liveIndicator();
    const baseTitle = document.title;
    const known = new Set();
    Array.prototype.forEach.call(tbody.querySelectorAll('tr[data-id]'), function (row) {
      known.add(row.getAttribute('data-id'));
    });
    let firstLoad = true;
    let lastSignature = null;

    function ticketRow(t, isNew) {
      const id = String(t.id);
      const status = safeClass(t.status);
      const row = el('tr', 'ticket status-' + status + (status === 'waiting' ? ' waiting' : '') +
        (isNew ? ' is-new' : ''));
      row.setAttribute('data-id', id);

      const idCell = el('td');
      const link = el('a', 'ticket-link', '#' + id);
      link.href = '/staff/handoffs/' + encodeURIComponent(id);
      idCell.appendChild(link);
      row.appendChild(idCell);

      const statusCell = el('td');
      statusCell.appendChild(el('span', 'badge status-' + status, named('ticket_status', t.status)));
      if (!t.live) {
        statusCell.appendChild(document.createTextNode(' '));
        const tag = el('span', 'tag', T('handoffs.offline'));
        tag.title = T('handoffs.offline_title');
        statusCell.appendChild(tag);
      }
      row.appendChild(statusCell);

      row.appendChild(el('td', null, named('reason', t.reason)));

      const language = languageOf(t.language);
      row.setAttribute('data-language', language);
      const languageCell = el('td', 'ticket-language');
      languageCell.appendChild(el('span', 'tag lang-tag', named('language_name', language)));
      row.appendChild(languageCell);

      const since = el('td', 'nowrap');
      if (t.created_at) {
        since.appendChild(timeElement(t.created_at));
        if (status === 'waiting') {
          const a = el('span', 'age', age(t.created_at));
          a.setAttribute('data-since', String(t.created_at));
          since.appendChild(document.createTextNode(' '));
          since.appendChild(a);
        }
      }
      row.appendChild(since);

      const assigned = el('td');
      if (t.assigned_to) assigned.textContent = t.assigned_to;
      else assigned.appendChild(el('span', 'muted', '—'));
      row.appendChild(assigned);

      const contact = el('td', 'email');
      if (t.contact_email) contact.textContent = t.contact_email;
      else contact.appendChild(el('span', 'muted', T('handoffs.in_chat')));
      row.appendChild(contact);
      return row;
    }

    function render(tickets) {
      const signature = JSON.stringify(tickets);
      if (signature === lastSignature) {
        // Nothing changed: only refresh the waiting times, so keyboard focus stays put.
        Array.prototype.forEach.call(tbody.querySelectorAll('.age[data-since]'), function (a) {
          a.textContent = age(a.getAttribute('data-since'));
        });
        return;
      }
      lastSignature = signature;

      const focused = document.activeElement;
      const focusedId = focused && tbody.contains(focused) && focused.closest('tr[data-id]')
        ? focused.closest('tr[data-id]').getAttribute('data-id') : null;

      const fragment = document.createDocumentFragment();
      tickets.forEach(function (t) {
        const id = String(t.id);
        const isNew = !firstLoad && !known.has(id);
        known.add(id);
        fragment.appendChild(ticketRow(t, isNew));
      });
      if (!tickets.length) {
        const empty = el('tr', 'empty');
        const cell = el('td', null, T('handoffs.empty'));
        cell.colSpan = 7;
        empty.appendChild(cell);
        fragment.appendChild(empty);
      }
      clear(tbody);
      tbody.appendChild(fragment);
      firstLoad = false;

      if (focusedId) {
        const again = tbody.querySelector('tr[data-id="' + focusedId.replace(/[^0-9A-Za-z_-]/g, '') +
          '"] .ticket-link');
        if (again) again.focus();
      }

      const waiting = tickets.filter(function (t) { return t.status === 'waiting'; }).length;
      document.title = (waiting ? T('handoffs.waiting_title', { count: waiting }) + ' ' : '') +
        baseTitle;
    }

    poll(function () {
      return request('/staff/handoffs.json').then(function (result) {
        if (result.ok && result.data && Array.isArray(result.data.tickets)) {
          render(result.data.tickets);
        } else if (result.ok) {
          result.ok = false;
        }
        return result;
      });
    }, QUEUE_INTERVAL_MS, setLive);
  }

  /* ------------------------------------------------------------------ */
  /* One ticket                                                          */
  /* ------------------------------------------------------------------ */

  function messageLine(m) {
    const sender = safeClass(m.sender);
    const li = el('li', 'line ' + sender + ' is-new');
    li.setAttribute('data-id', String(m.id));
    const head = el('div', 'line-head');
    let who = T('line.system');
    if (sender === 'visitor') who = T('line.visitor');
    else if (sender === 'staff') who = m.author || T('line.staff');
    head.appendChild(el('span', 'who', who));
    head.appendChild(document.createTextNode(' '));
    if (m.at) head.appendChild(timeElement(m.at));
    li.appendChild(head);
    li.appendChild(el('div', 'text', m.text));
    return li;
  }

  function initTicket(main) {
    const ticketId = main.getAttribute('data-ticket-id');
    const list = document.getElementById('messages');
    const replyForm = document.getElementById('reply-form');
    const closeForm = document.getElementById('close-form');
    const closedNote = document.getElementById('closed-note');
    const statusBadge = document.getElementById('ticket-status');
    const textarea = document.getElementById('reply-text');
    const sendButton = document.getElementById('reply-send');
    const note = document.getElementById('delivery-note');
    const setLive = liveIndicator();
    const shown = new Set();
    let status = main.getAttribute('data-ticket-status') || '';
    let sending = false;

    if (list) {
      Array.prototype.forEach.call(list.querySelectorAll('[data-id]'), function (li) {
        shown.add(li.getAttribute('data-id'));
      });
      list.scrollTop = list.scrollHeight;
    }

    function nearBottom() {
      return !list || list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    }

    function append(messages, forceScroll) {
      if (!list || !Array.isArray(messages)) return;
      const stick = forceScroll || nearBottom();
      messages.slice().sort(function (a, b) { return Number(a.id) - Number(b.id); })
        .forEach(function (m) {
          if (!m || m.id === undefined || m.id === null) return;
          const id = String(m.id);
          if (shown.has(id)) return;
          shown.add(id);
          list.appendChild(messageLine(m));
        });
      if (stick) list.scrollTop = list.scrollHeight;
    }

    function setStatus(next) {
      if (!next || next === status) return;
      status = String(next);
      main.setAttribute('data-ticket-status', status);
      if (statusBadge) {
        statusBadge.textContent = named('ticket_status', status);
        statusBadge.className = 'badge badge-lg status-' + safeClass(status);
      }
      const closed = status === 'closed';
      if (replyForm) replyForm.hidden = closed;
      if (closeForm) closeForm.hidden = closed;
      if (closedNote) closedNote.hidden = !closed;
    }

    function showNote(text, kind) {
      if (!note) return;
      note.textContent = text;
      note.className = 'delivery-note' + (kind ? ' is-' + kind : '');
    }

    const DELIVERY = {
      chat: [T('delivery.chat'), 'ok'],
      email: [T('delivery.email'), 'warn'],
      none: [T('delivery.none'), 'error']
    };

    function send() {
      if (!replyForm || sending) return;
      if (!textarea || !textarea.value.trim()) {
        showNote(T('ticket.write_first'), 'error');
        if (textarea) textarea.focus();
        return;
      }
      sending = true;
      if (sendButton) sendButton.disabled = true;
      showNote(T('delivery.sending'), null);
      const body = new URLSearchParams(new FormData(replyForm));
      request(replyForm.getAttribute('action') || replyForm.action, {
        method: 'POST',
        body: body,
        headers: { Accept: 'application/json' }
      }).then(function (result) {
        const data = result.data || {};
        if (result.ok && data.ok) {
          if (data.message) append([data.message], true);
          textarea.value = '';
          const d = DELIVERY[data.delivery] || [T('delivery.saved'), 'ok'];
          showNote(d[0], d[1]);
        } else if (result.status === 401) {
          showNote(T('delivery.session_expired'), 'error');
        } else {
          showNote(typeof data.error === 'string' && data.error ? data.error
            : T('delivery.failed'), 'error');
        }
      }).catch(function () {
        showNote(T('delivery.no_connection'), 'error');
      }).then(function () {
        sending = false;
        if (sendButton) sendButton.disabled = false;
        if (textarea && !replyForm.hidden) textarea.focus();
      });
    }

    if (replyForm) {
      replyForm.addEventListener('submit', function (event) {
        event.preventDefault();
        send();
      });
    }
    if (textarea) {
      textarea.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          send();
        }
      });
    }

    poll(function () {
      return request('/staff/handoffs/' + encodeURIComponent(ticketId) + '.json')
        .then(function (result) {
          if (result.ok && result.data) {
            append(result.data.messages, false);
            setStatus(result.data.status);
          }
          return result;
        });
    }, TICKET_INTERVAL_MS, setLive);
  }

  /* ------------------------------------------------------------------ */
  /* One request: the note is required to reject                         */
  /* ------------------------------------------------------------------ */

  function initStatusForm(form) {
    const select = form.querySelector('select[name="status"]');
    const note = form.querySelector('textarea[name="note"]');
    if (!select || !note) return;
    function sync() {
      const rejecting = select.value === 'rejected';
      note.required = rejecting;
      note.setAttribute('aria-required', rejecting ? 'true' : 'false');
      note.placeholder = rejecting ? T('reject_placeholder') : '';
    }
    select.addEventListener('change', sync);
    sync();
  }

  /* ------------------------------------------------------------------ */

  function init() {
    const tbody = document.getElementById('tickets-body');
    if (tbody) initQueue(tbody);
    const main = document.querySelector('[data-ticket-id]');
    if (main) initTicket(main);
    const statusForm = document.getElementById('status-form');
    if (statusForm) initStatusForm(statusForm);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
