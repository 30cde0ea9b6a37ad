// Live preview for the Markdown editor: the server renders and sanitises (questions/markdown.py),
// so what you see is exactly what readers will get.
(function () {
  "use strict";
  var area = document.querySelector("textarea[data-preview]");
  if (!area) return;
  var target = document.getElementById(area.getAttribute("data-preview"));
  var form = area.form;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var last = null;
  function render() {
    var body = area.value;
    if (body === last) return;
    last = body;
    var data = new FormData();
    data.append("body", body);
    fetch(target.getAttribute("data-url"), {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": csrf },
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (json) { if (json && body === area.value) target.innerHTML = json.html; })
      .catch(function () {});
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  }
  area.addEventListener("input", later);
  area.addEventListener("change", later);
  // Text typed (or restored by the browser) before this deferred script ran has had no
  // preview yet: render it now instead of waiting for the next keystroke.
  if (area.value && !target.innerHTML.trim()) render();
})();
