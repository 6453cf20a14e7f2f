/*
 * VideoPro Cloud Meeting — privacy assistant chat widget.
 *
 * Plain ES2017, no dependencies. All visitor and bot text is rendered with
 * textContent (never as HTML).
 *
 * Backend contract:
 *   POST /api/chat  {"message": "<text>", "language": "<page language>"}
 *   -> {"messages": [{"text": "...", "buttons": [{"title": "...", "payload": "..."}],
 *                     "answer": {...}}]}
 *   A policy answer carries "answer" (kind, sections, topic, language, question, token); the
 *   visitor rates it with
 *   POST /api/feedback  {"answer": {...as received...}, "helpful": true|false}
 *   -> {"ok": true}, or {"error": "..."} with 400 / 503.
 *   Both carry "language": the page's language, for the server's own error messages.
 *   GET /api/chat/news?after=<id>: what support staff said since; POST /api/chat/end: "End chat".
 *
 * The conversation is the server's: its id is in an HttpOnly cookie the server sets (with the
 * page, or with the first answer) and renews with each message; this script never sees it.
 * What the page keeps of the chat (the transcript, the language the assistant was told, the
 * last staff line read) carries the time of the visitor's last message or rating, and is wiped
 * once the conversation has sat idle as long as the server says it may (`idle_seconds` in
 * #chat-texts: Rasa's session expiry, when the cookie ends too), on load and on a timer.
 * "End chat" clears the cookie on the server and wipes all of it here.
 *
 * Languages: every text comes from the catalogue (data/texts/*), handed to the page as JSON in
 * #chat-texts for every registered language, so the language switch relabels the page in place
 * (elements with data-t="key", attributes with data-t-<attribute>="key"). The visitor's choice is
 * kept in localStorage and in the cookie vp_lang (the server renders the next page in it); with
 * no choice the page follows the browser (Accept-Language on the server, navigator.languages
 * here). The assistant is told the language with the payload /set_language{"language":"zh"}:
 * visibly when the visitor switches (its confirmation is shown), silently before the first
 * message when the conversation does not yet know the page's language (a Chinese page starts
 * the conversation in Chinese).
 */
