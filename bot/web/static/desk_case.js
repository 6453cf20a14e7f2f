/*
 * The request page's refusal templates (bot/web/templates/staff/request.html): choosing one puts
 * its text in the status form's reason box and picks "rejected"; the text stays editable. Without
 * script the "Use this text" button does the same through the server (?refusal=key).
 * Plain ES2017, no dependencies; the page's texts come from the server (data-* attributes).
 */
(function () {
  'use strict';

  function init() {
    const picker = document.getElementById('refusal');
    const form = document.getElementById('refusal-form');
    const note = document.getElementById('note');
    const status = document.getElementById('status');
    if (!picker || !form || !note || !status) return;
    const templates = Array.prototype.map.call(picker.options, function (o) {
      return o.getAttribute('data-text') || '';
    });
    const use = form.querySelector('.refusal-use');
    if (use) use.hidden = true;
    picker.addEventListener('change', function () {
      const option = picker.options[picker.selectedIndex];
      const text = option ? option.getAttribute('data-text') : null;
      if (!text) return;
      const typed = note.value.trim();
      // Ask before replacing what the member wrote themselves (not an earlier template).
      if (typed && templates.indexOf(note.value) < 0 &&
          !window.confirm(form.getAttribute('data-replace') || '')) {
        return;
      }
      note.value = text;
      status.value = 'rejected';
      status.dispatchEvent(new Event('change'));  // staff.js: a rejection needs its reason
      note.focus();
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
