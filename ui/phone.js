// The grid leader's phone (issue 18): after a screen is chosen from the sidebar's menu,
// the sidebar closes, as it would in any phone app, instead of covering the new screen.
// Added once per page by app.py (st.html); our own constant code, no user text.
(function () {
  if (window.sibaiPhoneNav) return;
  window.sibaiPhoneNav = true;
  document.addEventListener(
    "click",
    function (event) {
      if (window.innerWidth > 640) return;
      if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
      var close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) window.setTimeout(function () { close.click(); }, 0);
    },
    true
  );
})();

// Ticks that survive a lost signal. A form submitted while the phone is offline would
// be lost (Streamlit drops messages it cannot send). Instead the click is held: the
// form keeps its ticks on the page, a banner says at once that nothing is saved yet
// and lists what is waiting, and when the connection returns the form is submitted
// once. The server records each door under the form's idempotency key, so even a
// submission that did get through before the signal dropped is never recorded twice.
(function () {
  if (window.sibaiOfflineHold) return;
  window.sibaiOfflineHold = true;
  var held = null; // {form: index among the page's forms}
  var SUBMIT = '[data-testid="stFormSubmitButton"] button';

  function words() {
    var el = document.getElementById("sibai-words");
    return el ? el.dataset : {};
  }
  function forms() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-testid="stForm"]'));
  }
  function waitingTicks(form) {
    var out = [];
    form.querySelectorAll('[role="radiogroup"]').forEach(function (group) {
      var on = group.querySelector('[role="radio"][aria-checked="true"]');
      if (on) out.push((group.getAttribute("aria-label") || "") + " · " + on.innerText.trim());
    });
    return out;
  }
  function banner(title, items) {
    var box = document.getElementById("sibai-offline");
    if (!box) {
      box = document.createElement("div");
      box.id = "sibai-offline";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = "";
    var head = document.createElement("strong");
    head.textContent = title;
    box.appendChild(head);
    if (items.length) {
      var list = document.createElement("ul");
      items.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        list.appendChild(li);
      });
      box.appendChild(list);
    }
  }
  function clearBanner() {
    var box = document.getElementById("sibai-offline");
    if (box) box.remove();
  }

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest(SUBMIT);
      if (!button || navigator.onLine) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var form = button.closest('[data-testid="stForm"]');
      held = { form: forms().indexOf(form) };
      banner(words().offline || "Not saved: offline.", waitingTicks(form));
    },
    true
  );

  function send() {
    if (!held || !navigator.onLine) return;
    var form = forms()[held.form];
    var button = form && form.querySelector(SUBMIT);
    var app = document.querySelector('[data-testid="stApp"]');
    var ready = app && app.getAttribute("data-test-script-state") !== "running";
    if (!button || button.disabled || !ready) {
      window.setTimeout(send, 500); // the server is still reconnecting
      return;
    }
    held = null;
    banner(words().sending || "Sending…", []);
    button.click();
    window.setTimeout(clearBanner, 1500);
  }
  window.addEventListener("online", function () {
    window.setTimeout(send, 300);
  });
})();
