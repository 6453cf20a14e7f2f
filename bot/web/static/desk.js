/* The legal queue's bulk form (/staff/requests): a "select all" box over the list's checkboxes.
 * Without this script every box still works on its own; the server checks what is sent. */
(function () {
  'use strict';
  var all = document.getElementById('pick-all');
  var form = document.getElementById('bulk-form');
  if (!all || !form) return;
  var boxes = function () { return form.querySelectorAll('input[type="checkbox"][name="reference"]'); };
  var sync = function () {
    var list = boxes(), ticked = 0;
    for (var i = 0; i < list.length; i++) if (list[i].checked) ticked++;
    all.checked = list.length > 0 && ticked === list.length;
    all.indeterminate = ticked > 0 && ticked < list.length;
  };
  all.hidden = false;
  all.addEventListener('change', function () {
    var list = boxes();
    for (var i = 0; i < list.length; i++) list[i].checked = all.checked;
    sync();
  });
  form.addEventListener('change', function (event) {
    if (event.target !== all) sync();
  });
  sync();
}());
