// posbridge console: the only script. Choosing a POS Type shows its fields at once (the form
// works without this script too: its button submits the choice).
document.addEventListener('DOMContentLoaded', function () {
  var sel = document.querySelector('select[data-autosubmit]');
  if (!sel) { return; }
  var btn = document.getElementById('choose-type');
  if (btn) { btn.hidden = true; }
  sel.addEventListener('change', function () { sel.form.submit(); });
});
