// The Markdown editor: a live preview, a toolbar for the Markdown subset, images uploaded into
// the answer, and a draft kept in this browser as one types.
//
// The server renders and sanitises the preview (questions/markdown.py), so what you see is
// exactly what readers will get. Everything here is an enhancement: without JavaScript the
// textarea, the attachment field and the preview on reload still work. The words shown come
// from the form's data attributes, translated by the template.
(function () {
  "use strict";
  var area = document.querySelector("textarea[data-preview]");
  if (!area) return;
  var target = document.getElementById(area.getAttribute("data-preview"));
  var form = area.form;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  // --- Live preview -----------------------------------------------------------------------
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

  // --- Status line ------------------------------------------------------------------------
  var status = form.querySelector("[data-draft-status]");
  function say(key, text) {
    if (!status) return;
    status.textContent = text || form.getAttribute("data-" + key) || "";
    status.setAttribute("data-state", key);
  }

  // --- Toolbar ----------------------------------------------------------------------------
  // Replace the selection with before + selection + after and select the selection again
  // (or put the caret where the text goes), then tell the preview and the draft.
  function changed() {
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }
  function wrap(before, after) {
    var start = area.selectionStart, end = area.selectionEnd;
    var text = area.value.slice(start, end);
    area.setRangeText(before + text + after, start, end, "end");
    area.setSelectionRange(start + before.length, start + before.length + text.length);
    changed();
  }
  // Put ``prefix`` before each selected line (or the caret's line).
  function lines(prefix) {
    var value = area.value;
    var from = area.selectionStart, to = area.selectionEnd;
    if (to > from && value.charAt(to - 1) === "\n") to -= 1;  // a selection up to a line's end
    var start = from > 0 ? value.lastIndexOf("\n", from - 1) + 1 : 0;
    var end = value.indexOf("\n", to);
    if (end === -1) end = value.length;
    var block = value.slice(start, end).split("\n").map(function (line) {
      return line.indexOf(prefix) === 0 ? line : prefix + line;
    }).join("\n");
    area.setRangeText(block, start, end, "end");
    changed();
  }
  // Insert ``text`` at the caret as a paragraph of its own.
  function insertBlock(text, at) {
    var value = area.value;
    var before = at > 0 && value.charAt(at - 1) !== "\n" ? "\n\n" : "";
    var after = at < value.length && value.charAt(at) !== "\n" ? "\n\n" : "";
    area.setRangeText(before + text + after, at, at, "end");
    changed();
  }
  var actions = {
    bold: function () { wrap("**", "**"); },
    italic: function () { wrap("*", "*"); },
    heading: function () { lines("## "); },
    list: function () { lines("- "); },
    quote: function () { lines("> "); },
    code: function () {
      var text = area.value.slice(area.selectionStart, area.selectionEnd);
      if (text.indexOf("\n") === -1) wrap("`", "`");
      else wrap("```\n", "\n```");
    },
    link: function () {
      var start = area.selectionStart, end = area.selectionEnd;
      var text = area.value.slice(start, end);
      var url = "https://";
      area.setRangeText("[" + text + "](" + url + ")", start, end, "end");
      var at = start + text.length + 3;
      area.setSelectionRange(at, at + url.length);
      changed();
    },
  };

  var toolbar = form.querySelector("[data-toolbar]");
  if (toolbar) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-md]");
      if (!button) return;
      event.preventDefault();
      var action = actions[button.getAttribute("data-md")];
      if (action) action();
    });
  }
  area.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    var key = event.key.toLowerCase();
    if (key === "b" || key === "i") {
      event.preventDefault();
      actions[key === "b" ? "bold" : "italic"]();
    }
  });

  // --- Images -----------------------------------------------------------------------------
  var imageButton = form.querySelector("button[data-md=image]");
  var imageInput = form.querySelector("input[data-image-input]");
  if (imageButton && imageInput) {
    var caret = 0;
    imageButton.addEventListener("click", function () {
      caret = area.selectionEnd;
      imageInput.value = "";
      imageInput.click();
    });
    imageInput.addEventListener("change", function () {
      var file = imageInput.files && imageInput.files[0];
      if (!file) return;
      var data = new FormData();
      data.append("image", file);
      imageButton.disabled = true;
      say("uploading");
      fetch(imageButton.getAttribute("data-upload-url"), {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (r) {
          return r.json().then(function (json) { return { ok: r.ok, json: json }; },
            function () { return { ok: false, json: {} }; });
        })
        .then(function (result) {
          if (result.ok && result.json.markdown) {
            insertBlock(result.json.markdown, Math.min(caret, area.value.length));
            say("uploaded");
          } else {
            say("upload-failed", result.json.error);
          }
        })
        .catch(function () { say("upload-failed"); })
        .then(function () { imageButton.disabled = false; });
    });
  }

  // --- Draft ------------------------------------------------------------------------------
  // One per person and question, in localStorage: {text, base}, where base is a hash of the
  // answer as the server had it when the draft began, so that a draft is only offered over
  // the text it was written from. Cleared when the form is sent; kept (in this tab) until the
  // server says the answer was refused, then put back.
  var key = form.getAttribute("data-draft-key");
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(key);
  } catch (e) {
    store = null;
  }
  if (key && store) {
    var pendingKey = key + ":sending";
    var hash = function (text) {
      var h = 5381;
      for (var i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
      return text.length + ":" + h.toString(36);
    };
    var read = function (raw) {
      try {
        var draft = JSON.parse(raw);
        return draft && typeof draft.text === "string" ? draft : null;
      } catch (e) {
        return null;
      }
    };
    var base = hash(area.defaultValue);  // as the server sent it, not as the browser kept it
    var pending = null;
    try {
      pending = read(window.sessionStorage.getItem(pendingKey));
      window.sessionStorage.removeItem(pendingKey);
    } catch (e) {
      pending = null;
    }
    var save = function () {
      try {
        store.setItem(key, JSON.stringify({ text: area.value, base: base }));
        say("draft-saved");
      } catch (e) { /* full or refused: the textarea still has the text */ }
    };
    if (form.hasAttribute("data-bound")) {
      // The server sent the form back (a refused answer): what was typed is on the page.
      if (pending) base = pending.base;
      save();
    } else {
      var draft = read(store.getItem(key));
      if (draft && draft.base === base && draft.text !== area.value) {
        area.value = draft.text;
        say("draft-restored");
        render();
      } else if (draft) {
        store.removeItem(key);  // the answer it was written over has changed since
      }
    }
    var saveTimer = null;
    area.addEventListener("input", function () {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, 400);
    });
    form.addEventListener("submit", function () {
      clearTimeout(saveTimer);
      try {
        window.sessionStorage.setItem(pendingKey, JSON.stringify({ text: area.value, base: base }));
      } catch (e) { /* no session storage: a refused answer is still on the page */ }
      store.removeItem(key);
    });
  }

  // Text typed (or restored by the browser) before this deferred script ran has had no
  // preview yet: render it now instead of waiting for the next keystroke.
  if (area.value && !target.innerHTML.trim()) render();
})();