(function () {
  'use strict';

  /* ------------------------------------------------------------------ */
  /* Texts and languages                                                 */
  /* ------------------------------------------------------------------ */
  // The registered languages (data/languages.yml) as the server hands them over: the default on
  // <html data-default-language>, each language's <html lang> tag in the bundle, and the switch's
  // buttons should the bundle be unreadable.
  const DEFAULT_LANGUAGE = document.documentElement.getAttribute('data-default-language') || 'en';
  const KEY_LANGUAGE = 'vp_lang'; // the visitor's choice (localStorage and cookie)
  const KEY_CONVERSATION_LANGUAGE = 'vp_chat_lang'; // what the assistant was last told
  const COOKIE_MAX_AGE = 365 * 24 * 3600;

  function readBundle() {
    const node = document.getElementById('chat-texts');
    try {
      const data = node ? JSON.parse(node.textContent) : null;
      if (data && data.texts && typeof data.texts === 'object') return data;
    } catch (e) { /* fall through */ }
    return { language: DEFAULT_LANGUAGE, html_lang: {}, texts: {} };
  }

  function registeredLanguages(bundle) {
    const tagged = Object.keys(bundle.html_lang || {});
    if (tagged.length) return tagged;
    const offered = Array.prototype.map.call(
      document.querySelectorAll('.chat-lang-btn[data-language]'),
      function (button) { return button.getAttribute('data-language'); });
    return offered.length ? offered : [DEFAULT_LANGUAGE];
  }

  const BUNDLE = readBundle();
  // How long a conversation may sit idle (the server's figure; none readable: keep nothing).
  const IDLE_MS = typeof BUNDLE.idle_seconds === 'number' && BUNDLE.idle_seconds > 0
    ? BUNDLE.idle_seconds * 1000 : 0;
  const LANGUAGES = registeredLanguages(BUNDLE);
  let language = LANGUAGES.indexOf(BUNDLE.language) !== -1 ? BUNDLE.language : DEFAULT_LANGUAGE;

  /** A catalogue template filled as str.format fills it: {name} from values, {{ and }} literal. */
  function format(template, values) {
    return String(template).replace(/\{\{|\}\}|\{(\w+)\}/g, function (match, name) {
      if (match === '{{') return '{';
      if (match === '}}') return '}';
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  /** The text under `key` in the page's language (the key itself if the bundle lacks it). */
  function t(key, values) {
    const texts = BUNDLE.texts[language] || {};
    return key in texts ? format(texts[key], values) : key;
  }

  function isLanguage(value) {
    return LANGUAGES.indexOf(value) !== -1;
  }

  function languageOfTag(tag) {
    const primary = String(tag || '').toLowerCase().split('-')[0];
    return isLanguage(primary) ? primary : null;
  }

  function browserLanguage() {
    const list = Array.isArray(navigator.languages) && navigator.languages.length
      ? navigator.languages : [navigator.language];
    for (let i = 0; i < list.length; i++) {
      const found = languageOfTag(list[i]);
      if (found) return found;
    }
    return null;
  }

  function cookieLanguage() {
    const match = /(?:^|;\s*)vp_lang=([a-z]{2})(?:;|$)/.exec(document.cookie || '');
    return match && isLanguage(match[1]) ? match[1] : null;
  }

  function rememberLanguage(value) {
    storageSet(KEY_LANGUAGE, value);
    document.cookie = KEY_LANGUAGE + '=' + value + '; path=/; max-age=' + COOKIE_MAX_AGE +
      '; samesite=lax';
  }

  /** The visitor's own choice, if they made one (on this page, or on an earlier one). */
  function chosenLanguage() {
    const stored = storageGet(KEY_LANGUAGE);
    if (isLanguage(stored)) return stored;
    return cookieLanguage();
  }

  /** Every text of the page in the current language; `<html lang>` and the switch too. */
  function relabel() {
    document.documentElement.lang = (BUNDLE.html_lang && BUNDLE.html_lang[language]) || language;
    document.documentElement.setAttribute('data-lang', language);
    const labelled = document.querySelectorAll('[data-t]');
    for (let i = 0; i < labelled.length; i++) {
      const key = labelled[i].getAttribute('data-t');
      if (labelled[i].tagName === 'TITLE') document.title = t(key);
      else labelled[i].textContent = t(key);
    }
    ['aria-label', 'placeholder', 'title', 'content'].forEach(function (attribute) {
      const nodes = document.querySelectorAll('[data-t-' + attribute + ']');
      for (let i = 0; i < nodes.length; i++) {
        nodes[i].setAttribute(attribute, t(nodes[i].getAttribute('data-t-' + attribute)));
      }
    });
    const switches = document.querySelectorAll('.chat-lang-btn[data-language]');
    for (let i = 0; i < switches.length; i++) {
      const pressed = switches[i].getAttribute('data-language') === language;
      switches[i].setAttribute('aria-pressed', pressed ? 'true' : 'false');
    }
    // What the script itself wrote: rating groups and their thanks.
    const questions = document.querySelectorAll('.chat-feedback-question');
    for (let i = 0; i < questions.length; i++) questions[i].textContent = t('web.chat.feedback.question');
    const done = document.querySelectorAll('.chat-feedback-done');
    for (let i = 0; i < done.length; i++) done[i].textContent = t('web.chat.feedback.thanks');
    const yes = document.querySelectorAll('.chat-feedback-btn[data-helpful="yes"]');
    for (let i = 0; i < yes.length; i++) {
      yes[i].textContent = t('web.chat.feedback.yes');
      yes[i].setAttribute('aria-label', t('web.chat.feedback.yes_label'));
    }
    const no = document.querySelectorAll('.chat-feedback-btn[data-helpful="no"]');
    for (let i = 0; i < no.length; i++) {
      no[i].textContent = t('web.chat.feedback.no');
      no[i].setAttribute('aria-label', t('web.chat.feedback.no_label'));
    }
    const groups = document.querySelectorAll('.chat-buttons[role="group"]');
    for (let i = 0; i < groups.length; i++) groups[i].setAttribute('aria-label', t('web.chat.suggested_replies'));
  }

  function setLanguage(value) {
    if (!isLanguage(value)) return;
    language = value;
    relabel();
  }

  /** The payload that tells the assistant the conversation's language. */
  function languagePayload(value) {
    return '/set_language' + JSON.stringify({ language: value });
  }

  const API_URL = '/api/chat';
  const FEEDBACK_URL = '/api/feedback';
  const END_URL = '/api/chat/end';
  const NEWS_URL = '/api/chat/news';
  const KEY_LEGACY_SENDER = 'vp_chat_sender'; // the id pages made before the server issued it
  const KEY_LOG = 'vp_chat_log';
  const KEY_ACTIVE = 'vp_chat_active'; // the visitor's last message or rating (ms since epoch)
  const NEWS_KEY = 'vp_chat_news_after';
  const KEY_OPEN = 'vp_chat_open';
  const MAX_LOG = 200;
  const MAX_LEN = 2000;
  const TIMEOUT_MS = 30000;
  const GREET = '/greet';
  const FEEDBACK_HELPFUL = 'helpful';
  const FEEDBACK_UNHELPFUL = 'unhelpful';

  /* ------------------------------------------------------------------ */
  /* Storage (falls back to memory if localStorage is unavailable)       */
  /* ------------------------------------------------------------------ */
  const memoryStore = Object.create(null);

  function storageGet(key) {
    try {
      const value = window.localStorage.getItem(key);
      if (value !== null) return value;
    } catch (e) { /* storage disabled */ }
    return key in memoryStore ? memoryStore[key] : null;
  }

  function storageSet(key, value) {
    memoryStore[key] = String(value);
    try {
      window.localStorage.setItem(key, String(value));
    } catch (e) { /* quota exceeded or storage disabled: keep in memory */ }
  }

  function storageRemove(key) {
    delete memoryStore[key];
    try {
      window.localStorage.removeItem(key);
    } catch (e) { /* storage disabled */ }
  }

  /* ------------------------------------------------------------------ */
  /* What the browser keeps of the conversation, and for how long        */
  /* ------------------------------------------------------------------ */
  const CONVERSATION_KEYS = [KEY_LOG, KEY_ACTIVE, KEY_CONVERSATION_LANGUAGE, NEWS_KEY,
    KEY_LEGACY_SENDER];

  function keepsAnything() {
    return CONVERSATION_KEYS.some(function (key) { return storageGet(key) !== null; });
  }

  /** Whether what is kept has outlived the conversation (or carries no time at all). */
  function keptTooLong() {
    const active = parseInt(storageGet(KEY_ACTIVE) || '', 10);
    return !isFinite(active) || Date.now() - active >= IDLE_MS;
  }

  function wipeKept() {
    CONVERSATION_KEYS.forEach(storageRemove);
  }

  /** The visitor did something the server counts as activity (its cookie was renewed). */
  function touch() {
    storageSet(KEY_ACTIVE, String(Date.now()));
  }

  if (keepsAnything() && keptTooLong()) wipeKept();
  storageRemove(KEY_LEGACY_SENDER);

  let feedbackGroups = 0; // numbers the rating groups' labels (ids unique on the page)

  /* ------------------------------------------------------------------ */
  /* Transcript model                                                    */
  /* ------------------------------------------------------------------ */
  function asText(value) {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && isFinite(value)) return String(value);
    return '';
  }

  function normalizeButtons(buttons) {
    if (!Array.isArray(buttons)) return [];
    const out = [];
    buttons.forEach(function (b) {
      if (!b || typeof b !== 'object') return;
      const title = asText(b.title);
      const payload = asText(b.payload);
      if (!title && !payload) return;
      out.push({ title: title || payload, payload: payload || title });
    });
    return out;
  }

  /** The answer reference exactly as the server sent it, or null when it is not one. */
  function normalizeAnswer(answer) {
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return null;
    if (typeof answer.kind !== 'string' || typeof answer.language !== 'string' ||
        typeof answer.question !== 'string' || typeof answer.token !== 'string') return null;
    if (answer.topic !== null && typeof answer.topic !== 'string') return null;
    if (!Array.isArray(answer.sections) ||
        !answer.sections.every(function (s) { return typeof s === 'string'; })) return null;
    return {
      kind: answer.kind, sections: answer.sections.slice(), topic: answer.topic,
      language: answer.language, question: answer.question, token: answer.token
    };
  }

  function normalizeEntry(raw) {
    if (!raw || typeof raw !== 'object') return null;
    const from = raw.from === 'user' || raw.from === 'bot' ? raw.from : null;
    if (!from) return null;
    const text = asText(raw.text);
    const buttons = from === 'bot' ? normalizeButtons(raw.buttons) : [];
    if (!text.trim() && !buttons.length) return null;
    const entry = { from: from, text: text, buttons: buttons };
    if (buttons.length && Number.isInteger(raw.chosen) && raw.chosen >= 0) {
      entry.chosen = raw.chosen; // index of the quick-reply button already clicked
    }
    const answer = from === 'bot' && text.trim() ? normalizeAnswer(raw.answer) : null;
    if (answer) {
      entry.answer = answer;
      if (raw.feedback === FEEDBACK_HELPFUL || raw.feedback === FEEDBACK_UNHELPFUL) {
        entry.feedback = raw.feedback; // already rated: a reload does not ask again
      }
    }
    return entry;
  }

  function loadLog() {
    const raw = storageGet(KEY_LOG);
    if (!raw) return [];
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    const out = [];
    parsed.forEach(function (item) {
      const entry = normalizeEntry(item);
      if (entry) out.push(entry);
    });
    return out.slice(-MAX_LOG);
  }

  let log = loadLog();

  function saveLog() {
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
    storageSet(KEY_LOG, JSON.stringify(log));
  }

  /* ------------------------------------------------------------------ */
  /* DOM                                                                 */
  /* ------------------------------------------------------------------ */
  let els = null;
  let busy = false;
  let greeted = false;
  let typingEl = null;
  let lastFocus = null;

  function isOpen() {
    return !!els && !els.panel.hidden;
  }

  function scrollToBottom() {
    if (!els) return;
    els.log.scrollTop = els.log.scrollHeight;
  }

  function createBubble(from, text, extraClass) {
    const el = document.createElement('div');
    el.className = 'msg ' + from + (extraClass ? ' ' + extraClass : '');
    el.textContent = text; // never innerHTML
    return el;
  }

  function setGroupDisabled(group, disabled) {
    const buttons = group.querySelectorAll('button.chat-btn');
    for (let i = 0; i < buttons.length; i++) buttons[i].disabled = disabled;
  }

  function renderButtons(entry) {
    const group = document.createElement('div');
    group.className = 'chat-buttons';
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', t('web.chat.suggested_replies'));
    const used = typeof entry.chosen === 'number';

    entry.buttons.forEach(function (button, index) {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'chat-btn';
      btn.textContent = button.title;
      if (used) {
        btn.disabled = true;
        if (entry.chosen === index) btn.classList.add('is-chosen');
      }
      btn.addEventListener('click', function () {
        onQuickReply(entry, index, group, btn);
      });
      group.appendChild(btn);
    });
    return group;
  }

  /** Append the DOM for one transcript entry; returns the bubble element (if any). */
  function renderEntry(entry) {
    let bubble = null;
    if (entry.text.trim()) {
      bubble = createBubble(entry.from, entry.text);
      insertBeforeTyping(bubble);
    }
    if (entry.from === 'bot' && entry.buttons.length) {
      insertBeforeTyping(renderButtons(entry));
    }
    if (bubble && entry.answer) {
      insertBeforeTyping(entry.feedback ? renderFeedbackDone(false) : renderFeedback(entry));
    }
    return bubble;
  }

  /* ------------------------------------------------------------------ */
  /* "Was this helpful?" under a policy answer                          */
  /* ------------------------------------------------------------------ */
  function renderFeedbackDone(announce) {
    const done = document.createElement('p');
    done.className = 'chat-feedback chat-feedback-done';
    if (announce) done.setAttribute('role', 'status');
    done.textContent = t('web.chat.feedback.thanks');
    return done;
  }

  function feedbackButton(label, ariaLabel, helpful) {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'chat-feedback-btn';
    btn.textContent = label;
    btn.setAttribute('aria-label', ariaLabel);
    btn.setAttribute('aria-pressed', 'false');
    btn.dataset.helpful = helpful ? 'yes' : 'no';
    return btn;
  }

  function renderFeedback(entry) {
    const group = document.createElement('div');
    group.className = 'chat-feedback';
    group.setAttribute('role', 'group');
    const question = document.createElement('span');
    question.className = 'chat-feedback-question';
    question.id = 'feedback-q-' + (++feedbackGroups);
    question.textContent = t('web.chat.feedback.question');
    group.setAttribute('aria-labelledby', question.id);
    const yes = feedbackButton(t('web.chat.feedback.yes'), t('web.chat.feedback.yes_label'), true);
    const no = feedbackButton(t('web.chat.feedback.no'), t('web.chat.feedback.no_label'), false);
    const problem = document.createElement('span');
    problem.className = 'chat-feedback-error';
    problem.setAttribute('role', 'alert');
    group.appendChild(question);
    group.appendChild(yes);
    group.appendChild(no);
    group.appendChild(problem);
    [yes, no].forEach(function (btn) {
      btn.addEventListener('click', function () {
        sendFeedback(entry, btn === yes, group, btn, problem);
      });
    });
    return group;
  }

  async function sendFeedback(entry, helpful, group, btn, problem) {
    if (entry.feedback || group.getAttribute('aria-busy') === 'true') return;
    group.setAttribute('aria-busy', 'true');
    btn.setAttribute('aria-pressed', 'true');
    problem.textContent = '';
    let ok = false;
    try {
      const res = await fetch(FEEDBACK_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ answer: entry.answer, helpful: helpful, language: language })
      });
      ok = res.ok;
    } catch (e) {
      ok = false; // offline for a moment: the visitor may try again
    }
    if (ok) touch();
    group.setAttribute('aria-busy', 'false');
    if (!ok) {
      btn.setAttribute('aria-pressed', 'false');
      problem.textContent = t('web.chat.feedback.failed');
      return;
    }
    entry.feedback = helpful ? FEEDBACK_HELPFUL : FEEDBACK_UNHELPFUL;
    saveLog();
    const hadFocus = group.contains(document.activeElement);
    group.parentNode.replaceChild(renderFeedbackDone(true), group);
    if (hadFocus && isOpen()) els.input.focus(); // the focused button is gone: back to typing
  }

  function insertBeforeTyping(node) {
    if (typingEl && typingEl.parentNode === els.log) {
      els.log.insertBefore(node, typingEl);
    } else {
      els.log.appendChild(node);
    }
  }

  function addEntry(entry) {
    log.push(entry);
    saveLog();
    const bubble = renderEntry(entry);
    scrollToBottom();
    return bubble;
  }

  function removeEntry(entry) {
    const i = log.indexOf(entry);
    if (i !== -1) {
      log.splice(i, 1);
      saveLog();
    }
  }

  function showError() {
    insertBeforeTyping(createBubble('bot', t('web.unreachable'), 'error'));
    scrollToBottom();
  }

  function showTyping() {
    hideTyping();
    typingEl = document.createElement('div');
    typingEl.className = 'typing';
    typingEl.setAttribute('aria-hidden', 'true');
    for (let i = 0; i < 3; i++) {
      const dot = document.createElement('span');
      dot.className = 'dot';
      typingEl.appendChild(dot);
    }
    const label = document.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = t('web.chat.typing');
    typingEl.appendChild(label);
    els.log.appendChild(typingEl);
    scrollToBottom();
  }

  function hideTyping() {
    if (typingEl && typingEl.parentNode) typingEl.parentNode.removeChild(typingEl);
    typingEl = null;
  }

  function setBusy(value) {
    busy = value;
    els.send.disabled = value;
    if (els.endBtn) els.endBtn.disabled = value || ending;
    els.panel.classList.toggle('is-busy', value);
    els.log.setAttribute('aria-busy', value ? 'true' : 'false');
  }

  /* ------------------------------------------------------------------ */
  /* Networking                                                          */
  /* ------------------------------------------------------------------ */

  /**
   * Send one message to the backend and render the bot replies (none when `silent`).
   * Resolves to true on success, false on HTTP/network failure
   * (in which case a friendly error line has been shown).
   */
  async function postOne(message, silent) {
    showTyping();
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    let data;
    try {
      const res = await fetch(API_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ message: message, language: language }),
        signal: controller ? controller.signal : undefined
      });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      data = await res.json();
    } catch (err) {
      if (timer) clearTimeout(timer);
      hideTyping();
      showError();
      return false;
    }
    if (timer) clearTimeout(timer);
    hideTyping();
    touch();

    const messages = !silent && data && Array.isArray(data.messages) ? data.messages : [];
    messages.forEach(function (m) {
      const entry = normalizeEntry({
        from: 'bot',
        text: m && m.text,
        buttons: m && m.buttons,
        answer: m && m.answer
      });
      if (entry) addEntry(entry);
    });
    scrollToBottom();
    return true;
  }

  /** Tell the assistant the page's language, unless it was told already. */
  async function syncLanguage(visible) {
    if (storageGet(KEY_CONVERSATION_LANGUAGE) === language) return true;
    // A new conversation is English until told otherwise (Rasa's `language` slot is unset).
    if (!visible && !storageGet(KEY_CONVERSATION_LANGUAGE) && language === DEFAULT_LANGUAGE) {
      return true;
    }
    const told = language;
    const ok = await postOne(languagePayload(told), !visible);
    if (ok) storageSet(KEY_CONVERSATION_LANGUAGE, told);
    return ok;
  }

  /**
   * Send one message, the language first if the assistant does not know it yet; resolves to
   * true on success. The language switch pressed meanwhile is sent once this is done.
   */
  async function postMessage(message) {
    setBusy(true);
    let ok = await syncLanguage(false);
    if (ok) ok = await postOne(message, false);
    setBusy(false);
    if (switchPending) sendSwitch();
    return ok;
  }

  /* The 中文 / English switch: relabel now, tell the assistant (visibly) when it is free. */
  let switchPending = false;

  async function sendSwitch() {
    switchPending = false;
    if (!els || busy || !log.length) return; // no conversation yet: the first message tells it
    setBusy(true);
    await syncLanguage(true);
    setBusy(false);
    if (switchPending) sendSwitch();
  }

  function onSwitch(value) {
    if (!isLanguage(value) || value === language) return;
    rememberLanguage(value);
    setLanguage(value);
    switchPending = true;
    if (!busy) sendSwitch();
  }

  function sendGreeting() {
    if (busy || greeted || log.length) return;
    postMessage(GREET).then(function (ok) {
      if (ok) greeted = true;
    });
  }

  function submitInput() {
    if (busy) return;
    const raw = els.input.value;
    const text = raw.trim().slice(0, MAX_LEN);
    if (!text) return;

    els.input.value = '';
    const entry = { from: 'user', text: text, buttons: [] };
    const bubble = addEntry(entry);
    els.input.focus();

    postMessage(text).then(function (ok) {
      if (ok) return;
      // Keep the visitor's text so nothing is lost.
      removeEntry(entry);
      if (bubble) bubble.classList.add('failed');
      if (!els.input.value.trim()) els.input.value = raw;
      if (isOpen()) els.input.focus();
    });
  }

  function onQuickReply(entry, index, group, btn) {
    if (busy || typeof entry.chosen === 'number') return;
    const button = entry.buttons[index];
    if (!button) return;

    entry.chosen = index;
    setGroupDisabled(group, true);
    btn.classList.add('is-chosen');

    const userEntry = { from: 'user', text: button.title, buttons: [] };
    const bubble = addEntry(userEntry); // also persists entry.chosen
    els.input.focus();

    postMessage(button.payload).then(function (ok) {
      if (ok) return;
      // Let the visitor try the same button again.
      removeEntry(userEntry);
      if (bubble) bubble.classList.add('failed');
      delete entry.chosen;
      saveLog();
      setGroupDisabled(group, false);
      btn.classList.remove('is-chosen');
    });
  }

  /* ------------------------------------------------------------------ */
  /* Panel open / close                                                  */
  /* ------------------------------------------------------------------ */
  function openPanel() {
    if (!isOpen()) {
      const active = document.activeElement;
      lastFocus = active && active !== document.body ? active : null;
      els.panel.hidden = false;
      els.launcher.hidden = true;
      els.launcher.setAttribute('aria-expanded', 'true');
      if (els.heroButton) els.heroButton.setAttribute('aria-expanded', 'true');
      document.body.classList.add('chat-open');
      storageSet(KEY_OPEN, 'true');
    }
    scrollToBottom();
    // Focus the input (preventScroll keeps the page from jumping on desktop).
    try {
      els.input.focus({ preventScroll: true });
    } catch (e) {
      els.input.focus();
    }
    sendGreeting(); // no-op unless the transcript is empty
    window.requestAnimationFrame(scrollToBottom);
  }

  function closePanel() {
    if (!isOpen()) return;
    els.panel.hidden = true;
    els.launcher.hidden = false;
    els.launcher.setAttribute('aria-expanded', 'false');
    if (els.heroButton) els.heroButton.setAttribute('aria-expanded', 'false');
    document.body.classList.remove('chat-open');
    storageSet(KEY_OPEN, 'false');

    const target = lastFocus && document.contains(lastFocus) && lastFocus !== els.launcher &&
      lastFocus.offsetParent !== null ? lastFocus : els.launcher;
    lastFocus = null;
    try {
      target.focus({ preventScroll: true });
    } catch (e) {
      target.focus();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Staff replies (a person has taken over the conversation)          */
  /* ------------------------------------------------------------------ */
  const NEWS_INTERVAL_MS = 3000;
  let newsBusy = false;

  async function pollNews() {
    if (newsBusy) return;
    newsBusy = true;
    try {
      const after = parseInt(storageGet(NEWS_KEY) || '0', 10) || 0;
      const res = await fetch(NEWS_URL + '?after=' + after, {
        headers: { 'Accept': 'application/json' },
        credentials: 'same-origin'
      });
      if (!res.ok) return;
      const data = await res.json();
      (data.messages || []).forEach(function (m) {
        const line = m.from === 'staff' && m.author
          ? t('web.chat.support_line', { author: m.author, text: asText(m.text) }) : asText(m.text);
        addEntry({ from: 'bot', text: line, buttons: [] });
        storageSet(NEWS_KEY, String(m.id));
      });
    } catch (e) {
      /* offline for a moment: the next poll tries again */
    } finally {
      newsBusy = false;
    }
  }

  /* ------------------------------------------------------------------ */
  /* "End chat", and the end of a conversation left idle                 */
  /* ------------------------------------------------------------------ */
  let ending = false;

  /** Forget the conversation here: what is stored, and what the window shows. */
  function forgetConversation() {
    wipeKept();
    log = [];
    greeted = false;
    hideTyping();
    if (els) {
      while (els.log.firstChild) els.log.removeChild(els.log.firstChild);
    }
  }

  async function endChat() {
    if (busy || ending) return; // a message in flight would renew the conversation
    ending = true;
    if (els.endBtn) els.endBtn.disabled = true;
    let ok = false;
    try {
      const res = await fetch(END_URL, {
        method: 'POST',
        headers: { 'Accept': 'application/json' },
        credentials: 'same-origin'
      });
      ok = res.ok;
    } catch (e) {
      ok = false;
    }
    ending = false;
    if (els.endBtn) els.endBtn.disabled = busy;
    if (!ok) {
      // The server still holds the conversation: keep it here too, so nothing is half-ended.
      insertBeforeTyping(createBubble('bot', t('web.chat.end_failed'), 'error'));
      scrollToBottom();
      return;
    }
    forgetConversation();
    const note = createBubble('bot', t('web.chat.ended'), 'notice');
    note.setAttribute('role', 'status');
    els.log.appendChild(note);
    if (isOpen()) els.input.focus();
  }

  /** Past the idle expiry the server has ended the conversation: the browser forgets it. */
  function expireIfIdle() {
    if (busy || ending) return;
    if (keepsAnything() && keptTooLong()) forgetConversation();
  }

  /* ------------------------------------------------------------------ */
  /* Init                                                                */
  /* ------------------------------------------------------------------ */
  function init() {
    // The visitor's choice wins; on a first visit the browser's preference (navigator.languages),
    // which the server's Accept-Language rendering normally already matches.
    const chosen = chosenLanguage();
    if (chosen) {
      rememberLanguage(chosen); // both stores, should one of them have been cleared
      if (chosen !== language) setLanguage(chosen);
    } else {
      const preferred = browserLanguage();
      if (preferred && preferred !== language) setLanguage(preferred);
    }
    const switches = document.querySelectorAll('.chat-lang-btn[data-language]');
    for (let i = 0; i < switches.length; i++) {
      switches[i].addEventListener('click', function () {
        onSwitch(this.getAttribute('data-language'));
      });
    }

    els = {
      panel: document.getElementById('chat-panel'),
      launcher: document.getElementById('chat-launcher') ||
        document.querySelector('[aria-label="Open privacy assistant"]'),
      closeBtn: document.getElementById('chat-close'),
      log: document.getElementById('chat-log'),
      form: document.getElementById('chat-form'),
      input: document.getElementById('chat-input'),
      send: document.getElementById('chat-send'),
      endBtn: document.getElementById('chat-end'),
      heroButton: document.getElementById('open-chat')
    };
    if (!els.panel || !els.log || !els.input || !els.send || !els.launcher) {
      els = null;
      return; // widget markup not present
    }

    // Re-render the stored transcript (already wiped if the conversation has expired).
    log.forEach(renderEntry);

    // Whatever is kept goes once the conversation has sat idle too long: checked on a timer,
    // and when the tab comes back (background timers are slowed down).
    if (IDLE_MS) {
      setInterval(expireIfIdle, Math.min(30000, Math.max(1000, IDLE_MS / 4)));
      document.addEventListener('visibilitychange', function () {
        if (document.visibilityState === 'visible') expireIfIdle();
      });
      window.addEventListener('pageshow', expireIfIdle);
    }
    if (els.endBtn) els.endBtn.addEventListener('click', endChat);

    // Replies from a support person arrive by polling while the page is open.
    pollNews();
    setInterval(pollNews, NEWS_INTERVAL_MS);

    // Openers.
    els.launcher.addEventListener('click', function () { openPanel(); });
    if (els.heroButton) {
      els.heroButton.setAttribute('aria-expanded', 'false');
      els.heroButton.addEventListener('click', function () { openPanel(); });
    }
    const extraOpeners = document.querySelectorAll('[data-open-chat]');
    for (let i = 0; i < extraOpeners.length; i++) {
      extraOpeners[i].addEventListener('click', function (e) {
        e.preventDefault();
        openPanel();
      });
    }
    if (els.closeBtn) els.closeBtn.addEventListener('click', closePanel);

    // Sending.
    if (els.form) {
      els.form.addEventListener('submit', function (e) {
        e.preventDefault();
        submitInput();
      });
    } else {
      els.send.addEventListener('click', function (e) {
        e.preventDefault();
        submitInput();
      });
    }
    els.input.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter' || e.shiftKey) return;
      // Don't send while an IME composition (e.g. Chinese input) is being confirmed.
      if (e.isComposing || e.keyCode === 229) return;
      e.preventDefault();
      submitInput();
    });

    // Escape closes the panel.
    document.addEventListener('keydown', function (e) {
      if ((e.key === 'Escape' || e.key === 'Esc') && isOpen() && !e.isComposing) {
        e.preventDefault();
        closePanel();
      }
    });

    // Restore open state after reload.
    const openState = storageGet(KEY_OPEN);
    if (openState === 'true' || openState === '1') {
      openPanel();
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
