// posbridge console: the only script; every page works without it too.
document.addEventListener('DOMContentLoaded', function () {
  // Choosing a POS Type shows its fields at once, and a toggle with data-autosubmit saves at
  // once (without script their buttons submit).
  document.querySelectorAll('[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () { el.form.submit(); });
  });
  var btn = document.getElementById('choose-type');
  if (btn && document.querySelector('select[data-autosubmit]')) { btn.hidden = true; }
  document.querySelectorAll('[data-autosubmit]').forEach(function (el) {
    el.form.querySelectorAll('.js-hide').forEach(function (b) { b.hidden = true; });
  });
  // A button with data-busy-text shows progress while its (synchronous) action runs.
  document.querySelectorAll('button[data-busy-text]').forEach(function (b) {
    b.form.addEventListener('submit', function () {
      b.textContent = b.getAttribute('data-busy-text');
      b.setAttribute('aria-busy', 'true');
      setTimeout(function () { b.disabled = true; }, 0);
    });
  });
  // On a narrow screen tables become stacked rows: each cell is labelled with its column's
  // heading (CSS shows the label; cells that already carry one keep it).
  document.querySelectorAll('table').forEach(function (t) {
    var heads = [];
    t.querySelectorAll('thead tr:first-child th').forEach(function (th) { heads.push(th.textContent.trim()); });
    if (!heads.length) { return; }
    t.classList.add('labelled');
    t.querySelectorAll('tbody tr, tfoot tr').forEach(function (tr) {
      var i = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute('data-label') && heads[i]) { cell.setAttribute('data-label', heads[i]); }
        i += cell.colSpan || 1;
      });
    });
  });
  // The sales file layout: choosing another preset puts its column headers in the fields left
  // as the previous preset had them (without script the server does the same on Save).
  var preset = document.getElementById('preset');
  if (preset && preset.dataset.presets) {
    var presets = JSON.parse(preset.dataset.presets);
    var was = preset.value;
    preset.addEventListener('change', function () {
      var from = presets[was] || {}, to = presets[preset.value] || {};
      document.querySelectorAll('#email-columns input[data-field]').forEach(function (inp) {
        var f = inp.dataset.field;
        if (inp.value === (from[f] || '')) { inp.value = to[f] || ''; }
        inp.placeholder = to[f] || 'not in the file';
      });
      was = preset.value;
    });
  }
  // An open dialog (sync dialog, webhook events) takes the focus; Escape closes it.
  var dlg = document.querySelector('dialog.modal[open]');
  if (dlg) {
    var close = dlg.getAttribute('data-close');
    dlg.setAttribute('tabindex', '-1');
    dlg.focus({ preventScroll: true });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && close) { window.location.assign(close); }
    });
  }
});
