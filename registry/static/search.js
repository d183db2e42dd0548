// Live search: re-fetch the results fragment (?partial=1) as the user types or filters.
// Without JavaScript the form is a plain GET form and everything still works.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.fetch) return;
  var timer = null;
  var pending = null;
  var DEBOUNCE_MS = 250;

  function queryString(keepPage) {
    var params = new URLSearchParams(new FormData(form));
    if (!keepPage) params.delete("page");
    Array.from(params.keys()).forEach(function (key) {
      // Drop empty fields so the address stays short and shareable.
      if (params.getAll(key).every(function (v) { return v === ""; })) params.delete(key);
    });
    return params.toString();
  }

  function updateFacets(results) {
    var facets;
    try { facets = JSON.parse(results.getAttribute("data-facets") || "{}"); } catch (e) { return; }
    document.querySelectorAll("[data-facet]").forEach(function (span) {
      var parts = span.getAttribute("data-facet").split(":");
      span.textContent = String(((facets[parts[0]] || {})[parts[1]]) || 0);
    });
  }

  function load(qs) {
    if (pending) pending.abort();
    pending = new AbortController();
    fetch("/?" + qs + (qs ? "&" : "") + "partial=1", { signal: pending.signal })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#search-results");
        var current = document.getElementById("search-results");
        if (!fresh || !current) return;
        current.replaceWith(fresh);
        updateFacets(fresh);
        history.replaceState(null, "", "/" + (qs ? "?" + qs : ""));
      })
      .catch(function () { /* aborted by a newer search, or offline: keep the old results */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { load(queryString(false)); }, DEBOUNCE_MS);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    load(queryString(false));
  });
  // Paging links inside the fragment: fetch instead of reloading the whole page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".pager a");
    if (!link) return;
    event.preventDefault();
    load(link.getAttribute("href").replace(/^\/\?/, ""));
  });
})();
