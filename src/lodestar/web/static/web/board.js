/* The board on a phone: the stage tabs show one column at a time without reloading the page
   (the tabs are links, so they work without this script too); arrow keys move between tabs.
   The address keeps the chosen stage, so reloading or sharing it shows the same column. */
(function () {
  "use strict";

  function select(tabs, tab, focus) {
    tabs.querySelectorAll("[data-stage-tab]").forEach(function (each) {
      var on = each === tab;
      each.setAttribute("aria-selected", on ? "true" : "false");
      each.tabIndex = on ? 0 : -1;
      var column = document.getElementById(each.getAttribute("aria-controls"));
      if (column) column.classList.toggle("current", on);
    });
    if (focus) tab.focus();
    tab.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", tab.getAttribute("href"));
    }
  }

  function setup(tabs) {
    if (tabs.dataset.ready) return;
    tabs.dataset.ready = "1";
    tabs.addEventListener("click", function (e) {
      var tab = e.target.closest && e.target.closest("[data-stage-tab]");
      if (!tab) return;
      e.preventDefault();
      select(tabs, tab, false);
    });
    tabs.addEventListener("keydown", function (e) {
      var all = Array.prototype.slice.call(tabs.querySelectorAll("[data-stage-tab]"));
      var at = all.indexOf(document.activeElement);
      if (at < 0) return;
      var to = null;
      if (e.key === "ArrowRight") to = all[(at + 1) % all.length];
      else if (e.key === "ArrowLeft") to = all[(at - 1 + all.length) % all.length];
      else if (e.key === "Home") to = all[0];
      else if (e.key === "End") to = all[all.length - 1];
      else if (e.key === " ") to = all[at];
      if (!to) return;
      e.preventDefault();
      select(tabs, to, true);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-stage-tabs]").forEach(setup);
  });
})();
