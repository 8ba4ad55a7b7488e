/* The script inside the widget's iframe. The page already shows its first results (server-rendered);
   this adds the comboboxes, searches without reloading, "Voir plus", the height messages and the
   events for the host page. Every message uses one envelope:
     {ns: "alternance-widget", v: 1, id: <widget id>, type: <type>, payload: {...}}
   posted to the host page's origin only (never "*"), and checked on receipt. */
var NS = 'alternance-widget';
var V = 1;
var root = document.getElementById('w');
var form = document.getElementById('w-form');
var results = document.getElementById('w-results');
var statusLine = document.getElementById('w-status');
var errorBox = document.getElementById('w-error');
var formBox = document.getElementById('w-fbox');
var formSummary = document.getElementById('w-fsum-t');
var wid = root.dataset.wid;
var hostOrigin = root.dataset.parentOrigin;
var framed = window.parent !== window;
var lastParams = new URLSearchParams(new FormData(form));
var lastHeight = 0;

function post(type, payload) {
  if (wid && hostOrigin && framed) {
    window.parent.postMessage({ns: NS, v: V, id: wid, type: type, payload: payload || {}}, hostOrigin);
  }
}

function height() {
  return Math.ceil(document.documentElement.getBoundingClientRect().height);
}

function sendHeight() {
  var h = height();
  if (h !== lastHeight) {
    lastHeight = h;
    post('resize', {height: h});
  }
}

function inner() {
  return document.getElementById('w-inner');
}

function counts() {
  var out = {};
  (inner().dataset.counts || '').split(',').forEach(function (pair) {
    var kv = pair.split('=');
    if (kv[0]) out[kv[0]] = +kv[1];
  });
  return out;
}

function describe() {
  var el = inner();
  return {
    romes: el.dataset.romes ? el.dataset.romes.split(',') : [],
    job_name: el.dataset.jobLabel || null,
    place: el.dataset.placeLabel || null,
    insee: el.dataset.insee || null,
    radius: +form.elements.radius.value,
    state: el.dataset.state,
    counts: counts()
  };
}

function fetchPage(url) {
  var ctrl = window.AbortController ? new AbortController() : null;
  var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, 15000);
  return fetch(url, {signal: ctrl && ctrl.signal, headers: {Accept: 'text/html'}})
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    })
    .then(function (text) {
      // DOMParser runs no script; the HTML comes from our own server, autoescaped by its templates.
      return new DOMParser().parseFromString(text, 'text/html');
    })
    .finally(function () { clearTimeout(timer); });
}

function failed(err) {
  statusLine.textContent = 'La recherche n\'a pas pu aboutir.';
  errorBox.hidden = false;
  post('error', {code: 'network', message: String(err && err.message || err)});
}

function setField(name, value) {
  if (form.elements[name]) form.elements[name].value = value;
}

function search(params) {
  lastParams = params;
  errorBox.hidden = true;
  results.setAttribute('aria-busy', 'true');
  statusLine.textContent = 'Recherche en cours…';
  return fetchPage('/widget/results?' + params).then(function (doc) {
    var fresh = doc.getElementById('w-inner');
    results.replaceChildren(fresh);
    // The server may have resolved what was typed (a métier, a place): show what it searched for.
    if (!form.elements.job_name.readOnly) {
      setField('job_name', fresh.dataset.jobLabel);
      setField('romes', fresh.dataset.romes);
      setField('romes_label', fresh.dataset.jobLabel);
    }
    setField('place', fresh.dataset.placeLabel);
    setField('insee', fresh.dataset.insee);
    setField('place_label', fresh.dataset.placeLabel);
    setField('lat', fresh.dataset.lat);
    setField('lon', fresh.dataset.lon);
    statusLine.textContent = fresh.dataset.summary;
    history.replaceState(null, '', location.pathname + '?' + params);
    // Phone first: fold the form into its one-line summary and bring the results into view, here
    // and (through the loader) on the host page; focus goes to the status line, which is announced.
    formSummary.textContent = fresh.dataset.summaryLine;
    if (fresh.dataset.collapsed === '1') formBox.open = false;
    statusLine.tabIndex = -1;
    statusLine.focus({preventScroll: true});
    var top = Math.max(0, Math.floor(statusLine.getBoundingClientRect().top + window.pageYOffset) - 8);
    if (framed) post('scroll', {top: top}); else window.scrollTo(0, top);
    post('search', describe());
  }, failed).finally(function () {
    results.removeAttribute('aria-busy');
  });
}

