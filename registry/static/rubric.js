// The rubric form shows each item's fields for its chosen data source only.
// Hidden fields are disabled, so a value left in a field that no longer applies is not sent.
// Without JavaScript every field shows and the server refuses a value where it does not apply.
(function () {
  "use strict";

  function sync(item) {
    var select = item.querySelector("[data-source-select]");
    var source = select ? select.value : "";
    item.querySelectorAll("[data-sources]").forEach(function (group) {
      var show = group.getAttribute("data-sources").split(" ").indexOf(source) !== -1;
      group.hidden = !show;
      group.querySelectorAll("input, select, textarea").forEach(function (field) {
        field.disabled = !show;
      });
    });
  }

  document.querySelectorAll("[data-item]").forEach(sync);
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-source-select]")) {
      sync(event.target.closest("[data-item]"));
    }
  });
})();
