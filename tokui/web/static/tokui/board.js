// The pipeline board: move deal cards between stages by drag and drop or from the keyboard.
// Without this file every card's "Move to…" link opens a page with the same form, so the board
// works without JavaScript. The server answers a move with HTML: the two affected columns
// (data-outcome="moved" or "conflict"), or the form to show in the dialog (the playbook's
// refusal, or the reason a deal was lost).
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var dialog = document.getElementById("board-dialog");
  var body = document.getElementById("board-dialog-body");
  var status = document.getElementById("board-status");
  var mayMove = board.getAttribute("data-may-move") === "1";
  var moveUrl = board.getAttribute("data-move-url");
  var returnFocus = null;

  function label(name) { return board.getAttribute("data-label-" + name) || ""; }
  function csrf() {
    var input = document.querySelector("#board-csrf input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function say(text, isError) {
    // Cleared first, so the same message twice is announced twice.
    status.textContent = "";
    status.classList.toggle("is-error", !!isError);
    window.setTimeout(function () { status.textContent = text; }, 40);
  }
  function columns() { return Array.prototype.slice.call(board.querySelectorAll(".board-col")); }
  function columnOf(stage) { return document.getElementById("col-" + stage); }
  function cardOf(deal) { return board.querySelector('.deal-card[data-deal="' + deal + '"]'); }
  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function request(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = { "HX-Request": "true", "X-CSRFToken": csrf() };
    return fetch(url, options).then(function (response) {
      return response.text().then(function (html) { return { status: response.status, html: html }; });
    });
  }

  function failed() { say(label("failed"), true); }

  // -- the dialog -------------------------------------------------------------------------------

  function openDialog(content, card) {
    returnFocus = card || returnFocus;
    body.replaceChildren(content);
    if (!dialog.open) dialog.showModal();
    var form = body.querySelector(".board-move-form");
    if (form) enhanceForm(form);
    var first = body.querySelector("[aria-invalid=true]") || body.querySelector(".board-refusal a") ||
      body.querySelector(".board-lost:not([hidden]) select") || body.querySelector("button, select, a");
    if (first) first.focus();
  }

  dialog.addEventListener("close", function () {
    body.replaceChildren();
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
  });

  body.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dialog-close]");
    if (close) { event.preventDefault(); dialog.close(); }
  });

  function enhanceForm(form) {
    var lostStages = (form.getAttribute("data-lost-stages") || "").split(" ");
    var stage = form.querySelector("select[name=stage]");
    var reason = form.querySelector("select[name=lost_reason]");
    var lost = form.querySelector(".board-lost");
    var competitor = form.querySelector(".board-competitor");
    function sync() {
      if (lost && stage) lost.hidden = lostStages.indexOf(stage.value) < 0;
      if (competitor && reason) {
        competitor.hidden = reason.value !== "competitor" && !competitor.classList.contains("field-invalid");
      }
    }
    if (stage) stage.addEventListener("change", sync);
    if (reason) reason.addEventListener("change", sync);
    var legend = lost && lost.querySelector("legend");
    if (legend) legend.classList.add("visually-hidden");
    sync();
  }

  body.addEventListener("submit", function (event) {
    var form = event.target.closest(".board-move-form");
    if (!form) return;
    event.preventDefault();
    var data = new FormData(form);
    data.set("board_query", board.getAttribute("data-query") || "");
    var card = cardOf(data.get("deal"));
    if (card) data.set("from", card.getAttribute("data-stage"));
    send(data, card);
  });

  // -- moving -----------------------------------------------------------------------------------

  function send(data, card) {
    if (card) card.classList.add("is-busy");
    return request(moveUrl, { method: "POST", body: data }).then(function (answer) {
      if (card) card.classList.remove("is-busy");
      handle(answer, card);
    }, function () {
      if (card) card.classList.remove("is-busy");
      failed();
    });
  }

  function move(card, stage) {
    var data = new FormData();
    data.set("deal", card.getAttribute("data-deal"));
    data.set("stage", stage);
    data.set("version", card.getAttribute("data-version"));
    data.set("from", card.getAttribute("data-stage"));
    data.set("board_query", board.getAttribute("data-query") || "");
    return send(data, card);
  }

  function handle(answer, card) {
    var root = parse(answer.html);
    var outcome = root.querySelector("[data-outcome]");
    if (!outcome) { failed(); return; }
    var kind = outcome.getAttribute("data-outcome");
    if (kind === "moved" || kind === "conflict") {
      root.querySelectorAll(".board-col").forEach(function (column) {
        var old = document.getElementById(column.id);
        if (old) old.replaceWith(column);
      });
      if (window.htmx) window.htmx.process(board);
      var moved = cardOf(outcome.getAttribute("data-deal"));
      returnFocus = moved;
      if (dialog.open) dialog.close();
      if (moved) moved.focus();
      say(outcome.getAttribute("data-message"), kind === "conflict");
      return;
    }
    // The playbook's refusal or a form to complete: the card stays where it was.
    if (card) {
      card.classList.add("is-refused");
      window.setTimeout(function () { card.classList.remove("is-refused"); }, 2500);
    }
    var refusal = outcome.querySelector(".board-refusal strong") || outcome.querySelector(".alert");
    if (refusal) say(refusal.textContent.trim(), true);
    openDialog(outcome, card);
  }

  function isLost(stage) {
    var column = columnOf(stage);
    return column && column.getAttribute("data-kind") === "lost";
  }

  // Moving to Lost asks why (and which competitor won) before anything is sent.
  function moveOrAsk(card, stage) {
    if (String(stage) === card.getAttribute("data-stage")) return;
    if (!isLost(stage)) { move(card, stage); return; }
    var url = card.getAttribute("data-move") + "?stage=" + encodeURIComponent(stage) +
      "&board_query=" + encodeURIComponent(board.getAttribute("data-query") || "");
    request(url).then(function (answer) {
      var root = parse(answer.html);
      if (!root.querySelector("[data-outcome]")) { failed(); return; }
      openDialog(root, card);
    }, failed);
  }

  function stageMenu(card) {
    var title = card.querySelector(".deal-title");
    var heading = document.createElement("h2");
    heading.id = "board-dialog-title";
    heading.textContent = label("move") + (title ? " — " + title.textContent : "");
    var list = document.createElement("ul");
    list.className = "board-stage-menu";
    columns().forEach(function (column) {
      var stage = column.getAttribute("data-stage");
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn";
      button.textContent = column.getAttribute("data-name");
      if (stage === card.getAttribute("data-stage")) {
        button.setAttribute("aria-current", "true");
        button.disabled = true;
        button.textContent += " (" + label("current") + ")";
      }
      button.addEventListener("click", function () {
        dialog.close();
        moveOrAsk(card, stage);
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    var actions = document.createElement("div");
    actions.className = "form-actions";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn";
    cancel.textContent = label("cancel");
    cancel.setAttribute("data-dialog-close", "");
    actions.appendChild(cancel);
    var content = document.createDocumentFragment();
    content.append(heading, list, actions);
    openDialog(content, card);
    // Focus the stage after the current one: moving on is the usual move.
    var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
    var current = buttons.filter(function (b) { return b.disabled; })[0];
    var next = buttons[buttons.indexOf(current) + 1] || buttons.filter(function (b) { return !b.disabled; })[0];
    if (next) next.focus();
  }

  function neighbour(card, step) {
    // [ and ] walk the stages of the work cycle (Lost is chosen from the menu, with a reason).
    var order = columns().filter(function (c) { return c.getAttribute("data-kind") !== "lost"; });
    var stages = order.map(function (c) { return c.getAttribute("data-stage"); });
    var index = stages.indexOf(card.getAttribute("data-stage"));
    if (index < 0) return null;
    return stages[index + step] || null;
  }

  // -- keyboard ---------------------------------------------------------------------------------

  board.addEventListener("keydown", function (event) {
    var card = event.target.closest(".deal-card");
    if (!card || event.target !== card || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      var cards = Array.prototype.slice.call(card.parentNode.querySelectorAll(".deal-card"));
      var next = cards[cards.indexOf(card) + (key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
      event.preventDefault();
      return;
    }
    if (!mayMove) return;
    if (key === "m" || key === "M" || key === "Enter") {
      event.preventDefault();
      stageMenu(card);
    } else if (key === "[" || key === "]" || key === "ArrowLeft" || key === "ArrowRight") {
      event.preventDefault();
      var target = neighbour(card, key === "[" || key === "ArrowLeft" ? -1 : 1);
      if (target) moveOrAsk(card, target);
    }
  });

  board.addEventListener("click", function (event) {
    var link = event.target.closest(".deal-move");
    if (!link || !mayMove) return;
    event.preventDefault();
    stageMenu(link.closest(".deal-card"));
  });

  // -- drag and drop ----------------------------------------------------------------------------

  var dragged = null;

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card");
    if (!card || !mayMove) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    card.classList.add("is-dragging");
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    board.querySelectorAll(".is-drop-target").forEach(function (c) { c.classList.remove("is-drop-target"); });
  });

  board.addEventListener("dragover", function (event) {
    var column = event.target.closest(".board-col");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".is-drop-target").forEach(function (c) {
      if (c !== column) c.classList.remove("is-drop-target");
    });
    column.classList.add("is-drop-target");
  });

  board.addEventListener("drop", function (event) {
    var column = event.target.closest(".board-col");
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    column.classList.remove("is-drop-target");
    moveOrAsk(card, column.getAttribute("data-stage"));
  });
})();
