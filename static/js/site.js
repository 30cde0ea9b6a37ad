// Small behaviours for every page, without inline scripts (the Content-Security-Policy
// forbids them): the language menu submits itself; buttons with data-confirm ask first.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) el.form.submit();
  });
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
  });
  // An old link to an answer (#answer-12) whose answer is on another page of answers now:
  // go through the answer's stable link, which opens the page that holds it.
  var answers = document.querySelector("[data-answer-link]");
  var wanted = /^#answer-(\d+)$/.exec(window.location.hash);
  if (answers && wanted && !document.getElementById("answer-" + wanted[1])) {
    window.location.replace(answers.getAttribute("data-answer-link").replace(/0\/$/, wanted[1] + "/"));
  }
})();
