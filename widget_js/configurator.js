/* The configurator (/configurateur): the same comboboxes as the widget, a live preview and the snippets.
   The server checks the configuration (with the widget's own parser) and renders the preview and the
   snippets; this script only asks it again when a field changes, and copies a snippet on demand. */
var cfg = document.getElementById('cfg');
var live = document.getElementById('cfg-live');
var timer = 0;
var inflight = null;

function refresh() {
  var params = new URLSearchParams(new FormData(cfg));
  history.replaceState(null, '', location.pathname + '?' + params);
  params.set('partial', '1');
  if (inflight) inflight.abort();
  inflight = window.AbortController ? new AbortController() : null;
  fetch(location.pathname + '?' + params, {signal: inflight && inflight.signal, headers: {Accept: 'text/html'}})
    .then(function (r) { return r.text(); })
    .then(function (text) {
      var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('sortie');
      document.getElementById('sortie').replaceWith(fresh);
      live.textContent = fresh.dataset.status;
      showFieldMessages();
      preview();
    })
    .catch(function () { /* superseded by a newer change, or offline */ });
}

// Each message goes next to its field (textContent: messages quote what was typed).
function showFieldMessages() {
  var byField = {};
  Array.prototype.forEach.call(document.querySelectorAll('#cfg-errs li'), function (li) {
    (byField[li.dataset.for] = byField[li.dataset.for] || []).push(li.textContent);
  });
  Array.prototype.forEach.call(cfg.querySelectorAll('.err'), function (slot) {
    var id = slot.id.replace(/-e$/, '');
    var field = document.getElementById(id);
    slot.textContent = (byField[id] || []).join(' ');
    if (byField[id]) field.setAttribute('aria-invalid', 'true'); else field.removeAttribute('aria-invalid');
  });
}

// The loader is fetched once there is a preview to mount: loaded earlier it would find no widget
// on the page and say so in the console, on every visit.
function preview() {
  if (!document.querySelector('#sortie [data-alternance-widget]')) return;
  if (window.alternanceWidget) { window.alternanceWidget.init(); return; }
  if (document.getElementById('cfg-loader')) return;
  var script = document.createElement('script');
  script.id = 'cfg-loader';
  script.src = '/widget.js';
  script.async = true;
  document.head.appendChild(script);
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 350);
}

Array.prototype.forEach.call(cfg.querySelectorAll('[data-cb]'), function (field) {
  var source = (field.dataset.cb === 'metiers' ? metierSource : communeSource)(cfg);
  var pick = source.pick;
  source.pick = function (item) { pick(item); later(); };
  combobox(field.querySelector('input[type=text]'), source);
});
cfg.addEventListener('input', later);
cfg.addEventListener('change', later);
cfg.addEventListener('submit', function (e) {
  e.preventDefault();
  refresh();
});

document.addEventListener('click', function (e) {
  var button = e.target.closest('[data-copy]');
  if (!button) return;
  var code = document.getElementById(button.dataset.copy);
  var copy = navigator.clipboard ? navigator.clipboard.writeText(code.textContent) : Promise.reject(new Error('no clipboard'));
  copy.then(function () {
    live.textContent = 'Code copié dans le presse-papiers.';
  }, function () {
    var range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    live.textContent = 'Copie automatique impossible : le code est sélectionné, copiez-le avec Ctrl+C (Cmd+C sur Mac).';
  });
});

preview();
