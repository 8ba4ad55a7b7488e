/* The widget loader, what partners paste. Two ways:
     <script src="https://SERVICE/widget.js" data-caller="mon-site.fr" data-romes="D1102" async></script>
       -> a widget right after this script tag;
     <div data-alternance-widget data-caller="mon-site.fr" data-romes="D1102"></div> ... one script tag
       -> a widget in each container (several per page).
   Each data-x-y attribute becomes the widget parameter x_y; unset ones are left out. The iframe is sized
   from the widget's height messages and its events reach the page as DOM CustomEvents on the container
   ("alternance:ready", "alternance:search", "alternance:result-click", "alternance:navigate",
   "alternance:error", "alternance:resize", "alternance:scroll"); after a visitor's search the page is
   scrolled to the results when they are out of view. Messages: {ns: "alternance-widget", v: 1, id, type, payload},
   posted to an explicit origin and checked on receipt (origin, ns, v, id, source window). */
(function () {
  'use strict';
  var NS = 'alternance-widget';
  var V = 1;
  var LOG = '[alternance-widget] ';
  var LOADER_ONLY = {alternanceWidget: 1, loading: 1, title: 1, height: 1};
  var script = document.currentScript || (function () {
    // Old browsers, or a script added by another script: the last matching tag is ours.
    var all = document.querySelectorAll('script[src*="/widget.js"]');
    return all[all.length - 1];
  })();
  if (!script) return;
  var origin = new URL(script.src, location.href).origin;
  var reg = window.alternanceWidget;
  if (!reg) {
    // Shared by every copy of the loader on the page: one listener, one list of frames.
    reg = window.alternanceWidget = {frames: {}, n: 0};
    window.addEventListener('message', receive);
  }
  reg.init = scan;
  reg.setTheme = function (box, theme) {
    var w = reg.frames[box && box.alternanceWidgetId];
    if (w) w.frame.contentWindow.postMessage({ns: NS, v: V, id: w.id, type: 'theme', payload: {theme: theme}}, w.origin);
  };

  function receive(e) {
    var d = e.data;
    var w = d && d.ns === NS && d.v === V && reg.frames[d.id];
    if (!w || e.origin !== w.origin || e.source !== w.frame.contentWindow) return;
    var p = d.payload || {};
    var style = w.frame.style;
    if (p.height > 0 && (d.type === 'resize' || d.type === 'ready')) style.height = Math.ceil(p.height) + 'px';
    if (d.type === 'ready') style.opacity = '1';
    if (d.type === 'scroll' && p.top >= 0) {
      // After a search: bring the widget's results into view unless they already are.
      var y = w.frame.getBoundingClientRect().top + p.top;
      if (y < 0 || y > innerHeight * 0.4) scrollTo({top: y + pageYOffset, behavior: 'smooth'});
    }
    if (d.type === 'error' && p.message) {
      console.error(LOG + (p.param ? p.param + ' (data-' + p.param.replace(/_/g, '-') + ') : ' : '') + p.message);
    }
    var go = w.box.dispatchEvent(new CustomEvent('alternance:' + d.type, {
      detail: p, bubbles: true, cancelable: d.type === 'navigate'
    }));
    // return_uri: the page may handle it (preventDefault); otherwise the whole page goes there.
    if (d.type === 'navigate' && go && /^https?:\/\//i.test(p.url)) location.assign(p.url);
  }

  function mount(box, data) {
    var id = 'aw' + (++reg.n) + Math.random().toString(36).slice(2, 8);
    var params = new URLSearchParams();
    Object.keys(data).forEach(function (key) {
      if (!LOADER_ONLY[key] && data[key]) params.set(key.replace(/[A-Z]/g, function (c) { return '_' + c.toLowerCase(); }), data[key]);
    });
    if (/^https?:/.test(location.origin)) {
      params.set('parent_origin', location.origin);
    } else {
      // A file:// page has no origin to post to (and "*" is not an option): no height, no events.
      console.warn(LOG + 'page ouverte sans origine http(s) (file://) : servez-la en http(s) pour la hauteur ' +
        'automatique et les événements.');
    }
    params.set('wid', id);
    var frame = document.createElement('iframe');
    frame.src = origin + '/widget?' + params;
    frame.title = data.title || 'Recherche de formations et d\u2019emplois en alternance';
    if (data.loading === 'lazy') frame.loading = 'lazy';
    // Invisible until it has loaded: no white flash on a coloured page.
    frame.style.cssText = 'display:block;width:100%;border:0;opacity:0;height:' +
      (parseInt(data.height, 10) || 600) + 'px';
    frame.addEventListener('load', function () { frame.style.opacity = '1'; });
    box.alternanceWidgetId = id;
    reg.frames[id] = {id: id, frame: frame, box: box, origin: origin};
    box.replaceChildren(frame);
  }

  function scan() {
    var boxes = document.querySelectorAll('[data-alternance-widget]');
    for (var i = 0; i < boxes.length; i++) {
      if (!boxes[i].alternanceWidgetId) mount(boxes[i], boxes[i].dataset);
    }
    return boxes.length;
  }

  function nothing() {
    if (!scan()) {
      console.error(LOG + 'aucun widget : ajoutez data-caller="votre-site.fr" (et data-romes) à la balise script, ' +
        'ou un conteneur <div data-alternance-widget data-caller="votre-site.fr">.');
    }
  }

  if (Object.keys(script.dataset).length) {
    var box = document.createElement('div');
    box.className = 'alternance-widget';
    script.parentNode.insertBefore(box, script.nextSibling);
    mount(box, script.dataset);
  } else {
    scan();
    // Containers further down the page may not exist yet.
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', nothing); else nothing();
  }
})();
