// posbridge's small web POS terminal: pairs with a code from the console, shows the published
// products, picks up a publish by itself (long-poll of /terminal/v1/config) and has the Sync Back
// Office button (green circular arrows) on its login screen, order screen and Operations menu.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  let token = localStorage.getItem('posbridge_terminal_token') || '';
  let version = 0;
  let content = null;
  let ticket = [];
  let polling = false;

  function show(id) {
    for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== id;
  }
  function money(minor) {
    return (minor / 100).toFixed(2);
  }
  function apply(cfg) {
    if (!cfg || !cfg.content) return;
    version = cfg.version;
    content = cfg.content;
    $('version').textContent = String(version);
    document.body.dataset.version = String(version);
    const s = content.settings || {};
    $('receipt-header-login').textContent = s.receipt_header || 'Welcome';
    $('receipt-footer').textContent = s.receipt_footer || '';
    $('login-store').textContent = 'Store ' + cfg.store_id;
    const box = $('products');
    box.textContent = '';
    for (const p of content.products || []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'product';
      b.dataset.id = p.id;
      b.textContent = p.name;
      const price = document.createElement('span');
      price.className = 'price';
      price.textContent = money(p.price);
      b.appendChild(price);
      b.addEventListener('click', () => { ticket.push(p); drawTicket(); });
      box.appendChild(b);
    }
  }
  function drawTicket() {
    const ul = $('ticket');
    ul.textContent = '';
    let total = 0;
    for (const p of ticket) {
      const li = document.createElement('li');
      li.textContent = p.name + ' ' + money(p.price);
      ul.appendChild(li);
      total += p.price;
    }
    $('total').textContent = money(total);
  }
  async function call(method, path, body) {
    const res = await fetch(path, { method, headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined });
    if (res.status === 401) {
      localStorage.removeItem('posbridge_terminal_token');
      token = '';
      show('pair-screen');
      throw new Error('unpaired');
    }
    return res.json();
  }
  let toastTimer = 0;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3000);
  }
  async function sync(btn) {
    btn.classList.add('busy');
    try {
      const cfg = await call('POST', '/terminal/v1/sync');
      apply(cfg);
      toast(cfg.message || 'Synced successfully');
    } catch (e) {
      if (e.message !== 'unpaired') toast('Sync failed: ' + e.message);
    } finally {
      btn.classList.remove('busy');
    }
  }
  async function poll() {
    if (polling) return;
    polling = true;
    while (token) {
      try {
        const cfg = await call('GET', '/terminal/v1/config?since_version=' + version);
        if (cfg.changed) apply(cfg);
      } catch (e) {
        if (!token) break;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    polling = false;
  }
  async function start() {
    show('login-screen');
    try {
      apply(await call('POST', '/terminal/v1/sync'));
    } catch (e) { return; }
    poll();
  }
  $('pair-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('pair-error').hidden = true;
    const res = await fetch('/terminal/v1/pair', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: $('pair-code').value.trim(), name: $('pair-name').value.trim() }) });
    const body = await res.json();
    if (res.status !== 201) {
      $('pair-error').textContent = (body.error && body.error.message) || 'Pairing failed';
      $('pair-error').hidden = false;
      return;
    }
    token = body.token;
    localStorage.setItem('posbridge_terminal_token', token);
    start();
  });
  $('start').addEventListener('click', () => show('order-screen'));
  $('logout').addEventListener('click', () => { $('ops').hidden = true; show('login-screen'); });
  $('ops-open').addEventListener('click', () => { $('ops').hidden = false; });
  $('ops-close').addEventListener('click', () => { $('ops').hidden = true; });
  for (const id of ['sync-login', 'sync-order', 'sync-ops']) {
    $(id).addEventListener('click', (ev) => sync(ev.currentTarget));
  }
  // A device token handed over in the fragment (serve --demo prints such a link) pairs at once.
  const m = location.hash.match(/token=([A-Za-z0-9_\-]+)/);
  if (m) {
    token = m[1];
    localStorage.setItem('posbridge_terminal_token', token);
    history.replaceState(null, '', location.pathname);
  }
  if (token) start(); else show('pair-screen');
})();