function more(link) {
  var url = new URL(link.href);
  url.pathname = '/widget/results';
  url.searchParams.set('part', 'items');
  link.setAttribute('aria-disabled', 'true');
  statusLine.textContent = 'Chargement de la suite…';
  fetchPage(url).then(function (doc) {
    var list = link.parentNode.querySelector('ol.list');
    var incoming = doc.querySelector('ol.list');
    var added = incoming ? Array.prototype.slice.call(incoming.children) : [];
    added.forEach(function (li) { list.appendChild(li); });
    var next = doc.querySelector('a.more');
    if (next) link.replaceWith(next); else link.remove();
    statusLine.textContent = added.length + ' résultat' + (added.length > 1 ? 's' : '') + ' de plus.';
    if (added[0]) {
      // Keyboard users land on the first new result, not back at the top.
      var title = added[0].querySelector('.ttl');
      title.tabIndex = -1;
      title.focus();
    }
  }, function (err) {
    link.removeAttribute('aria-disabled');
    failed(err);
  });
}

function resultOf(el) {
  var item = el.closest('.it');
  return item && {id: item.dataset.id, type: item.dataset.type, title: item.dataset.title};
}

form.addEventListener('submit', function (e) {
  e.preventDefault();
  search(new URLSearchParams(new FormData(form)));
});

document.getElementById('w-retry').addEventListener('click', function () { search(lastParams); });

results.addEventListener('click', function (e) {
  var link = e.target.closest('a[href]');
  if (!link) return;
  if (link.dataset.radius) {
    // "Élargir à 60 km": the same search, wider, in one tap.
    e.preventDefault();
    var select = form.elements.radius;
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === link.dataset.radius; })) {
      select.add(new Option(link.dataset.radius + ' km', link.dataset.radius));
    }
    select.value = link.dataset.radius;
    search(new URLSearchParams(new FormData(form)));
    return;
  }
  if (link.classList.contains('more')) {
    e.preventDefault();
    if (!link.hasAttribute('aria-disabled')) more(link);
    return;
  }
  if (link.classList.contains('dym')) {
    // "Vouliez-vous dire …" / "toute la France": the link holds the whole search, run it in place.
    e.preventDefault();
    search(new URL(link.href).searchParams);
    return;
  }
  var hit = resultOf(link);
  if (hit) {
    hit.action = 'link';
    hit.url = link.href;
    post('result-click', hit);
  }
});

// "toggle" does not bubble: listen while it goes down.
results.addEventListener('toggle', function (e) {
  var hit = e.target.open && resultOf(e.target);
  if (hit) {
    hit.action = 'details';
    post('result-click', hit);
  }
}, true);

(function backLink() {
  var back = document.getElementById('w-back');
  if (!back) return;
  var uri = root.dataset.returnUri || '/';
  var ancestors = location.ancestorOrigins;
  var host = hostOrigin || (ancestors && ancestors.length ? ancestors[0] : '');
  if (!host && document.referrer) host = new URL(document.referrer).origin;
  // A relative return_uri belongs to the host page's site, which the browser knows best.
  if (uri.charAt(0) === '/' && host && host !== location.origin) back.href = host + uri;
  back.addEventListener('click', function (e) {
    // La Bonne Alternance's host-page event, which its partners' pages listen for: sent to the parent's
    // own origin (the loader's, or the one the browser reports), never to "*".
    var target = hostOrigin || (host && /^https?:\/\//.test(host) ? host : '');
    if (framed && target) window.parent.postMessage({type: 'goToPage', page: uri}, target);
    if (!wid || !hostOrigin) return;   // a plain iframe: the link itself takes the visitor back
    e.preventDefault();
    post('navigate', {uri: uri, url: back.href});
  });
})();

window.addEventListener('message', function (e) {
  var d = e.data;
  if (e.source !== window.parent || e.origin !== hostOrigin || !d || d.ns !== NS || d.v !== V || d.id !== wid) return;
  var theme = d.payload && d.payload.theme;
  if (d.type === 'theme' && /^(light|dark|auto)$/.test(theme)) document.documentElement.dataset.theme = theme;
});

// "ready" first: the loader keeps the iframe invisible until it arrives.
var notices = JSON.parse(root.dataset.notices || '[]');
lastHeight = height();
post('ready', {height: lastHeight, notices: notices, query: describe()});
if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(document.body);
notices.forEach(function (n) {
  post('error', {code: 'bad_parameter', param: n.param, message: n.message});
  // Without the loader nobody relays the notices to a console: say them here.
  if (!wid && window.console) console.warn('[alternance-widget] ' + n.message);
});

Array.prototype.forEach.call(form.querySelectorAll('[data-cb]'), function (field) {
  var input = field.querySelector('input[type=text]');
  if (!input.readOnly) combobox(input, (field.dataset.cb === 'metiers' ? metierSource : communeSource)(form));
});
