// Live search: re-fetch the results fragment (?partial=1) as the user types or filters.
// Without JavaScript the form is a plain GET form and everything still works.
// Each page of results and each search sent is a history entry (Back returns to it); typing
// and ticking filters update the address in place, so Back does not replay every keystroke.
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

  function load(qs, how) {
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
        if (window.registryCards) window.registryCards(fresh);
        var address = "/" + (qs ? "?" + qs : "");
        if (how === "push" && address === location.pathname + location.search) how = "replace";
        if (how === "push") history.pushState({ search: qs }, "", address);
        else if (how !== "pop") history.replaceState({ search: qs }, "", address);
        if (how === "push" && fresh.getBoundingClientRect().top < 0) {
          fresh.scrollIntoView({ block: "start" });
        }
      })
      .catch(function () { /* aborted by a newer search, or offline: keep the old results */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { load(queryString(false), "replace"); }, DEBOUNCE_MS);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    load(queryString(false), "push");
    closeFilters();
  });
  // Paging links inside the fragment: fetch instead of reloading the whole page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".pager a");
    if (!link) return;
    event.preventDefault();
    load(link.getAttribute("href").replace(/^\/\?/, ""), "push");
  });

  // Back and Forward between pages of results: show the page, and its filters, again.
  window.addEventListener("popstate", function () {
    var qs = location.search.replace(/^\?/, "");
    var params = new URLSearchParams(qs);
    form.querySelectorAll("input, select").forEach(function (field) {
      if (!field.name) return;
      var values = params.getAll(field.name);
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = values.indexOf(field.value) !== -1 || (field.type === "radio" && !values.length && field.value === "");
      } else {
        field.value = values.length ? values[0] : "";
      }
    });
    load(qs, "pop");
  });

  // On a phone the results come first; the filters open from a button above them.
  var toggle = document.querySelector(".filters-toggle");
  var filters = document.getElementById("search-filters");
  function closeFilters() {
    if (!toggle || !filters) return;
    filters.classList.remove("open");
    toggle.setAttribute("aria-expanded", "false");
  }
  if (toggle && filters) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = filters.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
})();
