/* Lodestar pages: drag-and-drop uploads, the pipeline board, and the small behaviours the
   markup asks for. Everything also works by keyboard and without dragging: the file inputs and
   the "Move to" lists are real controls. */
(function () {
  "use strict";

  function setupDropzone(zone) {
    if (zone.dataset.ready) return;
    zone.dataset.ready = "1";
    var input = zone.querySelector('input[type="file"]');
    var nameOut = zone.querySelector(".dropzone-name");
    function show(files) {
      if (nameOut) nameOut.textContent = files && files.length ? files[0].name : "";
    }
    zone.querySelectorAll('input[type="file"]').forEach(function (each) {
      each.addEventListener("change", function () { show(each.files); });
    });
    zone.addEventListener("dragover", function (e) {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        show(input.files);
      }
    });
  }

  /* Board: a card always sits in the column of the stage the server says it is in. After a
     refused move the server returns the card with its old stage, so it snaps back. */
  function columnFor(board, stage) {
    return board.querySelector('ul.cards[data-stage="' + stage + '"]');
  }

  function placeCard(card) {
    var board = card.closest("[data-board]");
    if (!board) return;
    var home = columnFor(board, card.dataset.stage);
    // The columns' counts and sums come with the card (swapped out of band by htmx).
    if (home && card.parentElement !== home) home.prepend(card);
  }

  function setupBoard(board) {
    if (board.dataset.ready) return;
    board.dataset.ready = "1";
    var dragged = null;
    board.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".board-card");
      if (!card) return;
      dragged = card;
      card.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.dataset.deal);
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      board.querySelectorAll(".cards.over").forEach(function (l) { l.classList.remove("over"); });
    });
    board.addEventListener("dragover", function (e) {
      var list = e.target.closest && e.target.closest("ul.cards");
      if (!list || !dragged) return;
      e.preventDefault();
      list.classList.add("over");
    });
    board.addEventListener("dragleave", function (e) {
      var list = e.target.closest && e.target.closest("ul.cards");
      if (list) list.classList.remove("over");
    });
    board.addEventListener("drop", function (e) {
      var list = e.target.closest && e.target.closest("ul.cards");
      if (!list || !dragged) return;
      e.preventDefault();
      list.classList.remove("over");
      var card = dragged;
      dragged = null;
      if (list.dataset.stage === card.dataset.stage) return;
      list.prepend(card);
      var form = card.querySelector("form.move-form");
      form.querySelector("select").value = list.dataset.stage;
      htmx.trigger(form, "submit");
    });
  }

  function setup(root) {
    root.querySelectorAll("[data-dropzone]").forEach(setupDropzone);
    root.querySelectorAll("[data-board]").forEach(setupBoard);
  }

  /* Behaviour the markup asks for with data- attributes: the security policy refuses inline
     event handlers (onchange=, onfocus=). Delegated, so fragments htmx swaps in work too. */
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-submit-on-change]")) e.target.form.submit();
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-select-on-focus]")) e.target.select();
  });

  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  if (window.htmx) {
    htmx.onLoad(function (el) {
      if (el.classList && el.classList.contains("board-card")) {
        placeCard(el);
        var select = el.querySelector("select");
        if (select && el.classList.contains("refused")) select.focus();
      }
      setup(el.querySelectorAll ? el : document);
    });
  }
})();
