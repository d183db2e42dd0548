// Adds and removes rows of the application form in the page, without a round trip.
// Without JavaScript the same buttons submit the form and the server adds or removes the row.
// Also: staff chosen by name, the draft saved before an upload, a warning before leaving with
// unsaved changes.
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

  // --- choosing staff by name -------------------------------------------------------------
  // Course staff and a document's staff member are stored as the member's number in the staff
  // list; the selects show names and follow the list as rows are added, renamed or removed.

  var STAFF_NAME = /^staff\[\d+\]\.name$/;
  var staffRows = null; // the staff rows in the order the options were last built

  function currentStaffRows() {
    var list = document.getElementById("f-staff");
    return list ? Array.prototype.slice.call(rowsOf(list).children) : null;
  }

  function staffName(row, index) {
    var name = "";
    row.querySelectorAll("input").forEach(function (input) {
      if (STAFF_NAME.test(input.name || "")) {
        name = input.value.trim();
      }
    });
    return name || "从业人员 " + (index + 1);
  }

  function syncStaff() {
    var rows = currentStaffRows();
    if (!rows) {
      return;
    }
    var selects = document.querySelectorAll('select[data-choices="staff"], select[data-staff-select]');
    selects.forEach(function (select) {
      var chosen = select.value;
      var chosenRow = /^\d+$/.test(chosen) && staffRows ? staffRows[parseInt(chosen, 10)] : null;
      Array.prototype.slice.call(select.options).forEach(function (option) {
        if (/^\d+$/.test(option.value)) {
          option.remove();
        }
      });
      rows.forEach(function (row, index) {
        select.appendChild(new Option(staffName(row, index), String(index)));
      });
      if (chosenRow) {
        var now = rows.indexOf(chosenRow);
        select.value = now === -1 ? "" : String(now); // a removed member is no longer chosen
      } else {
        select.value = chosen;
      }
    });
    staffRows = rows;
  }

  // --- nothing typed is lost ---------------------------------------------------------------

  var form = document.getElementById("application-form");
  var dirty = !!(form && form.hasAttribute("data-unsaved"));
  var leaving = false;

  function ours(el) {
    return form && el && el.form === form; // inputs inside it or tied to it by form="…"
  }

  document.addEventListener("input", function (event) {
    if (ours(event.target)) {
      dirty = true;
    }
    if (STAFF_NAME.test(event.target.name || "")) {
      syncStaff();
    }
  });
  document.addEventListener("change", function (event) {
    if (ours(event.target)) {
      dirty = true;
    }
  });
  // Capturing: a removed row's button no longer belongs to the form once the row is gone.
  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest("[data-add], [data-remove]");
      if (button && ours(button)) {
        dirty = true;
        window.setTimeout(syncStaff, 0); // once the row is added or removed
      }
    },
    true
  );

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function saveDraft() {
    var data = new FormData(form);
    data.set("_op", "save");
    return fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).then(
      function (response) {
        // Saved: the server answers with the page again, "?done=saved".
        if (!response.ok || response.url.indexOf("done=saved") === -1) {
          throw new Error(String(response.status));
        }
      }
    );
  }

  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (event.defaultPrevented || !form) {
      return;
    }
    if (target === form) {
      leaving = true; // saving or submitting: the page that comes back shows what was sent
      return;
    }
    var action = target.getAttribute("action") || "";
    if (!dirty || action.indexOf("/provider/applications/") !== 0) {
      leaving = true;
      return;
    }
    // An upload (or any other post of this page) reloads it: save the draft first.
    event.preventDefault();
    var buttons = target.querySelectorAll("button");
    buttons.forEach(function (b) {
      if (window.registryBusy) window.registryBusy(b, "正在保存并上传…");
      else b.disabled = true;
    });
    saveDraft().then(
      function () {
        dirty = false;
        leaving = true;
        target.submit();
      },
      function () {
        buttons.forEach(function (b) {
          if (window.registryIdle) window.registryIdle(b);
          b.disabled = false;
        });
        window.alert("申请表中有尚未保存的修改，自动保存没有成功。请先点击“保存草稿”，查看提示后再上传。");
      }
    );
  });

  staffRows = currentStaffRows();
})();
