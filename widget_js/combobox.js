/* A WAI-ARIA 1.2 combobox with a listbox popup ("list" autocomplete), shared by the widget and the
   configurator. The server renders a plain text field (the form works without JavaScript); this turns it
   into a combobox: arrows move through the suggestions, Enter picks one, Escape closes the list.
   Suggestions are written with textContent only. A source may group its suggestions (source.group):
   the listbox then holds role=group elements, each labelled by its heading, as in the WAI-ARIA
   "grouped listbox" pattern; the arrows still move from option to option across the groups. */
function combobox(input, source) {
  var listId = input.id + '-list';
  var list = document.createElement('div');
  var items = [];
  var options = [];
  var active = -1;
  var timer = 0;
  var pending = null;
  var cache = {};
  var live = document.getElementById('cb-live');
  if (!live) {
    // One polite live region for every combobox: how many suggestions there are, and how to use them.
    live = document.createElement('p');
    live.id = 'cb-live';
    live.className = 'sr';
    live.setAttribute('aria-live', 'polite');
    document.body.appendChild(live);
  }
  list.id = listId;
  list.hidden = true;
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', source.name);
  input.insertAdjacentElement('afterend', list);
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listId);

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function setActive(i) {
    if (!options.length) return;
    if (active >= 0 && options[active]) options[active].setAttribute('aria-selected', 'false');
    active = (i + options.length) % options.length;
    options[active].setAttribute('aria-selected', 'true');
    input.setAttribute('aria-activedescendant', options[active].id);
    options[active].scrollIntoView({block: 'nearest'});
  }

  function choose(i) {
    var item = items[i];
    if (!item) return;
    input.value = source.label(item);
    source.pick(item);
    close();
  }

  function option(item, i) {
    var el = document.createElement('div');
    var detail = source.detail(item);
    el.id = listId + '-' + i;
    el.setAttribute('role', 'option');
    el.setAttribute('aria-selected', 'false');
    el.textContent = source.label(item);
    if (detail) {
      var small = document.createElement('small');
      small.textContent = detail;
      el.appendChild(small);
    }
    return el;
  }

  // Suggestions in groups (in the order each group first appears), or as they come.
  function grouped(body) {
    var results = body.results || [];
    if (!source.group) return [{label: null, items: results}];
    var groups = [];
    var byLabel = {};
    results.forEach(function (item) {
      var label = source.group(item, body);
      if (!byLabel[label]) groups.push(byLabel[label] = {label: label, items: []});
      byLabel[label].items.push(item);
    });
    return groups;
  }

  function show(body) {
    var groups = grouped(body);
    items = [];
    options = [];
    list.textContent = '';
    groups.forEach(function (g, gi) {
      var parent = list;
      if (g.label) {
        parent = document.createElement('div');
        parent.setAttribute('role', 'group');
        var heading = document.createElement('div');
        heading.id = listId + '-g' + gi;
        heading.className = 'cb-h';
        heading.setAttribute('role', 'presentation');
        heading.textContent = g.label;
        parent.setAttribute('aria-labelledby', heading.id);
        parent.appendChild(heading);
        list.appendChild(parent);
      }
      g.items.forEach(function (item) {
        var el = option(item, items.length);
        items.push(item);
        options.push(el);
        parent.appendChild(el);
      });
    });
    active = -1;
    input.removeAttribute('aria-activedescendant');
    if (items.length && document.activeElement === input) {
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    } else {
      close();
    }
    var n = items.length;
    var said = groups.filter(function (g) { return g.label; }).map(function (g) {
      return g.label.replace(/ ?[:?]$/, '') + ' : ' + g.items.length;
    }).join(', ');
    live.textContent = n
      ? n + ' suggestion' + (n > 1 ? 's' : '') + (said ? ' (' + said + ')' : '') +
        ' : flèches haut et bas pour parcourir, Entrée pour choisir.'
      : 'Aucune suggestion.';
  }

  function lookup() {
    var q = input.value.trim();
    if (q.replace(/[^0-9A-Za-zÀ-ÿ]/g, '').length < 2) {
      items = [];
      options = [];
      close();
      return;
    }
    if (cache[q]) {
      show(cache[q]);
      return;
    }
    if (pending) pending.abort();
    pending = window.AbortController ? new AbortController() : null;
    fetch(source.url(q), {signal: pending && pending.signal, headers: {Accept: 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : {results: []}; })
      .then(function (body) {
        cache[q] = body;
        if (input.value.trim() === q) show(body);
      })
      .catch(function () { /* aborted or offline: the field still submits as typed */ });
  }

  input.addEventListener('input', function () {
    if (source.typed) source.typed();
    clearTimeout(timer);
    timer = setTimeout(lookup, 120);
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.hidden) {
        if (!items.length) return;
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
      }
      setActive(active < 0 && e.key === 'ArrowUp' ? -1 : active + (e.key === 'ArrowDown' ? 1 : -1));
    } else if (e.key === 'Enter' && !list.hidden && active >= 0) {
      e.preventDefault();   // picking a suggestion must not submit the form
      choose(active);
    } else if (e.key === 'Escape' && !list.hidden) {
      e.preventDefault();
      close();
    } else if (e.key === 'Tab') {
      close();
    }
  });
  input.addEventListener('blur', close);
  // mousedown would blur the input (and close the list) before the click lands.
  list.addEventListener('mousedown', function (e) { e.preventDefault(); });
  list.addEventListener('click', function (e) {
    var el = e.target.closest('[role=option]');
    if (el) choose(options.indexOf(el));
  });
}

/* The two sources: métiers (and diplomas) -> ROME codes, communes -> INSEE code. */
function metierSource(form) {
  return {
    name: 'Métiers et diplômes proposés',
    url: function (q) { return '/api/v1/metiers?limit=8&q=' + encodeURIComponent(q); },
    label: function (m) { return m.label; },
    group: function (m) { return m.kind === 'diplome' ? 'Diplômes' : 'Métiers'; },
    detail: function (m) {
      var found = m.trainings ? m.trainings + ' formation' + (m.trainings > 1 ? 's' : '') : '';
      if (m.kind === 'diplome') return (m.level ? 'Niveau ' + m.level : 'Diplôme') + (found ? ' · ' + found : '');
      return (m.romes.length > 1 ? m.romes.length + ' métiers' : 'Métier') + (found ? ' · ' + found : '');
    },
    pick: function (m) {
      form.elements.romes.value = m.romes.map(function (r) { return r.code; }).join(',');
      form.elements.romes_label.value = m.label;
    }
  };
}

function communeSource(form) {
  return {
    name: 'Communes proposées',
    url: function (q) { return '/api/v1/communes?limit=8&q=' + encodeURIComponent(q); },
    label: function (c) { return c.name + ' (' + c.department.code + ')'; },
    // Corrected suggestions say so: the visitor sees they typed something else.
    group: function (c, body) { return body.match === 'typo' ? 'Vouliez-vous dire ?' : 'Communes'; },
    detail: function (c) {
      var codes = c.postal_codes.slice(0, 3).join(', ') + (c.postal_codes.length > 3 ? '…' : '');
      return c.department.name + (codes ? ' · ' + codes : '');
    },
    pick: function (c) {
      // A commune replaces the partner's exact point, if there was one.
      if (form.elements.lat) form.elements.lat.value = form.elements.lon.value = '';
      form.elements.insee.value = c.insee;
      form.elements.place_label.value = c.name + ' (' + c.department.code + ')';
    }
  };
}
