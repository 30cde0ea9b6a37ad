// The tag picker: a long list of tag checkboxes ([data-tag-picker], members/widgets.py) gets a
// text box that filters the options (by every name of a tag, in either language) and shows
// the chosen tags as chips that can be removed. Without JavaScript the checkboxes stay as
// they are. No inline script or style: the strict Content-Security-Policy forbids them.
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function enhance(picker) {
    var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[type=checkbox]"));
    if (!boxes.length) return;
    var options = boxes.map(function (box) {
      var label = box.closest("label");
      var row = label && label.parentElement !== picker ? label.parentElement : label;
      var text = label ? label.textContent.trim() : box.value;
      return { box: box, row: row || box, text: text,
               key: fold(text + " " + (box.getAttribute("data-names") || "") + " " + box.value) };
    });

    var chips = document.createElement("div");
    chips.className = "tag-chips";
    chips.setAttribute("aria-live", "polite");

    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "tag-filter";
    filter.setAttribute("autocomplete", "off");
    filter.placeholder = picker.getAttribute("data-filter-label") || "";
    filter.setAttribute("aria-label", filter.placeholder);

    var empty = document.createElement("p");
    empty.className = "tag-empty muted small";
    empty.textContent = picker.getAttribute("data-empty") || "";
    empty.hidden = true;

    picker.insertBefore(filter, picker.firstChild);
    picker.insertBefore(chips, picker.firstChild);
    picker.appendChild(empty);
    picker.classList.add("is-enhanced");

    function drawChips() {
      chips.textContent = "";
      options.forEach(function (option) {
        if (!option.box.checked) return;
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "tag-chip";
        chip.textContent = option.text + " ×";
        chip.setAttribute("aria-label", (picker.getAttribute("data-remove") || "") + " " + option.text);
        chip.disabled = option.box.disabled;
        chip.addEventListener("click", function () {
          option.box.checked = false;
          option.box.dispatchEvent(new Event("change", { bubbles: true }));
          filter.focus();
        });
        chips.appendChild(chip);
      });
    }

    function visible() {
      return options.filter(function (option) { return !option.row.hidden; });
    }

    function applyFilter() {
      var words = fold(filter.value).split(" ").filter(Boolean);
      options.forEach(function (option) {
        option.row.hidden = !words.every(function (word) { return option.key.indexOf(word) !== -1; });
      });
      empty.hidden = visible().length > 0;
    }

    filter.addEventListener("input", applyFilter);
    filter.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      // Enter picks the only tag left rather than submitting the form half-filled.
      event.preventDefault();
      var left = visible();
      if (left.length === 1 && !left[0].box.disabled) {
        left[0].box.checked = true;
        left[0].box.dispatchEvent(new Event("change", { bubbles: true }));
        filter.value = "";
        applyFilter();
      }
    });
    picker.addEventListener("change", function (event) {
      if (event.target !== filter) drawChips();
    });
    drawChips();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-tag-picker]"), enhance);
})();
