// Adds and removes rows of the application form in the page, without a round trip.
// Without JavaScript the same buttons submit the form and the server adds or removes the row.
(function () {
  "use strict";

  function replaceIn(root, placeholder, index) {
    root.querySelectorAll("*").forEach(function (el) {
      ["name", "value", "id"].forEach(function (attr) {
        var current = el.getAttribute(attr);
        if (current && current.indexOf(placeholder) !== -1) {
          el.setAttribute(attr, current.split(placeholder).join(String(index)));
        }
      });
      // Rows of nested lists inside the new row carry this row's index too.
      if (el.tagName === "TEMPLATE") {
        replaceIn(el.content, placeholder, index);
      }
    });
  }

  function rowsOf(array) {
    return array.querySelector(":scope > [data-rows]");
  }

  function renumber(array) {
    var rows = rowsOf(array).children;
    for (var i = 0; i < rows.length; i++) {
      var number = rows[i].querySelector(":scope > .row-head [data-row-number]");
      if (number) {
        number.textContent = String(i + 1);
      }
    }
  }

  function nextIndex(array) {
    // Indexes may have gaps after deletions; the server sorts and compacts them.
    var next = 0;
    rowsOf(array).querySelectorAll(":scope > [data-row] > .row-head [data-remove]").forEach(function (b) {
      var match = /\[(\d+)\]$/.exec(b.value.replace(/^remove:/, ""));
      if (match) {
        next = Math.max(next, parseInt(match[1], 10) + 1);
      }
    });
    return next;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add], [data-remove]");
    if (!button) {
      return;
    }
    var array = button.closest("[data-array]");
    if (!array) {
      return;
    }
    event.preventDefault();
    if (button.hasAttribute("data-remove")) {
      button.closest("[data-row]").remove();
      renumber(array);
      return;
    }
    var template = array.querySelector(":scope > template");
    var fragment = template.content.cloneNode(true);
    replaceIn(fragment, template.getAttribute("data-placeholder"), nextIndex(array));
    rowsOf(array).appendChild(fragment);
    renumber(array);
    var added = rowsOf(array).lastElementChild;
    var first = added && added.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
