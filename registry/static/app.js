// What every page does in the browser. Each part improves a page that already works without
// JavaScript: the menu folds on phones, tables read as cards, and work in progress shows.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  var BUSY_TEXT = "处理中…";
  // A form that answers with a file leaves the page where it is: give its buttons back.
  var BUSY_FALLBACK_MS = 20000;

  // --- the menu on narrow screens ------------------------------------------------------------
  function menu() {
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // --- tables become cards on narrow screens: each cell says which column it is --------------
  function cards(scope) {
    (scope || document).querySelectorAll("table").forEach(function (table) {
      var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!head || table.classList.contains("no-cards")) return;
      var labels = [];
      Array.prototype.forEach.call(head.cells, function (cell) {
        for (var i = 0; i < (cell.colSpan || 1); i++) labels.push(cell.textContent.trim());
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", cell.colSpan > 1 ? "" : labels[column] || "");
            }
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.add("cards");
    });
  }

  // --- buttons show that work is under way and cannot be pressed twice ------------------------
  function busy(button, text) {
    if (!button || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    button.setAttribute("data-idle-text", button.textContent);
    button.textContent = text || BUSY_TEXT;
    // Disabled after the submit has read the button's own name and value.
    setTimeout(function () { button.disabled = true; }, 0);
  }

  function idle(button) {
    if (button.getAttribute("aria-busy") !== "true") return;
    button.removeAttribute("aria-busy");
    button.disabled = false;
    button.textContent = button.getAttribute("data-idle-text") || button.textContent;
  }

  function idleAll() {
    document.querySelectorAll("[aria-busy=true]").forEach(idle);
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault(); // pressed twice: the first submission is still on its way
      return;
    }
    var pressed = event.submitter;
    // Other handlers (a confirmation, live search) may cancel the submit: look after them.
    setTimeout(function () {
      if (event.defaultPrevented) return;
      form.setAttribute("data-submitting", "");
      var hasFile = form.querySelector("input[type=file]") !== null;
      var buttons = pressed ? [pressed] : form.querySelectorAll("button[type=submit], button:not([type])");
      Array.prototype.forEach.call(buttons, function (b) { busy(b, hasFile ? "正在上传…" : BUSY_TEXT); });
      setTimeout(idleAll, BUSY_FALLBACK_MS);
    }, 0);
  });

  // Back to a page kept in memory: nothing is under way any more.
  window.addEventListener("pageshow", function (event) { if (event.persisted) idleAll(); });

  // --- downloads of generated files (PDF, Excel, CSV) show progress and their errors ----------
  var DOWNLOAD = /\.(pdf|xlsx|csv)(\?|$)|[?&]format=(pdf|xlsx|csv)\b/;

  function filename(response, href) {
    var header = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) return decodeURIComponent(star[1]);
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : href.split("?")[0].split("/").pop();
  }

  function showError(link, text) {
    var note = link.nextElementSibling;
    if (!note || !note.classList.contains("download-error")) {
      note = document.createElement("span");
      note.className = "download-error field-error";
      note.setAttribute("role", "alert");
      link.insertAdjacentElement("afterend", note);
    }
    note.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || !window.fetch || !window.URL || event.ctrlKey || event.metaKey) return;
    var href = link.getAttribute("href");
    if (!DOWNLOAD.test(href) || link.hasAttribute("data-plain")) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    var label = link.textContent;
    link.textContent = "正在生成…";
    fetch(href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (body) {
            var detail = "";
            try { detail = JSON.parse(body).detail || ""; } catch (e) { /* an HTML error page */ }
            throw new Error(detail || "生成失败（" + response.status + "），请稍后重试");
          });
        }
        return response.blob().then(function (blob) {
          var url = URL.createObjectURL(blob);
          var save = document.createElement("a");
          save.href = url;
          save.download = filename(response, href);
          document.body.appendChild(save);
          save.click();
          save.remove();
          setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        });
      })
      .catch(function (error) { showError(link, error.message || "下载失败，请检查网络后重试"); })
      .then(function () {
        link.removeAttribute("aria-busy");
        link.textContent = label;
      });
  });

  function ready() {
    menu();
    cards();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // Pages that replace a part of themselves (live search) ask for its tables again.
  window.registryCards = cards;
  // Pages that post by themselves (the application form saves before an upload) show it too.
  window.registryBusy = busy;
  window.registryIdle = idle;
})();
