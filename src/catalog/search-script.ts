/**
 * The index page's search, as the text of one inline `<script>`: it reads the search index from the page's
 * `<script type="application/json" id="catalog-index">` and filters the product rows as one types — every word must
 * occur in the product's name, description, owner, domain, users, docs, columns, metrics or targets. It needs no
 * server (it works from file://) and nothing outside the page. `?q=words` in the URL fills the box.
 */

/** One product in the search index: each field's text, lower-cased by the script. */
export interface SearchEntry {
  readonly name: string;
  readonly fields: Readonly<Record<string, string>>;
}

export const SEARCH_SCRIPT = String.raw`
(function () {
  var index = JSON.parse(document.getElementById('catalog-index').textContent);
  var box = document.getElementById('search');
  var count = document.getElementById('result-count');
  var none = document.getElementById('no-results');
  var rows = {};
  document.querySelectorAll('tr[data-product]').forEach(function (row) { rows[row.getAttribute('data-product')] = row; });
  var entries = index.map(function (entry) {
    var fields = {};
    Object.keys(entry.fields).forEach(function (key) { fields[key] = String(entry.fields[key]).toLowerCase(); });
    return { name: entry.name, fields: fields };
  });
  function matches(entry, words) {
    var where = [];
    for (var i = 0; i < words.length; i++) {
      var found = Object.keys(entry.fields).filter(function (key) { return entry.fields[key].indexOf(words[i]) >= 0; });
      if (found.length === 0) return null;
      found.forEach(function (key) { if (where.indexOf(key) < 0) where.push(key); });
    }
    return where;
  }
  function update() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    entries.forEach(function (entry) {
      var row = rows[entry.name];
      if (!row) return;
      var where = matches(entry, words);
      row.hidden = where === null;
      var hint = row.querySelector('.match');
      if (hint) hint.textContent = where && words.length > 0 ? 'matches in ' + where.join(', ') : '';
      if (where !== null) shown++;
    });
    count.textContent = words.length === 0 ? entries.length + ' products' : shown + ' of ' + entries.length + ' products match';
    none.hidden = shown > 0;
  }
  box.addEventListener('input', update);
  var query = new URLSearchParams(window.location.search).get('q');
  if (query) box.value = query;
  update();
})();
`;
