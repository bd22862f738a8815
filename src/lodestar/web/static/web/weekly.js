/* The weekly report's pages: a progress note while reports are being made, and a print
   button (markup asks with data- attributes; the security policy refuses inline scripts). */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-busy]")) return;
    var note = form.querySelector(".wr-busy");
    if (note) {
      note.textContent = note.getAttribute("data-busy-text");
      note.hidden = false;
    }
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
