// Actions without a page reload (voting, rating, commenting, editing, removing), as a
// progressive enhancement: every form here works without JavaScript (it posts and the page
// reloads). A form marked data-inline is sent with fetch instead; the server answers with
// the HTML of what was acted on, and each element of the answer marked data-swap takes the
// place of the element with the same id on the page. The result is said next to it (an
// element marked data-focus, which gets the focus). Anything else (a sign-in page, an
// error page, no network) and the form is sent the ordinary way, so nothing is lost.
//
// Edit / Remove / Reply buttons (data-toggle="<form id>") show and hide their form; they are
// hidden without JavaScript, and the forms shown.
(function () {
  "use strict";

  function enhance(root) {
    var buttons = root.querySelectorAll("[data-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var target = document.getElementById(button.getAttribute("data-toggle"));
      if (!target || button.hasAttribute("data-enhanced")) continue;
      button.setAttribute("data-enhanced", "");
      button.hidden = false;
      button.setAttribute("aria-expanded", "false");
      target.hidden = true;
    }
  }

  function toggle(button) {
    var target = document.getElementById(button.getAttribute("data-toggle"));
    if (!target) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    target.hidden = !open;
    if (open) {
      var field = target.querySelector("textarea, input:not([type=hidden])");
      if (field) field.focus();
    }
  }

  function pageKind(form) {
    var scope = form.closest("[data-answer-page]") || document.querySelector("[data-answer-page]");
    return scope ? scope.getAttribute("data-answer-page") : "question";
  }

  function sendOrdinarily(form, submitter) {
    form.setAttribute("data-inline-off", "");
    if (submitter && form.requestSubmit) form.requestSubmit(submitter);
    else form.submit();
  }

  function swapIn(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var swapped = [];
    var parts = template.content.querySelectorAll("[data-swap][id]");
    if (!parts.length) return swapped;
    // One result said at a time: the last action's goes.
    var said = document.querySelectorAll(".action-status");
    for (var k = 0; k < said.length; k++) said[k].remove();
    for (var i = 0; i < parts.length; i++) {
      var old = document.getElementById(parts[i].id);
      if (!old) continue;
      old.replaceWith(parts[i]);
      swapped.push(parts[i]);
    }
    for (var j = 0; j < swapped.length; j++) enhance(swapped[j]);
    return swapped;
  }

  function focusResult(swapped) {
    for (var i = 0; i < swapped.length; i++) {
      var el = swapped[i].matches("[data-focus]") ? swapped[i] : swapped[i].querySelector("[data-focus]");
      if (el) {
        var invalid = swapped[i].querySelector("[aria-invalid=true]");
        (invalid || el).focus();
        return;
      }
    }
  }

  function setBusy(form, busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-toggle]") : null;
    if (button) toggle(button);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-inline]") || form.hasAttribute("data-inline-off")) return;
    if (!window.fetch || !window.FormData) return;
    event.preventDefault();
    var submitter = event.submitter || null;
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    setBusy(form, true);
    // (not form.action: the vote form has a button named "action", which that would read)
    var url = form.getAttribute("action") || window.location.href;
    window
      .fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-Answer-Page": pageKind(form) },
      })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("text/html") !== 0) throw new Error("not in place");
        return response.text();
      })
      .then(function (html) {
        var swapped = swapIn(html);
        if (!swapped.length) throw new Error("nothing to put in place");
        focusResult(swapped);
      })
      .catch(function () {
        setBusy(form, false);
        if (document.body.contains(form)) sendOrdinarily(form, submitter);
      });
  });

  enhance(document);
})();
