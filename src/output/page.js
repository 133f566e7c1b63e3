// The page's one script: static, the same on every page. It reads what it needs from escaped
// elements (the letter's plain text in `pre.plain`, the recipient in `data-to`) and never puts
// campaign text into HTML. Kept free of the less-than sign so no tag scanner mistakes it for markup.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");
  var cards = Array.prototype.slice.call(document.querySelectorAll("article[data-to]"));
  var progress = document.getElementById("progress");

  function key(card) {
    return "letterdrive-sent:" + page + ":" + card.getAttribute("data-to");
  }
  function stored(k) {
    try { return window.localStorage.getItem(k) === "1"; } catch (e) { return false; }
  }
  function store(k, sent) {
    try {
      if (sent) { window.localStorage.setItem(k, "1"); } else { window.localStorage.removeItem(k); }
    } catch (e) { /* storage off: the tick lasts until the page closes */ }
  }

  // The textarea path is for browsers or pages without the asynchronous clipboard.
  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-10000px";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyBySelection(text); });
    }
    return copyBySelection(text);
  }

  function count() {
    var sent = 0;
    cards.forEach(function (card) {
      var done = card.querySelector("input.sent").checked;
      sent += done ? 1 : 0;
      card.classList.toggle("done", done);
      var entry = document.getElementById("index-" + card.id);
      if (entry) { entry.classList.toggle("done", done); }
    });
    progress.textContent = sent + " of " + cards.length + " marked sent";
  }

  cards.forEach(function (card) {
    var text = card.querySelector("pre.plain").textContent;
    var status = card.querySelector(".status");
    var box = card.querySelector("input.sent");
    box.checked = stored(key(card));
    box.addEventListener("change", function () { store(key(card), box.checked); count(); });

    card.querySelector("button.copy").addEventListener("click", function () {
      copy(text).then(function () {
        status.textContent = "Copied. Paste it into a new message (Ctrl+V, or Cmd+V on a Mac).";
      }, function () {
        status.textContent = "This browser did not allow copying: select the letter above and copy it.";
      });
    });

    var link = card.querySelector("a.send");
    if (link.hasAttribute("data-copy-first")) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var open = function () { window.location.href = link.href; };
        copy(text).then(function () {
          status.textContent = "The letter is copied: paste it into the message that opens (Ctrl+V, or Cmd+V on a Mac).";
          open();
        }, function () {
          status.textContent = "Copy the letter first (the Copy letter button or by hand), then paste it into the message.";
          open();
        });
      });
    }
  });
  count();

  // The ticked letters as a file for `letterdrive mark-sent --from FILE`: the campaign, the group
  // and the ticked addresses, nothing else.
  var split = page.indexOf(":");
  document.querySelector("button.export").addEventListener("click", function () {
    var sent = cards.filter(function (card) { return card.querySelector("input.sent").checked; })
      .map(function (card) { return card.getAttribute("data-to"); });
    var ticks = { campaign: page.slice(0, split), group: page.slice(split + 1), sent: sent };
    var file = new Blob([JSON.stringify(ticks, null, 1)], { type: "application/json" });
    var save = document.createElement("a");
    save.href = URL.createObjectURL(file);
    save.download = "letterdrive-sent-" + ticks.group + ".json";
    document.body.appendChild(save);
    save.click();
    document.body.removeChild(save);
    URL.revokeObjectURL(save.href);
  });
})();
